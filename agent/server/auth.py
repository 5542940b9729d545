"""Who may use the agent's server: whoever the apiserver accepts (webhook token authn).

The kubelet asks the apiserver about a bearer token with a TokenReview. Schooner's
apiserver has no TokenReview yet, so the agent asks the next best question:
does `GET /api` with this token succeed? Answers are cached as the kubelet's
webhook authenticator caches them: positive ones for 60 s, negative ones for
5 s. An unreachable apiserver is not cached and means "no".
"""

from __future__ import annotations

import hashlib
import logging

from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock

log = logging.getLogger(__name__)

POSITIVE_TTL = 60.0
NEGATIVE_TTL = 5.0
MAX_ENTRIES = 1024


class TokenAuthenticator:
    def __init__(self, client: AsyncClient, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self._cache: dict[str, tuple[bool, float]] = {}  # sha256(token) -> (ok, expires)

    async def authenticate(self, authorization: str | None) -> bool:
        """True when the `Authorization: Bearer ...` header carries a token the apiserver takes."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or not _is_token_text(token):
            return False
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            await self._client.request("GET", "/api",
                                       headers={"Authorization": f"Bearer {token}"})
            ok = True
        except (errors.Unauthorized, errors.Forbidden):
            ok = False
        except errors.APIError as exc:
            log.warning("component=agent token check failed error=%s", exc.message)
            return False
        if len(self._cache) >= MAX_ENTRIES:
            self._cache.clear()
        self._cache[key] = (ok, now + (POSITIVE_TTL if ok else NEGATIVE_TTL))
        return ok


def _is_token_text(token: str) -> bool:
    """A token is printable ASCII (RFC 6750's b64token): anything else could not be sent
    on to the apiserver (the client encodes headers as ASCII) and is no token of its."""
    return token.isascii() and token.isprintable()
