"""Sets of field paths and their FieldsV1 encoding (sigs.k8s.io/structured-merge-diff's
`fieldpath.Set`, written for Schooner).

A path is a sequence of path elements, each kept as the string FieldsV1 uses for it:

- `f:<name>`: a field of a struct or a key of a map;
- `k:{"name":"web"}`: the item of an associative list with those key values (keys
  sorted, compact JSON, as `fieldpath` serialises a sorted `FieldList`);
- `v:<json>`: the item of a set list with that value (`v:"example.com/a"`);
- `i:<n>`: a list item by index (decoded when a client sends it; Kubernetes' schemas
  never produce it, as every list is atomic, a set or keyed).

A `FieldSet` is a trie: `members` are the elements that end a path here, `children`
the elements some longer path continues through. FieldsV1 writes a member as `{}`, a
child as the object of its own elements, and an element that is both with a `"."`
member inside (`"k:{\"name\":\"web\"}": {".": {}, "f:image": {}}`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

__all__ = ["FieldSet", "element_sort_key", "key_element", "path_string", "value_element"]

Path = tuple[str, ...]


class FieldSet:
    """A set of paths, as a trie; operations return new sets and never mutate their inputs.

    Results share unchanged subtrees with their inputs (a difference that removes
    nothing is its input), so a set is built with `insert`/`child` and then treated
    as immutable. No node keeps an empty child, which makes `empty` O(1).
    """

    __slots__ = ("children", "members")

    def __init__(self) -> None:
        self.members: set[str] = set()
        self.children: dict[str, FieldSet] = {}

    # -- building ---------------------------------------------------------------------

    @classmethod
    def of(cls, *paths: Path) -> FieldSet:
        out = cls()
        for path in paths:
            out.insert(path)
        return out

    def insert(self, path: Path) -> None:
        """Add one path (in place: only for sets being built)."""
        node = self
        for element in path[:-1]:
            node = node.child(element)
        if path:
            node.members.add(path[-1])

    def child(self, element: str) -> FieldSet:
        """The subtree under `element`, created when missing (in place, for builders)."""
        node = self.children.get(element)
        if node is None:
            node = self.children[element] = FieldSet()
        return node

    # -- queries ----------------------------------------------------------------------

    def empty(self) -> bool:
        return not self.members and not self.children

    def has(self, path: Path) -> bool:
        node: FieldSet | None = self
        for element in path[:-1]:
            node = node.children.get(element) if node is not None else None
        return node is not None and bool(path) and path[-1] in node.members

    def has_prefix_of(self, path: Path) -> bool:
        """Whether some member of the set is `path` or an ancestor of it."""
        node: FieldSet | None = self
        for element in path:
            if node is None:
                return False
            if element in node.members:
                return True
            node = node.children.get(element)
        return False

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every path in the set, in FieldsV1 order."""
        for element in sorted(self.members | self.children.keys(), key=element_sort_key):
            if element in self.members:
                yield (*prefix, element)
            sub = self.children.get(element)
            if sub is not None:
                yield from sub.paths((*prefix, element))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSet) and self.to_fields() == other.to_fields()

    def __repr__(self) -> str:
        return f"FieldSet({json.dumps(self.to_fields(), separators=(',', ':'))})"

    # -- algebra ----------------------------------------------------------------------

    def union(self, other: FieldSet) -> FieldSet:
        if other.empty():
            return self
        if self.empty():
            return other
        out = FieldSet()
        out.members = self.members | other.members
        out.children = dict(self.children)
        for element, theirs in other.children.items():
            mine = out.children.get(element)
            out.children[element] = theirs if mine is None else mine.union(theirs)
        return out

    def difference(self, other: FieldSet) -> FieldSet:
        """The paths of this set that are not in `other` (path by path, not subtrees)."""
        return self._minus(other, recursive=False)

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """The paths of this set that neither are in `other` nor lie below one of its
        members (Kubernetes' reset fields: `status` drops every status path)."""
        return self._minus(other, recursive=True)

    def _minus(self, other: FieldSet, *, recursive: bool) -> FieldSet:
        if other.empty() or self.empty():
            return self
        members = self.members - other.members if other.members else self.members
        children: dict[str, FieldSet] = {}
        changed = len(members) != len(self.members)
        for element, mine in self.children.items():
            if recursive and element in other.members:
                changed = True
                continue
            theirs = other.children.get(element)
            sub = mine if theirs is None else mine._minus(theirs, recursive=recursive)
            if sub is not mine:
                changed = True
            if not sub.empty():
                children[element] = sub
        if not changed:
            return self
        out = FieldSet()
        out.members, out.children = set(members), children
        return out

    def intersection(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        if self.empty() or other.empty():
            return out
        out.members = self.members & other.members
        small, large = (self.children, other.children) \
            if len(self.children) <= len(other.children) else (other.children, self.children)
        for element, mine in small.items():
            theirs = large.get(element)
            if theirs is not None:
                sub = mine.intersection(theirs)
                if not sub.empty():
                    out.children[element] = sub
        return out

    def copy(self) -> FieldSet:
        out = FieldSet()
        out.members = set(self.members)
        out.children = {k: v.copy() for k, v in self.children.items()}
        return out

    # -- FieldsV1 ---------------------------------------------------------------------

    def to_fields(self) -> dict[str, Any]:
        """The FieldsV1 object, elements in Kubernetes' order (fields by name, then keys,
        values and indices)."""
        out: dict[str, Any] = {}
        for element in sorted(self.members | self.children.keys(), key=element_sort_key):
            sub = self.children.get(element)
            inner = sub.to_fields() if sub is not None else {}
            if element in self.members and inner:
                inner = {".": {}, **inner}
            out[element] = inner
        return out

    @classmethod
    def from_fields(cls, fields: Any) -> FieldSet:
        """Decode a FieldsV1 object; ValueError names what is malformed."""
        if not isinstance(fields, dict):
            raise ValueError("FieldsV1 must be a JSON object")
        out = cls()
        members, children = out.members, out.children
        for element, inner in fields.items():
            if element == ".":
                continue
            _check_element(element)
            if not isinstance(inner, dict):
                raise ValueError(f"{element}: must be a JSON object")
            if not inner:
                members.add(element)
                continue
            if "." in inner:
                members.add(element)
                if len(inner) == 1:
                    continue
            children[element] = cls.from_fields(inner)
        return out


_RANKS = {"f": 0, "k": 1, "v": 2, "i": 3}


@functools.lru_cache(maxsize=8192)
def element_sort_key(element: str) -> tuple[int, Any]:
    """Kubernetes' PathElement order: field names, then keys, values, indices."""
    rank = _RANKS.get(element[:1], 4)
    body = element[2:]
    if rank == 3:
        return rank, (int(body), "") if body.isdigit() else (0, body)
    if rank in (1, 2):
        return rank, _value_key(json.loads(body))
    return rank, body


def _value_key(value: Any) -> Any:
    """A total order on JSON values close to structured-merge-diff's `value.Compare`."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, dict):
        return (5, tuple((k, _value_key(v)) for k, v in sorted(value.items())))
    return (4, tuple(_value_key(v) for v in value))


@functools.lru_cache(maxsize=8192)
def _check_element(element: str) -> None:
    prefix, _, body = element.partition(":")
    if prefix == "f" and _:
        return
    if prefix == "i" and body.isdigit():
        return
    if prefix in ("k", "v"):
        try:
            value = json.loads(body)
        except ValueError:
            raise ValueError(f"{element}: invalid JSON in path element") from None
        if prefix == "k" and not isinstance(value, dict):
            raise ValueError(f"{element}: a key must be a JSON object")
        return
    raise ValueError(f"{element}: unknown path element (expected f:, k:, v: or i:)")


def key_element(keys: dict[str, Any]) -> str:
    """`k:{...}` for an associative list item whose key fields have these values."""
    return "k:" + json.dumps(dict(sorted(keys.items())), separators=(",", ":"),
                             ensure_ascii=False)


def value_element(value: Any) -> str:
    """`v:<json>` for a set list item."""
    return "v:" + json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def path_string(path: Path) -> str:
    """The path as Kubernetes prints it in a conflict: `.spec.containers[name="web"].image`."""
    out: list[str] = []
    for element in path:
        prefix, body = element[:1], element[2:]
        if prefix == "f":
            out.append("." + body)
        elif prefix == "k":
            keys = json.loads(body)
            out.append("[" + ",".join(f"{k}={_json(v)}" for k, v in keys.items()) + "]")
        elif prefix == "v":
            out.append(f"[={_json(json.loads(body))}]")
        else:
            out.append(f"[{body}]")
    return "".join(out)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
