"""The protobuf wire format itself: varints, tags and the four wire types Kubernetes uses.

Nothing here knows a message; `schema` and `codec` give the field numbers their
meaning. Malformed input raises `WireError`, which the codec turns into a 400.
"""

from __future__ import annotations

from collections.abc import Iterator

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5
_MASK64 = (1 << 64) - 1


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The unsigned varint at `pos` and the position after it."""
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & _MASK64, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes")


def signed(value: int) -> int:
    """A varint read as Go's int32/int64 (negative numbers travel as 64-bit two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def iter_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field of a message, in wire order.

    Varints and fixed-width values come as ints, length-delimited ones as bytes.
    """
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = read_varint(buf, pos)
        number, wire_type = tag >> 3, tag & 7
        if number < 1:
            raise WireError(f"field number {number}")
        if wire_type == VARINT:
            value, pos = read_varint(buf, pos)
            yield number, wire_type, value
        elif wire_type == LEN:
            size, pos = read_varint(buf, pos)
            if pos + size > end:
                raise WireError(f"field {number} runs past the end of the message")
            yield number, wire_type, buf[pos:pos + size]
            pos += size
        elif wire_type in (FIXED64, FIXED32):
            width = 8 if wire_type == FIXED64 else 4
            if pos + width > end:
                raise WireError(f"field {number} runs past the end of the message")
            yield number, wire_type, int.from_bytes(buf[pos:pos + width], "little")
            pos += width
        else:
            raise WireError(f"unsupported wire type {wire_type} (field {number})")


def varint(value: int) -> bytes:
    """`value` as a varint; negative ints as Go writes them, 10 bytes of two's complement."""
    value &= _MASK64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def len_field(number: int, payload: bytes) -> bytes:
    return tag(number, LEN) + varint(len(payload)) + payload


def varint_field(number: int, value: int) -> bytes:
    return tag(number, VARINT) + varint(value)
