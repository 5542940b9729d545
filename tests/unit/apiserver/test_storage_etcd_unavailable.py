"""etcd failures the lab's quorum loss turned into 500s the apiserver let through.

A request whose etcd client is closed under it (another request gave the member
up) is a 503, or for a read a retry on the member now in use; never a bare
CancelledError. A request that is itself cancelled stays cancelled. etcd errors
without a mapping of their own are Statuses."""

from __future__ import annotations

import asyncio
from typing import Any

import aetcd.exceptions
import pytest

from apimachinery import errors
from apiserver.storage import Storage


class Members:
    """The member in use: `client`, replaced when another request gives it up."""

    def __init__(self) -> None:
        self.client: Any = "old"


def storage() -> tuple[Storage, Members]:
    store = Storage(["http://127.0.0.1:1"])
    members = Members()
    store._etcd = members  # type: ignore[assignment]
    return store, members


def given_up_during(members: Members) -> Any:
    """A call on the old client that the move to a new one cancels (grpc's local cancel)."""
    async def call(client: Any) -> str:
        if client == "old":
            members.client = "new"
            raise asyncio.CancelledError
        return f"answered by {client}"
    return call


def test_a_read_on_a_retired_client_is_retried_on_the_new_one() -> None:
    store, members = storage()
    got = asyncio.run(store._call("get", given_up_during(members), read=True))
    assert got == "answered by new"


def test_a_write_on_a_retired_client_is_a_503() -> None:
    store, members = storage()
    with pytest.raises(errors.ServiceUnavailable, match="given up during the request"):
        asyncio.run(store._call("create", given_up_during(members)))


def test_a_cancelled_request_stays_cancelled() -> None:
    store, members = storage()

    async def hang(client: Any) -> None:
        members.client = "new"  # even with the member given up meanwhile
        await asyncio.Event().wait()

    async def main() -> None:
        task = asyncio.create_task(store._call("get", hang, read=True))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    asyncio.run(main())


def test_a_cancellation_on_the_client_in_use_is_not_swallowed() -> None:
    store, _ = storage()

    async def cancelled(client: Any) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(store._call("get", cancelled, read=True))


@pytest.mark.parametrize(("failure", "expected"), [
    (aetcd.exceptions.ClientError("context deadline exceeded"), errors.ServiceUnavailable),
    (aetcd.exceptions.ClientError("etcdserver: request timed out"), errors.ServiceUnavailable),
    (aetcd.exceptions.InternalError("etcdserver: no space"), errors.InternalError),
    (aetcd.exceptions.ClientError("something else"), errors.InternalError),
], ids=["deadline", "timed-out", "internal", "other"])
def test_etcd_errors_without_a_mapping_are_statuses(failure: Exception,
                                                    expected: type[errors.APIError]) -> None:
    """etcd without quorum answers UNKNOWN "context deadline exceeded", which aetcd wraps
    in a bare ClientError: that is a 503, any other such error a 500 Status, never an
    exception the ASGI server has to turn into a 500 itself."""
    store, _ = storage()

    async def failing(client: Any) -> None:
        raise failure

    with pytest.raises(expected, match=str(failure)):
        asyncio.run(store._call("create", failing))
