"""Structure-aware mutations for the API fuzzer: a valid body with one node made wrong.

Schemathesis' negative cases break the schema somewhere in a generated body,
which is mostly refused at the first check. A valid body (the seeded object, or
the Scale, Binding, Eviction or DeleteOptions a subresource takes) with a single
node replaced by a value of another type, a huge integer, deep nesting or odd
text gets past the checks before it, to the code that reads that node: where
`metadata: [1]` or `spec: "x"` was an AttributeError.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

NodePath = tuple[str | int, ...]

WRONG_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63, max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=6), st.integers(),
                                                         max_size=2),
    st.integers(1, 60).map(lambda depth: _nested(depth)),
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def subresource_body(subresource: str | None, method: str, name: str, namespace: str,
                     manifest: dict[str, Any]) -> Any:
    """A valid body for the operation: the object itself, or what its subresource takes."""
    meta = {"name": name, "namespace": namespace}
    if method == "DELETE":
        return {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                "propagationPolicy": "Background", "preconditions": {"uid": "u"}}
    if subresource == "scale":
        return {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": meta,
                "spec": {"replicas": 1}}
    if subresource == "binding":
        return {"apiVersion": "v1", "kind": "Binding", "metadata": meta,
                "target": {"apiVersion": "v1", "kind": "Node", "name": "node-a"}}
    if subresource == "eviction":
        return {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": meta,
                "deleteOptions": {"gracePeriodSeconds": 0}}
    if subresource == "exec":
        return {"command": ["true"], "container": "main"}
    if subresource == "finalize":
        return {**manifest, "spec": {"finalizers": []}}
    return manifest


def paths(value: Any, here: NodePath = ()) -> list[NodePath]:
    """Every node's path in a JSON value, the root's `()` first."""
    found = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*here, index))
    return found


def replaced(value: Any, path: NodePath, new: Any) -> Any:
    """A copy of `value` with the node at `path` set to `new`."""
    if not path:
        return new
    copied = copy.deepcopy(value)
    node = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return copied


def mutations(base: Any) -> st.SearchStrategy[tuple[NodePath, Any]]:
    """A node of `base` and the wrong value to put there."""
    return st.tuples(st.sampled_from(paths(base)), WRONG_VALUES)


def as_body(media_type: str | None, base: Any, path: NodePath, new: Any) -> Any:
    """The mutation as the operation's body: a JSON patch operation for a JSON patch, the
    mutated object (which the other patch types merge) otherwise."""
    if media_type == "application/json-patch+json":
        pointer = "".join(f"/{str(step).replace('~', '~0').replace('/', '~1')}" for step in path)
        return [{"op": "add" if path else "replace", "path": pointer, "value": new}]
    return replaced(base, path, new)
