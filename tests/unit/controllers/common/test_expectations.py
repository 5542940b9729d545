"""ControllerExpectations with a FakeClock: observed, expired, and counted once."""

from __future__ import annotations

from apimachinery.clock import FakeClock
from controllers.common.expectations import EXPECTATIONS_TIMEOUT, ControllerExpectations


def test_unknown_key_is_satisfied() -> None:
    assert ControllerExpectations(FakeClock()).satisfied("ns/web")


def test_creations_are_satisfied_once_all_are_observed() -> None:
    exp = ControllerExpectations(FakeClock())
    exp.expect_creations("ns/web", 3)
    assert not exp.satisfied("ns/web")
    exp.creation_observed("ns/web")
    exp.creation_observed("ns/web")
    assert exp.pending("ns/web") == (1, 0)
    assert not exp.satisfied("ns/web")
    exp.creation_observed("ns/web")
    assert exp.satisfied("ns/web")


def test_expectations_expire_after_five_minutes() -> None:
    clock = FakeClock()
    exp = ControllerExpectations(clock)
    exp.expect_creations("ns/web", 2)
    clock.step(EXPECTATIONS_TIMEOUT)
    assert not exp.satisfied("ns/web")  # not yet: strictly older than the TTL
    clock.step(1)
    assert exp.satisfied("ns/web")
    assert EXPECTATIONS_TIMEOUT == 300


def test_a_deletion_counts_once_however_often_it_is_seen() -> None:
    exp = ControllerExpectations(FakeClock())
    exp.expect_deletions("ns/web", ["ns/a", "ns/b"])
    exp.deletion_observed("ns/web", "ns/a")  # deletionTimestamp set
    exp.deletion_observed("ns/web", "ns/a")  # then gone
    exp.deletion_observed("ns/web", "ns/other")  # not one we deleted
    assert exp.pending("ns/web") == (0, 1)
    assert not exp.satisfied("ns/web")
    exp.deletion_observed("ns/web", "ns/b")
    assert exp.satisfied("ns/web")


def test_a_new_expectation_replaces_the_old_one_and_delete_forgets() -> None:
    exp = ControllerExpectations(FakeClock())
    exp.expect_creations("ns/web", 5)
    exp.expect_creations("ns/web", 1)
    assert exp.pending("ns/web") == (1, 0)
    exp.creation_observed("ns/other")  # unknown keys are ignored
    exp.delete("ns/web")
    assert exp.pending("ns/web") is None
    assert exp.satisfied("ns/web")
