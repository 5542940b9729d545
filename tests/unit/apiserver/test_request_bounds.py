"""Bounds on what one list or watch may ask for: selector size and watch length."""

from __future__ import annotations

import pytest

from apimachinery import errors
from apimachinery.resources import by_plural
from apiserver.handlers import MAX_SELECTOR_LENGTH, selector_predicate
from apiserver.watch import MAX_TIMEOUT, _timeout

PODS = by_plural("pods")


def test_selectors_up_to_the_bounds_are_read() -> None:
    labels = ",".join(f"k{i}=v" for i in range(100))
    keep = selector_predicate(PODS, labels, "metadata.name=a")
    assert keep is not None
    assert keep({"metadata": {"name": "a", "labels": {f"k{i}": "v" for i in range(100)}}})
    assert not keep({"metadata": {"name": "a", "labels": {"k0": "v"}}})


@pytest.mark.parametrize(("labels", "fields", "message"), [
    ("a=" + "x" * MAX_SELECTOR_LENGTH, None, "labelSelector: Too long"),
    (None, "metadata.name=" + "x" * MAX_SELECTOR_LENGTH, "fieldSelector: Too long"),
    (",".join(f"k{i}" for i in range(101)), None, "labelSelector: Too many: 101"),
    (None, ",".join(["metadata.name!=a"] * 101), "fieldSelector: Too many: 101"),
])
def test_selectors_past_the_bounds_are_400(labels: str | None, fields: str | None,
                                          message: str) -> None:
    with pytest.raises(errors.BadRequest) as raised:
        selector_predicate(PODS, labels, fields)
    assert message in raised.value.message


@pytest.mark.parametrize(("value", "seconds"), [
    ("5", 5.0), ("0", 0.0), ("-3", 0.0), (str(MAX_TIMEOUT), 3600.0),
    ("3601", 3600.0), (str(2**63 - 1), 3600.0),
])
def test_watch_timeout_is_capped_at_an_hour(value: str, seconds: float) -> None:
    assert _timeout(value) == seconds


def test_watch_timeout_defaults_to_30_to_60_minutes() -> None:
    assert 1800 <= _timeout(None) <= MAX_TIMEOUT
