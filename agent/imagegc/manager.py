"""The image GC loop: observe the image filesystem, remove unused images past the threshold.

`ImageGC.run` wakes every `period` (the kubelet's fixed 5 minutes) and calls
`collect`: it refreshes what it remembers of each image (when first seen,
when last used: by a container, or named by a pod of this node), and when
`policy.bytes_to_free` says so, removes `policy.removal_order`'s images until
that much is freed. Short of it, a Warning `FreeDiskSpaceFailed` on the Node
with the kubelet's words. Docker refuses to remove an image a container
created meanwhile uses: that one is skipped, as the kubelet skips an image
whose removal fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from agent.imagegc import policy
from agent.runtime.container import ContainerRuntimeError, ImageRecord
from agent.runtime.protocol import ContainerRuntime
from apimachinery.clock import Clock
from apimachinery.events import EventRecorder

log = logging.getLogger(__name__)
EVERYTHING = 1 << 62  # bytes to free when every unused image should go


@dataclass(frozen=True)
class ImageGCConfig:
    thresholds: policy.Thresholds = field(default_factory=policy.Thresholds)
    period: float = 300.0
    # tests: only images with this label (KEY=VALUE) are collected, so a test never
    # removes the host's other images
    only_label: str = ""


class ImageGC:
    def __init__(self, runtime: ContainerRuntime, clock: Clock, recorder: EventRecorder,
                 node_name: str, config: ImageGCConfig, *,
                 declared: Callable[[], Iterable[str]], pinned: Iterable[str] = ()) -> None:
        self._runtime, self._clock, self._recorder = runtime, clock, recorder
        self._node = node_name
        self.config = config
        self._declared = declared  # image refs the node's pods name
        self._pinned = {policy.normalize_ref(p) for p in pinned}
        self.first_seen: dict[str, float] = {}
        self.last_used: dict[str, float] = {}

    async def run(self) -> None:
        """Collect every `period` until cancelled; a failing engine is logged and retried."""
        while True:
            await self._clock.sleep(self.config.period)
            try:
                await self.collect()
            except ContainerRuntimeError as exc:
                log.warning("component=agent image GC failed node=%s error=%s", self._node, exc)

    def _candidates(self, images: list[ImageRecord]) -> list[ImageRecord]:
        if not self.config.only_label:
            return images
        key, _, value = self.config.only_label.partition("=")
        return [i for i in images if (key, value) in i.labels]

    async def _observe(self) -> tuple[list[ImageRecord], set[str]]:
        """The images and those in use; first-seen and last-used times brought up to date."""
        images = await self._runtime.list_images()
        used = policy.in_use(images, await self._runtime.images_in_use(), self._declared())
        now = self._clock.monotonic()
        present = {i.id for i in images}
        for image_id in present:
            self.first_seen.setdefault(image_id, now)
        for image_id in used & present:
            self.last_used[image_id] = now
        for gone in set(self.first_seen) - present:
            self.first_seen.pop(gone, None)
            self.last_used.pop(gone, None)
        return images, used

    async def collect(self) -> int:
        """One pass; the bytes freed."""
        images, used = await self._observe()
        fs = await self._runtime.image_fs()
        amount = policy.bytes_to_free(fs, self.config.thresholds)
        if amount <= 0:
            return 0
        freed = await self._free(images, used, amount)
        log.info("component=agent image GC node=%s usage=%d%% to_free=%d freed=%d", self._node,
                 policy.usage_percent(fs), amount, freed)
        if freed < amount:
            self._recorder.record(
                {"kind": "Node", "apiVersion": "v1",
                 "metadata": {"name": self._node, "uid": self._node, "namespace": "default"}},
                "FreeDiskSpaceFailed", f"Failed to garbage collect required amount of images. "
                f"Attempted to free {amount} bytes, but only found {freed} bytes eligible to "
                "free.", warning=True)
        return freed

    async def delete_unused(self) -> int:
        """Every image that may go, whatever the thresholds (the eviction manager's
        node-level reclaim under disk pressure, the kubelet's DeleteUnusedImages). With
        image GC off (a high threshold of 100) the agent removes no image at all: on a
        Docker engine shared with its user (`schooner up`) the images are not its own."""
        if self.config.thresholds.high >= 100:
            return 0
        images, used = await self._observe()
        freed = await self._free(images, used, EVERYTHING)
        log.info("component=agent unused images removed node=%s freed=%d", self._node, freed)
        return freed

    async def _sized(self, images: list[ImageRecord]) -> list[ImageRecord]:
        """The same images sized by what each alone holds (Docker's df, which is slow:
        asked only when there is something to remove)."""
        sized = {i.id: i for i in await self._runtime.list_images(sized=True)}
        return [sized.get(i.id, i) for i in images]

    async def _free(self, images: list[ImageRecord], used: set[str], amount: int) -> int:
        ordered = policy.removal_order(
            self._candidates(images), used, self._pinned, self.last_used, self.first_seen,
            self._clock.monotonic(), self.config.thresholds.min_age)
        if not ordered:
            return 0
        ordered = await self._sized(ordered)
        freed = 0
        for image in policy.choose(ordered, amount):
            try:
                await self._runtime.remove_image(image.id)
            except ContainerRuntimeError as exc:
                log.info("component=agent image GC kept image=%s error=%s", image.id[:19], exc)
                continue
            freed += image.size
            self.first_seen.pop(image.id, None)
            self.last_used.pop(image.id, None)
            log.info("component=agent image GC removed image=%s tags=%s size=%d", image.id[:19],
                     ",".join(image.tags), image.size)
        return freed


__all__ = ["ImageGC", "ImageGCConfig"]
