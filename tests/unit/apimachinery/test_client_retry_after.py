"""The clients send again when the server says Retry-After (429, 5xx), back off, and
give up after client-go's 10 retries; other errors are raised at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import orjson
import pytest

from apimachinery import errors, retryafter
from apimachinery.client import AsyncClient, Client

SERVER = "https://api.test:6443"
POD = {"kind": "Pod", "metadata": {"name": "web"}}


def status(code: int, reason: str, retry: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if retry is not None:
        headers["Retry-After"] = retry
    return httpx.Response(code, headers=headers, content=orjson.dumps(
        {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
         "code": code, "message": reason}))


class Script:
    """Answers each request with the next scripted answer (the last one repeats)."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers, self.sent = list(answers), 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.sent += 1
        answer = self.answers[min(self.sent, len(self.answers)) - 1]
        return httpx.Response(answer.status_code, headers=answer.headers,
                              content=answer.content)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float]]:
    """The (retry, server wait) of every back-off; no real sleeping."""
    seen: list[tuple[int, float]] = []

    def delay(retry: int, server_wait: float, rand: Callable[[], float] = lambda: 0) -> float:
        seen.append((retry, server_wait))
        return 0.0

    monkeypatch.setattr(retryafter, "delay", delay)
    return seen


def ok() -> httpx.Response:
    return httpx.Response(200, headers={"Content-Type": "application/json"},
                          content=orjson.dumps(POD))


def test_a_429_is_sent_again_after_retry_after(waits: list[tuple[int, float]]) -> None:
    script = Script(status(429, "TooManyRequests", "1"), status(429, "TooManyRequests", "2"),
                    ok())
    with Client(SERVER, transport=httpx.MockTransport(script)) as client:
        assert client.create("pods", POD, "default") == POD
    assert script.sent == 3 and waits == [(0, 1.0), (1, 2.0)]


def test_the_async_client_backs_off_too(waits: list[tuple[int, float]]) -> None:
    script = Script(status(503, "ServiceUnavailable", "1"), ok())

    async def scenario() -> None:
        async with AsyncClient(SERVER, transport=httpx.MockTransport(script)) as client:
            assert await client.get("pods", "web", "default") == POD

    asyncio.run(scenario())
    assert script.sent == 2 and waits == [(0, 1.0)]


def test_it_gives_up_after_ten_retries(waits: list[tuple[int, float]]) -> None:
    script = Script(status(429, "TooManyRequests", "1"))
    with (Client(SERVER, transport=httpx.MockTransport(script)) as client,
          pytest.raises(errors.TooManyRequests)):
        client.get("pods", "web", "default")
    assert script.sent == 11 and len(waits) == 10


@pytest.mark.parametrize("answer", [
    status(429, "TooManyRequests"),  # no Retry-After: nothing asks us to come back
    status(500, "InternalError"),
    status(404, "NotFound", "1"),  # a 4xx other than 429 is final whatever it says
    status(409, "Conflict"),
    status(503, "ServiceUnavailable", "Wed, 21 Oct 2026 07:28:00 GMT"),  # seconds only
])
def test_other_errors_are_raised_at_once(answer: httpx.Response,
                                         waits: list[tuple[int, float]]) -> None:
    script = Script(answer)
    with (Client(SERVER, transport=httpx.MockTransport(script)) as client,
          pytest.raises(errors.APIError)):
        client.get("pods", "web", "default")
    assert script.sent == 1 and waits == []


def test_the_delay_backs_off_exponentially_with_jitter() -> None:
    never = [retryafter.delay(n, 1.0, lambda: 0.0) for n in range(10)]
    assert never == [1.0, 1.0, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert retryafter.delay(0, 1.0, lambda: 1.0) == pytest.approx(1.2)
    assert retryafter.delay(0, 30.0, lambda: 0.0) == 30.0  # the server's wait is honoured
    assert sum(retryafter.delay(n, 1.0, lambda: 1.0) for n in range(10)) < 40


@pytest.mark.parametrize(("code", "header", "wait"), [
    (429, "1", 1.0), (503, "3", 3.0), (504, "1", 1.0), (429, "600", 60.0),
    (429, None, None), (429, "-1", None), (429, "1.5", None), (409, "1", None),
])
def test_retry_after(code: int, header: str | None, wait: float | None) -> None:
    headers = {"retry-after": header} if header is not None else {}
    assert retryafter.retry_after(code, headers) == wait
