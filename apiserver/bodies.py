"""Bounds on what a request body may be: how deep it nests, how large its integers are,
that its metadata is an object, and how far YAML aliases expand.

Go's JSON decoder refuses nesting past 10,000 levels and sigs.k8s.io/yaml
refuses "excessive aliasing"; Python needs tighter bounds of its own. Past
~250 levels orjson cannot write an object (nor `deep_copy` copy it), and the
recursive code between (merge patches, pruning, `copy.deepcopy`) reaches
Python's recursion limit near 330: each was a 500, and a deep object once
stored could never be read again. `MAX_DEPTH` (100 levels: a real object nests
about 15) is checked on every decoded body and on every patch's result, so no
stored object is deeper. A YAML "billion laughs" body (nine aliases of nine
aliases ...) is a few hundred bytes that expand to tens of millions of nodes
(22 s of CPU in one request); `load_yaml` walks the composed nodes first and
refuses a document that expands past its own length in nodes. The walk costs
about 10 µs for a Deployment, against a request's milliseconds.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from apimachinery import errors

MAX_DEPTH = 100
INT64_MIN, UINT64_MAX = -(2**63), 2**64 - 1


def too_deep(what: str) -> errors.BadRequest:
    return errors.BadRequest(f"{what} is nested more than {MAX_DEPTH} levels deep")


def check_bounds(value: Any, what: str = "the request body") -> None:
    """Refuse `value` with a 400 when its dicts and lists nest past MAX_DEPTH, or an integer
    in it is past 64 bits (what orjson can write; Python's json and YAML read any size, and
    a patch's `"replicas": 2**70` was stored before failing to encode: a 500). Iterative,
    so the check itself has no recursion to exhaust."""
    stack: list[tuple[Any, int]] = [({"": value}, 0)]  # the root is a child too: a scalar
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    raise too_deep(what)
                stack.append((child, depth + 1))
            elif isinstance(child, int) and not INT64_MIN <= child <= UINT64_MAX:
                raise errors.BadRequest(f"{what} has an integer past 64 bits: {child}")


def require_object(value: Any, path: str, what: str = "the request body") -> dict[str, Any]:
    """`value` if it is an object (or absent: {}), else a 400, as Kubernetes' decoding into a
    typed struct refuses `"metadata": [1]`; code reading `.get` from it was an AttributeError
    (a 500) in the Scale, Binding and Eviction subresources and after a patch."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.BadRequest(
            f"{what} is not valid: {path}: expected an object, got {json_type(value)}")
    return value


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


# libyaml's parser when PyYAML has it: it refuses nesting past 1,000 levels in a millisecond,
# where the pure-Python parser took 2-4 s to reach the composer's RecursionError.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class JSONCompatibleLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A SafeLoader that leaves timestamps as strings, as sigs.k8s.io/yaml does."""


JSONCompatibleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, what: str = "the request body") -> Any:
    """One YAML document as the JSON it stands for (`to_json_shape`), its nodes walked before
    they are built: nesting past MAX_DEPTH or more nodes (aliases expanded) than the text
    has characters is a 400. Malformed YAML raises `yaml.YAMLError`, and YAML without a
    JSON equivalent `ValueError`, for the caller to word."""
    loader = JSONCompatibleLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, budget=len(text) + 64, what=what)
        return to_json_shape(loader.construct_document(node))
    except RecursionError:  # the composer recurses per level, before any check can run
        raise too_deep(what) from None
    finally:
        loader.dispose()


def _check_nodes(root: yaml.Node, budget: int, what: str) -> None:
    """Walk the node graph as construction would expand it, giving up past `budget` nodes."""
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > budget:
            raise errors.BadRequest(
                f"{what} is YAML whose aliases expand to more nodes than it has characters")
        if depth > MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
            raise too_deep(what)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def to_json_shape(value: Any) -> Any:
    """Stringify non-string map keys and reject what JSON cannot carry (sigs.k8s.io/yaml):
    bytes (`!!binary`), sets, NaN and infinities, lone surrogates (`"\\ud800"`, which
    orjson refuses to write: the answer was a 500)."""
    if isinstance(value, dict):
        return {_json_key(k): to_json_shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_shape(v) for v in value]
    if isinstance(value, str):
        return _valid_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError(f"{value!r} cannot be represented in JSON")


def _valid_text(text: str) -> str:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{text!r} is not valid UTF-8 (a lone surrogate)") from None
    return text


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return _valid_text(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int | float):
        return str(key)
    raise ValueError(f"map key {key!r} is not a scalar")
