"""The agent's two read caches that keep a restart storm's reads off Docker's back.

`DockerRuntime._inspect_pod` inspects only containers whose listed state moved;
`ImageManager.local_id` keeps a found image id for a few seconds and shares one
lookup among concurrent callers. Both against fakes that count the calls.
"""

from __future__ import annotations

import asyncio
from typing import Any

import docker.errors

from agent.podsync.backoff import Backoff
from agent.podsync.images import IMAGE_ID_TTL, ImageManager
from agent.runtime.container import ImageNotPresent, State
from agent.runtime.docker_runtime import DockerRuntime
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from tests.unit.agent.fakes import UnusedRuntime
from tests.unit.agent.helpers import NOW


class FakeDockerAPI:
    """The low-level calls `_inspect_pod` makes: containers() and inspect_container()."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self.inspected: list[str] = []

    def containers(self, all: bool, filters: Object) -> list[Object]:
        assert all and "schooner.pod.uid=u1" in filters["label"]
        return [{"Id": cid, "State": state} for cid, state in self.states.items()]

    def inspect_container(self, cid: str) -> Object:
        self.inspected.append(cid)
        if cid not in self.states:
            raise docker.errors.NotFound(f"no such container: {cid}")
        status = self.states[cid]
        return {"Id": cid, "Config": {"Labels": {"schooner.pod.uid": "u1",
                                                 "schooner.container.name": cid}},
                "State": {"Status": status, "ExitCode": 1 if status == "exited" else 0}}


class FakeDockerClient:
    def __init__(self) -> None:
        self.api = FakeDockerAPI()

    def close(self) -> None:
        pass


def runtime() -> tuple[DockerRuntime, FakeDockerAPI]:
    client = FakeDockerClient()
    return DockerRuntime("n1", "pods", client=client, max_workers=1), client.api


def test_settled_containers_are_inspected_once() -> None:
    rt, api = runtime()
    try:
        api.states = {"sandbox": "running", "dead": "exited", "new": "created"}
        first = rt._inspect_pod("u1")
        assert sorted(api.inspected) == ["dead", "new", "sandbox"]
        assert {r.id: r.state for r in first} == {"sandbox": State.RUNNING,
                                                  "dead": State.EXITED, "new": State.CREATED}
        api.inspected.clear()
        again = rt._inspect_pod("u1")
        assert api.inspected == ["new"]  # "created" may be starting: always looked at
        assert again == first
    finally:
        rt.close()


def test_a_state_change_or_a_removal_is_seen() -> None:
    rt, api = runtime()
    try:
        api.states = {"app": "running", "old": "exited"}
        rt._inspect_pod("u1")
        api.inspected.clear()
        api.states = {"app": "exited"}  # it died; the old instance was removed
        (record,) = rt._inspect_pod("u1")
        assert api.inspected == ["app"] and record.state is State.EXITED
        api.states = {}
        assert rt._inspect_pod("u1") == []
        assert rt._inspected == {}  # nothing kept for a pod without containers
    finally:
        rt.close()


def test_a_container_removed_between_list_and_inspect_is_skipped() -> None:
    rt, api = runtime()
    try:
        api.states = {"gone": "created"}
        real = api.inspect_container

        def vanish(cid: str) -> Object:
            api.states.pop(cid)
            return real(cid)
        api.inspect_container = vanish  # type: ignore[method-assign]
        assert rt._inspect_pod("u1") == []
    finally:
        rt.close()


class CountingImages(UnusedRuntime):
    def __init__(self, present: set[str]) -> None:
        self.present = present
        self.asked: list[str] = []

    async def image_id(self, ref: str) -> str:
        self.asked.append(ref)
        await asyncio.sleep(0)  # a real call yields: let concurrent callers pile up
        if ref not in self.present:
            raise ImageNotPresent(ref)
        return f"sha256:{ref}"

    async def pull_image(self, ref: str, auth: dict[str, str] | None = None) -> str:
        raise AssertionError("no pulls here")


class Recorder:
    def record(self, *args: Any, **kwargs: Any) -> None:
        pass


def images(present: set[str]) -> tuple[ImageManager, CountingImages, FakeClock]:
    clock = FakeClock(wall=NOW)
    runtime = CountingImages(present)
    return ImageManager(runtime, Recorder(), Backoff(clock), clock), runtime, clock  # type: ignore[arg-type]


def test_a_found_image_id_is_kept_for_the_ttl() -> None:
    manager, runtime, clock = images({"img"})

    async def scenario() -> None:
        assert await manager.local_id("img") == "sha256:img"
        clock.step(IMAGE_ID_TTL - 0.5)
        assert await manager.local_id("img") == "sha256:img"
        assert runtime.asked == ["img"]
        clock.step(1)
        await manager.local_id("img")
        assert runtime.asked == ["img", "img"]
    asyncio.run(scenario())


def test_concurrent_lookups_share_one_call_and_missing_images_are_asked_again() -> None:
    manager, runtime, _ = images({"img"})

    async def scenario() -> None:
        ids = await asyncio.gather(*(manager.local_id("img") for _ in range(100)))
        assert set(ids) == {"sha256:img"} and runtime.asked == ["img"]
        assert await manager.local_id("absent") == ""
        runtime.present.add("absent")  # loaded meanwhile: seen at once
        assert await manager.local_id("absent") == "sha256:absent"
    asyncio.run(scenario())
