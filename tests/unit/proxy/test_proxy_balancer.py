"""balancer: round-robin over ready backends with ClientIP session affinity."""

from __future__ import annotations

from collections import Counter

from apimachinery.clock import FakeClock
from proxy.balancer import RoundRobin
from proxy.plan import Backend

A, B, C = Backend("10.1.0.1", 80), Backend("10.1.0.2", 80), Backend("10.1.0.3", 80)


def test_no_backends_no_candidates() -> None:
    assert RoundRobin().candidates("1.2.3.4") == []


def test_round_robin_spreads_evenly_and_lists_the_rest_as_fallbacks() -> None:
    rr = RoundRobin([A, B, C])
    assert rr.candidates("x") == [A, B, C]
    assert rr.candidates("x") == [B, C, A]
    assert rr.candidates("x") == [C, A, B]
    firsts = Counter(rr.candidates("x")[0] for _ in range(300))
    assert firsts == {A: 100, B: 100, C: 100}


def test_update_drops_removed_backend_and_restarts_turn() -> None:
    rr = RoundRobin([A, B, C])
    rr.candidates("x")
    rr.update([A, C], None)
    assert [rr.candidates("x")[0] for _ in range(4)] == [A, C, A, C]


def test_same_backends_keep_the_turn() -> None:
    rr = RoundRobin([A, B, C])
    rr.candidates("x")
    rr.update([A, B, C], None)
    assert rr.candidates("x")[0] == B


def test_affinity_keeps_a_client_on_its_backend() -> None:
    rr = RoundRobin([A, B, C], affinity_timeout=60, clock=FakeClock())
    first = rr.candidates("1.1.1.1")[0]
    rr.connected("1.1.1.1", first)
    for _ in range(5):
        order = rr.candidates("1.1.1.1")
        assert order[0] == first and sorted(order) == [A, B, C]
        rr.connected("1.1.1.1", order[0])


def test_affinity_follows_the_backend_that_actually_answered() -> None:
    rr = RoundRobin([A, B], affinity_timeout=60, clock=FakeClock())
    assert rr.candidates("c")[0] == A
    rr.connected("c", B)  # A refused, B answered
    assert rr.candidates("c")[0] == B


def test_affinity_ends_when_backend_leaves_or_times_out() -> None:
    clock = FakeClock()
    rr = RoundRobin([A, B, C], affinity_timeout=30, clock=clock)
    rr.connected("c", B)
    rr.update([A, C], 30)
    assert rr.candidates("c")[0] == A  # plain rotation again
    rr.update([A, B, C], 30)
    assert rr.candidates("c")[0] == A  # B came back, but the affinity was forgotten
    rr.connected("c", C)
    clock.step(29)
    assert rr.candidates("c")[0] == C
    rr.connected("c", C)
    clock.step(31)  # idle past the timeout: the client rotates like anyone else
    assert len({rr.candidates("c")[0] for _ in range(3)}) == 3


def test_affinity_is_idle_time_not_age() -> None:
    clock = FakeClock()
    rr = RoundRobin([A, B, C], affinity_timeout=30, clock=clock)
    rr.connected("c", C)
    for _ in range(5):  # 100 s in all, but never idle for 30
        clock.step(20)
        assert rr.candidates("c")[0] == C
        rr.connected("c", C)


def test_without_affinity_connected_is_a_no_op() -> None:
    rr = RoundRobin([A, B, C])
    rr.connected("c", C)
    assert rr.candidates("c")[0] == A


def test_turning_affinity_off_forgets_clients() -> None:
    rr = RoundRobin([A, B, C], affinity_timeout=60, clock=FakeClock())
    rr.connected("c", C)
    rr.update([A, B, C], None)
    assert rr.candidates("c")[0] == A
