"""Who is calling the agent's server: an x509 client certificate, or a bearer token
the apiserver vouches for (the kubelet's `--client-ca-file` and webhook token authn).

A client certificate was verified against `--client-ca-file` during the TLS
handshake (apimachinery/tlspeer.py): the user is its CN, its groups the O values
(the apiserver presents such a certificate, `kube-apiserver-kubelet-client`). A
bearer token is sent to the apiserver in a TokenReview, as the kubelet's webhook
authenticator does, with the node's own identity. Answers are cached: positive
ones for 60 s, negative ones for 5 s. An unreachable apiserver is not cached and
means "no". Every user is also in `system:authenticated`.

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
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock
from apimachinery.usercert import certificate_names

log = logging.getLogger(__name__)

POSITIVE_TTL = 60.0
NEGATIVE_TTL = 5.0
POSITIVE_ENTRIES = 1024
NEGATIVE_ENTRIES = 4096
LOOKUP_QPS = 5.0  # apiserver lookups of unknown tokens per second, at most
LOOKUP_BURST = 20
AUTHENTICATED = "system:authenticated"
TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class User:
    """An authenticated caller, as authentication.k8s.io's UserInfo."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = field(default_factory=tuple)


class Verdict(Enum):
    ALLOWED = "allowed"
    DENIED = "denied"  # 401
    THROTTLED = "throttled"  # 429: unknown token, and no lookup may be made now


@dataclass(frozen=True)
class Authenticated:
    """The outcome of authentication: the verdict, and the user when ALLOWED."""

    verdict: Verdict
    user: User | None = None


DENIED = Authenticated(Verdict.DENIED)


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


class ExpiringLRU(Generic[K, V]):
    """At most `size` (key -> (answer, expiry)) entries; the least recently used goes first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, now: float) -> V | None:
        """The answer kept for `key` while it is fresh; None when absent or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def add(self, key: K, value: V, expires: float) -> None:
        self._entries[key] = (value, expires)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


class Authenticator:
    """Client certificate first, then bearer token (TokenReview), as the kubelet orders
    them; `certificates` says whether a --client-ca-file is configured at all."""

    def __init__(self, client: AsyncClient, clock: Clock, *, certificates: bool = True,
                 qps: float = LOOKUP_QPS, burst: int = LOOKUP_BURST) -> None:
        self._client = client
        self._clock = clock
        self._certificates = certificates
        # keyed by sha256(token): the user, or (refused) True
        self._good: ExpiringLRU[str, User] = ExpiringLRU(POSITIVE_ENTRIES)
        self._bad: ExpiringLRU[str, bool] = ExpiringLRU(NEGATIVE_ENTRIES)
        self._bucket = Bucket(qps, burst, clock)
        self._inflight: dict[str, asyncio.Future[Authenticated]] = {}

    async def authenticate(self, authorization: str | None,
                           certificate: str | None = None) -> Authenticated:
        """The caller of a request: its verified certificate's user, else its token's."""
        if certificate is not None and self._certificates:
            return _certificate_user(certificate)
        return await self.token(authorization)

    async def token(self, authorization: str | None) -> Authenticated:
        """ALLOWED with the user, DENIED, or THROTTLED when the token is unknown and
        lookups are spent."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or not _is_token_text(token):
            return DENIED
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock.monotonic()
        if (known := self._good.get(key, now)) is not None:
            return Authenticated(Verdict.ALLOWED, known)
        if self._bad.get(key, now):
            return DENIED
        shared = self._inflight.get(key)
        if shared is not None:
            return await asyncio.shield(shared)
        if not self._bucket.allow():
            return Authenticated(Verdict.THROTTLED)
        lookup = asyncio.ensure_future(self._lookup(key, token))
        self._inflight[key] = lookup
        try:
            return await asyncio.shield(lookup)
        finally:
            if lookup.done():
                self._inflight.pop(key, None)
            else:
                lookup.add_done_callback(lambda _: self._inflight.pop(key, None))

    async def _lookup(self, key: str, token: str) -> Authenticated:
        try:
            resp = await self._client.request("POST", TOKEN_REVIEWS, json={
                "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                "spec": {"token": token}})
            status = resp.json().get("status") or {}
        except (errors.APIError, ValueError, AttributeError) as exc:
            log.warning("component=agent token review failed error=%s",
                        getattr(exc, "message", exc))
            return DENIED
        user = _reviewed_user(status)
        if user is None:
            self._bad.add(key, True, self._clock.monotonic() + NEGATIVE_TTL)
            return DENIED
        self._good.add(key, user, self._clock.monotonic() + POSITIVE_TTL)
        return Authenticated(Verdict.ALLOWED, user)


def _reviewed_user(status: dict[str, Any]) -> User | None:
    """The user of an authenticated TokenReview status, with system:authenticated."""
    info = status.get("user") or {}
    if status.get("authenticated") is not True or not info.get("username"):
        return None
    groups = tuple(str(g) for g in info.get("groups") or [])
    if AUTHENTICATED not in groups:
        groups += (AUTHENTICATED,)
    return User(str(info["username"]), str(info.get("uid") or ""), groups)


def _certificate_user(pem: str) -> Authenticated:
    """The user a verified client certificate names (CN, O as groups); none without a CN."""
    try:
        name, groups = certificate_names(pem.encode())
    except ValueError:
        return DENIED
    if not name:
        return DENIED
    return Authenticated(Verdict.ALLOWED,
                         User(name, groups=(*dict.fromkeys(groups), AUTHENTICATED)))


def _is_token_text(token: str) -> bool:
    """A token is printable ASCII (RFC 6750's b64token): anything else is no token the
    apiserver issued, and is refused without asking."""
    return token.isascii() and token.isprintable()
