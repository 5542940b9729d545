"""`limitBytes` caps a log answer (Kubernetes' PodLogOptions; the kubelet's LimitWriter)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx

from agent.runtime.container import ContainerRecord, State
from agent.server.logoptions import parse
from agent.server.server import create_app
from tests.unit.agent.fakes import UnusedRuntime
from tests.unit.agent.server.reviewapi import ReviewAPI, reviewers


class Endless:
    """A followed log that never ends on its own: the limit must end it."""

    def __init__(self) -> None:
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            yield b"0123456789\n"
            await asyncio.sleep(0)

    def close(self) -> None:
        self.closed = True


class Runtime(UnusedRuntime):
    def __init__(self) -> None:
        self.stream = Endless()

    def stream_logs(self, container_id: str, *, follow: bool, tail: int | None,
                    timestamps: bool, since: datetime | None = None) -> Endless:
        return self.stream


async def finder(*_: Any) -> ContainerRecord:
    return ContainerRecord(id="c", name="a", pod_uid="u", state=State.RUNNING)


def test_limit_bytes_is_checked_and_ends_the_answer() -> None:
    assert parse({"limitBytes": "25"}, datetime.now()).limit_bytes == 25
    runtime = Runtime()
    app = create_app(finder, runtime, *reviewers(ReviewAPI()), "node1")

    async def body() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agent",
                                     headers={"Authorization": "Bearer good"}) as http:
            capped = await http.get("/containerLogs/ns/p/a?follow=true&limitBytes=25")
            assert capped.content == b"0123456789\n0123456789\n012"
            bad = await http.get("/containerLogs/ns/p/a?limitBytes=0")
            assert (bad.status_code, bad.text) == (
                400, "limitBytes: Invalid value: 0: must be greater than 0\n")
    asyncio.run(body())
    assert runtime.stream.closed
