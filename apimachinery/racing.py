"""Racing awaitables: a relay runs both directions of a stream at once and ends when
either does (the peer closed, the pod went away), and what is still running must be
cancelled and reaped, not left to log "Task was destroyed but it is pending"."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable


async def first_done(*awaitables: Awaitable[object]) -> None:
    """Run them all until the first ends; then cancel the others and wait for each to
    finish. Their results and errors are dropped: the caller reads what it needs from
    its own state (a relay's peers), and a cancelled relay's error is no news."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    if not tasks:
        return
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
