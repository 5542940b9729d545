"""EtcdEndpoints: which member the apiserver uses, and moving off one that stops answering.

The aetcd clients are fakes that answer (or not) a status request; the clock is
injected so the minimum client age never needs a sleep.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apimachinery import errors
from apiserver.etcdclient import EtcdEndpoints
from apiserver.storage import Storage

URLS = ["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"]


class FakeClient:
    """A client of one member: status() answers while that member is `up`."""

    def __init__(self, index: int, up: set[int]) -> None:
        self.index, self.up, self.closed = index, up, False

    async def status(self) -> None:
        if self.index not in self.up:
            raise ConnectionError(f"member {self.index} does not answer")

    async def close(self) -> None:
        self.closed = True


class Endpoints(EtcdEndpoints):
    def __init__(self, up: set[int]) -> None:
        self.now = 0.0
        super().__init__(URLS, clock=lambda: self.now)
        self.up, self.made = up, []

    def _new_client(self, index: int) -> Any:
        client = FakeClient(index, self.up)
        self.made.append(client)
        return client


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_connects_to_the_first_member_that_answers() -> None:
    async def scenario() -> str:
        etcd = Endpoints({1, 2})
        await etcd.connect()
        await etcd.close()
        return etcd.current_endpoint
    assert run(scenario()) == URLS[1]


def test_no_member_answering_is_503() -> None:
    async def scenario() -> None:
        await Endpoints(set()).connect()
    with pytest.raises(errors.ServiceUnavailable):
        run(scenario())


def test_a_failure_moves_to_the_next_member_that_answers_and_closes_the_old() -> None:
    async def scenario() -> tuple[str, bool]:
        etcd = Endpoints({0, 2})
        await etcd.connect()
        old = etcd.client
        etcd.up.discard(0)
        etcd.now = 10
        await etcd.failed(old, "deadline exceeded")
        await etcd.close()
        return etcd.current_endpoint, old.closed  # type: ignore[attr-defined]
    assert run(scenario()) == (URLS[2], True)  # member 1 never answered: skipped


def test_many_calls_failing_on_one_member_move_once() -> None:
    async def scenario() -> tuple[str, int]:
        etcd = Endpoints({0, 1, 2})
        await etcd.connect()
        old = etcd.client
        etcd.now = 10
        await asyncio.gather(*(etcd.failed(old, "reset") for _ in range(20)))
        await etcd.close()
        return etcd.current_endpoint, len(etcd.made)
    assert run(scenario()) == (URLS[1], 2)


def test_a_young_client_is_kept_and_a_stale_report_ignored() -> None:
    async def scenario() -> list[str]:
        etcd = Endpoints({0, 1, 2})
        await etcd.connect()
        first = etcd.client
        seen = []
        await etcd.failed(first, "too soon")  # younger than MIN_CLIENT_AGE
        seen.append(etcd.current_endpoint)
        etcd.now = 10
        await etcd.failed(first, "reset")
        seen.append(etcd.current_endpoint)
        etcd.now = 20
        await etcd.failed(first, "a late report about the member already left")
        seen.append(etcd.current_endpoint)
        await etcd.close()
        return seen
    assert run(scenario()) == [URLS[0], URLS[1], URLS[1]]


def test_with_no_member_answering_it_keeps_trying_them_in_turn() -> None:
    async def scenario() -> list[str]:
        etcd = Endpoints({0})
        await etcd.connect()
        etcd.up.clear()
        seen = []
        for step in range(1, 4):
            etcd.now = 10 * step
            await etcd.failed(etcd.client, "refused")
            seen.append(etcd.current_endpoint)
        await etcd.close()
        return seen
    assert run(scenario()) == [URLS[1], URLS[2], URLS[0]]


class LateEndpoints(Endpoints):
    """Members that start answering only after `late` rounds of probes (0.5 s apart)."""

    def __init__(self, late: int | None) -> None:
        super().__init__(set())
        self.late, self.pauses = late, 0

    async def _pause(self) -> None:
        self.pauses += 1
        self.now += 0.5
        if self.pauses == self.late:
            self.up.add(1)


def test_start_waits_for_a_member_that_comes_up() -> None:
    """An apiserver started beside etcd waits for it (--storage-initialization-timeout)."""
    async def scenario() -> tuple[str, int]:
        etcd = LateEndpoints(late=3)
        await etcd.connect(wait=60)
        await etcd.close()
        return etcd.current_endpoint, etcd.pauses
    assert run(scenario()) == (URLS[1], 3)


def test_start_gives_up_after_the_wait() -> None:
    etcd = LateEndpoints(late=None)
    with pytest.raises(errors.ServiceUnavailable, match="unreachable"):
        run(etcd.connect(wait=2.0))
    assert etcd.pauses == 4  # probed at 0, 0.5, 1.0, 1.5 and 2.0 s


def retired_mid_call_storage() -> tuple[Storage, Endpoints]:
    storage = Storage(URLS)
    etcd = storage._etcd = Endpoints({0, 1})
    return storage, etcd


async def leave_member_then_cancel(etcd: Endpoints, client: Any) -> str:
    """What a call sees when another request retires its client: gRPC closes the channel
    and the call raises asyncio.CancelledError, though nobody cancelled this task."""
    if client is etcd.made[0]:
        etcd.up.discard(0)
        etcd.now = 10
        await etcd.failed(client, "deadline exceeded")
        raise asyncio.CancelledError()
    return f"answered by member {client.index}"


def test_a_call_whose_client_is_retired_mid_call_is_retried_or_503_not_500() -> None:
    async def scenario() -> tuple[str, str]:
        storage, etcd = retired_mid_call_storage()
        await etcd.connect()
        read = await storage._call("get", lambda c: leave_member_then_cancel(etcd, c),
                                   read=True)
        storage, etcd = retired_mid_call_storage()
        await etcd.connect()
        try:
            await storage._call("put", lambda c: leave_member_then_cancel(etcd, c))
        except errors.ServiceUnavailable as exc:
            return read, str(exc)
        return read, "no error"
    read, write = run(scenario())
    assert read == "answered by member 1"  # a read goes on to the next member
    assert "was given up during the request" in write  # a write may have been applied


def test_a_cancelled_caller_is_still_cancelled() -> None:
    async def scenario() -> None:
        storage, etcd = retired_mid_call_storage()
        await etcd.connect()

        async def slow(client: Any) -> None:
            await asyncio.sleep(10)
        task = asyncio.create_task(storage._call("get", slow, read=True))
        await asyncio.sleep(0)
        task.cancel()
        await task
    with pytest.raises(asyncio.CancelledError):
        run(scenario())
