"""Who may use the agent's server: whoever the apiserver accepts (webhook token authn).

The kubelet asks the apiserver about a bearer token with a TokenReview, and so does
the agent (never "does `GET /api` with this token succeed?": the agent's own client
certificate would authenticate that request whatever the token). Answers are cached as the kubelet's
webhook authenticator caches them: positive ones for 60 s, negative ones for
5 s. An unreachable apiserver is not cached and means "no".

The agent's port is open to the node's network, so a caller can send a
different made-up token with every request; each would be one apiserver round
trip, and a flood on the agent would become a flood on the apiserver. So:
the two answers are kept in separate LRU caches (a flood of bad tokens cannot
push the good ones out and make their callers ask again); concurrent requests
with one token share one lookup; and lookups are rate-limited by a token
bucket (`LOOKUP_QPS`, `LOOKUP_BURST`): past it a request with an unknown
token is answered 429 (with Retry-After) without asking, so the apiserver
sees at most that rate from this node whatever arrives. Known tokens, good or
bad, are answered from the caches and never wait for the bucket.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from enum import Enum

from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock

log = logging.getLogger(__name__)

POSITIVE_TTL = 60.0
NEGATIVE_TTL = 5.0
POSITIVE_ENTRIES = 1024
NEGATIVE_ENTRIES = 4096
LOOKUP_QPS = 5.0  # apiserver lookups of unknown tokens per second, at most
LOOKUP_BURST = 20
TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"


class Verdict(Enum):
    ALLOWED = "allowed"
    DENIED = "denied"  # 401
    THROTTLED = "throttled"  # 429: unknown token, and no lookup may be made now


class Bucket:
    """A token bucket that refuses rather than queues (golang.org/x/time/rate's Allow)."""

    def __init__(self, qps: float, burst: int, clock: Clock) -> None:
        self.qps, self.burst, self._clock = qps, burst, clock
        self._tokens = float(burst)
        self._last = clock.monotonic()

    def allow(self) -> bool:
        now = self._clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


class ExpiringLRU:
    """At most `size` (key -> (answer, expiry)) entries; the least recently used goes first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def fresh(self, key: str, now: float) -> bool:
        expires = self._entries.get(key)
        if expires is None:
            return False
        if expires <= now:
            del self._entries[key]
            return False
        self._entries.move_to_end(key)
        return True

    def add(self, key: str, expires: float) -> None:
        self._entries[key] = expires
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


class TokenAuthenticator:
    def __init__(self, client: AsyncClient, clock: Clock, *, qps: float = LOOKUP_QPS,
                 burst: int = LOOKUP_BURST) -> None:
        self._client = client
        self._clock = clock
        self._good = ExpiringLRU(POSITIVE_ENTRIES)  # keyed by sha256(token)
        self._bad = ExpiringLRU(NEGATIVE_ENTRIES)
        self._bucket = Bucket(qps, burst, clock)
        self._inflight: dict[str, asyncio.Future[Verdict]] = {}

    async def authenticate(self, authorization: str | None) -> bool:
        """True when the `Authorization: Bearer ...` header carries a token the apiserver takes."""
        return await self.verdict(authorization) is Verdict.ALLOWED

    async def verdict(self, authorization: str | None) -> Verdict:
        """ALLOWED, DENIED, or THROTTLED when the token is unknown and lookups are spent."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or not _is_token_text(token):
            return Verdict.DENIED
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock.monotonic()
        if self._good.fresh(key, now):
            return Verdict.ALLOWED
        if self._bad.fresh(key, now):
            return Verdict.DENIED
        shared = self._inflight.get(key)
        if shared is not None:
            return await asyncio.shield(shared)
        if not self._bucket.allow():
            return Verdict.THROTTLED
        lookup = asyncio.ensure_future(self._lookup(key, token))
        self._inflight[key] = lookup
        try:
            return await asyncio.shield(lookup)
        finally:
            if lookup.done():
                self._inflight.pop(key, None)
            else:
                lookup.add_done_callback(lambda _: self._inflight.pop(key, None))

    async def _lookup(self, key: str, token: str) -> Verdict:
        try:
            answer = await self._client.request("POST", TOKEN_REVIEWS, json={
                "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                "spec": {"token": token}})
        except errors.APIError as exc:
            log.warning("component=agent token check failed error=%s", exc.message)
            return Verdict.DENIED
        if not (answer.json().get("status") or {}).get("authenticated"):
            self._bad.add(key, self._clock.monotonic() + NEGATIVE_TTL)
            return Verdict.DENIED
        self._good.add(key, self._clock.monotonic() + POSITIVE_TTL)
        return Verdict.ALLOWED


def _is_token_text(token: str) -> bool:
    """A token is printable ASCII (RFC 6750's b64token): anything else could not be sent
    on to the apiserver (the client encodes headers as ASCII) and is no token of its."""
    return token.isascii() and token.isprintable()
