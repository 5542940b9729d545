"""Writes `apimachinery/typeddicts.py`, the TypedDicts of the wire objects, from the models.

    python -m apimachinery.typeddicts_gen          # rewrite the module
    python -m apimachinery.typeddicts_gen --check  # exit 1 if it is out of date

The pydantic models in `apimachinery.models` are the one schema; components
read objects as wire dicts (docs/architecture.md, *Why objects travel as
dicts*), typed statically by these TypedDicts. One TypedDict per model that the
served kinds reach, with the models' camelCase wire names as keys, every key
optional (`total=False`: an object may omit anything, and a null is read like
an absent key), value types as the models declare them without `None`;
IntOrString, Quantity and ResourceList keep their names as aliases. Each
field's description becomes a comment. `tests/unit/apimachinery/
test_typeddicts.py` regenerates in memory and fails when the committed module
differs, so a model changed without regenerating fails the tests.
"""

from __future__ import annotations

import keyword
import sys
import textwrap
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from apimachinery import models
from apimachinery.models import meta as model_meta
from apimachinery.models import schema

TARGET = Path(__file__).with_name("typeddicts.py")
# The kinds whose models the module covers, and (through them) every nested model.
ROOTS: tuple[type[BaseModel], ...] = (
    models.Namespace, models.Node, models.Pod, models.Service, models.Endpoints,
    models.ConfigMap, models.Secret, models.Event, models.Deployment, models.ReplicaSet,
    models.StatefulSet, models.Lease, models.LabelSelector, models.EndpointSlice,
)
# Models whose Kubernetes name another group already uses: the TypedDict takes the group's
# prefix (discovery/v1's EndpointPort is `DiscoveryEndpointPort`; core's keeps its name).
_PREFIXES = {"apimachinery.models.discovery": "Discovery"}
# Value types named in the module instead of spelled out.
_ALIASES: tuple[tuple[Any, str, str], ...] = (
    (model_meta.IntOrString, "IntOrString", "int | str"),
    (model_meta.Quantity, "Quantity", "str | int | float"),
    (model_meta.ResourceList, "ResourceList", "dict[str, Quantity]"),
)
_CORE_NAMES = frozenset(m.__name__ for m in schema.iter_models(*ROOTS)
                        if m.__module__ not in _PREFIXES)
_SCALARS = {str: "str", int: "int", bool: "bool", float: "float"}
_WIDTH = 100

_HEADER = '''"""TypedDicts of the objects Schooner serves, in their wire form (camelCase keys).

GENERATED from the pydantic models in apimachinery/models by apimachinery/typeddicts_gen.py;
do not edit. After changing a model, regenerate with

    python -m apimachinery.typeddicts_gen

(tests/unit/apimachinery/test_typeddicts.py fails until the module matches the models).

These types cost nothing at run time: an object is the dict the informer or the client
decoded, and `cast(Pod, obj)` (or an accessor of apimachinery.meta) only tells the type
checker what it holds. Every key is optional and a null reads like an absent key, so read
with `.get(...)` and a default. Keys the models do not declare (kept as extra fields)
are not here: read them through a `Mapping[str, Any]` (`meta.undeclared`).
"""

from __future__ import annotations

from typing import Any, TypedDict
'''


def _annotation(ann: Any) -> str:
    """The TypedDict spelling of a model field's annotation, `None` dropped."""
    for alias, name, _ in _ALIASES:
        if ann == alias:
            return name
    origin = get_origin(ann)
    if origin is Annotated:
        return _annotation(get_args(ann)[0])
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(ann) if a is not type(None)]
        return " | ".join(_annotation(a) for a in members)
    if origin is list:
        return f"list[{_annotation(get_args(ann)[0])}]"
    if origin is dict:
        key, value = get_args(ann)
        return f"dict[{_annotation(key)}, {_annotation(value)}]"
    if ann is Any:
        return "Any"
    if ann in _SCALARS:
        return _SCALARS[ann]
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return typed_name(ann)
    raise TypeError(f"no TypedDict spelling for {ann!r}")


def typed_name(model: type[BaseModel]) -> str:
    """The TypedDict's name: the model's, prefixed by its group when core has the name."""
    prefix = _PREFIXES.get(model.__module__, "")
    if prefix and model.__name__ in _CORE_NAMES:
        return prefix + model.__name__
    return model.__name__


def _comment(text: str, indent: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), _WIDTH - len(indent) - 2,
                         initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# ",
                         break_on_hyphens=False)


def _docstring(model: type[BaseModel]) -> list[str]:
    doc = " ".join((model.__doc__ or "").split()) or f"{model.__name__}."
    lines = textwrap.wrap(doc, _WIDTH - 7, break_on_hyphens=False)
    if len(lines) == 1:
        return [f'    """{lines[0]}"""']
    return ['    """' + lines[0], *(f"    {line}" for line in lines[1:]), '    """']


def _models() -> list[type[BaseModel]]:
    """Every model the roots reach, leaves first, each before the models that use it."""
    ordered: list[type[BaseModel]] = []
    done: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel]) -> None:
        if model in done:
            return
        done.add(model)
        for meta in schema.fields(model).values():
            nested = meta.value_model
            if nested is not None:
                visit(nested)
        ordered.append(model)

    for root in ROOTS:
        visit(root)
    return ordered


def render() -> str:
    """The module's text."""
    out = [_HEADER.rstrip("\n"), ""]
    out += [f"{name} = {spelling}" for _, name, spelling in _ALIASES]
    names = [typed_name(model) for model in _models()]
    if len(set(names)) != len(names):
        raise ValueError("two models share a name")
    for model in _models():
        out += ["", "", f"class {typed_name(model)}(TypedDict, total=False):",
                *_docstring(model)]
        fields = schema.fields(model)
        if fields:
            out.append("")
        for json_name, meta in fields.items():
            if not json_name.isidentifier() or keyword.iskeyword(json_name):
                raise ValueError(f"{model.__name__}.{json_name} is not a class attribute name")
            out += _comment(meta.description, "    ")
            out.append(f"    {json_name}: {_annotation(meta.annotation)}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python -m apimachinery.typeddicts_gen",
                  file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
