"""A frozen apiserver (a paused container: the kernel accepts connections, nothing
answers) costs a client a timeout, then it moves to the next URL; it never hangs.

Real sockets on 127.0.0.1: the frozen server is a listening socket nobody accepts
from, the live one a small aiohttp server speaking the apiserver's watch format.
"""

from __future__ import annotations

import time

import pytest
from aiohttp import web

from apimachinery import errors
from apimachinery.client import (
    WATCH_IDLE_TIMEOUT,
    AsyncClient,
    Client,
    WatchEvent,
    request_timeout,
)
from tests.unit.frozen_servers import RELEASE, app, event, frozen_url, run_async, serve


def live_app(watch_rvs: list[str], *, then_silent: bool = False) -> web.Application:
    """GET a pod answers `{"from": "live"}`; a watch sends the event after its
    resourceVersion, then ends, or with `then_silent` stays open saying nothing."""
    application = app()

    async def get_pod(request: web.Request) -> web.Response:
        return web.json_response({"from": "live"})

    async def watch(request: web.Request) -> web.StreamResponse:
        watch_rvs.append(request.query.get("resourceVersion", ""))
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(event(str(int(request.query.get("resourceVersion") or 0) + 1)))
        if then_silent:
            await application[RELEASE].wait()
        return resp

    application.router.add_get("/api/v1/namespaces/default/pods/web", get_pod)
    application.router.add_get("/api/v1/pods", watch)
    return application


@run_async
async def test_a_request_timeout_moves_a_read_off_a_frozen_server() -> None:
    with frozen_url() as frozen:
        async with serve(live_app([])) as live, AsyncClient([frozen, live]) as client:
            start = time.monotonic()
            with request_timeout(0.5):
                got = await client.get("pods", "web")
            took = time.monotonic() - start
            assert got == {"from": "live"} and client.server == live
    assert 0.4 < took < 3, took


@run_async
async def test_a_write_to_a_frozen_server_times_out_and_the_next_goes_elsewhere() -> None:
    with frozen_url() as frozen:
        async with serve(live_app([])) as live, AsyncClient([frozen, live]) as client:
            start = time.monotonic()
            with request_timeout(0.5), pytest.raises(errors.Unreachable):
                await client.create("configmaps", {"metadata": {"name": "x"}})
            assert time.monotonic() - start < 3
            # it may have been applied, so it is not resent; but the client has moved
            assert (await client.get("pods", "web"))["from"] == "live"


def test_a_request_timeout_applies_to_the_blocking_client_too() -> None:
    with frozen_url() as frozen, Client(frozen) as client:
        start = time.monotonic()
        with request_timeout(0.3), pytest.raises(errors.Unreachable):
            client.get("pods", "web")
    assert time.monotonic() - start < 3


@run_async
async def test_a_silent_bookmark_watch_resumes_on_the_next_url() -> None:
    """The first server sends one event and then nothing (frozen mid-stream): after the
    idle timeout the watch re-opens on the second from the last resourceVersion."""
    first_rvs: list[str] = []
    second_rvs: list[str] = []
    async with (serve(live_app(first_rvs, then_silent=True)) as a,
                serve(live_app(second_rvs)) as b,
                AsyncClient([a, b]) as client):
        client.watch_idle_timeout = 0.5
        start = time.monotonic()
        got: list[WatchEvent] = [e async for e in client.watch(
            "pods", resource_version="4", allow_bookmarks=True)]
        took = time.monotonic() - start
    assert [e.object["metadata"]["resourceVersion"] for e in got] == ["5", "6"]
    assert first_rvs == ["4"] and second_rvs == ["5"]
    assert took < 3, took


def test_only_a_bookmark_watch_has_an_idle_timeout() -> None:
    with Client("http://127.0.0.1:1") as client:
        with_bookmarks = client._req_watch("pods", None, "1", None, None, True, 300)
        without = client._req_watch("pods", None, "1", None, None, False, None)
        timed = client._req_watch("pods", None, "1", None, None, False, 300)
    assert with_bookmarks.read_timeout == WATCH_IDLE_TIMEOUT
    assert without.read_timeout is None and timed.read_timeout == 300 + client.timeout
