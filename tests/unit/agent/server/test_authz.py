"""The agent's authorization: the kubelet's request attributes, SubjectAccessReviews, caches."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from agent.server.auth import User
from agent.server.authz import (
    ALLOWED_TTL,
    DENIED_TTL,
    Attributes,
    Decision,
    SubjectAccessReviewer,
    request_attributes,
)
from agent.server.server import create_app
from apimachinery.clock import FakeClock
from tests.unit.agent.fakes import UnusedRuntime
from tests.unit.agent.server.reviewapi import ReviewAPI, reviewers

GOOD = User("good", groups=("system:authenticated",))


@pytest.mark.parametrize(("method", "path", "verb", "subresource"), [
    ("GET", "/containerLogs/ns/p/c", "get", "proxy"),
    ("POST", "/exec/ns/p/c", "create", "proxy"),
    ("POST", "/run/ns/p/c", "create", "proxy"),
    ("GET", "/attach/ns/p/c", "get", "proxy"),
    ("POST", "/portForward/ns/p", "create", "proxy"),
    ("GET", "/healthz", "get", "proxy"),
    ("GET", "/logs", "get", "log"),
    ("GET", "/logs/", "get", "log"),
    ("GET", "/logs/syslog", "get", "log"),
    ("GET", "/logsx", "get", "proxy"),  # a sibling path, not below /logs
    ("GET", "/stats/summary", "get", "stats"),
    ("GET", "/metrics", "get", "metrics"),
    ("GET", "/metrics/cadvisor", "get", "metrics"),
    ("GET", "/spec", "get", "spec"),
    ("POST", "/checkpoint/ns/p/c", "create", "checkpoint"),
    ("PUT", "/x", "update", "proxy"),
    ("PATCH", "/x", "patch", "proxy"),
    ("DELETE", "/x", "delete", "proxy"),
    ("HEAD", "/containerLogs/ns/p/c", "get", "proxy"),
])
def test_request_attributes_follow_the_kubelet(method: str, path: str, verb: str,
                                               subresource: str) -> None:
    assert request_attributes(method, path, "node1") == Attributes(verb, subresource, "node1")


def test_the_review_names_the_caller_and_the_node() -> None:
    api = ReviewAPI()
    authz = SubjectAccessReviewer(api, FakeClock())  # type: ignore[arg-type]
    caller = User("alice", "u-1", ("dev", "system:authenticated"))
    assert asyncio.run(authz.authorize(caller, Attributes("get", "log", "node1"))) \
        is Decision.DENIED
    assert api.reviews == [{"user": "alice", "uid": "u-1",
                            "groups": ["dev", "system:authenticated"],
                            "resourceAttributes": {"verb": "get", "version": "v1",
                                                   "resource": "nodes", "subresource": "log",
                                                   "name": "node1"}}]


def test_answers_are_cached_allowed_5_minutes_denied_30_seconds() -> None:
    api, clock = ReviewAPI(), FakeClock()
    authz = SubjectAccessReviewer(api, clock)  # type: ignore[arg-type]
    proxy, log = Attributes("get", "proxy", "n"), Attributes("get", "log", "n")
    bad = User("bad")

    async def body() -> None:
        assert await authz.authorize(GOOD, proxy) is Decision.ALLOWED
        assert await authz.authorize(bad, proxy) is Decision.DENIED
        assert len(api.reviews) == 2
        assert await authz.authorize(GOOD, proxy) is Decision.ALLOWED
        assert await authz.authorize(bad, proxy) is Decision.DENIED
        assert len(api.reviews) == 2
        assert await authz.authorize(GOOD, log) is Decision.ALLOWED  # other attributes: ask
        assert len(api.reviews) == 3
        clock.step(DENIED_TTL + 1)
        api.allowed.add("bad")  # granted meanwhile: seen once the denial expires
        assert await authz.authorize(bad, proxy) is Decision.ALLOWED
        assert await authz.authorize(GOOD, proxy) is Decision.ALLOWED
        assert len(api.reviews) == 4
        clock.step(ALLOWED_TTL)
        api.allowed.discard("good")  # revoked: seen once the grant expires
        assert await authz.authorize(GOOD, proxy) is Decision.DENIED
        assert len(api.reviews) == 5
    asyncio.run(body())


def test_an_apiserver_that_cannot_answer_is_an_error_not_cached() -> None:
    api = ReviewAPI()
    authz = SubjectAccessReviewer(api, FakeClock())  # type: ignore[arg-type]
    attrs = Attributes("get", "proxy", "n")

    async def body() -> None:
        api.down = True
        assert await authz.authorize(GOOD, attrs) is Decision.ERROR
        api.down = False
        assert await authz.authorize(GOOD, attrs) is Decision.ALLOWED
    asyncio.run(body())


def test_concurrent_requests_share_one_review() -> None:
    api = ReviewAPI(delay=0.05)
    authz = SubjectAccessReviewer(api, FakeClock())  # type: ignore[arg-type]

    async def body() -> None:
        decisions = await asyncio.gather(*(authz.authorize(GOOD, Attributes("get", "proxy",
                                                                            "n"))
                                           for _ in range(20)))
        assert set(decisions) == {Decision.ALLOWED} and len(api.reviews) == 1
    asyncio.run(body())


def test_the_server_refuses_in_the_kubelets_words() -> None:
    api = ReviewAPI(allowed=set())

    async def finder(*_: Any) -> Any:
        raise AssertionError("no container is looked up for a caller who may not")
    app = create_app(finder, UnusedRuntime(), *reviewers(api), "node1")

    async def body() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agent",
                                     headers={"Authorization": "Bearer good"}) as http:
            logs = await http.get("/containerLogs/ns/p/a")
            ran = await http.post("/exec/ns/p/a", json={"command": ["id"]})
            api.reviews_down = True
            cached = await http.get("/containerLogs/ns/p/b")
            other = await http.post("/exec/ns/p/a", json={"command": ["id"]},
                                    headers={"Authorization": "Bearer good-x"})
        assert (logs.status_code, logs.text) == (
            403, "Forbidden (user=good, verb=get, resource=nodes, subresource=proxy)\n")
        assert (ran.status_code, ran.text) == (
            403, "Forbidden (user=good, verb=create, resource=nodes, subresource=proxy)\n")
        # the denial is cached, so only a new question meets the authorizer's outage
        assert (cached.status_code, cached.text) == (403, logs.text)
        assert (other.status_code, other.text) == (500, "Authorization error (user=good-x, "
                                                   "verb=create, resource=nodes, "
                                                   "subresource=proxy)\n")
    asyncio.run(body())
