"""Image GC: the thresholds' arithmetic, which images may go and in what order, and the
loop against a fake runtime (removals and the Node event asserted in order)."""

from __future__ import annotations

import asyncio

from agent.imagegc import policy
from agent.imagegc.manager import ImageGC, ImageGCConfig
from agent.imagegc.policy import Thresholds
from agent.runtime.container import ContainerRuntimeError, FsStats, ImageRecord
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from tests.unit.agent.fakes import UnusedRuntime

GIB = 1024**3


def test_bytes_to_free_from_the_thresholds() -> None:
    t = Thresholds(high=85, low=80)
    assert policy.usage_percent(FsStats(100 * GIB, 16 * GIB)) == 84
    assert policy.bytes_to_free(FsStats(100 * GIB, 16 * GIB), t) == 0  # 84% < 85%
    assert policy.usage_percent(FsStats(100 * GIB, 15 * GIB)) == 85
    assert policy.bytes_to_free(FsStats(100 * GIB, 15 * GIB), t) == 5 * GIB  # down to 80%
    assert policy.bytes_to_free(FsStats(100 * GIB, 1 * GIB), Thresholds(100, 80)) == 0  # off
    assert policy.bytes_to_free(FsStats(0, 0), t) == 0


def test_refs_are_matched_as_docker_lists_tags() -> None:
    assert policy.normalize_ref("busybox") == "busybox:latest"
    assert policy.normalize_ref("docker.io/library/busybox:1.36") == "busybox:1.36"
    assert policy.normalize_ref("registry:5000/team/app") == "registry:5000/team/app:latest"
    assert policy.normalize_ref("app@sha256:abc") == "app:latest"


IMAGES = [ImageRecord("sha256:a", ("a:latest",), 3 * GIB),
          ImageRecord("sha256:b", ("b:latest",), 2 * GIB),
          ImageRecord("sha256:c", ("c:latest",), 1 * GIB),
          ImageRecord("sha256:p", ("pause:latest",), 1 * GIB)]


def test_only_unused_unpinned_old_enough_images_go_least_recently_used_first() -> None:
    used = policy.in_use(IMAGES, {"sha256:a"}, ["c"])  # a runs; a pod names c
    assert used == {"sha256:a", "sha256:c"}
    first_seen = {"sha256:a": 0.0, "sha256:b": 0.0, "sha256:c": 0.0, "sha256:p": 0.0}
    order = policy.removal_order(IMAGES, used, {"pause:latest"}, {}, first_seen, 200.0, 120.0)
    assert [i.id for i in order] == ["sha256:b"]
    young = policy.removal_order(IMAGES, set(), set(), {}, {**first_seen, "sha256:b": 150.0},
                                 200.0, 120.0)
    assert [i.id for i in young] == ["sha256:a", "sha256:c", "sha256:p"]  # b: too young
    by_use = policy.removal_order(IMAGES, set(), set(), {"sha256:a": 50.0, "sha256:c": 10.0},
                                  first_seen, 200.0, 120.0)
    assert [i.id for i in by_use] == ["sha256:b", "sha256:p", "sha256:c", "sha256:a"]
    assert [i.id for i in policy.choose(by_use, 2 * GIB + 1)] == ["sha256:b", "sha256:p"]
    assert policy.choose(by_use, 0) == []


class ImageRuntime(UnusedRuntime):
    def __init__(self, fs: FsStats, images: list[ImageRecord], in_use: set[str]) -> None:
        self.fs, self.images, self.in_use = fs, list(images), set(in_use)
        self.removed: list[str] = []
        self.refuse: set[str] = set()
        self.listed: list[bool] = []  # sized or not, each time the images are listed

    async def list_images(self, *, sized: bool = False) -> list[ImageRecord]:
        self.listed.append(sized)
        return list(self.images)

    async def images_in_use(self) -> set[str]:
        return set(self.in_use)

    async def remove_image(self, image_id: str) -> None:
        if image_id in self.refuse:
            raise ContainerRuntimeError("conflict: image is being used by a container")
        self.removed.append(image_id)
        size = next(i.size for i in self.images if i.id == image_id)
        self.images = [i for i in self.images if i.id != image_id]
        self.fs = FsStats(self.fs.capacity, self.fs.available + size)

    async def image_fs(self) -> FsStats:
        return self.fs


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, bool]] = []

    def record(self, obj: Object, reason: str, message: str, *, warning: bool = False) -> None:
        self.events.append((obj["kind"], reason, message, warning))


def gc_for(runtime: ImageRuntime, clock: FakeClock, recorder: Recorder,
           declared: list[str] | None = None) -> ImageGC:
    return ImageGC(runtime, clock, recorder, "n1",  # type: ignore[arg-type]
                   ImageGCConfig(Thresholds(85, 80, 120.0)), declared=lambda: declared or [],
                   pinned=["pause"])


def test_a_pass_frees_down_to_the_low_threshold_in_lru_order() -> None:
    clock, recorder = FakeClock(), Recorder()
    runtime = ImageRuntime(FsStats(100 * GIB, 17 * GIB), IMAGES, {"sha256:a"})
    gc = gc_for(runtime, clock, recorder)

    async def body() -> None:
        assert await gc.collect() == 0  # 83%: nothing to do; the images are now known
        runtime.fs = FsStats(100 * GIB, 14 * GIB)  # 86%: 6 GiB to free
        assert await gc.collect() == 0  # every image is younger than the minimum age
        clock.step(121)
        runtime.in_use = set()  # a's container is gone: a was used last, 121 s ago
        freed = await gc.collect()
        # b and c (never used, first seen together) go first, then a; pause is pinned
        assert runtime.removed == ["sha256:b", "sha256:c", "sha256:a"]
        assert freed == 6 * GIB
        assert runtime.listed == [False, False, False, True]  # sized (slow) only to remove
        assert [e[1] for e in recorder.events] == ["FreeDiskSpaceFailed"]  # the young pass
    asyncio.run(body())


def test_short_of_the_amount_is_a_free_disk_space_failed_event() -> None:
    clock, recorder = FakeClock(), Recorder()
    runtime = ImageRuntime(FsStats(100 * GIB, 10 * GIB), IMAGES, {"sha256:a"})
    runtime.refuse = {"sha256:c"}  # a container took it meanwhile: Docker says no
    gc = gc_for(runtime, clock, recorder, declared=["b:latest"])

    failed = ("Node", "FreeDiskSpaceFailed", "Failed to garbage collect required amount of "
              f"images. Attempted to free {10 * GIB} bytes, but only found 0 bytes eligible "
              "to free.", True)

    async def body() -> None:
        assert await gc.collect() == 0  # all too young yet: nothing eligible
        assert recorder.events == [failed]
        clock.step(121)
        assert await gc.collect() == 0
        assert runtime.removed == []  # a runs, b is a pod's, c refused, pause pinned
        assert recorder.events == [failed, failed]
    asyncio.run(body())


def test_only_labelled_images_when_asked() -> None:
    clock, recorder = FakeClock(), Recorder()
    labelled = ImageRecord("sha256:t", ("t:latest",), GIB, labels=(("e2e", "x"),))
    runtime = ImageRuntime(FsStats(100 * GIB, 1 * GIB), [*IMAGES, labelled], set())
    gc = ImageGC(runtime, clock, recorder, "n1",  # type: ignore[arg-type]
                 ImageGCConfig(Thresholds(85, 80, 0.0), only_label="e2e=x"),
                 declared=lambda: [])
    asyncio.run(gc.collect())
    assert runtime.removed == ["sha256:t"]


def test_with_image_gc_off_no_image_is_ever_removed() -> None:
    clock, recorder = FakeClock(), Recorder()
    runtime = ImageRuntime(FsStats(100 * GIB, 1 * GIB), IMAGES, set())
    gc = ImageGC(runtime, clock, recorder, "n1",  # type: ignore[arg-type]
                 ImageGCConfig(Thresholds(100, 80, 0.0)), declared=lambda: [])
    assert asyncio.run(gc.collect()) == 0 and asyncio.run(gc.delete_unused()) == 0
    assert runtime.removed == [] and recorder.events == []
