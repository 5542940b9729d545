"""Make sure a container's image is on this host, per its imagePullPolicy.

kubelet's `imageManager.EnsureImageExists`:
* `Never`: the image must already be here, else `ErrImageNeverPull`;
* `IfNotPresent`: pull only when it is missing;
* `Always`: pull every time a container starts.
The pull carries the credentials of the pod's imagePullSecrets that match the image's
registry, when any (pullsecrets.py). A failed pull is `ErrImagePull`; while the
per-pod-and-image back-off lasts the container shows `ImagePullBackOff` instead of
pulling again. Events are the kubelet's: Pulling, Pulled, Failed, BackOff.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agent.podsync.backoff import Backoff
from agent.podsync.pod_status import Waiting
from agent.runtime.container import ImageNotPresent, ImagePullError
from agent.runtime.protocol import ContainerRuntime
from apimachinery.clock import Clock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object

IMAGE_ID_TTL = 5.0


@dataclass(frozen=True)
class ImageResult:
    """The image id when it is ready, else why not and when to try again."""

    image_id: str = ""
    waiting: Waiting | None = None
    retry_after: float | None = None


def pull_policy(container: Object) -> str:
    policy = str(container.get("imagePullPolicy") or "")
    if policy in ("Always", "IfNotPresent", "Never"):
        return policy
    image = str(container.get("image") or "")
    tag = image.rsplit("/", 1)[-1].rpartition(":")[2] if ":" in image.rsplit("/", 1)[-1] else ""
    return "Always" if tag in ("", "latest") and "@" not in image else "IfNotPresent"


class ImageManager:
    def __init__(self, runtime: ContainerRuntime, recorder: EventRecorder, backoff: Backoff,
                 clock: Clock) -> None:
        self._runtime = runtime
        self._recorder = recorder
        self._backoff = backoff
        self._clock = clock
        self._ids: dict[str, tuple[str, float]] = {}  # image -> (id, when found)
        self._locks: dict[str, asyncio.Lock] = {}

    async def local_id(self, image: str) -> str:
        """The local image's id, or "" when it is not here.

        Found ids are kept for IMAGE_ID_TTL seconds and concurrent lookups of one image
        share one call: every pod start, restart and status report asks, and 100 pods of
        one image asking Docker each time queued those reads in front of the container
        creates (a retag shows within the TTL; a missing image is asked for every time).
        """
        async with self._locks.setdefault(image, asyncio.Lock()):
            found = self._ids.get(image)
            if found is not None and self._clock.monotonic() - found[1] < IMAGE_ID_TTL:
                return found[0]
            try:
                image_id = await self._runtime.image_id(image)
            except ImageNotPresent:
                self._ids.pop(image, None)
                return ""
            self._ids[image] = (image_id, self._clock.monotonic())
            return image_id

    async def ensure(self, pod: Object, container: Object,
                     auth: dict[str, str] | None = None) -> ImageResult:
        """Make the container's image present per its pull policy; `auth`: the registry
        credentials of the pod's imagePullSecrets for this image (pullsecrets.py)."""
        image, name = str(container.get("image") or ""), str(container.get("name"))
        policy = pull_policy(container)
        present = await self.local_id(image)
        if policy != "Always" and present:
            self._recorder.record(pod, "Pulled", f'Container image "{image}" already present '
                                  "on machine", container=name)
            return ImageResult(image_id=present)
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            self._recorder.record(pod, "ErrImageNeverPull", message, container=name,
                                  warning=True)
            return ImageResult(waiting=Waiting("ErrImageNeverPull", message))
        return await self._pull(pod, name, image, auth)

    async def _pull(self, pod: Object, name: str, image: str,
                    auth: dict[str, str] | None) -> ImageResult:
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        key = f"{uid}/image/{image}"
        left = self._backoff.remaining_since_update(key)
        if left > 0:
            message = f'Back-off pulling image "{image}"'
            self._recorder.record(pod, "BackOff", message, container=name)
            return ImageResult(waiting=Waiting("ImagePullBackOff", message), retry_after=left)
        self._recorder.record(pod, "Pulling", f'Pulling image "{image}"', container=name)
        started = self._clock.monotonic()
        try:
            image_id = await self._runtime.pull_image(image, auth)
        except (ImagePullError, ImageNotPresent) as exc:
            self._backoff.next(key, self._clock.now())
            message = f'Failed to pull image "{image}": {exc}'
            self._recorder.record(pod, "Failed", message, container=name, warning=True)
            self._recorder.record(pod, "Failed", "Error: ErrImagePull", container=name,
                                  warning=True)
            return ImageResult(waiting=Waiting("ErrImagePull", message),
                               retry_after=self._backoff.get(key))
        took = self._clock.monotonic() - started
        self._recorder.record(pod, "Pulled", f'Successfully pulled image "{image}" in '
                              f"{took:.3f}s", container=name)
        return ImageResult(image_id=image_id)
