"""Kubernetes resource quantities: suffixes, exponents, rounding, and what is rejected."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apimachinery.quantity import cpu_millis, memory_bytes, parse_quantity


@pytest.mark.parametrize(("text", "expected"), [
    ("1", Decimal(1)),
    ("0", Decimal(0)),
    ("500m", Decimal("0.5")),
    ("0.1", Decimal("0.1")),
    (".5", Decimal("0.5")),
    ("1.", Decimal(1)),
    ("+2", Decimal(2)),
    ("-1", Decimal(-1)),
    ("100n", Decimal("1e-7")),
    ("5u", Decimal("5e-6")),
    ("1k", Decimal(1000)),
    ("1M", Decimal(10**6)),
    ("1G", Decimal(10**9)),
    ("1T", Decimal(10**12)),
    ("1P", Decimal(10**15)),
    ("1E", Decimal(10**18)),
    ("1Ki", Decimal(1024)),
    ("1.5Gi", Decimal(3 * 2**29)),
    ("64Mi", Decimal(64 * 2**20)),
    ("1Ti", Decimal(2**40)),
    ("1Pi", Decimal(2**50)),
    ("2Ei", Decimal(2**61)),
    ("1e3", Decimal(1000)),
    ("1E3", Decimal(1000)),
    ("12e-3", Decimal("0.012")),
    ("1e+2", Decimal(100)),
])
def test_parses_kubernetes_quantities(text: str, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(("number", "expected"), [
    (1, Decimal(1)), (0.5, Decimal("0.5")), (0.1, Decimal("0.1")), (Decimal("2.5"), Decimal("2.5")),
])
def test_json_numbers_are_quantities(number: int | float | Decimal, expected: Decimal) -> None:
    assert parse_quantity(number) == expected


@pytest.mark.parametrize("bad", [
    "", " ", "1 Mi", "1K", "1mi", "1Mb", "abc", "1.2.3", ".", "--1", "1e", "Mi", "1Gi ",
    "1e1000", "0x10",
])
def test_rejects_malformed_strings_with_the_input_in_the_message(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid quantity"):
        parse_quantity(bad)


@pytest.mark.parametrize("bad", [True, None, float("nan"), float("inf"), [1], Decimal("NaN")])
def test_rejects_values_that_are_not_quantities(bad: object) -> None:
    with pytest.raises(ValueError, match="invalid quantity"):
        parse_quantity(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("q", "millis"), [
    ("1", 1000), ("100m", 100), ("0.1", 100), ("1.5", 1500), (2, 2000), ("0.0001", 1),
    ("250m", 250), ("1e-3", 1), ("1k", 1_000_000),
])
def test_cpu_millis_rounds_up_like_milli_value(q: str | int, millis: int) -> None:
    assert cpu_millis(q) == millis


@pytest.mark.parametrize(("q", "size"), [
    ("64Mi", 64 * 2**20), ("1Gi", 2**30), ("1G", 10**9), ("1.5Ki", 1536), (512, 512),
    ("500m", 1), ("129e6", 129_000_000),
])
def test_memory_bytes_rounds_up_like_value(q: str | int, size: int) -> None:
    assert memory_bytes(q) == size


def test_accessors_reject_invalid_input() -> None:
    with pytest.raises(ValueError, match="'lots'"):
        cpu_millis("lots")
    with pytest.raises(ValueError, match="'1KB'"):
        memory_bytes("1KB")
