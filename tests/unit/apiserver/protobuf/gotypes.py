"""How Kubernetes' Go types hold each field, read from k8s.io/api and apimachinery source.

The protobuf encoder needs what only the Go type says: a `*int64` is written only when
set, an `int32` always, a struct held by value always, a `*struct` only when set. The
models declare it (`protobuf_hints`, `protobuf_unserved`); `go_fields.json` is the
reference they are checked against (`test_protobuf_go_optionality.py`), one entry per Go
struct that a served model is named after:
`{"Struct": {"jsonName": [number, how]}}` where `how` is

- "pointer": a pointer to a scalar (`*int64`, `*bool`, `*string`, `*ProcMountType`);
- "value": a struct held by value (`metav1.Time`, `resource.Quantity`, `NodeSystemInfo`);
- "scalar": a scalar held by value (`int32`, `string`, `Protocol`);
- "ptrstruct": a pointer to a struct; "repeated": a slice or a map.

Go's embedded structs (`ProbeHandler`, `VolumeSource`, `LocalObjectReference`) are
flattened into their parent, as the models flatten them; `TypeMeta` is left out.

Regenerate after typing a new model, from checkouts of kubernetes/api and
kubernetes/apimachinery at the release the models follow:

    python -m tests.unit.apiserver.protobuf.gotypes API_CHECKOUT APIMACHINERY_CHECKOUT v0.32.9
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

OUT = Path(__file__).with_name("go_fields.json")
API_FILES = ("core/v1/types.go", "apps/v1/types.go", "coordination/v1/types.go",
             "scheduling/v1/types.go", "autoscaling/v1/types.go", "discovery/v1/types.go",
             "rbac/v1/types.go", "authorization/v1/types.go", "authentication/v1/types.go",
             "certificates/v1/types.go")
# Go packages whose struct names core/v1 also uses: their entries are keyed
# `<package>.<Struct>` (discovery/v1's EndpointPort is not core's).
QUALIFIED = {"discovery/v1/types.go": "discovery/v1"}
_MODEL_PACKAGES = {"apimachinery.models.discovery": "discovery/v1"}
APIMACHINERY_FILES = ("pkg/apis/meta/v1/types.go",)
_SCALARS = frozenset({"string", "int32", "int64", "bool", "float64", "byte", "types.UID"})
_STRUCT = re.compile(r"^type (\w+) struct \{\n(.*?)^\}", re.M | re.S)
_SCALAR_ALIAS = re.compile(r"^type (\w+) (?:string|int32|int64|bool)\s*$", re.M)
_COLLECTION_ALIAS = re.compile(r"^type (\w+) (?:map\[|\[\])", re.M)
_FIELD = re.compile(r"^(?:\w+\s+)?([\w.*\[\]]+)\s+`(.*)`$")


@dataclass(frozen=True)
class GoField:
    """One field of a Go struct: its type as written and its json/protobuf tags."""

    type: str
    json: str
    number: int | None
    inline: bool


class GoTypes:
    """The structs and named types of some Go source files."""

    def __init__(self, sources: list[str], packages: list[str] | None = None) -> None:
        """`packages[i]`, when not empty, qualifies the struct names of `sources[i]`."""
        self.structs: dict[str, list[GoField]] = {}
        self.scalar_names: set[str] = set()
        self.collection_names: set[str] = set()
        for i, text in enumerate(sources):
            package = packages[i] if packages else ""
            self.scalar_names.update(_SCALAR_ALIAS.findall(text))
            self.collection_names.update(_COLLECTION_ALIAS.findall(text))
            for name, body in _STRUCT.findall(text):
                key = f"{package}.{name}" if package else name
                self.structs.setdefault(key, [f for line in body.splitlines()
                                              if (f := _parse(line)) is not None])

    def how(self, go_type: str) -> str:
        """"pointer", "value", "scalar", "ptrstruct" or "repeated" (see the module doc)."""
        base = go_type.lstrip("*")
        if go_type.startswith(("[]", "map[")) or base.split(".")[-1] in self.collection_names:
            return "repeated"
        scalar = base in _SCALARS or base.split(".")[-1] in self.scalar_names
        if go_type.startswith("*"):
            return "pointer" if scalar else "ptrstruct"
        return "scalar" if scalar else "value"

    def flat(self, struct: str) -> dict[str, tuple[int | None, str]]:
        """The struct's fields by JSON name, embedded structs' fields included."""
        out: dict[str, tuple[int | None, str]] = {}
        for f in self.structs[struct]:
            embedded = f.type.split(".")[-1]
            if f.inline:
                if embedded != "TypeMeta":
                    out.update(self.flat(embedded))
            elif f.json and f.json != "-":
                out[f.json] = (f.number, self.how(f.type))
        return out


def _parse(line: str) -> GoField | None:
    match = _FIELD.match(line.strip())
    if match is None:
        return None
    go_type, tags = match.groups()
    json_tag = re.search(r'json:"([^"]*)"', tags)
    number = re.search(r'protobuf:"[a-z]+,(\d+),', tags)
    options = json_tag.group(1).split(",") if json_tag else [""]
    return GoField(go_type, options[0], int(number.group(1)) if number else None,
                   "inline" in options[1:])


def _show(repo: str, tag: str, path: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"{tag}:{path}"], capture_output=True,
                          text=True, check=True).stdout


def roots() -> list[type[BaseModel]]:
    """The models of every served kind, and of the kinds subresources serve (Scale)."""
    from apiserver.kinds import registry
    from apiserver.protobuf import SUBRESOURCE_MODELS

    return [*(k.model for k in registry()), *SUBRESOURCE_MODELS.values()]


def go_key(model: type[BaseModel]) -> str:
    """The model's entry in the table: its name, qualified by its Go package if need be."""
    package = _MODEL_PACKAGES.get(model.__module__)
    return f"{package}.{model.__name__}" if package else model.__name__


def model_names() -> set[str]:
    """The table keys of every model the roots reach."""
    from apimachinery.models.schema import iter_models

    return {go_key(m) for m in iter_models(*roots())}


def main(api: str, apimachinery: str, tag: str) -> None:
    sources = [_show(api, tag, p) for p in API_FILES]
    sources += [_show(apimachinery, tag, p) for p in APIMACHINERY_FILES]
    packages = [QUALIFIED.get(p, "") for p in API_FILES] + ["" for _ in APIMACHINERY_FILES]
    types = GoTypes(sources, packages)
    table = {name: {k: list(v) for k, v in types.flat(name).items()}
             for name in sorted(model_names() & set(types.structs))}
    OUT.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
