"""Kubernetes resource quantities (`500m`, `1.5Gi`, `1e3`) as exact decimals.

Mirrors `k8s.io/apimachinery/pkg/api/resource.Quantity`: a signed decimal
number followed by one suffix, either binary SI (`Ki` .. `Ei`), decimal SI
(`n`, `u`, `m`, ``, `k`, `M`, `G`, `T`, `P`, `E`) or a decimal exponent
(`e3`, `E-2`). JSON numbers are accepted too, because YAML `cpu: 1` arrives
as a number and Kubernetes' Quantity unmarshals those as well. Values are kept
as `Decimal` so `0.1` CPU is exactly 100 millicores, never 99.999...
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation, localcontext

# The regular expression Kubernetes quotes in its "quantities must match" error.
QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"

_NUMBER = re.compile(r"([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(.*)", re.DOTALL)
_EXPONENT = re.compile(r"[eE]([+-]?[0-9]+)")
_MAX_EXPONENT = 100  # far beyond any real resource; keeps Decimal maths bounded

_SUFFIXES: dict[str, Decimal] = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"),
    "T": Decimal("1e12"), "P": Decimal("1e15"), "E": Decimal("1e18"),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30),
    "Ti": Decimal(2**40), "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}

QuantityValue = str | int | float | Decimal


def parse_quantity(value: QuantityValue) -> Decimal:
    """Parse a Kubernetes quantity into its exact value (`"500m"` -> `Decimal("0.5")`).

    Raises ValueError naming the offending input when it is not a quantity:
    an empty string, a space, an unknown suffix such as `K` or `mi`, a bool,
    NaN or infinity.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid quantity {value!r}: must be a string or a number")
    if isinstance(value, Decimal | int | float):
        return _from_number(value)
    if not isinstance(value, str):
        raise ValueError(f"invalid quantity {value!r}: must be a string or a number")
    match = _NUMBER.fullmatch(value)
    if match is None:
        raise ValueError(
            f"invalid quantity {value!r}: quantities must match the regular expression "
            f"'{QUANTITY_PATTERN}'"
        )
    sign, digits, suffix = match.groups()
    number = Decimal(sign + digits)
    with localcontext() as ctx:
        ctx.prec = 200
        if suffix in _SUFFIXES:
            return number * _SUFFIXES[suffix]
        exponent = _EXPONENT.fullmatch(suffix)
        if exponent is None:
            raise ValueError(f"invalid quantity {value!r}: unable to parse quantity's suffix")
        power = int(exponent.group(1))
        if abs(power) > _MAX_EXPONENT:
            raise ValueError(f"invalid quantity {value!r}: exponent out of range")
        return number.scaleb(power)


def _from_number(value: Decimal | int | float) -> Decimal:
    """A JSON number as a quantity; floats go through `repr` so 0.1 stays 0.1."""
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"invalid quantity {value!r}: not a number") from None
    if not number.is_finite():
        raise ValueError(f"invalid quantity {value!r}: must be a finite number")
    return number


def cpu_millis(q: QuantityValue) -> int:
    """CPU in millicores, rounded up as `Quantity.MilliValue()` does (`"1.5"` -> 1500)."""
    with localcontext() as ctx:
        ctx.prec = 200
        return math.ceil(parse_quantity(q) * 1000)


def memory_bytes(q: QuantityValue) -> int:
    """Memory (or any countable resource) in bytes, rounded up as `Quantity.Value()` does."""
    return math.ceil(parse_quantity(q))
