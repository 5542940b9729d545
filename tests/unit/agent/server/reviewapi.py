"""A fake apiserver for the agent's server: it answers TokenReviews and SubjectAccessReviews.

A token `good...` authenticates as the user of that name; any other does not. A
SubjectAccessReview is allowed when its user is in `allowed` (by default `good`
and `good-x`). Every question is recorded, so tests count round trips.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from agent.server.auth import TOKEN_REVIEWS, Authenticator
from agent.server.authz import SUBJECT_ACCESS_REVIEWS, SubjectAccessReviewer
from apimachinery import errors
from apimachinery.clock import Clock, FakeClock


class ReviewAPI:
    def __init__(self, *, delay: float = 0, allowed: set[str] | None = None) -> None:
        self.tokens: list[str] = []  # the token of each TokenReview asked
        self.reviews: list[dict[str, Any]] = []  # the spec of each SubjectAccessReview
        self.delay = delay
        self.allowed = allowed if allowed is not None else {"good", "good-x"}
        self.down = False  # no answer to any question
        self.reviews_down = False  # no answer to SubjectAccessReviews

    @property
    def asked(self) -> int:
        return len(self.tokens)

    async def request(self, method: str, path: str, *, json: dict[str, Any]) -> httpx.Response:
        assert method == "POST"
        await asyncio.sleep(self.delay)
        if self.down:
            raise errors.ServiceUnavailable("the apiserver is away")
        spec = json["spec"]
        if path == TOKEN_REVIEWS:
            self.tokens.append(spec["token"])
            good = spec["token"].startswith("good")
            status = {"authenticated": True, "user": {
                "username": spec["token"], "groups": ["team"]}} if good else {"user": {}}
        else:
            assert path == SUBJECT_ACCESS_REVIEWS, path
            if self.reviews_down:
                raise errors.ServiceUnavailable("the authorizer is away")
            self.reviews.append(spec)
            status = {"allowed": spec["user"] in self.allowed}
        return httpx.Response(201, json={**json, "status": status})


def reviewers(api: ReviewAPI, clock: Clock | None = None, **kwargs: Any
              ) -> tuple[Authenticator, SubjectAccessReviewer]:
    """The agent's authenticator and authorizer against the fake."""
    clock = clock or FakeClock()
    return (Authenticator(api, clock, **kwargs),  # type: ignore[arg-type]
            SubjectAccessReviewer(api, clock))  # type: ignore[arg-type]
