"""Protobuf message descriptors compiled from the models' field declarations.

Each model field carries its Kubernetes field number (`field(..., protobuf=N)`,
apimachinery/models/schema.py); this module turns a model into a `Message`: number ->
`Field` (wire name, value type, repeated or not). Types the JSON schema cannot tell
apart are named here: `Time` ({seconds=1, nanos=2}), `IntOrString` ({type=1, intVal=2,
strVal=3}), `Quantity` ({string=1}), `RawExtension` and `FieldsV1` ({raw=1}, JSON
bytes) and `managedFields` (kept as loose dicts by the models); what only the Go type
knows (pointer fields, byte maps, MicroTime) each model declares in its
`protobuf_hints` (apimachinery/models/meta.py, `K8sModel`). Fields Go embeds
inline (`embedded`) become an inline sub-message whose fields land in the parent
object. `apiVersion`/`kind` are not part of an object's message: they travel in the
`runtime.Unknown` envelope (`codec`).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from apimachinery.models import meta as models_meta
from apimachinery.models.schema import TYPE_META, FieldMeta, ProtobufHint, fields

Scalar = Literal["string", "bytes", "int", "bool", "time", "microtime", "intorstr",
                 "quantity", "rawextension", "loose"]


@dataclass(frozen=True)
class Map:
    """A `map<string, V>`: repeated entries {key=1, value=2}, keys sorted when written."""

    value: Scalar | Message


@dataclass(frozen=True)
class Field:
    name: str  # the wire (JSON) name
    type: Scalar | Message | Map
    repeated: bool = False
    # A zero value ("" / 0 / false) is kept rather than dropped: Go writes value-typed
    # scalars even when zero, which JSON's omitempty leaves out, so a zero is only
    # meaningful for pointer fields and fields JSON always carries.
    keep_zero: bool = False


@dataclass(frozen=True)
class Message:
    name: str
    fields: dict[int, Field] = field(default_factory=dict, compare=False, hash=False)
    inline: bool = False  # a Go embedded struct: its fields belong to the parent object


# meta/v1 ManagedFieldsEntry (the models keep managedFields as loose dicts).
MANAGED_FIELDS_ENTRY = Message("ManagedFieldsEntry", {
    1: Field("manager", "string"), 2: Field("operation", "string"),
    3: Field("apiVersion", "string"), 4: Field("time", "time"),
    6: Field("fieldsType", "string"),
    7: Field("fieldsV1", "rawextension"),
    8: Field("subresource", "string")})

# meta/v1 DeleteOptions, which typed clients send as a protobuf DELETE body.
DELETE_OPTIONS = Message("DeleteOptions", {
    1: Field("gracePeriodSeconds", "int", keep_zero=True),
    2: Field("preconditions", Message("Preconditions", {
        1: Field("uid", "string"), 2: Field("resourceVersion", "string")})),
    3: Field("orphanDependents", "bool", keep_zero=True),
    4: Field("propagationPolicy", "string"),
    5: Field("dryRun", "string", repeated=True)})


def _strip_optional(annotation: Any) -> Any:
    """`X | None` -> X, keeping `Annotated` so Time, IntOrString and Quantity stay visible."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _bare(annotation: Any) -> Any:
    annotation = _strip_optional(annotation)
    while get_origin(annotation) is Annotated:
        annotation = _strip_optional(get_args(annotation)[0])
    return annotation


def _value_type(annotation: Any) -> Scalar | Message:
    annotation = _strip_optional(annotation)
    if annotation == models_meta.Time:
        return "time"
    if annotation == models_meta.IntOrString:
        return "intorstr"
    if annotation == models_meta.Quantity:
        return "quantity"
    bare = _bare(annotation)
    if get_origin(bare) in (Union, types.UnionType):
        members = set(get_args(bare))
        if members == {int, str}:
            return "intorstr"
        if members == {int, str, float}:
            return "quantity"
    if isinstance(bare, type) and issubclass(bare, BaseModel):
        return message(bare)
    if bare is bool:
        return "bool"
    if bare is int:
        return "int"
    if bare is str:
        return "string"
    return "loose"


def _field(model: type[BaseModel], meta: FieldMeta) -> Field:
    hints: Mapping[str, ProtobufHint] = getattr(model, "protobuf_hints", {})
    hint = hints.get(meta.json_name)
    keep = meta.required or hint == "pointer"
    annotation = _bare(meta.annotation)
    origin = get_origin(annotation)
    if hint == "bytes":
        return Field(meta.json_name, Map("bytes"))
    if model is models_meta.ObjectMeta and meta.json_name == "managedFields":
        return Field(meta.json_name, MANAGED_FIELDS_ENTRY, repeated=True)
    if origin is list:
        return Field(meta.json_name, _value_type(get_args(annotation)[0]), repeated=True)
    if origin is dict:
        value = _value_type(get_args(annotation)[1])
        return Field(meta.json_name, "loose" if value == "loose" else Map(value))
    # pydantic moves a required field's `Annotated` metadata (Time's validator) to the
    # FieldInfo; put it back so `Time` is recognised.
    info = model.model_fields[meta.name]
    full = Annotated[(meta.annotation, *info.metadata)] if info.metadata else meta.annotation
    value = _value_type(full)
    if value == "time" and hint == "microtime":
        value = "microtime"
    return Field(meta.json_name, value, keep_zero=keep)


@functools.cache
def message(model: type[BaseModel]) -> Message:
    """The protobuf message of `model`; fields without a number are not on the wire."""
    out = Message(model.__name__)
    for meta in fields(model).values():
        if meta.protobuf is None or meta.embedded == TYPE_META:
            continue
        described = _field(model, meta)
        if meta.embedded is None:
            out.fields[meta.protobuf] = described
            continue
        member, number = meta.embedded
        inline = out.fields.get(number)
        if inline is None:
            inline = Field(member, Message(f"{model.__name__}.{member}", inline=True))
            out.fields[number] = inline
        assert isinstance(inline.type, Message)
        inline.type.fields[meta.protobuf] = described
    return out
