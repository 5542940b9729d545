"""A read at a resourceVersion etcd has not reached: wait for it, then Kubernetes' 504."""

from __future__ import annotations

import asyncio
import time

import pytest

from apimachinery import errors
from apiserver.freshness import wait_until_fresh
from apiserver.listoptions import watch_start


class Revisions:
    """etcd's revision, one higher each time it is asked (writes going on meanwhile)."""

    def __init__(self, start: int, step: int = 1) -> None:
        self.value, self.step, self.asked = start, step, 0

    async def __call__(self) -> int:
        self.asked += 1
        value = self.value
        self.value += self.step
        return value


def test_a_version_already_reached_or_none_does_not_wait() -> None:
    revisions = Revisions(10)
    asyncio.run(wait_until_fresh(revisions, 0))
    assert revisions.asked == 0
    asyncio.run(wait_until_fresh(revisions, 10))
    assert revisions.asked == 1


def test_a_version_that_comes_is_waited_for() -> None:
    revisions = Revisions(10)
    asyncio.run(wait_until_fresh(revisions, 14, timeout=3))
    assert revisions.asked == 5


def test_a_version_that_never_comes_is_a_504_after_the_wait() -> None:
    started = time.monotonic()
    with pytest.raises(errors.Timeout) as raised:
        asyncio.run(wait_until_fresh(Revisions(7, step=0), 99, timeout=0.3))
    assert 0.3 <= time.monotonic() - started < 1
    status = raised.value.to_status()
    assert (status["code"], status["reason"]) == (504, "Timeout")
    assert status["message"] == "Timeout: Too large resource version: 99, current: 7"
    assert status["details"] == {
        "causes": [{"reason": "ResourceVersionTooLarge",
                    "message": "Too large resource version"}],
        "retryAfterSeconds": 1}


@pytest.mark.parametrize(("rv", "initial", "required"), [
    ("", None, 0), ("0", None, 0), ("42", None, 42), ("42", "true", 42), ("42", "false", 42)])
def test_a_watch_requires_the_version_it_names(rv: str, initial: str | None,
                                               required: int) -> None:
    match = "NotOlderThan" if initial is not None else ""
    assert watch_start(rv, match, "", initial, False).required == required
