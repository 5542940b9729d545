"""JSON objects as Kubernetes protobuf, byte for byte as Go's gogo-protobuf writes them.

What makes the bytes Kubernetes' (k8s.io/api `generated.pb.go`, `MarshalToSizedBuffer`):
fields in field-number order; a value scalar written even when zero or absent from the
JSON (`""`, `0`, `false`), a pointer scalar only when set; a struct held by value
written even when empty, a pointer struct only when set; lists and maps per entry, map
entries {key=1, value=2} sorted by key; Time {seconds=1, nanos=2} with nanos always 0
and the zero Time an empty message; MicroTime keeps microseconds as nanos;
IntOrString {type=1, intVal=2, strVal=3} all three always; Quantity {string=1};
RawExtension and FieldsV1 {raw=1} holding the JSON. Which field is which the
`schema.Message` says, from the models' declarations.

A JSON object is trusted to be what the API stored (validated), so the encoder does
not re-validate; a field it has no protobuf form for (one the models keep untyped, when
it holds data) raises `Unencodable` naming the field's path, which the server answers
with a 406 rather than dropping the data.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from .schema import Field, Map, Message
from .wireformat import LEN, VARINT, len_field, tag, varint

# One code per way of writing a field; `_plan` picks it once per message.
# Codes below _INLINE are single fields whose absence Go writes as a zero unless pointers.
(_STRING, _INT, _BOOL, _MESSAGE, _SPECIAL, _INLINE, _UNSERVED,
 _REP_STRING, _REP_INT, _REP_BOOL, _REP_MESSAGE, _REP_SPECIAL, _MAP) = range(13)

_SMALL = [varint(i) for i in range(1 << 14)]
_EMPTY = b"\x00"  # a length-delimited field's zero length, or a varint's zero
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
_NO_FIELDS: Mapping[str, Any] = {}


class Unencodable(ValueError):
    """An object holds a field Schooner has no protobuf form for; `path` names it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.inner: list[str] = []  # path segments, innermost first, added on the way out

    @property
    def path(self) -> str:
        return "".join(p if p.startswith("[") else f".{p}" for p in reversed(self.inner))[1:]

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.inner else self.reason


def _uvarint(value: int) -> bytes:
    return _SMALL[value] if 0 <= value < 16384 else varint(value)


# (code, tag bytes, JSON name, the field's zero as Go writes it or None for a pointer,
# the value's type); `zero` is tag + a zero varint or length, ready to append.
Step = tuple[int, bytes, str, bytes | None, Any]


_PLANS: dict[int, tuple[Message, tuple[Step, ...]]] = {}


def _plan(message: Message) -> tuple[Step, ...]:
    """A `Step` per field, in field-number order; compiled once per message (kept by id:
    hashing the dataclass costs more)."""
    found = _PLANS.get(id(message))
    if found is None:
        found = _PLANS[id(message)] = (message, _compile(message))
    return found[1]


def _compile(message: Message) -> tuple[Step, ...]:
    steps: list[Step] = []
    for number in sorted(message.fields):
        described = message.fields[number]
        kind = described.type
        # numbers are varints, repeated ones too: Kubernetes' proto2 fields are not packed
        key = tag(number, VARINT if kind in ("int", "bool") else LEN)
        steps.append((_code(described), key, described.name,
                      None if described.pointer else key + _EMPTY,
                      kind.value if isinstance(kind, Map) else kind))
    return tuple(steps)


def _code(described: Field) -> int:
    kind = described.type
    if described.unserved:
        return _UNSERVED
    if isinstance(kind, Map):
        return _MAP
    if isinstance(kind, Message):
        if described.repeated:
            return _REP_MESSAGE
        return _INLINE if kind.inline else _MESSAGE
    simple = {"string": (_STRING, _REP_STRING), "int": (_INT, _REP_INT),
              "bool": (_BOOL, _REP_BOOL)}.get(kind)
    if simple is not None:
        return simple[1] if described.repeated else simple[0]
    return _REP_SPECIAL if described.repeated else _SPECIAL


def encode_message(obj: Mapping[str, Any], message: Message) -> bytes:
    """The JSON object `obj` as `message`'s bytes."""
    out = bytearray()
    _write(out, obj, _plan(message))
    return bytes(out)


def _write(out: bytearray, obj: Mapping[str, Any], plan: tuple[Step, ...]) -> None:
    get = obj.get
    name = ""
    try:
        for code, key, name, zero, detail in plan:
            value: Any = get(name)
            if value is None and code < _INLINE:
                if zero is None:  # a pointer: left out when unset
                    continue
                if code == _MESSAGE:  # a value struct: its zero, value scalars and all
                    value = _NO_FIELDS
                elif code == _SPECIAL:
                    out += _special(key, detail, None)
                    continue
                else:
                    out += zero
                    continue
            if code == _STRING:
                data = value.encode() if isinstance(value, str) else str(value).encode()
                out += key
                out += _uvarint(len(data))
                out += data
            elif code == _INT:
                out += key
                out += _uvarint(int(value))
            elif code == _BOOL:
                out += key
                out += b"\x01" if value else b"\x00"
            elif code == _MESSAGE:
                _nested(out, key, value, detail)
            elif code == _INLINE:
                _nested(out, key, obj, detail)  # a Go embedded struct: the parent's fields
            elif code == _SPECIAL:
                out += _special(key, detail, value)
            elif code == _UNSERVED:
                out += key
                out += _EMPTY
            elif value is not None:
                _write_many(out, code, key, value, detail)
    except Unencodable as exc:
        exc.inner.append(name)
        raise


def _nested(out: bytearray, key: bytes, value: Mapping[str, Any], message: Message) -> None:
    """A message field written in place: a one-byte length, widened when the message is
    longer than 127 bytes (one memmove, cheaper than building and copying a buffer)."""
    out += key
    start = len(out)
    out.append(0)
    _write(out, value, _plan(message))
    size = len(out) - start - 1
    if size < 128:
        out[start] = size
    else:
        out[start:start + 1] = varint(size)


def _write_many(out: bytearray, code: int, key: bytes, value: Any, detail: Any) -> None:
    """A list's items, or a map's entries sorted by key as Go sorts them."""
    if code == _MAP:
        for entry_key in sorted(value):
            name = entry_key.encode()
            item = _map_value(detail, value[entry_key])
            out += key
            out += _uvarint(len(name) + len(item) + 1 + len(_uvarint(len(name))))
            out += b"\x0a"
            out += _uvarint(len(name))
            out += name
            out += item
        return
    index = 0
    try:
        for index, item in enumerate(value):  # noqa: B007 (named in the handler)
            if code == _REP_STRING:
                data = str(item).encode()
                out += key
                out += _uvarint(len(data))
                out += data
            elif code == _REP_MESSAGE:
                _nested(out, key, item or {}, detail)
            elif code == _REP_INT:
                out += key
                out += _uvarint(int(item))
            elif code == _REP_BOOL:
                out += key
                out += b"\x01" if item else b"\x00"
            else:
                out += _special(key, detail, item)
    except Unencodable as exc:
        exc.inner.append(f"[{index}]")
        raise


def _map_value(kind: Any, value: Any) -> bytes:
    """An entry's value=2; a JSON null is Go's zero ("", a nil []byte written as nothing)."""
    if kind == "string":
        data = value.encode() if isinstance(value, str) else \
            b"" if value is None else str(value).encode()
        return b"\x12" + _uvarint(len(data)) + data
    if kind == "bytes":
        return b"" if value is None else len_field(2, _base64(value))
    if isinstance(kind, Message):
        return len_field(2, encode_message(value or {}, kind))
    return _special(b"\x12", kind, value)


def _special(key: bytes, kind: Any, value: Any) -> bytes:
    """The types Kubernetes' protos spell as messages of their own."""
    if kind == "time" or kind == "microtime":
        payload = b"" if value is None else _time(value, kind == "microtime")
    elif kind == "intorstr":
        payload = _int_or_string(0 if value is None else value)
    elif kind == "quantity":
        payload = len_field(1, _quantity("0" if value is None else value).encode())
    elif kind == "rawextension":
        payload = b"" if value is None else len_field(1, orjson.dumps(value))
    elif kind == "bytes":
        payload = b"" if value is None else _base64(value)
    elif value in ({}, None):  # "loose": an empty struct is all Go would write for it
        payload = b""
    else:
        raise Unencodable("this server has no protobuf form for this field yet; "
                          "ask for application/json")
    return key + _uvarint(len(payload)) + payload


@functools.lru_cache(maxsize=4096)
def _time(value: str, micro: bool) -> bytes:
    """Time {seconds, nanos=0} (Go keeps seconds only); MicroTime keeps microseconds."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment == _ZERO_TIME:
        return b""  # Go's zero Time, as `Time.Marshal` writes it
    seconds = int(moment.replace(microsecond=0).timestamp())
    nanos = moment.microsecond * 1000 if micro else 0
    return b"\x08" + varint(seconds) + b"\x10" + _uvarint(nanos)


def _int_or_string(value: int | str) -> bytes:
    if isinstance(value, str):
        data = value.encode()
        return b"\x08\x01\x10\x00\x1a" + _uvarint(len(data)) + data
    return b"\x08\x00\x10" + varint(int(value)) + b"\x1a\x00"


def _quantity(value: str | int | float) -> str:
    """A Quantity's string; a JSON number is written as the plain decimal Go parses."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        return format(Decimal(repr(value)), "f")
    return str(int(value))


def _base64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise Unencodable("not base64") from None
