"""What the image GC decides, as pure functions (kubelet's `image_gc_manager.go`).

The kubelet looks at the image filesystem every 5 minutes. When its usage
(100 - available*100/capacity, in whole percent) is at or above
`imageGCHighThresholdPercent`, it frees enough to bring usage down to
`imageGCLowThresholdPercent`: capacity*(100-low)/100 - available bytes. It
removes images no container uses, least recently used first (then first
detected), skipping those detected less than `minimumGCAge` ago (an image
just pulled for a container about to start) and pinned ones (the sandbox
image). A high threshold of 100 turns it off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent.runtime.container import FsStats, ImageRecord

NEVER = float("-inf")  # the last use of an image no container has used: before any use


@dataclass(frozen=True)
class Thresholds:
    high: int = 85  # percent of the image filesystem used that starts a collection
    low: int = 80  # percent it collects down to
    min_age: float = 120.0  # seconds an image is kept after first seen, used or not


def usage_percent(fs: FsStats) -> int:
    """Whole percent used, rounded up as the kubelet's integer arithmetic does."""
    if fs.capacity <= 0:
        return 0
    return 100 - int(fs.available * 100 / fs.capacity)


def bytes_to_free(fs: FsStats, thresholds: Thresholds) -> int:
    """Bytes to free now: 0 below the high threshold (or with GC off, high = 100)."""
    if thresholds.high >= 100 or usage_percent(fs) < thresholds.high:
        return 0
    return max(0, fs.capacity * (100 - thresholds.low) // 100 - fs.available)


def normalize_ref(ref: str) -> str:
    """An image reference as Docker lists it in RepoTags: a tag, no default registry."""
    name = ref.split("@", 1)[0]
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def in_use(images: Iterable[ImageRecord], container_images: set[str],
           declared_refs: Iterable[str]) -> set[str]:
    """Ids of images a container uses or a pod on the node names (by tag)."""
    wanted = {normalize_ref(r) for r in declared_refs}
    return set(container_images) | {i.id for i in images if wanted & set(i.tags)}


def removal_order(images: Iterable[ImageRecord], used: set[str], pinned: set[str],
                  last_used: Mapping[str, float], first_seen: Mapping[str, float],
                  now: float, min_age: float) -> list[ImageRecord]:
    """The images that may go, least recently used first, then first detected first."""
    candidates = [i for i in images if i.id not in used and i.id not in pinned
                  and not (pinned & set(i.tags))
                  and now - first_seen.get(i.id, now) >= min_age]
    return sorted(candidates, key=lambda i: (last_used.get(i.id, NEVER),
                                             first_seen.get(i.id, now), i.id))


def choose(ordered: Iterable[ImageRecord], amount: int) -> list[ImageRecord]:
    """The shortest prefix of `ordered` whose sizes add up to `amount` (all, if short)."""
    chosen, freed = [], 0
    for image in ordered:
        if freed >= amount:
            break
        chosen.append(image)
        freed += image.size
    return chosen


__all__ = ["Thresholds", "bytes_to_free", "choose", "in_use", "normalize_ref",
           "removal_order", "usage_percent"]
