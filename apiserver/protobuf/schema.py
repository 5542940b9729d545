"""Protobuf message descriptors compiled from the models' field declarations.

Each model field carries its Kubernetes field number (`field(..., protobuf=N)`,
apimachinery/models/schema.py); this module turns a model into a `Message`: number ->
`Field` (wire name, value type, repeated or not). Types the JSON schema cannot tell
apart are named here: `Time` ({seconds=1, nanos=2}), `IntOrString` ({type=1, intVal=2,
strVal=3}), `Quantity` ({string=1}), `RawExtension` and `FieldsV1` ({raw=1}, JSON
bytes) and `managedFields` (kept as loose dicts by the models); what only the Go type
knows (pointer scalars, structs held by value, byte maps, MicroTime) each model
declares in its `protobuf_hints`, and the Go type's value fields Schooner does not
serve in its `protobuf_unserved` (apimachinery/models/meta.py, `K8sModel`). Lists
(`list_message`), ListMeta and Status are the same for every kind and named here.
Fields Go embeds inline (`embedded`) become an inline sub-message whose fields land
in the parent object. `apiVersion`/`kind` are not part of an object's message: they travel in the
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
from apimachinery.models.schema import TYPE_META, FieldMeta, ProtobufHint, ProtobufZero, fields

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
    # Go holds the field by pointer: written only when set. A value field (a scalar, or
    # a struct, Time, IntOrString or Quantity hinted "value") is written even when the
    # JSON object lacks it, as its zero. Lists and maps are written per entry.
    pointer: bool = False
    # A value scalar of the Go type Schooner does not serve: written as its zero so the
    # bytes equal Kubernetes', skipped when read.
    unserved: bool = False


@dataclass(frozen=True)
class Message:
    name: str
    fields: dict[int, Field] = field(default_factory=dict, compare=False, hash=False)
    inline: bool = False  # a Go embedded struct: its fields belong to the parent object


# meta/v1 ManagedFieldsEntry (the models keep managedFields as loose dicts).
MANAGED_FIELDS_ENTRY = Message("ManagedFieldsEntry", {
    1: Field("manager", "string"), 2: Field("operation", "string"),
    3: Field("apiVersion", "string"), 4: Field("time", "time", pointer=True),
    6: Field("fieldsType", "string"),
    7: Field("fieldsV1", "rawextension", pointer=True),
    8: Field("subresource", "string")})

# meta/v1 DeleteOptions, which typed clients send as a protobuf DELETE body.
DELETE_OPTIONS = Message("DeleteOptions", {
    1: Field("gracePeriodSeconds", "int", keep_zero=True, pointer=True),
    2: Field("preconditions", Message("Preconditions", {
        1: Field("uid", "string", pointer=True),
        2: Field("resourceVersion", "string", pointer=True)}), pointer=True),
    3: Field("orphanDependents", "bool", keep_zero=True, pointer=True),
    4: Field("propagationPolicy", "string", pointer=True),
    5: Field("dryRun", "string", repeated=True)})

# meta/v1 ListMeta, the `metadata` of every list and of a Status.
LIST_META = Message("ListMeta", {
    1: Field("selfLink", "string", unserved=True),
    2: Field("resourceVersion", "string"),
    3: Field("continue", "string"),
    4: Field("remainingItemCount", "int", keep_zero=True, pointer=True)})

# meta/v1 Status, every error's body (and a delete's answer when there is no object).
STATUS = Message("Status", {
    1: Field("metadata", LIST_META),
    2: Field("status", "string"),
    3: Field("message", "string"),
    4: Field("reason", "string"),
    5: Field("details", Message("StatusDetails", {
        1: Field("name", "string"), 2: Field("group", "string"), 3: Field("kind", "string"),
        4: Field("causes", Message("StatusCause", {
            1: Field("reason", "string"), 2: Field("message", "string"),
            3: Field("field", "string")}), repeated=True),
        5: Field("retryAfterSeconds", "int"),
        6: Field("uid", "string")}), pointer=True),
    6: Field("code", "int")})


_LISTS: dict[int, Message] = {}


def list_message(item: Message) -> Message:
    """`<Kind>List` {metadata=1 ListMeta, items=2}: the same two fields for every kind."""
    found = _LISTS.get(id(item))  # items are `message`'s cached, never freed
    if found is None:
        found = _LISTS[id(item)] = Message(f"{item.name}List", {
            1: Field("metadata", LIST_META), 2: Field("items", item, repeated=True)})
    return found


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


@functools.cache
def hints(model: type[BaseModel]) -> Mapping[str, frozenset[ProtobufHint]]:
    """The model's `protobuf_hints` and its bases', each as a set of hints."""
    out: dict[str, frozenset[ProtobufHint]] = {}
    for klass in reversed(model.__mro__):
        declared: Mapping[str, ProtobufHint | tuple[ProtobufHint, ...]] = vars(klass).get(
            "protobuf_hints", {})
        for name, hint in declared.items():
            out[name] = frozenset(hint if isinstance(hint, tuple) else (hint,))
    return out


def _unserved(model: type[BaseModel]) -> dict[int, Field]:
    declared: Mapping[str, tuple[int, ProtobufZero]] = getattr(model, "protobuf_unserved", {})
    return {number: Field(name, zero, unserved=True)
            for name, (number, zero) in declared.items()}


def _field(model: type[BaseModel], meta: FieldMeta) -> Field:
    hint = hints(model).get(meta.json_name, frozenset())
    keep = meta.required or bool(hint & {"pointer", "zero"})
    annotation = _bare(meta.annotation)
    origin = get_origin(annotation)
    if "bytes" in hint:  # a map of []byte (Secret.data), or one []byte (a CSR's request)
        if origin is dict:
            return Field(meta.json_name, Map("bytes"))
        return Field(meta.json_name, "bytes", keep_zero=keep, pointer=False)
    if model is models_meta.ObjectMeta and meta.json_name == "managedFields":
        return Field(meta.json_name, MANAGED_FIELDS_ENTRY, repeated=True)
    if origin is list:
        return Field(meta.json_name, _value_type(get_args(annotation)[0]), repeated=True)
    if origin is dict:
        value = _value_type(get_args(annotation)[1])
        if value == "loose":  # an untyped struct: a pointer unless hinted "value"
            return Field(meta.json_name, "loose", pointer="value" not in hint)
        return Field(meta.json_name, Map(value))
    # pydantic moves a required field's `Annotated` metadata (Time's validator) to the
    # FieldInfo; put it back so `Time` is recognised.
    info = model.model_fields[meta.name]
    full = Annotated[(meta.annotation, *info.metadata)] if info.metadata else meta.annotation
    value = _value_type(full)
    if value == "time" and "microtime" in hint:
        value = "microtime"
    scalar = value in ("string", "int", "bool")
    pointer = "pointer" in hint if scalar else "value" not in hint
    return Field(meta.json_name, value, keep_zero=keep, pointer=pointer)


@functools.cache
def message(model: type[BaseModel]) -> Message:
    """The protobuf message of `model`; fields without a number are not on the wire."""
    out = Message(model.__name__, _unserved(model))
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
