"""Reads at a resourceVersion etcd has not reached yet, answered as Kubernetes does.

Kubernetes' cacher (`waitUntilFreshAndBlock`) waits up to 3 s for its watch cache to
reach a get's, list's or watch's resourceVersion, then fails with
`NewTooLargeResourceVersionError`: a 504 Timeout Status "Too large resource version:
X, current: Y", with the cause `ResourceVersionTooLarge` and `retryAfterSeconds: 1`
(a watch gets it as its one ERROR event). Schooner reads etcd's current revision
instead of a cache's, polling with a growing pause, so a version that never comes
costs a few etcd round trips, not a held connection past 3 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from apimachinery import errors

__all__ = ["BLOCK_TIMEOUT", "too_large_resource_version", "wait_until_fresh"]

BLOCK_TIMEOUT = 3.0  # seconds, Kubernetes' blockTimeout
RETRY_AFTER_SECONDS = 1  # Kubernetes' resourceVersionTooHighRetrySeconds
_FIRST_PAUSE, _LONGEST_PAUSE = 0.02, 0.5


def too_large_resource_version(required: int, current: int) -> errors.Timeout:
    """storage.NewTooLargeResourceVersionError, as the Status a client reads."""
    return errors.Timeout(
        f"Timeout: Too large resource version: {required}, current: {current}",
        details={"causes": [{"reason": "ResourceVersionTooLarge",
                             "message": "Too large resource version"}],
                 "retryAfterSeconds": RETRY_AFTER_SECONDS})


async def wait_until_fresh(current_revision: Callable[[], Awaitable[int]], required: int,
                           *, timeout: float = BLOCK_TIMEOUT) -> None:
    """Return once the store's revision is at least `required` (0: any), or raise the
    504 after `timeout` seconds."""
    if required <= 0:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pause = _FIRST_PAUSE
    while (current := await current_revision()) < required:
        left = deadline - loop.time()
        if left <= 0:
            raise too_large_resource_version(required, current)
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, _LONGEST_PAUSE)
