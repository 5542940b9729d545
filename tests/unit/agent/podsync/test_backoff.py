"""The restart back-off on a FakeClock: 10 s doubling to 5 min, reset after 10 min of calm."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.podsync.backoff import DEFAULT_BASE, DEFAULT_MAX, Backoff, go_duration
from apimachinery.clock import FakeClock
from tests.unit.agent.helpers import NOW


def crash_loop(clock: FakeClock, backoff: Backoff, runs_for: float, deaths: int) -> list[float]:
    """Simulate a container that dies `runs_for` s after each start; the waits before restarts."""
    waits = []
    for _ in range(deaths):
        clock.step(runs_for)
        died = clock.now()
        wait = backoff.remaining("k", died)
        waits.append(wait)
        clock.step(wait)
        assert not backoff.in_backoff_since("k", died)
        backoff.next("k", died)
    return waits


def test_delays_double_from_the_base_up_to_the_cap() -> None:
    clock = FakeClock(wall=NOW)
    backoff = Backoff(clock, base=10, maximum=300)
    waits = crash_loop(clock, backoff, runs_for=0.5, deaths=9)
    assert waits == [0, 10, 20, 40, 80, 160, 300, 300, 300]


def test_the_defaults_are_the_kubelets_10s_doubling_to_5m() -> None:
    clock = FakeClock(wall=NOW)
    assert (DEFAULT_BASE, DEFAULT_MAX) == (10, 300)
    waits = crash_loop(clock, Backoff(clock), runs_for=0.1, deaths=8)
    assert waits == [0, 10, 20, 40, 80, 160, 300, 300]


def test_the_history_lasts_exactly_twice_the_cap() -> None:
    """client-go's hasExpired: more than 2 x maxDuration since the last update, not equal."""
    clock = FakeClock(wall=NOW)
    backoff = Backoff(clock)
    crash_loop(clock, backoff, runs_for=1, deaths=4)
    clock.step(600)
    assert backoff.remaining("k", clock.now()) == 80  # ten minutes: still remembered
    clock.step(0.5)
    assert backoff.remaining("k", clock.now()) == 0
    backoff.next("k", clock.now())
    assert backoff.get("k") == 10


def test_in_back_off_until_the_delay_has_passed_since_the_death() -> None:
    clock = FakeClock(wall=NOW)
    backoff = Backoff(clock, base=10, maximum=300)
    died = clock.now()
    backoff.next("k", died)
    assert backoff.in_backoff_since("k", died)
    clock.step(9.5)
    assert backoff.remaining("k", died) == pytest.approx(0.5)
    clock.step(0.5)
    assert not backoff.in_backoff_since("k", died)
    assert backoff.get("k") == 10
    assert not backoff.in_backoff_since("other", died)


def test_a_container_that_ran_ten_minutes_starts_over() -> None:
    clock = FakeClock(wall=NOW)
    backoff = Backoff(clock, base=10, maximum=300)
    crash_loop(clock, backoff, runs_for=1, deaths=4)
    assert backoff.get("k") == 80
    clock.step(601)  # twice the cap since the last restart
    died = clock.now()
    assert not backoff.in_backoff_since("k", died)
    backoff.next("k", died)
    assert backoff.get("k") == 10


def test_image_pull_back_off_counts_from_the_last_attempt() -> None:
    clock = FakeClock(wall=NOW)
    backoff = Backoff(clock, base=10, maximum=300)
    assert backoff.remaining_since_update("img") == 0
    backoff.next("img", clock.now())
    clock.step(4)
    assert backoff.remaining_since_update("img") == pytest.approx(6)
    clock.step(6)
    assert backoff.remaining_since_update("img") == 0


def test_forget_drops_a_pods_entries() -> None:
    backoff = Backoff(FakeClock(wall=NOW))
    for key in ("uid-1/a", "uid-1/b", "uid-2/a"):
        backoff.next(key, NOW - timedelta(seconds=1))
    backoff.forget("uid-1/")
    assert len(backoff) == 1 and backoff.get("uid-2/a") == 10


@pytest.mark.parametrize(("seconds", "text"), [
    (10, "10s"), (20, "20s"), (80, "1m20s"), (300, "5m0s"), (3725, "1h2m5s"), (0.5, "500ms"),
])
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text
