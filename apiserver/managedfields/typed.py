"""The object walks server-side apply needs, driven by the models' schema.

structured-merge-diff reads a schema converted from OpenAPI (kube-openapi's
`schemaconv`); Schooner reads the same facts from its models
(`apimachinery.models.schema`), the one source of the OpenAPI document:

- a list is atomic (one leaf), a set (`v:` items) or a map keyed by its
  `list_map_keys` (`k:` items); a list with no `list_type` but with
  `patchStrategy: merge` is keyed by its merge key, or a set without one, and any
  other list is atomic, as `schemaconv` decides;
- a struct is granular unless its model says `struct_type = "atomic"` (a
  LabelSelector, an ObjectReference); a `dict[str, X]` field is a granular map
  unless declared `map_type="atomic"` (a pod's `nodeSelector`);
- what the models do not type (a loose dict, a field kept as an extra) is
  "deduced" as structured-merge-diff does for untyped objects: maps granular, lists
  atomic.

Functions here are pure: `field_set` (the paths an object sets), `compare` (what
changed between two versions), `merge` (an applied configuration into the live
object) and `remove` (paths out of an object).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from apimachinery.models import model_for, schema
from apiserver.protobuf.schema import hints

from .fieldset import FieldSet, key_element, value_element

__all__ = ["Comparison", "compare", "field_set", "merge", "named_members", "remove",
           "root_type"]

# Key fields whose schema default stands in when an item leaves them out, as
# structured-merge-diff reads a key's `default` from OpenAPI: a port's protocol.
_KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}


class Type:
    """A node of the schema; subclasses say how values of it are walked.

    `dict_leaf`/`list_leaf`: whether an object or an array found where this type is
    expected is one leaf (atomic, or not the shape the type walks).
    """

    atomic = True
    dict_leaf = True
    list_leaf = True


class _Scalar(Type):
    pass


class _Deduced(Type):
    """Untyped: a dict is a granular map of deduced values, anything else a leaf."""

    atomic = False
    dict_leaf = False


SCALAR = _Scalar()
DEDUCED = _Deduced()


@dataclass(eq=False)
class Struct(Type):
    model: type[BaseModel]
    atomic: bool = False
    _fields: dict[str, Type] | None = field(default=None, repr=False)
    _present: frozenset[str] | None = field(default=None, repr=False)
    _by_value: frozenset[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.dict_leaf = self.atomic

    def always_present(self, name: str) -> bool:
        """Whether Go's zero value of the struct carries the field anyway: a struct held by
        value (`spec`, `template`, `resources`) or a field without `omitempty` (the
        required ones, `containers`, as null). Kubernetes compares a create against that
        zero object, so such a field is never "added" as a whole."""
        self._zero_facts()
        assert self._present is not None
        return name in self._present

    def held_by_value(self, name: str) -> bool:
        """A struct field Go holds by value: its own zero fields are present too."""
        self._zero_facts()
        assert self._by_value is not None
        return name in self._by_value

    def _zero_facts(self) -> None:
        if self._present is None:
            hinted = hints(self.model)
            self._by_value = frozenset(n for n, h in hinted.items() if "value" in h)
            self._present = self._by_value | frozenset(
                name for name, meta in schema.fields(self.model).items() if meta.required)

    def field(self, name: str) -> Type | None:
        """The type of a declared field; None for a key the model does not declare."""
        if self._fields is None:
            self._fields = {name: _field_type(meta)
                            for name, meta in schema.fields(self.model).items()}
        return self._fields.get(name)


@dataclass(eq=False)
class MapType(Type):
    value: Type
    atomic: bool = False

    def __post_init__(self) -> None:
        self.dict_leaf = self.atomic


@dataclass(eq=False)
class ListType(Type):
    item: Type
    relation: str  # atomic, set or map
    keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.atomic = self.list_leaf = self.relation == "atomic"


@functools.cache
def _struct(model: type[BaseModel]) -> Struct:
    return Struct(model, atomic=getattr(model, "struct_type", "granular") == "atomic")


@functools.cache
def root_type(kind: str) -> Type:
    """The type of a whole object of `kind`; deduced for a kind without a model."""
    try:
        return _struct(model_for(kind))
    except KeyError:
        return DEDUCED


def _field_type(meta: schema.FieldMeta) -> Type:
    annotation = schema.unwrap(meta.annotation)
    origin = get_origin(annotation)
    if origin is list:
        item = _value_type(get_args(annotation)[0])
        relation, keys = _list_relation(meta)
        return ListType(item, relation, keys)
    if origin is dict:
        return MapType(_value_type(get_args(annotation)[1]), atomic=meta.map_type == "atomic")
    return _value_type(annotation)


def _list_relation(meta: schema.FieldMeta) -> tuple[str, tuple[str, ...]]:
    if meta.list_type == "map":
        return "map", meta.list_map_keys
    if meta.list_type in ("atomic", "set"):
        return meta.list_type, ()
    if "merge" in meta.patch_strategies:
        return ("map", (meta.merge_key,)) if meta.merge_key else ("set", ())
    return "atomic", ()


def _value_type(annotation: Any) -> Type:
    inner = schema.unwrap(annotation)
    origin = get_origin(inner)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return _struct(inner)
    if origin is list:
        return ListType(_value_type(get_args(inner)[0]), "atomic")
    if origin is dict:
        return MapType(_value_type(get_args(inner)[1]))
    if inner is Any:
        return DEDUCED
    return SCALAR


def child_type(t: Type, element: str) -> Type:
    """The type found under path element `element` of a value of type `t`."""
    if isinstance(t, Struct):
        return t.field(element[2:]) or DEDUCED
    if isinstance(t, MapType):
        return t.value
    if isinstance(t, ListType):
        return t.item
    return DEDUCED


def _is_leaf(t: Type, value: Any) -> bool:
    if isinstance(value, dict):
        return t.dict_leaf
    if isinstance(value, list):
        return t.list_leaf
    return True


# -- list items -------------------------------------------------------------------------


def item_element(t: ListType, item: Any) -> str:
    """The path element of a set or keyed list's item; ValueError when it has none."""
    if t.relation == "set":
        if isinstance(item, dict | list):
            raise ValueError("associative list without keys has an element that's a map "
                             "or list type")
        return value_element(item)
    if not isinstance(item, dict):
        raise ValueError("associative list with keys may not have non-map elements")
    pairs = tuple((k, item[k] if k in item else _KEY_DEFAULTS.get(k)) for k in t.keys
                  if k in item or k in _KEY_DEFAULTS)
    if not pairs:
        raise ValueError(f"associative list with keys has an element that omits all key "
                         f"fields {list(t.keys)!r} (and doesn't have default values for "
                         "any key fields)")
    try:
        return _cached_key_element(pairs)
    except TypeError:  # a key value that is a map or list
        return key_element(dict(pairs))


@functools.lru_cache(maxsize=8192)
def _cached_key_element(pairs: tuple[tuple[str, Any], ...]) -> str:
    return key_element(dict(pairs))


def _items(t: ListType, items: list[Any]) -> dict[str, Any]:
    """Items by path element; a duplicated element keeps the first (Update tolerates
    duplicates as Kubernetes does; apply refuses them in `field_set(strict=True)`)."""
    out: dict[str, Any] = {}
    for item in items:
        out.setdefault(item_element(t, item), item)
    return out


# -- field sets -------------------------------------------------------------------------


def field_set(value: Any, t: Type, *, strict: bool = False) -> FieldSet:
    """The paths `value` sets (structured-merge-diff's ToFieldSet).

    Leaves are scalars and atomic values; a struct field holding a non-empty object
    is only a parent, a map's key and a list item are members too. `strict` refuses
    duplicated list items (an applied configuration may not have them).
    """
    out = FieldSet()
    _fill(out, value, t, strict)
    return out


def _fill(node: FieldSet, value: Any, t: Type, strict: bool) -> None:
    if isinstance(value, dict) and not t.dict_leaf:
        struct = t if isinstance(t, Struct) else None
        shared = t.value if isinstance(t, MapType) else DEDUCED
        members = node.members
        for key, val in value.items():
            element = "f:" + key
            sub = struct.field(key) if struct is not None else None
            declared = sub is not None
            if sub is None:
                sub = DEDUCED if struct is not None else shared
            leaf = _is_leaf(sub, val)
            if leaf or not declared or val == {}:  # a null is a leaf
                members.add(element)
            if not leaf:
                _fill_child(node, element, val, sub, strict)
    elif isinstance(value, list) and isinstance(t, ListType) and not t.atomic:
        elements = [item_element(t, item) for item in value]
        repeated = {e for i, e in enumerate(elements) if e in elements[:i]} \
            if len(set(elements)) != len(elements) else set()
        if repeated and strict:
            raise ValueError(f"duplicate entries for key {min(repeated)[2:]}")
        for element, item in zip(elements, value, strict=True):
            node.members.add(element)
            # A repeated key is owned as one item, nothing inside it (as Kubernetes
            # tolerates duplicates an Update brings).
            if isinstance(item, dict) and element not in repeated:
                _fill_child(node, element, item, t.item, strict)


def _fill_child(node: FieldSet, element: str, value: Any, t: Type, strict: bool) -> None:
    sub = FieldSet()
    _fill(sub, value, t, strict)
    if sub.members or sub.children:
        node.children[element] = sub


# -- comparison -------------------------------------------------------------------------


@dataclass
class Comparison:
    """What moved from an old to a new object: paths added, modified, removed."""

    added: FieldSet = field(default_factory=FieldSet)
    modified: FieldSet = field(default_factory=FieldSet)
    removed: FieldSet = field(default_factory=FieldSet)


def compare(old: Any, new: Any, t: Type) -> Comparison:
    """structured-merge-diff's `Compare`: leaves whose values differ are modified, paths
    only in `new` added, paths only in `old` removed. A field added or removed as a
    whole is itself in the set (a map, a pointer struct: `"f:labels": {".": {}, ...}`),
    unless Go's zero object has it (`Struct.always_present`)."""
    out = Comparison()
    _compare(old, new, t, out.added, out.modified, out.removed)
    return out


def _compare(old: Any, new: Any, t: Type, added: FieldSet, modified: FieldSet,
             removed: FieldSet) -> None:
    if isinstance(old, dict) and isinstance(new, dict) and not _is_leaf(t, new):
        olds, news = old, new
        wrap = "f:"
    elif isinstance(old, list) and isinstance(new, list) and isinstance(t, ListType) \
            and not t.atomic:
        olds, news = _items(t, old), _items(t, new)
        wrap = ""
    else:
        return
    for key, val in news.items():
        element = wrap + key
        if key not in olds:
            _graft(added, _whole(element, val, t))
            continue
        was = olds[key]
        # Equal subtrees are skipped at C speed; `==` takes `1` for `true`, which only a
        # change of a value's JSON type without a change of value would hide.
        if was is val or was == val:
            continue
        sub = child_type(t, element)
        if _is_leaf(sub, val) or _is_leaf(sub, was) or val is None or was is None:
            if not _same(was, val):
                modified.members.add(element)
            continue
        _compare(was, val, sub, added.child(element), modified.child(element),
                 removed.child(element))
        for node in (added, modified, removed):
            if element in node.children and node.children[element].empty():
                del node.children[element]
    for key, was in olds.items():
        if key not in news:
            _graft(removed, _whole(wrap + key, was, t))


def _whole(element: str, value: Any, parent: Type, zero: bool = True) -> FieldSet:
    """The paths of a field, key or item added or removed whole, as Kubernetes' compare
    walks it: every node it reaches is in the set unless Go's zero object has it
    (`zero`: the parent is itself in that zero object)."""
    out = FieldSet()
    if element.startswith("f:"):
        _fill_added(out, {element[2:]: value}, parent, zero)
    else:
        _add_item(out, element, value, parent)
    return out


def _fill_added(node: FieldSet, value: Any, t: Type, zero: bool) -> None:
    if isinstance(value, dict) and not t.dict_leaf:
        struct = t if isinstance(t, Struct) else None
        shared = t.value if isinstance(t, MapType) else DEDUCED
        for key, val in value.items():
            element = "f:" + key
            present = by_value = False
            if struct is not None:
                declared = struct.field(key)
                sub = declared if declared is not None else DEDUCED
                if declared is not None and zero:
                    present = struct.always_present(key)
                    by_value = present and struct.held_by_value(key)
            else:
                sub = shared
            leaf = _is_leaf(sub, val)
            if leaf or not present or val == {}:
                node.members.add(element)
            if not leaf:
                inner = FieldSet()
                _fill_added(inner, val, sub, by_value)
                if inner.members or inner.children:
                    node.children[element] = inner
    elif isinstance(value, list) and isinstance(t, ListType) and not t.atomic:
        for element, item in _items(t, value).items():
            _add_item(node, element, item, t)


def _add_item(node: FieldSet, element: str, item: Any, t: Type) -> None:
    """A list item added or removed whole: it and everything in it."""
    node.members.add(element)
    if isinstance(item, dict) and isinstance(t, ListType):
        inner = FieldSet()
        _fill_added(inner, item, t.item, False)
        if inner.members or inner.children:
            node.children[element] = inner


def _graft(into: FieldSet, part: FieldSet) -> None:
    into.members |= part.members
    for element, sub in part.children.items():
        into.children[element] = into.children[element].union(sub) \
            if element in into.children else sub


def _same(a: Any, b: Any) -> bool:
    """JSON equality (`true` is not `1`)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


# -- merge ------------------------------------------------------------------------------


def merge(live: Any, config: Any, t: Type) -> Any:
    """The applied configuration merged into the live value (structured-merge-diff's
    `Merge`): granular maps and structs key by key, keyed lists and sets item by
    item (live order kept, new items after), anything atomic replaced. A `null` in
    the configuration removes the field. Neither input is mutated."""
    if isinstance(live, dict) and isinstance(config, dict) and not _is_leaf(t, config):
        out = dict(live)
        for key, val in config.items():
            if val is None:
                out.pop(key, None)
            elif key in out:
                out[key] = merge(out[key], val, child_type(t, "f:" + key))
            else:
                out[key] = val
        return out
    if isinstance(live, list) and isinstance(config, list) and isinstance(t, ListType) \
            and not t.atomic:
        wanted = _items(t, config)
        merged: list[Any] = []
        for item in live:
            element = item_element(t, item)
            merged.append(merge(item, wanted.pop(element), t.item) if element in wanted
                          else item)
        return merged + list(wanted.values())
    return config


# -- removal ----------------------------------------------------------------------------


def remove(value: Any, paths: FieldSet, t: Type) -> Any:
    """`value` without the paths in `paths`, each with all below it (structured-merge-
    diff's RemoveItems); a map or list left empty by it goes too, as Go's decoding
    of the resulting `null` leaves the field unset."""
    if isinstance(value, dict) and not _is_leaf(t, value):
        out: dict[str, Any] = {}
        for key, val in value.items():
            element = "f:" + key
            if element in paths.members:
                continue
            sub = paths.children.get(element)
            if sub is None:
                out[key] = val
                continue
            kept = remove(val, sub, child_type(t, element))
            if kept not in ({}, []) or val in ({}, []):
                out[key] = kept
        return out
    if isinstance(value, list) and isinstance(t, ListType) and not t.atomic:
        items: list[Any] = []
        for item in value:
            element = item_element(t, item)
            if element in paths.members:
                continue
            sub = paths.children.get(element)
            items.append(remove(item, sub, t.item) if sub is not None else item)
        return items
    return value


def named_members(paths: FieldSet, t: Type) -> FieldSet:
    """`paths` with every declared struct field on the way made a member too
    (structured-merge-diff's EnsureNamedFieldsAreMembers), so a parent field counts as
    owned where something below it is."""
    out = FieldSet()
    out.members = set(paths.members)
    for element, sub in paths.children.items():
        if isinstance(t, Struct) and t.field(element[2:]) is not None:
            out.members.add(element)
        out.children[element] = named_members(sub, child_type(t, element))
    return out
