"""The compactor's schedule and its compare-and-swap between apiservers, on a fake etcd."""

from __future__ import annotations

import asyncio

import pytest

from apiserver.compactor import CompactionState, Compactor, Swap, compact_round
from apiserver.defrag import MemberSize, defragment, needs_defrag
from apiserver.main import duration, parse_args


class FakeEtcd:
    """compact_rev_key's version and etcd's revision, shared by every compactor on it."""

    def __init__(self) -> None:
        self.revision = 100
        self.key_version = 0
        self.key_value = 0
        self.compacted: list[int] = []

    async def swap_compact_key(self, expected_version: int, revision: int) -> Swap:
        if self.key_version != expected_version:
            return Swap(False, self.key_version, self.revision)
        self.key_version += 1
        self.key_value = revision
        self.revision += 1  # the put is a write
        return Swap(True, self.key_version, self.revision)

    async def compact(self, revision: int) -> None:
        assert revision > (self.compacted[-1] if self.compacted else 0), "compacted twice"
        self.compacted.append(revision)


def test_first_round_compacts_nothing_then_each_round_the_revision_one_interval_ago() -> None:
    etcd, state = FakeEtcd(), CompactionState()
    assert asyncio.run(compact_round(etcd, state)) is None  # nothing seen an interval ago
    seen = state.revision
    etcd.revision += 50  # an interval of writes
    assert asyncio.run(compact_round(etcd, state)) == seen
    assert etcd.key_value == seen
    seen = state.revision
    etcd.revision += 7
    assert asyncio.run(compact_round(etcd, state)) == seen
    assert etcd.compacted == sorted(etcd.compacted) and len(etcd.compacted) == 2


def test_two_apiservers_take_turns_and_never_compact_the_same_interval() -> None:
    etcd = FakeEtcd()
    first, second = CompactionState(), CompactionState()
    results: list[tuple[int | None, int | None]] = []
    for _ in range(6):
        etcd.revision += 20
        results.append((asyncio.run(compact_round(etcd, first)),
                        asyncio.run(compact_round(etcd, second))))
    # In each interval at most one of the two compacts: the loser learned the key's version.
    assert all(a is None or b is None for a, b in results)
    assert len(etcd.compacted) == len(set(etcd.compacted)) >= 3
    # The key's version counts the rounds that were won, one per interval.
    assert etcd.key_version == 6


def test_a_lost_round_adopts_the_winners_version_and_waits_an_interval() -> None:
    etcd = FakeEtcd()
    etcd.key_version = 5  # another apiserver has been compacting for a while
    state = CompactionState()
    assert asyncio.run(compact_round(etcd, state)) is None
    assert state.version == 5 and etcd.compacted == []
    etcd.revision += 10
    assert asyncio.run(compact_round(etcd, state)) == 100  # won: the revision seen last round
    assert state.version == 6


def test_the_loop_runs_every_interval_survives_errors_and_zero_disables() -> None:
    class Failing(FakeEtcd):
        calls = 0

        async def swap_compact_key(self, expected_version: int, revision: int) -> Swap:
            self.calls += 1
            if self.calls == 2:
                raise ConnectionError("etcd away")
            self.revision += 10
            return await super().swap_compact_key(expected_version, revision)

    async def scenario() -> tuple[list[float], Failing, bool]:
        etcd, slept = Failing(), []
        rounds = asyncio.Event()

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            if len(slept) > 4:
                rounds.set()
                await asyncio.Event().wait()

        compactor = Compactor(etcd, 2.0, sleep=sleep)
        compactor.start()
        await asyncio.wait_for(rounds.wait(), 2)
        await compactor.stop()
        disabled = Compactor(etcd, 0.0, sleep=sleep)
        disabled.start()
        return slept, etcd, disabled._task is None

    slept, etcd, disabled = asyncio.run(scenario())
    assert slept == [2.0] * 5
    assert etcd.calls == 4 and len(etcd.compacted) == 2  # the failed round was skipped
    assert disabled


@pytest.mark.parametrize(("text", "seconds"), [
    ("5m", 300.0), ("5m0s", 300.0), ("2s", 2.0), ("1h30m", 5400.0), ("0", 0.0),
    ("500ms", 0.5), ("1.5s", 1.5)])
def test_go_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


def test_flag_defaults_are_kubernetes() -> None:
    args = parse_args([])
    assert args.etcd_compaction_interval == 300.0
    assert args.event_ttl == 3600.0
    assert args.etcd_defrag_min_bytes == 100 * 1024 * 1024
    with pytest.raises(SystemExit):
        parse_args(["--etcd-compaction-interval", "5 minutes"])


class FakeMembers:
    """Three members' sizes; records defragmentations in order."""

    def __init__(self, sizes: dict[str, MemberSize], broken: str = "") -> None:
        self.sizes, self.broken, self.done = sizes, broken, []

    def member_endpoints(self) -> list[str]:
        return list(self.sizes)

    async def member_size(self, endpoint: str) -> MemberSize:
        if endpoint == self.broken:
            raise ConnectionError("member away")
        return self.sizes[endpoint]

    async def defragment_member(self, endpoint: str) -> None:
        self.done.append(endpoint)
        self.sizes[endpoint] = MemberSize(self.sizes[endpoint].in_use,
                                          self.sizes[endpoint].in_use)


def test_defrag_rule_is_big_enough_and_half_free() -> None:
    assert needs_defrag(MemberSize(200, 100), 100)
    assert not needs_defrag(MemberSize(200, 101), 100)  # less than half free
    assert not needs_defrag(MemberSize(99, 1), 100)  # too small to bother


def test_members_are_defragmented_one_at_a_time_in_the_order_given_skipping_failures() -> None:
    members = FakeMembers({"a": MemberSize(1000, 100), "b": MemberSize(1000, 900),
                           "c": MemberSize(1000, 10), "d": MemberSize(1000, 1)}, broken="c")
    assert asyncio.run(defragment(members, 500)) == ["a", "d"]
    assert asyncio.run(defragment(members, 500)) == []  # nothing left to free


def test_defragmentation_follows_only_a_compaction_this_apiserver_made() -> None:
    async def scenario() -> int:
        etcd, calls, slept = FakeEtcd(), [], 0

        async def sleep(_: float) -> None:
            nonlocal slept
            slept += 1
            if slept == 4:
                await asyncio.Event().wait()
            etcd.revision += 5
            if slept == 3:
                etcd.key_version += 1  # another apiserver won this round

        async def after() -> None:
            calls.append(etcd.revision)

        compactor = Compactor(etcd, 1.0, sleep=sleep, after=after)
        compactor.start()
        for _ in range(20):
            await asyncio.sleep(0)
        await compactor.stop()
        return len(calls)

    # Round 1 compacts nothing, round 2 compacts, round 3 is lost to another apiserver.
    assert asyncio.run(scenario()) == 1
