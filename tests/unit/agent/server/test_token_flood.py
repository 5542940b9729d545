"""A flood of unknown tokens on the agent's port is not a flood on the apiserver."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from agent.server.auth import LOOKUP_BURST, POSITIVE_ENTRIES, Authenticator, Verdict
from agent.server.server import create_app
from apimachinery.clock import FakeClock
from tests.unit.agent.fakes import UnusedRuntime
from tests.unit.agent.server.reviewapi import ReviewAPI, reviewers


async def verdict(authn: Authenticator, header: str) -> Verdict:
    return (await authn.token(header)).verdict


def test_unknown_tokens_past_the_burst_are_throttled_without_asking() -> None:
    api, clock = ReviewAPI(), FakeClock()
    authn = Authenticator(api, clock, qps=5, burst=LOOKUP_BURST)  # type: ignore[arg-type]

    async def body() -> None:
        assert await verdict(authn, "Bearer good") is Verdict.ALLOWED
        verdicts = [await verdict(authn, f"Bearer made-up-{i}") for i in range(1000)]
        assert verdicts.count(Verdict.DENIED) == LOOKUP_BURST - 1
        assert verdicts.count(Verdict.THROTTLED) == 1000 - (LOOKUP_BURST - 1)
        assert api.asked == LOOKUP_BURST  # 1000 made-up tokens, 20 questions
        # known tokens are answered from the caches while the bucket is empty
        assert await verdict(authn, "Bearer good") is Verdict.ALLOWED
        assert await verdict(authn, "Bearer made-up-0") is Verdict.DENIED
        assert api.asked == LOOKUP_BURST
        clock.step(1.0)  # 5 more lookups a second
        later = [await verdict(authn, f"Bearer later-{i}") for i in range(10)]
        assert later.count(Verdict.DENIED) == 5 and api.asked == LOOKUP_BURST + 5
    asyncio.run(body())


def test_a_flood_of_bad_tokens_does_not_push_good_ones_out() -> None:
    api, clock = ReviewAPI(), FakeClock()
    authn = Authenticator(api, clock, qps=1e9, burst=10**6)  # type: ignore[arg-type]

    async def body() -> None:
        assert await verdict(authn, "Bearer good") is Verdict.ALLOWED
        for i in range(POSITIVE_ENTRIES * 5):
            await verdict(authn, f"Bearer bad-{i}")
        asked = api.asked
        assert await verdict(authn, "Bearer good") is Verdict.ALLOWED
        assert api.asked == asked  # still cached
    asyncio.run(body())


def test_concurrent_requests_with_one_token_share_one_lookup() -> None:
    api = ReviewAPI(delay=0.05)
    authn = Authenticator(api, FakeClock())  # type: ignore[arg-type]

    async def body() -> None:
        verdicts = await asyncio.gather(*(verdict(authn, "Bearer good-x") for _ in range(50)))
        assert set(verdicts) == {Verdict.ALLOWED} and api.asked == 1
    asyncio.run(body())


def test_the_server_answers_429_with_retry_after_when_throttled() -> None:
    api = ReviewAPI()
    authn, authz = reviewers(api, qps=1, burst=1)

    async def finder(*_: Any) -> Any:
        raise AssertionError("no container is looked up for an unauthenticated caller")
    app = create_app(finder, UnusedRuntime(), authn, authz, "node1")

    async def body() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agent") as http:
            first = await http.get("/containerLogs/ns/p/a", headers={"Authorization": "Bearer x"})
            second = await http.get("/containerLogs/ns/p/a",
                                    headers={"Authorization": "Bearer y"})
            assert first.status_code == 401
            assert second.status_code == 429 and second.headers["retry-after"] == "1"
            assert api.asked == 1
    asyncio.run(body())
