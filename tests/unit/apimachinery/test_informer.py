"""The informer against a scripted in-memory ListerWatcher and a fake clock."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.client import WatchEvent
from apimachinery.clock import FakeClock
from apimachinery.informer import Informer, Store
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo

Step = WatchEvent | BaseException


def pod(name: str, rv: str, ns: str = "ns1", node: str = "") -> Object:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": rv},
            "spec": {"nodeName": node}}


def ev(type_: str, obj: Object) -> WatchEvent:
    return WatchEvent(type_, obj)


def bookmark(rv: str) -> WatchEvent:
    return WatchEvent("BOOKMARK", {"kind": "Pod", "metadata": {"resourceVersion": rv}})


EXPIRED = WatchEvent("ERROR", {"kind": "Status", "code": 410, "reason": "Expired",
                               "message": "too old resource version: 10 (15)"})


class FakeListerWatcher:
    """Answers list_all from `lists` (the last one repeats) and watch from `streams`.

    A stream is a list of events and exceptions (raised when reached); once the
    scripted streams run out, watch hangs like a quiet server and counts as idle.
    """

    def __init__(self, lists: list[tuple[list[Object], str] | BaseException],
                 streams: list[list[Step]]) -> None:
        self.lists, self.streams = lists, streams
        self.list_calls = 0
        self.watch_calls: list[dict[str, Any]] = []
        self.open_streams = 0
        self.idle = False

    async def list_all(self, resource: ResourceInfo, namespace: str | None = None, *,
                       label_selector: str | None = None,
                       field_selector: str | None = None) -> tuple[list[Object], str]:
        self.list_calls += 1
        answer = self.lists.pop(0) if len(self.lists) > 1 else self.lists[0]
        if isinstance(answer, BaseException):
            raise answer
        items, rv = answer
        return copy.deepcopy(items), rv

    async def watch(self, resource: ResourceInfo, namespace: str | None = None, *,
                    resource_version: str | None = None, label_selector: str | None = None,
                    field_selector: str | None = None, allow_bookmarks: bool = False,
                    timeout_seconds: int | None = None) -> AsyncGenerator[WatchEvent, None]:
        self.watch_calls.append({"rv": resource_version, "bookmarks": allow_bookmarks,
                                 "labels": label_selector, "ns": namespace})
        self.open_streams += 1
        try:
            if not self.streams:
                self.idle = True
                await asyncio.Event().wait()
            for step in self.streams.pop(0):
                if isinstance(step, BaseException):
                    raise step
                yield step
        finally:
            self.open_streams -= 1

    @property
    def watched_from(self) -> list[str | None]:
        return [c["rv"] for c in self.watch_calls]


class Recorder:
    """Handlers that log what they were called with; on_update is async to cover both kinds."""

    def __init__(self, informer: Informer) -> None:
        self.calls: list[tuple[str, ...]] = []
        informer.add_event_handler(self.on_add, self.on_update, self.on_delete)

    def on_add(self, obj: Object) -> None:
        self.calls.append(("add", obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))

    async def on_update(self, old: Object, new: Object) -> None:
        self.calls.append(("update", new["metadata"]["name"],
                           old["metadata"]["resourceVersion"],
                           new["metadata"]["resourceVersion"]))

    def on_delete(self, obj: Object) -> None:
        self.calls.append(("delete", obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))


async def until(cond: Callable[[], bool], seen: Callable[[], object], timeout: float = 2.0) -> None:
    """Poll `cond` with a deadline; the failure says what was last seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last seen: {seen()!r}")
        await asyncio.sleep(0.001)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run a scenario and fail if it leaves any task behind."""
    async def main() -> None:
        await scenario()
        leaked = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leaked == [], f"leaked tasks: {leaked}"
    asyncio.run(main())


class RecordingClock(FakeClock):
    """A FakeClock that remembers every sleep asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await super().sleep(seconds)


async def step_when_sleeping(clock: FakeClock, seconds: float) -> None:
    await until(lambda: clock.sleepers > 0, lambda: "no sleeper")
    clock.step(seconds)


def test_initial_sync_then_watch_from_list_rv() -> None:
    async def scenario() -> None:
        lw = FakeListerWatcher([([pod("a", "5"), pod("b", "6", ns="ns2")], "10")], [])
        inf = Informer(lw, "pods", namespace="ns1", label_selector="app=web")
        rec = Recorder(inf)
        assert not inf.has_synced
        inf.start()
        await inf.wait_for_sync(2)
        assert inf.has_synced
        assert rec.calls == [("add", "a", "5"), ("add", "b", "6")]
        assert sorted(inf.store.keys()) == ["ns1/a", "ns2/b"]
        assert len(inf.store) == 2
        assert inf.store.get("ns2/b") == pod("b", "6", ns="ns2")
        assert [o["metadata"]["name"] for o in inf.store.by_index("namespace", "ns1")] == ["a"]
        await until(lambda: lw.idle, lambda: lw.watch_calls)
        assert lw.watch_calls == [{"rv": "10", "bookmarks": True, "labels": "app=web",
                                   "ns": "ns1"}]
        assert inf.last_resource_version == "10"
        await inf.stop()
        assert lw.open_streams == 0
    run(scenario)


def test_watch_events_update_store_then_call_handlers() -> None:
    async def scenario() -> None:
        lw = FakeListerWatcher([([pod("a", "5"), pod("b", "6")], "10")], [[
            ev("ADDED", pod("c", "11")),
            ev("MODIFIED", pod("a", "12")),
            ev("DELETED", pod("b", "13")),
            bookmark("20"),
        ]])
        inf = Informer(lw, "pods")
        rec = Recorder(inf)
        seen_in_store: list[Object | None] = []
        inf.add_event_handler(on_delete=lambda obj: seen_in_store.append(
            inf.store.get("ns1/b")))
        inf.start()
        await until(lambda: lw.idle, lambda: rec.calls)
        assert rec.calls == [("add", "a", "5"), ("add", "b", "6"), ("add", "c", "11"),
                             ("update", "a", "5", "12"), ("delete", "b", "13")]
        assert seen_in_store == [None]
        assert sorted(inf.store.keys()) == ["ns1/a", "ns1/c"]
        assert inf.last_resource_version == "20"
        assert lw.watched_from == ["10", "20"]  # a healthy stream that ended: resume at once
        await inf.stop()
    run(scenario)


def test_indexers_follow_updates_and_deletes() -> None:
    async def scenario() -> None:
        lw = FakeListerWatcher([([pod("a", "5", node="n1"), pod("b", "6", node="n1")], "10")],
                               [[ev("MODIFIED", pod("a", "11", node="n2")),
                                 ev("DELETED", pod("b", "12", node="n1"))]])
        inf = Informer(lw, "pods")
        inf.add_indexer("node", lambda o: [o["spec"]["nodeName"]] if o["spec"]["nodeName"]
                        else [])
        inf.start()
        await inf.wait_for_sync(2)
        with pytest.raises(RuntimeError, match="before start"):
            inf.add_indexer("late", lambda o: [])
        await until(lambda: lw.idle, lambda: inf.store.keys())
        assert inf.store.by_index("node", "n1") == []
        assert inf.store.index_keys("node", "n2") == ["ns1/a"]
        assert inf.store.by_index("node", "n2")[0]["metadata"]["resourceVersion"] == "11"
        await inf.stop()
    run(scenario)


def test_store_indexing() -> None:
    store = Store()
    store._put(pod("a", "1", node="n1"))
    store._put(pod("b", "1", ns="ns2", node="n1"))
    store.add_indexer("node", lambda o: [o["spec"]["nodeName"]])  # indexes existing items
    assert store.index_keys("node", "n1") == ["ns1/a", "ns2/b"]
    assert store.index_keys("namespace", "ns2") == ["ns2/b"]
    with pytest.raises(ValueError, match="already exists"):
        store.add_indexer("node", lambda o: [])
    with pytest.raises(KeyError, match="does not exist"):
        store.by_index("zone", "z1")
    store._pop("ns1/a")
    assert store.index_keys("node", "n1") == ["ns2/b"]
    assert "ns1/a" not in store
    assert "ns2/b" in store


def test_rewatch_from_last_rv_after_a_dropped_stream() -> None:
    async def scenario() -> None:
        clock = RecordingClock()
        lw = FakeListerWatcher([([pod("a", "5")], "10")], [
            [ev("ADDED", pod("b", "11")),
             errors.Unreachable("cannot reach the apiserver at https://x: reset")],
            [ev("MODIFIED", pod("b", "14"))],
        ])
        inf = Informer(lw, "pods", clock=clock)
        rec = Recorder(inf)
        inf.start()
        await step_when_sleeping(clock, 0.2)
        await until(lambda: lw.idle, lambda: lw.watch_calls)
        assert lw.watched_from == ["10", "11", "14"]
        assert lw.list_calls == 1  # a dropped stream is resumed, not relisted
        assert clock.slept == [0.2]
        assert rec.calls[-1] == ("update", "b", "11", "14")
        await inf.stop()
    run(scenario)


@pytest.mark.parametrize("expiry", [EXPIRED, errors.Gone("too old resource version")])
def test_relist_on_410_emits_the_differences(expiry: Step) -> None:
    async def scenario() -> None:
        clock = RecordingClock()
        lw = FakeListerWatcher(
            [([pod("a", "5"), pod("b", "6"), pod("c", "7")], "10"),
             ([pod("b", "6"), pod("c", "15"), pod("d", "16")], "20")],
            [[expiry]])
        inf = Informer(lw, "pods", clock=clock)
        rec = Recorder(inf)
        inf.start()
        await inf.wait_for_sync(2)
        await step_when_sleeping(clock, 0.2)
        await until(lambda: lw.idle, lambda: rec.calls)
        assert lw.list_calls == 2
        assert lw.watched_from == ["10", "20"]
        assert rec.calls[3:] == [("delete", "a", "5"), ("add", "d", "16"),
                                 ("update", "c", "7", "15")]  # b unchanged: no event
        assert sorted(inf.store.keys()) == ["ns1/b", "ns1/c", "ns1/d"]
        await inf.stop()
    run(scenario)


def test_backoff_is_capped_exponential_and_list_is_retried() -> None:
    async def scenario() -> None:
        clock = RecordingClock()
        down = errors.Unreachable("cannot reach the apiserver at https://x: refused")
        lw = FakeListerWatcher([down] * 8 + [([pod("a", "5")], "10")], [])
        inf = Informer(lw, "pods", clock=clock)
        inf.start()
        for _ in range(8):
            await step_when_sleeping(clock, 5.0)
        await inf.wait_for_sync(2)
        assert clock.slept == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
        assert lw.list_calls == 9
        await inf.stop()
    run(scenario)


def test_empty_streams_that_close_at_once_are_backed_off() -> None:
    async def scenario() -> None:
        clock = RecordingClock()
        lw = FakeListerWatcher([([], "10")], [[], []])
        inf = Informer(lw, "pods", clock=clock)
        inf.start()
        await step_when_sleeping(clock, 0.2)
        await step_when_sleeping(clock, 0.4)
        await until(lambda: lw.idle, lambda: lw.watch_calls)
        assert clock.slept == [0.2, 0.4]
        assert lw.watched_from == ["10", "10", "10"]
        await inf.stop()
    run(scenario)


def test_resync_redelivers_every_object_as_an_update() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        lw = FakeListerWatcher([([pod("a", "5"), pod("b", "6")], "10")], [])
        inf = Informer(lw, "pods", resync_period=30, clock=clock)
        rec = Recorder(inf)
        inf.start()
        await inf.wait_for_sync(2)
        await until(lambda: lw.idle, lambda: lw.watch_calls)
        await step_when_sleeping(clock, 30)
        await until(lambda: len(rec.calls) == 4, lambda: rec.calls)
        assert rec.calls[2:] == [("update", "a", "5", "5"), ("update", "b", "6", "6")]
        await inf.stop()
        assert clock.sleepers == 0
    run(scenario)


def test_a_failing_handler_is_logged_and_others_still_run(
        caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        lw = FakeListerWatcher([([pod("a", "5")], "10")], [])
        inf = Informer(lw, "pods")

        def broken(obj: Object) -> None:
            raise ValueError("handler bug")
        inf.add_event_handler(on_add=broken)
        rec = Recorder(inf)
        inf.start()
        await inf.wait_for_sync(2)
        assert rec.calls == [("add", "a", "5")]
        await inf.stop()
    with caplog.at_level(logging.ERROR, logger="apimachinery.informer"):
        run(scenario)
    assert "informer handler failed resource=pods key=ns1/a" in caplog.text


def test_wait_for_sync_timeout_names_the_last_error() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        down = errors.Unreachable("cannot reach the apiserver at https://x: refused")
        inf = Informer(FakeListerWatcher([down], []), "pods", clock=clock)
        inf.start()
        with pytest.raises(TimeoutError, match=r"did not sync within 0\.05s .*refused"):
            await inf.wait_for_sync(0.05)
        with pytest.raises(RuntimeError, match="before start"):
            inf.add_event_handler(on_add=print)
        await inf.stop()
        await inf.stop()  # idempotent
    run(scenario)


def test_stop_closes_the_stream_and_leaves_no_tasks() -> None:
    async def scenario() -> None:
        lw = FakeListerWatcher([([pod("a", "5")], "10")], [])
        inf = Informer(lw, "pods", resync_period=60)
        task = inf.start()
        assert inf.start() is task
        await until(lambda: lw.idle, lambda: lw.watch_calls)
        assert lw.open_streams == 1
        await inf.stop()
        assert task.cancelled()
        assert lw.open_streams == 0
    run(scenario)
