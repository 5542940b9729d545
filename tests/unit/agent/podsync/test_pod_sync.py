"""PodSyncer against a fake runtime and API: the actions taken, in order, and the status sent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent.podsync.backoff import Backoff
from agent.podsync.images import ImageManager
from agent.podsync.pod_sync import PodSyncer
from apimachinery.clock import FakeClock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object
from tests.unit.agent.fakes import FakeClient, FakeRuntime
from tests.unit.agent.helpers import NOW, UID, make_pod


class World:
    def __init__(self, tmp_path: Path, pod: Object | None, *objects: Object,
                 runtime: FakeRuntime | None = None) -> None:
        """`runtime`: an engine that outlived a previous agent (an agent restart)."""
        self.clock = runtime.clock if runtime is not None else FakeClock(wall=NOW)
        self.runtime = runtime or FakeRuntime(self.clock)
        self.client = FakeClient(*objects)
        self.pod = pod
        recorder = EventRecorder(self.client, "kubelet", self.clock, host="n1")  # type: ignore[arg-type]
        self.recorder = recorder
        images = ImageManager(self.runtime, recorder, Backoff(self.clock), self.clock)
        self.syncer = PodSyncer(
            client=self.client, runtime=self.runtime, recorder=recorder,  # type: ignore[arg-type]
            images=images, backoff=Backoff(self.clock, base=10, maximum=300), clock=self.clock,
            pod_by_uid=lambda uid: self.pod if self.pod and uid == UID else None,
            node_ip="192.0.2.10", root_dir=tmp_path, sandbox_image="schooner/busybox:latest")

    def events(self) -> list[str]:
        queue: asyncio.Queue[Any] = self.recorder._queue
        return [queue.get_nowait().event["reason"] for _ in range(queue.qsize())]

    def status(self) -> Object:
        return self.client.statuses()[-1]

    def accept_status(self) -> None:
        """As if the informer delivered the pod with the status just written."""
        assert self.pod is not None
        self.pod = {**self.pod, "status": self.status()}


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(body())


def test_a_new_pod_gets_a_sandbox_then_its_container(tmp_path: Path) -> None:
    world = World(tmp_path, make_pod("a"))

    async def body() -> None:
        result = await world.syncer.sync(UID)
        assert result.requeue_after is None and not result.finished
    run(body)
    assert world.runtime.actions() == [("run", "schooner_POD_p_ns_uid-1_0"),
                                       ("run", "schooner_a_p_ns_uid-1_0")]
    status = world.status()
    assert (status["phase"], status["podIP"]) == ("Running", "10.0.0.7")
    assert world.events() == ["Pulled", "Created", "Started"]


def test_an_unchanged_pod_writes_nothing(tmp_path: Path) -> None:
    world = World(tmp_path, make_pod("a"))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.accept_status()
        await world.syncer.sync(UID)
    run(body)
    assert len(world.client.statuses()) == 1
    assert len(world.runtime.actions()) == 2


def test_a_crashing_container_restarts_then_backs_off(tmp_path: Path) -> None:
    world = World(tmp_path, make_pod("a", policy="OnFailure"))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.accept_status()
        world.clock.step(1)
        world.runtime.exit("c2", 1)
        first = await world.syncer.sync(UID)  # restarted at once
        assert first.requeue_after is None
        world.clock.step(1)
        world.runtime.exit("c3", 1)
        second = await world.syncer.sync(UID)  # now it waits 10 s
        assert second.requeue_after == 10
    run(body)
    assert [a for a in world.runtime.actions() if a[0] == "run"][-1] == (
        "run", "schooner_a_p_ns_uid-1_1")
    cs = world.status()["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["state"]["waiting"]["message"].startswith("back-off 10s restarting failed")
    assert cs["restartCount"] == 1 and cs["lastState"]["terminated"]["exitCode"] == 1


def test_a_missing_image_with_pull_policy_never(tmp_path: Path) -> None:
    pod = make_pod("a")
    pod["spec"]["containers"][0]["image"] = "schooner/absent:1"
    world = World(tmp_path, pod)
    run(lambda: world.syncer.sync(UID))
    assert [a[0] for a in world.runtime.actions()] == ["run"]  # the sandbox only
    waiting = world.status()["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ErrImageNeverPull"
    assert world.status()["containerStatuses"][0]["imageID"] == ""


def test_a_failed_pull_then_image_pull_back_off(tmp_path: Path) -> None:
    pod = make_pod("a")
    pod["spec"]["containers"][0].update(image="schooner/absent:1", imagePullPolicy="Always")
    world = World(tmp_path, pod)

    async def body() -> None:
        first = await world.syncer.sync(UID)
        assert first.requeue_after == 10
        assert world.status()["containerStatuses"][0]["state"]["waiting"]["reason"] == \
            "ErrImagePull"
        world.accept_status()
        world.clock.step(3)
        await world.syncer.sync(UID)
    run(body)
    assert world.status()["containerStatuses"][0]["state"]["waiting"]["reason"] == \
        "ImagePullBackOff"
    assert [a for a in world.runtime.calls if a[0] == "pull"] == [("pull", "schooner/absent:1")]


def test_a_missing_config_map_is_a_config_error(tmp_path: Path) -> None:
    pod = make_pod("a")
    pod["spec"]["containers"][0]["env"] = [
        {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}]
    world = World(tmp_path, pod)
    run(lambda: world.syncer.sync(UID))
    waiting = world.status()["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "CreateContainerConfigError",
                       "message": 'configmap "cfg" not found'}


def test_a_deleted_pod_is_stopped_removed_and_deleted(tmp_path: Path) -> None:
    world = World(tmp_path, make_pod("a"))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.runtime.calls.clear()
        world.pod = make_pod("a", deleting=True, grace=7)
        result = await world.syncer.sync(UID)
        assert result.finished
    run(body)
    assert world.runtime.actions() == [("stop", "a/7"), ("remove", "a"), ("remove", "POD"),
                                       ("remove-volumes", UID)]
    assert world.client.calls[-1] == ("delete", "pods", "p", 0, {"uid": UID})
    assert world.runtime.containers == {}


def test_containers_of_an_unknown_pod_are_removed(tmp_path: Path) -> None:
    world = World(tmp_path, make_pod("a"))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.pod = None  # deleted while the agent was away
        world.syncer.last_known.clear()
        world.runtime.calls.clear()
        await world.syncer.sync(UID)
    run(body)
    assert world.runtime.actions()[0] == ("stop", "a/2")  # the kubelet's minimum grace
    assert not any(c[0] == "delete" for c in world.client.calls)


def test_a_missing_sandbox_image_is_pulled_first_and_a_failed_pull_reported(
        tmp_path: Path) -> None:
    world = World(tmp_path, make_pod("a"))
    world.runtime.images.clear()  # a fresh node: not even the sandbox image

    async def body() -> None:
        await world.syncer.sync(UID)
    run(body)
    assert ("pull", "schooner/busybox:latest") in world.runtime.calls
    assert world.runtime.actions()[0] == ("pull", "schooner/busybox:latest")
    assert not [a for a in world.runtime.actions() if a[0] == "run"]
    assert "FailedCreatePodSandBox" in world.events()
