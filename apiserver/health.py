"""`/readyz`: the apiserver's readiness checks, in Kubernetes' output format.

Each check prints `[+]name ok` or `[-]name failed: reason withheld`; a failing
check makes the answer 503 ending in `readyz check failed`, and `?verbose`
lists the checks of a passing answer too, as kube-apiserver's healthz handler
does. The etcd check asks the member in use for a count with a short deadline
(Kubernetes' `--etcd-healthcheck-timeout`, 2 s), failing over like any read,
so `/readyz` is 503 exactly while no etcd member answers. `/livez` has no etcd
check: a process that cannot reach etcd is not helped by a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import Response

from .storage import Storage

log = logging.getLogger("apiserver.health")

ETCD_CHECK_TIMEOUT = 2.0


async def _etcd(storage: Storage) -> None:
    await asyncio.wait_for(storage.current_revision(), ETCD_CHECK_TIMEOUT)


async def readyz(storage: Storage, started: asyncio.Event, *, verbose: bool) -> Response:
    """Run the readiness checks; 200 if all pass, else 503 naming the failed ones."""

    async def ping() -> None:
        return None

    async def caches() -> None:
        if not started.is_set():
            raise RuntimeError("watch caches not started")

    checks: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("ping", ping), ("etcd", lambda: _etcd(storage)),
        ("poststarthook/start-watch-caches", caches)]
    lines, failed = [], False
    for name, check in checks:
        try:
            await check()
            lines.append(f"[+]{name} ok")
        except Exception as exc:  # any failure is "not ready"; the reason goes to the log
            failed = True
            lines.append(f"[-]{name} failed: reason withheld")
            log.info("component=apiserver readyz check failed check=%s err=%r", name, exc)
    if failed:
        return Response("\n".join(lines) + "\nreadyz check failed\n", status_code=503,
                        media_type="text/plain")
    body = "\n".join(lines) + "\nreadyz check passed\n" if verbose else "ok"
    return Response(body, media_type="text/plain")
