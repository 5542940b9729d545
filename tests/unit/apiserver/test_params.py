"""Query parameters read as Kubernetes reads them, and the inputs the API fuzzer found."""

from __future__ import annotations

import pytest

from apimachinery import errors
from apiserver.params import parse_bool, parse_int64, parse_non_negative
from apiserver.registry import DeleteOptions, _deletion_time


@pytest.mark.parametrize("value, expected", [
    ("0", 0), ("42", 42), ("-7", -7), ("+5", 5),
    ("9223372036854775807", 2**63 - 1), ("-9223372036854775808", -(2**63)),
])
def test_int64_takes_what_strconv_parseint_takes(value: str, expected: int) -> None:
    assert parse_int64(value, "limit") == expected


@pytest.mark.parametrize("value", [
    "abc", "1e99", "1.5", "1_000", " 6", "6 ", "", "٣", "0x10",
])
def test_int64_refuses_what_is_not_a_decimal_integer(value: str) -> None:
    with pytest.raises(errors.BadRequest, match=r"timeoutSeconds: invalid value .*: must be an"):
        parse_int64(value, "timeoutSeconds")


@pytest.mark.parametrize("value", ["9223372036854775808", "99999999999999999999999",
                                   "-9223372036854775809"])
def test_int64_refuses_a_number_past_64_bits(value: str) -> None:
    """`limit=99999999999999999999999` reached etcd's RangeRequest and was a 500."""
    with pytest.raises(errors.BadRequest, match="out of the range of a 64-bit integer"):
        parse_int64(value, "limit")


def test_non_negative_refuses_minus_one() -> None:
    with pytest.raises(errors.BadRequest, match="limit: invalid value -1: must be >= 0"):
        parse_non_negative("-1", "limit")


@pytest.mark.parametrize("value, expected", [
    (None, False), ("false", False), ("FALSE", False), ("0", False),
    ("true", True), ("1", True), ("maybe", True), ("", True),
])
def test_bool_is_true_unless_absent_false_or_zero(value: str | None, expected: bool) -> None:
    """Kubernetes' Convert_Slice_string_To_bool: `?watch=maybe` is a watch."""
    assert parse_bool(value) is expected


@pytest.mark.parametrize("body, query, expected", [
    ({}, {}, None), ({"gracePeriodSeconds": 5}, {}, 5), ({}, {"gracePeriodSeconds": "5"}, 5),
    ({"gracePeriodSeconds": None}, {"gracePeriodSeconds": "5"}, None),
    ({"gracePeriodSeconds": 0}, {"gracePeriodSeconds": "9"}, 0),
])
def test_grace_period_from_the_body_else_the_query(body: dict, query: dict[str, str],
                                                   expected: int | None) -> None:
    assert DeleteOptions.from_body(body, query).grace_period_seconds == expected


@pytest.mark.parametrize("body, query", [
    ({"gracePeriodSeconds": 1.5}, {}), ({"gracePeriodSeconds": True}, {}),
    ({"gracePeriodSeconds": "5"}, {}), ({"gracePeriodSeconds": 2**63}, {}),
    ({"gracePeriodSeconds": [1]}, {}), ({}, {"gracePeriodSeconds": "1.5"}),
    ({}, {"gracePeriodSeconds": "99999999999999999999"}),
])
def test_grace_period_that_is_no_int64_is_a_400(body: dict, query: dict[str, str]) -> None:
    with pytest.raises(errors.BadRequest, match="gracePeriodSeconds: invalid value"):
        DeleteOptions.from_body(body, query)


def test_a_grace_period_past_year_9999_ends_at_the_last_timestamp() -> None:
    """A bound pod deleted with gracePeriodSeconds=2**62 overflowed the timedelta: a 500."""
    assert _deletion_time(2**62) == "9999-12-31T23:59:59Z"
    assert _deletion_time(0).startswith("20")


@pytest.mark.parametrize("preconditions", ["abc", [1], {"uid": [1]}, {"resourceVersion": 5}])
def test_preconditions_that_are_no_object_of_strings_are_a_400(preconditions: object) -> None:
    """`"preconditions": "abc"` was an AttributeError: a 500."""
    with pytest.raises(errors.BadRequest, match="preconditions: invalid value"):
        DeleteOptions.from_body({"preconditions": preconditions}, {})
