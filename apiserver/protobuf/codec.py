"""Kubernetes protobuf objects to and from their JSON form, driven by `schema.Message`.

A body is `k8s\\0` and a proto2 `runtime.Unknown`: typeMeta=1 {apiVersion=1, kind=2},
raw=2 (the object's own message), contentEncoding=3, contentType=4 (`unwrap`, `wrap`;
`encoder` writes the message itself). Decoding gives the object as the JSON decoder
would: Go writes value-typed scalars even when zero, which JSON's omitempty leaves out,
so zeros are dropped except where `Field.keep_zero` says they mean something; an empty
Time is null; Secret bytes come back base64.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson

from .schema import Field, Map, Message, Scalar
from .wireformat import (
    FIXED32,
    FIXED64,
    LEN,
    VARINT,
    WireError,
    iter_fields,
    len_field,
    read_varint,
    signed,
)

MAGIC = b"k8s\x00"


class DecodeError(ValueError):
    """The body is not a well-formed Kubernetes protobuf object (a 400)."""


class Unsupported(DecodeError):
    """Well-formed, but a kind or field Schooner has no protobuf form for (a 415)."""


# -- envelope -------------------------------------------------------------------------

def unwrap(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, the object's message) from a `k8s\\0` + runtime.Unknown body."""
    if not body.startswith(MAGIC):
        raise DecodeError("the body does not start with the Kubernetes protobuf prefix k8s\\0")
    api_version = kind = encoding = ""
    raw = b""
    try:
        for number, wire_type, value in iter_fields(body[len(MAGIC):]):
            if wire_type != LEN or not isinstance(value, bytes):
                continue
            if number == 1:
                for inner, inner_type, text in iter_fields(value):
                    if inner_type == LEN and isinstance(text, bytes) and inner in (1, 2):
                        if inner == 1:
                            api_version = text.decode()
                        else:
                            kind = text.decode()
            elif number == 2:
                raw = value
            elif number == 3:
                encoding = value.decode()
    except (WireError, UnicodeDecodeError) as exc:
        raise DecodeError(f"malformed protobuf envelope: {exc}") from None
    if encoding:
        raise Unsupported(f"unsupported content encoding {encoding!r} in the protobuf envelope")
    if not kind:
        raise DecodeError("the protobuf envelope names no kind")
    return api_version, kind, raw


def wrap(api_version: str, kind: str, raw: bytes) -> bytes:
    """The `k8s\\0` + runtime.Unknown body Go's protobuf serializer writes."""
    type_meta = len_field(1, api_version.encode()) + len_field(2, kind.encode())
    return MAGIC + len_field(1, type_meta) + len_field(2, raw) + len_field(3, b"") \
        + len_field(4, b"")


# -- decoding -------------------------------------------------------------------------

def decode_message(buf: bytes, message: Message) -> dict[str, Any]:
    """One message as its JSON object."""
    out: dict[str, Any] = {}
    try:
        entries = list(iter_fields(buf))
    except WireError as exc:
        raise DecodeError(f"malformed {message.name} message: {exc}") from None
    for number, wire_type, value in entries:
        described = message.fields.get(number)
        if described is None or described.unserved:
            continue  # a field Schooner's model does not have: skipped, as Go skips them
        _decode_into(out, described, wire_type, value, message)
    return out


def _decode_into(out: dict[str, Any], described: Field, wire_type: int, value: int | bytes,
                 parent: Message) -> None:
    name, kind = described.name, described.type
    if isinstance(kind, Message) and kind.inline and not described.repeated:
        out.update(decode_message(_need_bytes(value, described, parent), kind))
        return
    if isinstance(kind, Map):
        key, item = _decode_entry(_need_bytes(value, described, parent), kind, described,
                                  parent)
        out.setdefault(name, {})[key] = item
        return
    if described.repeated and wire_type == LEN and kind in ("int", "bool"):
        items = _packed(_need_bytes(value, described, parent), kind)
        out.setdefault(name, []).extend(items)
        return
    item = _decode_value(kind, wire_type, value, described, parent)
    if described.repeated:
        out.setdefault(name, []).append(_zero(kind) if item is _ZERO else item)
    elif item is _ZERO:
        if described.keep_zero:
            out[name] = _zero(kind)
    else:
        out[name] = item


_ZERO = object()


def _zero(kind: Scalar | Message) -> Any:
    return {"string": "", "int": 0, "bool": False}.get(str(kind))


def _need_bytes(value: int | bytes, described: Field, parent: Message) -> bytes:
    if not isinstance(value, bytes):
        raise DecodeError(f"{parent.name}.{described.name}: expected a length-delimited "
                          "value, got a number")
    return value


def _packed(buf: bytes, kind: str) -> list[Any]:
    out: list[Any] = []
    pos = 0
    try:
        while pos < len(buf):
            value, pos = read_varint(buf, pos)
            out.append(bool(value) if kind == "bool" else signed(value))
    except WireError as exc:
        raise DecodeError(f"malformed packed field: {exc}") from None
    return out


def _decode_entry(buf: bytes, kind: Map, described: Field, parent: Message) -> tuple[str, Any]:
    key: str = ""
    item: Any = None
    for number, wire_type, value in _fields(buf, parent):
        if number == 1:
            key = _text(_need_bytes(value, described, parent), described, parent)
        elif number == 2:
            if kind.value == "bytes":
                item = base64.b64encode(_need_bytes(value, described, parent)).decode()
            else:
                item = _decode_value(kind.value, wire_type, value, described, parent)
    if item is None or item is _ZERO:
        item = "" if kind.value in ("bytes", "string", "quantity") else _zero(kind.value)
    return key, item


def _fields(buf: bytes, parent: Message) -> list[tuple[int, int, int | bytes]]:
    try:
        return list(iter_fields(buf))
    except WireError as exc:
        raise DecodeError(f"malformed {parent.name} message: {exc}") from None


def _text(value: bytes, described: Field, parent: Message) -> str:
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise DecodeError(f"{parent.name}.{described.name}: not UTF-8") from None


def _decode_value(kind: Scalar | Message, wire_type: int, value: int | bytes,
                  described: Field, parent: Message) -> Any:
    if isinstance(kind, Message):
        return decode_message(_need_bytes(value, described, parent), kind)
    if kind in ("int", "bool"):
        if wire_type != VARINT or not isinstance(value, int):
            if wire_type in (FIXED32, FIXED64):
                raise DecodeError(f"{parent.name}.{described.name}: fixed-width number")
            raise DecodeError(f"{parent.name}.{described.name}: expected a varint")
        number = signed(value)
        if number == 0:
            return _ZERO
        return bool(number) if kind == "bool" else number
    data = _need_bytes(value, described, parent)
    if kind == "string":
        text = _text(data, described, parent)
        return text if text else _ZERO
    if kind == "bytes":
        return base64.b64encode(data).decode()
    if kind in ("time", "microtime"):
        return _decode_time(data, micro=kind == "microtime", parent=parent)
    if kind == "intorstr":
        return _decode_int_or_string(data, described, parent)
    if kind == "quantity":
        for number, _, amount in _fields(data, parent):
            if number == 1 and isinstance(amount, bytes):
                return _text(amount, described, parent)
        return ""
    if kind == "rawextension":
        raw = b"".join(v for n, _, v in _fields(data, parent) if n == 1 and isinstance(v, bytes))
        try:
            return orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError as exc:
            raise DecodeError(f"{parent.name}.{described.name}: invalid JSON: {exc}") from None
    # "loose": a field the models keep untyped. An empty message is the zero value Go
    # writes for a value-typed struct; anything else Schooner cannot read yet.
    if all(_is_zero(v) for _, _, v in _fields(data, parent)):
        return {}
    raise Unsupported(f"{parent.name}.{described.name} cannot be decoded from protobuf by "
                      "this server yet; send the object as JSON")


def _is_zero(value: int | bytes) -> bool:
    return value in (0, b"")


def _decode_time(data: bytes, *, micro: bool, parent: Message) -> str | None:
    seconds = nanos = 0
    for number, _, value in _fields(data, parent):
        if isinstance(value, int):
            if number == 1:
                seconds = signed(value)
            elif number == 2:
                nanos = signed(value)
    if not data:
        return None  # Go's zero Time is written as an empty message; JSON says null
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise DecodeError(f"{parent.name}: time {seconds}s is out of range") from None
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _decode_int_or_string(data: bytes, described: Field, parent: Message) -> int | str:
    kind, number, text = 0, 0, ""
    for field_number, _, value in _fields(data, parent):
        if field_number == 1 and isinstance(value, int):
            kind = value
        elif field_number == 2 and isinstance(value, int):
            number = signed(value)
        elif field_number == 3 and isinstance(value, bytes):
            text = _text(value, described, parent)
    return text if kind == 1 else number
