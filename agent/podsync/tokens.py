"""Service-account tokens for pods' projected volumes (the kubelet's token manager).

The agent asks the apiserver, as itself, for a token of the pod's ServiceAccount bound
to the pod (TokenRequest `serviceaccounts/NAME/token` with `boundObjectRef` the Pod,
the source's audience or the apiserver's own, the source's `expirationSeconds`), keeps
it, and hands the same token out until it is due for renewal: at 80% of its life, or
24 hours after it was issued, whichever comes first, less a random jitter of up to 10
seconds (pkg/kubelet/token/token_manager.go's `requiresRefresh`), so a program in the
pod always reads a token that has a fifth of its life left. The clock and the jitter
are injected, so the schedule is tested without waiting.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.podsync.envvars import ConfigError
from agent.podsync.projected import token_sources
from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock
from apimachinery.meta import Object, parse_time

log = logging.getLogger(__name__)
REFRESH_FRACTION = 0.8  # renew once this share of the token's life has passed
MAX_TTL = timedelta(hours=24)  # renew a day after issue however long the token lives
MAX_JITTER_SECONDS = 10.0
DEFAULT_EXPIRATION_SECONDS = 3600  # a source without expirationSeconds (API default)


@dataclass(frozen=True)
class TokenKey:
    """What a token is for: one pod's one projection (audience, lifetime)."""

    namespace: str
    service_account: str
    audience: str  # "" for the apiserver's own audiences
    expiration_seconds: int
    pod_name: str
    pod_uid: str


@dataclass(frozen=True)
class Token:
    value: str
    expires: datetime
    ttl_seconds: int  # the lifetime the apiserver granted

    @property
    def issued(self) -> datetime:
        return self.expires - timedelta(seconds=self.ttl_seconds)


def refresh_time(token: Token, jitter: float = 0.0) -> datetime:
    """When the kubelet's rule renews `token`: at 80% of its life or 24 h after issue."""
    by_fraction = token.expires - timedelta(seconds=token.ttl_seconds * (1 - REFRESH_FRACTION))
    return min(by_fraction, token.issued + MAX_TTL) - timedelta(seconds=jitter)


def token_request(key: TokenKey) -> dict[str, Any]:
    """The TokenRequest body the kubelet sends for a projected token."""
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"audiences": [key.audience] if key.audience else [],
                     "expirationSeconds": key.expiration_seconds,
                     "boundObjectRef": {"apiVersion": "v1", "kind": "Pod",
                                        "name": key.pod_name, "uid": key.pod_uid}}}


class TokenManager:
    """Issues and caches pod-bound tokens; `get` renews one that is due."""

    def __init__(self, client: AsyncClient, clock: Clock,
                 jitter: Callable[[], float] | None = None) -> None:
        self.client, self.clock = client, clock
        self._jitter = jitter or (lambda: random.uniform(0.0, MAX_JITTER_SECONDS))
        self._tokens: dict[TokenKey, tuple[Token, datetime]] = {}  # token, its renewal time

    def due(self, key: TokenKey) -> bool:
        """Whether `key` has no token yet or its token is due for renewal."""
        held = self._tokens.get(key)
        return held is None or self.clock.now() >= held[1]

    def next_refresh(self, keys: list[TokenKey]) -> float | None:
        """Seconds until the first of `keys`' tokens is due (0 if one is), None if none."""
        times = [held[1] for k in keys if (held := self._tokens.get(k)) is not None]
        if not times:
            return None
        return max((min(times) - self.clock.now()).total_seconds(), 0.0)

    async def get(self, key: TokenKey) -> str:
        """The token for `key`, asked for anew when none is held or it is due."""
        if not self.due(key):
            return self._tokens[key][0].value
        token = await self._request(key)
        self._tokens[key] = (token, refresh_time(token, self._jitter()))
        log.info("component=agent token issued pod=%s/%s serviceaccount=%s expires=%s",
                 key.namespace, key.pod_name, key.service_account,
                 token.expires.isoformat())
        return token.value

    async def _request(self, key: TokenKey) -> Token:
        path = (f"/api/v1/namespaces/{key.namespace}/serviceaccounts/"
                f"{key.service_account}/token")
        resp = await self.client.request("POST", path, json=token_request(key))
        body = resp.json()
        status, spec = body.get("status") or {}, body.get("spec") or {}
        expires = parse_time(str(status.get("expirationTimestamp") or ""))
        if expires is None or not status.get("token"):
            raise ValueError(f"TokenRequest for {key.namespace}/{key.service_account} "
                             "answered without a token or its expiry")
        ttl = int(spec.get("expirationSeconds") or key.expiration_seconds)
        return Token(str(status["token"]), expires, ttl)

    def forget_pod(self, uid: str) -> None:
        """Drop the tokens of a pod that is gone."""
        for key in [k for k in self._tokens if k.pod_uid == uid]:
            del self._tokens[key]


def pod_token_keys(pod: Object) -> dict[tuple[str, int], TokenKey]:
    """(volume, source index) -> the token each projected serviceAccountToken source needs."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    account = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
    keys: dict[tuple[str, int], TokenKey] = {}
    for volume in spec.get("volumes") or []:
        for index, source in token_sources(volume):
            keys[(str(volume.get("name")), index)] = TokenKey(
                str(meta.get("namespace") or ""), account, str(source.get("audience") or ""),
                int(source.get("expirationSeconds") or DEFAULT_EXPIRATION_SECONDS),
                str(meta.get("name") or ""), str(meta.get("uid") or ""))
    return keys


async def fetch_tokens(manager: TokenManager, pod: Object) -> dict[tuple[str, int], str]:
    """Every token the pod's projected volumes need (renewed where due); ConfigError
    naming the apiserver's answer when one cannot be had."""
    tokens: dict[tuple[str, int], str] = {}
    for where, key in pod_token_keys(pod).items():
        try:
            tokens[where] = await manager.get(key)
        except (errors.APIError, ValueError) as exc:
            raise ConfigError(f'volume "{where[0]}": requesting a token for service account '
                              f'"{key.namespace}/{key.service_account}": {exc}') from exc
    return tokens
