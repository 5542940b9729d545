"""Defragmenting etcd's members, one at a time, when compaction has left them mostly empty.

Compaction frees pages inside etcd's bbolt file but never shrinks the file:
`dbSize` (the file) stays at its high-water mark while `dbSizeInUse` (the
pages holding live revisions) falls, and the space quota counts the file. So
after a compaction the apiserver that ran it (one per interval across all
apiservers: compactor.py) looks at each member's status and defragments a
member whose file is at least `min_bytes` and at least half free, as the
etcd-defrag tool's default rule does. Defragmentation blocks the member's
reads and writes while it rewrites the file, so members go one at a time
(a cluster keeps its quorum) and the member this apiserver uses goes last.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("apiserver.defrag")

# Below this a file is not worth rewriting (`--etcd-defrag-min-bytes`).
DEFAULT_MIN_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class MemberSize:
    db_size: int  # the file, as the quota counts it
    in_use: int  # the pages live revisions hold


class Members(Protocol):
    """Per-member calls (Storage, or a fake in unit tests)."""

    def member_endpoints(self) -> list[str]: ...

    async def member_size(self, endpoint: str) -> MemberSize: ...

    async def defragment_member(self, endpoint: str) -> None: ...


def needs_defrag(size: MemberSize, min_bytes: int) -> bool:
    """A file of at least `min_bytes` of which half or more is free."""
    return size.db_size >= min_bytes and size.db_size - size.in_use >= size.db_size / 2


async def defragment(members: Members, min_bytes: int) -> list[str]:
    """Defragment, one after another, the members that need it; the endpoints done.

    `member_endpoints` lists the member in use last. A member that cannot be asked
    or defragmented is skipped (logged): the next compaction tries again.
    """
    done: list[str] = []
    for endpoint in members.member_endpoints():
        try:
            size = await members.member_size(endpoint)
            if not needs_defrag(size, min_bytes):
                continue
            log.info("component=apiserver etcd defragmenting endpoint=%s db_size=%d in_use=%d",
                     endpoint, size.db_size, size.in_use)
            await members.defragment_member(endpoint)
        except Exception as exc:
            log.warning("component=apiserver etcd defragment failed endpoint=%s err=%s",
                        endpoint, exc)
            continue
        done.append(endpoint)
    return done
