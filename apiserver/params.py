"""Integer query parameters read as Kubernetes reads them: `strconv.ParseInt(value, 10, 64)`.

Kubernetes converts `limit`, `resourceVersion`, `timeoutSeconds` and
`gracePeriodSeconds` to int64, and a value that is not a decimal integer, or
does not fit 64 bits, is a 400 BadRequest. Python's `int()` takes more (`1_000`,
` 7 `, other scripts' digits) and no bound, and an unbounded number reached etcd
(`limit=1e23` as digits overflowed the RangeRequest: a 500) or a timedelta.
"""

from __future__ import annotations

import re

from apimachinery import errors

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_DECIMAL = re.compile(r"[+-]?[0-9]+", re.ASCII)


def parse_int64(value: str, name: str) -> int:
    """`value` as a signed 64-bit decimal integer, or a 400 naming the parameter."""
    if not _DECIMAL.fullmatch(value):
        raise errors.BadRequest(f"{name}: invalid value {value!r}: must be an integer")
    number = int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise errors.BadRequest(
            f"{name}: invalid value {value!r}: out of the range of a 64-bit integer")
    return number


def parse_non_negative(value: str, name: str) -> int:
    """A 64-bit integer that may not be negative (`limit`, `resourceVersion`)."""
    number = parse_int64(value, name)
    if number < 0:
        raise errors.BadRequest(f"{name}: invalid value {number}: must be >= 0")
    return number


def parse_bool(value: str | None) -> bool:
    """A boolean query parameter as Kubernetes' Convert_Slice_string_To_bool reads it: absent,
    `false` or `0` is false and any other value, `?watch=maybe` or `?watch=` too, is true."""
    return value is not None and value.lower() not in ("false", "0")
