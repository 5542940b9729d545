"""What the models say about each field besides its type: the API schema's one source.

Every field of every model is declared as

    containers: Annotated[list[Container], field(
        "The pod's containers ...", protobuf=2, list_type="map", list_map_keys=("name",),
        merge_key="name", patch_strategy="merge")]

`field` returns a pydantic `FieldInfo`: its `description` is the field's text,
written for Schooner, and its `json_schema_extra` holds Kubernetes' OpenAPI
extensions under their own names, so `Model.model_json_schema()` already
carries them. Validation, OpenAPI schemas, the protobuf codec, `kubectl
explain` and strategic merge patch read the same declaration:

- `protobuf`: the field's number in Kubernetes' protobuf message (the
  `protobuf:"..."` struct tags of k8s.io/api and k8s.io/apimachinery). Go
  embeds some structs inline: a Volume's sources are fields of `VolumeSource`,
  itself field 2 (`volumeSource`) of `Volume`; a probe's handlers live in
  `ProbeHandler` (`handler`, field 1); a key selector's `name` in
  `LocalObjectReference` (`localObjectReference`, field 1). Such a field keeps
  its number inside the embedded struct and names the member in `embedded`.
  `apiVersion` and `kind` are `TypeMeta`'s fields 1 and 2, and `TypeMeta`
  travels as field 1 (`typeMeta`) of the `runtime.Unknown` envelope that frames
  every top-level object, not inside the object's own message (`TYPE_META`).
  `None` marks a field Kubernetes' type does not have. What the Go type says and
  the JSON type cannot (a pointer scalar, a struct held by value, a map of bytes, a
  MicroTime) a model declares once in its `protobuf_hints`, and the value fields
  of the Go type Schooner does not serve in its `protobuf_unserved` (`K8sModel`).
- `list_type`, `list_map_keys`: the `+listType` (atomic, set, map) and
  `+listMapKey` markers, what server-side apply and OpenAPI read.
- `merge_key`, `patch_strategy`: the `patchMergeKey` and `patchStrategy` tags
  (`merge`, `retainKeys`, `merge,retainKeys`), what strategic merge patch reads.
- `map_type`: the `+mapType=atomic` marker of a `map[string]string` server-side
  apply owns whole (a pod's `nodeSelector`, a Service's `selector`); a struct that
  is atomic (`+structType=atomic`) says so on its model (`K8sModel.struct_type`).

`field_meta(Model, "containers")` (wire or attribute name) reads one field back
as a `FieldMeta`; `resolve(Pod, "spec.template.spec.containers")` follows a
path of wire names through nested models, stepping into list items and map
values without naming them; `find` does the same and answers None where the
path leaves the typed models; `iter_models` lists every model a root reaches.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

LIST_TYPE = "x-kubernetes-list-type"
LIST_MAP_KEYS = "x-kubernetes-list-map-keys"
PATCH_MERGE_KEY = "x-kubernetes-patch-merge-key"
PATCH_STRATEGY = "x-kubernetes-patch-strategy"
MAP_TYPE = "x-kubernetes-map-type"
PROTOBUF = "x-schooner-protobuf"
PROTOBUF_EMBEDDED = "x-schooner-protobuf-embedded"

ListType = Literal["atomic", "set", "map"]
# What a model's `protobuf_hints` may say of a field (see K8sModel.protobuf_hints).
ProtobufHint = Literal["pointer", "value", "zero", "bytes", "microtime"]
# The zero a model's `protobuf_unserved` field is written as (see K8sModel.protobuf_unserved).
ProtobufZero = Literal["string", "int"]
_PATCH_STRATEGIES = frozenset({"merge", "retainKeys"})

# The embedded members named in Kubernetes' protobuf tags.
TYPE_META = ("typeMeta", 1)  # of runtime.Unknown, the envelope of every top-level object
LOCAL_OBJECT_REFERENCE = ("localObjectReference", 1)
PROBE_HANDLER = ("handler", 1)
VOLUME_SOURCE = ("volumeSource", 2)


def field(description: str, *, protobuf: int | None, embedded: tuple[str, int] | None = None,
          list_type: ListType | None = None, list_map_keys: Sequence[str] = (),
          merge_key: str | None = None, patch_strategy: str | None = None,
          map_type: Literal["atomic"] | None = None, alias: str | None = None) -> FieldInfo:
    """A model field's description, protobuf number and list/patch semantics, for `Annotated`.

    `alias` is only for wire names the camelCase generator cannot spell
    (`hostIP`, `podCIDR`). Inconsistent arguments raise ValueError when the
    model's module is imported, so a wrong declaration never reaches a request.
    """
    if not description.strip():
        raise ValueError("a field needs a description")
    if protobuf is not None and protobuf < 1:
        raise ValueError(f"protobuf field numbers start at 1, not {protobuf}")
    if list_map_keys and list_type != "map":
        raise ValueError("list_map_keys belong to a list_type='map' field")
    if list_type == "map" and not list_map_keys:
        raise ValueError("a list_type='map' field needs list_map_keys")
    strategies = set(patch_strategy.split(",")) if patch_strategy else set()
    if not strategies <= _PATCH_STRATEGIES:
        raise ValueError(f"unknown patch strategy {patch_strategy!r}")
    if merge_key is not None and "merge" not in strategies:
        raise ValueError("a merge_key needs patch_strategy 'merge'")
    extra: dict[str, Any] = {}
    if protobuf is not None:
        extra[PROTOBUF] = protobuf
    if embedded is not None:
        extra[PROTOBUF_EMBEDDED] = list(embedded)
    if list_type is not None:
        extra[LIST_TYPE] = list_type
    if list_map_keys:
        extra[LIST_MAP_KEYS] = list(list_map_keys)
    if merge_key is not None:
        extra[PATCH_MERGE_KEY] = merge_key
    if patch_strategy is not None:
        extra[PATCH_STRATEGY] = patch_strategy
    if map_type is not None:
        extra[MAP_TYPE] = map_type
    info: FieldInfo = Field(description=description, alias=alias, json_schema_extra=extra)
    return info


@dataclass(frozen=True)
class FieldMeta:
    """One model field as the schema sees it; read with `field_meta`, `resolve` or `find`."""

    model: type[BaseModel]
    name: str  # the Python attribute
    json_name: str  # the wire name
    description: str
    protobuf: int | None
    embedded: tuple[str, int] | None
    list_type: str | None
    list_map_keys: tuple[str, ...]
    merge_key: str | None
    patch_strategy: str | None
    annotation: Any
    required: bool
    map_type: str | None = None

    @property
    def patch_strategies(self) -> frozenset[str]:
        """`{"merge", "retainKeys"}` for `patch_strategy="merge,retainKeys"`."""
        return frozenset(self.patch_strategy.split(",")) if self.patch_strategy else frozenset()

    @property
    def is_list(self) -> bool:
        return get_origin(unwrap(self.annotation)) is list

    @property
    def value_model(self) -> type[BaseModel] | None:
        """The model of the value, of a list's items or of a map's values; None if untyped."""
        return _value_model(self.annotation)


def unwrap(annotation: Any) -> Any:
    """Strip `Annotated[...]` and `X | None` down to X (the model walks and the apiserver's
    field paths share it)."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _value_model(annotation: Any) -> type[BaseModel] | None:
    inner = unwrap(annotation)
    origin = get_origin(inner)
    if origin is list:
        inner = unwrap(get_args(inner)[0])
    elif origin is dict:
        inner = unwrap(get_args(inner)[1])
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return inner
    return None


@functools.cache
def fields(model: type[BaseModel]) -> Mapping[str, FieldMeta]:
    """Every field of `model` by wire name, in declaration order."""
    out: dict[str, FieldMeta] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        embedded = extra.get(PROTOBUF_EMBEDDED)
        keys = extra.get(LIST_MAP_KEYS)
        json_name = info.alias or name
        out[json_name] = FieldMeta(
            model=model, name=name, json_name=json_name,
            description=info.description or "",
            protobuf=_int_or_none(extra.get(PROTOBUF)),
            embedded=(embedded[0], embedded[1]) if isinstance(embedded, list)
            and isinstance(embedded[0], str) and isinstance(embedded[1], int) else None,
            list_type=_str_or_none(extra.get(LIST_TYPE)),
            list_map_keys=tuple(str(k) for k in keys) if isinstance(keys, list) else (),
            merge_key=_str_or_none(extra.get(PATCH_MERGE_KEY)),
            patch_strategy=_str_or_none(extra.get(PATCH_STRATEGY)),
            annotation=info.annotation, required=info.is_required(),
            map_type=_str_or_none(extra.get(MAP_TYPE)))
    return out


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def field_meta(model: type[BaseModel], name: str) -> FieldMeta:
    """The field of `model` with wire name (`imagePullPolicy`) or attribute name `name`."""
    by_wire = fields(model)
    if name in by_wire:
        return by_wire[name]
    for meta in by_wire.values():
        if meta.name == name:
            return meta
    raise KeyError(f"{model.__name__} has no field {name!r}")


def find(model: type[BaseModel], path: str | Sequence[str]) -> FieldMeta | None:
    """The field at `path` (wire names, dotted or a sequence) below `model`; None off the models.

    List items and map values are stepped into without naming them, so
    `spec.containers.ports` is each container's ports. None means a segment is
    not a typed field: unknown, kept as an extra, or inside a loose dict.
    """
    parts = path.split(".") if isinstance(path, str) else tuple(path)
    current: type[BaseModel] | None = model
    meta: FieldMeta | None = None
    for part in parts:
        if current is None:
            return None
        meta = fields(current).get(part)
        if meta is None:
            return None
        current = meta.value_model
    return meta


def resolve(model: type[BaseModel], path: str | Sequence[str]) -> FieldMeta:
    """Like `find`, but a path that leaves the typed models raises KeyError."""
    meta = find(model, path)
    if meta is None:
        shown = path if isinstance(path, str) else ".".join(path)
        raise KeyError(f"{model.__name__} has no typed field at {shown!r}")
    return meta


def iter_models(*roots: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """`roots` and every model their fields reach, each once, depth first."""
    seen: set[type[BaseModel]] = set()
    stack = list(reversed(roots))
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        yield model
        nested = [m.value_model for m in fields(model).values()]
        stack.extend(m for m in reversed(nested) if m is not None and m not in seen)
