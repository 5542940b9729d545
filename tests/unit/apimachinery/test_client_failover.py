"""Failover between apiserver URLs: which failures move the client on, and what is resent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import httpx
import orjson
import pytest

from apimachinery import errors
from apimachinery.client import AsyncClient, Client, split_urls
from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.pki import make_ca
from apimachinery.transport import never_sent

A, B = "https://a.test:6443", "https://b.test:6443"
Behaviour = Callable[[httpx.Request], httpx.Response]


def ok(body: object) -> httpx.Response:
    return httpx.Response(200, content=orjson.dumps(body))


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def reset(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadError("connection reset by peer", request=request)


def slow(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


class Servers:
    """Two fake apiservers behind one MockTransport, each with its own behaviour."""

    def __init__(self, a: Behaviour, b: Behaviour | None = None) -> None:
        self.behaviour = {"a.test": a, "b.test": b or (lambda req: ok({"from": "b"}))}
        self.seen: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append((request.url.host[0], request.method))
        return self.behaviour[request.url.host](request)


def client(servers: Servers, urls: list[str] | None = None) -> Client:
    return Client(urls or [A, B], transport=httpx.MockTransport(servers))


def test_a_read_moves_to_the_next_url_and_stays_there() -> None:
    servers = Servers(refused)
    with client(servers) as c:
        assert c.get("pods", "web") == {"from": "b"}
        assert c.server == B
        c.get("pods", "web")
    assert servers.seen == [("a", "GET"), ("b", "GET"), ("b", "GET")]


@pytest.mark.parametrize("failure", [reset, slow], ids=["reset", "timeout"])
def test_a_read_cut_after_sending_is_retried(failure: Behaviour) -> None:
    servers = Servers(failure)
    with client(servers) as c:
        assert c.list("pods")["from"] == "b"


def test_an_http_error_answer_is_not_a_failover() -> None:
    unavailable = {"kind": "Status", "code": 503, "message": "etcd is slow"}
    servers = Servers(lambda req: httpx.Response(503, content=orjson.dumps(unavailable)))
    with client(servers) as c, pytest.raises(errors.ServiceUnavailable, match="etcd is slow"):
        c.get("pods", "web")
    assert servers.seen == [("a", "GET")]


def test_a_write_is_resent_only_when_it_never_left() -> None:
    servers = Servers(refused)
    with client(servers) as c:
        assert c.create("pods", {"metadata": {"name": "web"}}) == {"from": "b"}
    assert servers.seen == [("a", "POST"), ("b", "POST")]


def test_a_write_cut_after_sending_surfaces_and_the_next_goes_elsewhere() -> None:
    servers = Servers(reset)
    with client(servers) as c:
        with pytest.raises(errors.Unreachable, match=r"a\.test.*connection reset"):
            c.create("pods", {"metadata": {"name": "web"}})
        assert c.create("pods", {"metadata": {"name": "web"}}) == {"from": "b"}
    assert servers.seen == [("a", "POST"), ("b", "POST")]


def test_every_url_down_is_unreachable_after_one_try_each() -> None:
    servers = Servers(refused, refused)
    with client(servers) as c, pytest.raises(errors.Unreachable, match=r"b\.test"):
        c.get("pods", "web")
    assert servers.seen == [("a", "GET"), ("b", "GET")]


def test_one_url_is_never_retried() -> None:
    servers = Servers(refused)
    with client(servers, [A]) as c, pytest.raises(errors.Unreachable, match=r"a\.test"):
        c.get("pods", "web")
    assert servers.seen == [("a", "GET")]
    assert c.server == A


def event(kind: str, rv: str) -> bytes:
    obj = {"metadata": {"name": "web", "resourceVersion": rv}}
    return orjson.dumps({"type": kind, "object": obj}) + b"\n"


class CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Some events, then the connection drops."""

    def __init__(self, *lines: bytes) -> None:
        self.lines = lines

    def __iter__(self) -> Iterator[bytes]:
        yield from self.lines
        raise httpx.RemoteProtocolError("peer closed connection")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


def watch_servers() -> Servers:
    return Servers(lambda req: httpx.Response(200, stream=CutStream(event("ADDED", "7"))),
                   lambda req: httpx.Response(200, content=event("MODIFIED", "9")))


def test_a_cut_watch_resumes_on_the_next_url_from_its_last_version() -> None:
    servers = watch_servers()
    rvs: list[str | None] = []
    original = servers.behaviour["b.test"]

    def b(req: httpx.Request) -> httpx.Response:
        rvs.append(req.url.params.get("resourceVersion"))
        return original(req)
    servers.behaviour["b.test"] = b
    with client(servers) as c:
        seen = [(e.type, e.object["metadata"]["resourceVersion"])
                for e in c.watch("pods", resource_version="5")]
    assert seen == [("ADDED", "7"), ("MODIFIED", "9")]
    assert rvs == ["7"]


def test_a_cut_watch_without_a_version_is_not_resumed() -> None:
    servers = Servers(lambda req: httpx.Response(200, stream=CutStream()))
    with client(servers) as c, pytest.raises(errors.Unreachable, match="peer closed"):
        list(c.watch("pods"))
    assert servers.seen == [("a", "GET")]


def test_a_cut_watch_on_one_url_surfaces() -> None:
    servers = watch_servers()
    with client(servers, [A]) as c, pytest.raises(errors.Unreachable):
        list(c.watch("pods", resource_version="5"))


def test_the_async_client_fails_over_and_resumes() -> None:
    async def main() -> None:
        servers = watch_servers()
        async with AsyncClient([A, B], transport=httpx.MockTransport(servers)) as c:
            kinds = [e.type async for e in c.watch("pods", resource_version="5")]
            assert kinds == ["ADDED", "MODIFIED"]
            servers.behaviour["b.test"] = refused
            servers.behaviour["a.test"] = lambda req: ok({"from": "a"})
            assert await c.get("pods", "web") == {"from": "a"}
            servers.behaviour["a.test"] = reset
            with pytest.raises(errors.Unreachable, match=r"a\.test"):
                await c.request("POST", "/api/v1/namespaces/default/pods", json={})
            assert servers.seen[-3:] == [("b", "GET"), ("a", "GET"), ("a", "POST")]
    asyncio.run(main())


def test_urls_from_the_flag_follow_the_kubeconfig_server(tmp_path: Path) -> None:
    ca, _key = make_ca()
    path = tmp_path / "kubeconfig"
    write_kubeconfig(str(path), A, ca, "tok")
    urls = split_urls(f" {B}/, ,{A}")
    c = Client.from_kubeconfig(str(path), extra_servers=urls)
    assert c.servers == (A, B)
    assert c.server == A
    c.close()


def test_aiohttp_failures_count_as_unsent_only_before_connecting() -> None:
    """httpx-aiohttp maps a server hanging up mid-reply to ConnectTimeout too."""
    key = aiohttp.client_reqrep.ConnectionKey("a.test", 6443, True, True, None, None, None)
    refused_exc = httpx.ConnectTimeout("refused")
    refused_exc.__cause__ = aiohttp.ClientConnectorError(key, OSError(111, "refused"))
    hung_up = httpx.ConnectTimeout("Server disconnected")
    hung_up.__cause__ = aiohttp.ServerDisconnectedError()
    assert never_sent(refused_exc)
    assert not never_sent(hung_up)
    assert never_sent(httpx.ConnectError("refused"))
    assert not never_sent(httpx.RemoteProtocolError("Server disconnected"))
