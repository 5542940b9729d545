"""May this caller use this path of the agent? A SubjectAccessReview, as the kubelet asks.

The kubelet's webhook authorizer (pkg/kubelet/server/auth.go) describes each
request as a resource request on the `nodes` resource, named after the node:
the verb from the HTTP method (GET get, POST create, PUT update, PATCH patch,
DELETE delete) and the subresource from the path (`/stats` stats, `/metrics`
metrics, `/logs` log, `/spec` spec, `/checkpoint` checkpoint; anything else,
container logs and exec included, `proxy`). It asks the apiserver in a
SubjectAccessReview, with the node's own identity, and caches the answers as the
kubelet's defaults do: allowed for 5 minutes, denied for 30 seconds. An
apiserver that cannot answer is not cached; the request is refused.

A refusal is the kubelet's own words: `Forbidden (user=alice, verb=get,
resource=nodes, subresource=proxy)`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import Enum

from agent.server.auth import ExpiringLRU, User
from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock

log = logging.getLogger(__name__)

ALLOWED_TTL = 300.0  # the kubelet's --authorization-webhook-cache-authorized-ttl
DENIED_TTL = 30.0  # its --authorization-webhook-cache-unauthorized-ttl
CACHE_ENTRIES = 4096
SUBJECT_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
          "DELETE": "delete"}
# path prefix -> subresource, as the kubelet subdivides its API (others: "proxy")
_SUBRESOURCES = (("/stats", "stats"), ("/metrics", "metrics"), ("/logs", "log"),
                 ("/spec", "spec"), ("/checkpoint", "checkpoint"))


@dataclass(frozen=True)
class Attributes:
    """A request to the agent as the authorization attributes the kubelet derives."""

    verb: str
    subresource: str
    node: str
    resource: str = "nodes"

    def fields(self, user: User) -> str:
        """The attributes as a log line's key=value pairs."""
        return (f"user={user.name} verb={self.verb} resource={self.resource} "
                f"subresource={self.subresource}")

    def describe(self, user: User) -> str:
        """The kubelet's words for a refused request's attributes."""
        return (f"user={user.name}, verb={self.verb}, resource={self.resource}, "
                f"subresource={self.subresource}")


def request_attributes(method: str, path: str, node: str) -> Attributes:
    """The kubelet's GetRequestAttributes (pure)."""
    verb = _VERBS.get(method.upper(), method.lower())
    subresource = next((sub for prefix, sub in _SUBRESOURCES if _is_subpath(path, prefix)),
                       "proxy")
    return Attributes(verb, subresource, node)


def _is_subpath(path: str, prefix: str) -> bool:
    """`path` is `prefix` or below it (`/logs`, `/logs/x`; not `/logsx`)."""
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


class Decision(Enum):
    ALLOWED = "allowed"
    DENIED = "denied"  # 403
    ERROR = "error"  # the apiserver could not answer: 500, as the kubelet's


class SubjectAccessReviewer:
    """Asks the apiserver whether a user may do a request to this node's agent."""

    def __init__(self, client: AsyncClient, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self._cache: ExpiringLRU[tuple[object, ...], bool] = ExpiringLRU(CACHE_ENTRIES)
        self._inflight: dict[tuple[object, ...], asyncio.Future[Decision]] = {}

    async def authorize(self, user: User, attrs: Attributes) -> Decision:
        key = (user.name, user.uid, user.groups, attrs)
        known = self._cache.get(key, self._clock.monotonic())
        if known is not None:
            return Decision.ALLOWED if known else Decision.DENIED
        shared = self._inflight.get(key)
        if shared is None:
            shared = self._inflight[key] = asyncio.ensure_future(self._review(key, user, attrs))
            shared.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(shared)

    async def _review(self, key: tuple[object, ...], user: User, attrs: Attributes
                      ) -> Decision:
        spec: dict[str, object] = {
            "user": user.name, "groups": list(user.groups),
            "resourceAttributes": {"verb": attrs.verb, "version": "v1",
                                   "resource": attrs.resource,
                                   "subresource": attrs.subresource, "name": attrs.node}}
        if user.uid:
            spec["uid"] = user.uid
        try:
            resp = await self._client.request("POST", SUBJECT_ACCESS_REVIEWS, json={
                "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                "spec": spec})
            allowed = (resp.json().get("status") or {}).get("allowed") is True
        except (errors.APIError, ValueError, AttributeError) as exc:
            log.warning("component=agent SubjectAccessReview failed %s error=%s",
                        attrs.fields(user), getattr(exc, "message", exc))
            return Decision.ERROR
        ttl = ALLOWED_TTL if allowed else DENIED_TTL
        self._cache.add(key, allowed, self._clock.monotonic() + ttl)
        log.info("component=agent SubjectAccessReview %s allowed=%s", attrs.fields(user),
                 str(allowed).lower())
        return Decision.ALLOWED if allowed else Decision.DENIED
