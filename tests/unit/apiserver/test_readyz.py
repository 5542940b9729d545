"""/readyz's answer: Kubernetes' `[+]check ok` / `[-]check failed` lines, 503 on a failure."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from apimachinery import errors
from apiserver import health
from apiserver.storage import Storage


class FakeStorage:
    def __init__(self, up: bool) -> None:
        self.up = up

    async def current_revision(self) -> int:
        if not self.up:
            raise errors.ServiceUnavailable("etcd request failed: connection refused")
        return 7


def answer(up: bool, started: bool, verbose: bool = False) -> tuple[int, str]:
    async def scenario() -> Any:
        event = asyncio.Event()
        if started:
            event.set()
        return await health.readyz(cast(Storage, FakeStorage(up)), event, verbose=verbose)
    response = asyncio.run(scenario())
    return response.status_code, bytes(response.body).decode()


def test_ready_is_a_plain_ok() -> None:
    assert answer(up=True, started=True) == (200, "ok")


def test_verbose_lists_every_check() -> None:
    code, body = answer(up=True, started=True, verbose=True)
    assert code == 200
    assert body.splitlines() == ["[+]ping ok", "[+]etcd ok",
                                 "[+]poststarthook/start-watch-caches ok",
                                 "readyz check passed"]


def test_etcd_gone_is_503_naming_the_check_without_the_error_text() -> None:
    code, body = answer(up=False, started=True)
    assert code == 503
    assert "[-]etcd failed: reason withheld" in body.splitlines()
    assert body.rstrip().endswith("readyz check failed")
    assert "refused" not in body


def test_starting_is_503() -> None:
    code, body = answer(up=True, started=False)
    assert code == 503
    assert "[-]poststarthook/start-watch-caches failed: reason withheld" in body
