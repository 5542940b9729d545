"""The bootstrap token authenticator (`--enable-bootstrap-token-auth`), as Kubernetes'.

A bearer token `ID.SECRET` is looked up as the Secret `kube-system/bootstrap-token-ID`
(apimachinery/bootstraptoken.py): it authenticates when that Secret is a well-formed
bootstrap token, not being deleted, not expired, allowed for authentication, and its
secret matches in constant time (plugin/pkg/auth/authenticator/token/bootstrap).
The user is `system:bootstrap:ID` in `system:bootstrappers`, the token's
`auth-extra-groups` and `system:authenticated`. Every refusal is the same 401.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apimachinery import bootstraptoken, errors
from apimachinery.meta import Object

log = logging.getLogger("apiserver")
Lookup = Callable[[str, str, str], Awaitable[Object | None]]
_AUTHENTICATED = "system:authenticated"


def looks_like_bootstrap_token(authorization: str | None) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and \
        bootstraptoken.TOKEN_PATTERN.match(token.strip()) is not None


async def authenticate_bootstrap_token(token: str, lookup: Lookup
                                       ) -> tuple[str, tuple[str, ...]]:
    """The token's user and groups, or 401 Unauthorized."""
    token_id, token_secret = bootstraptoken.parse(token)
    secret = await lookup("secrets", bootstraptoken.NAMESPACE,
                          bootstraptoken.secret_name(token_id))
    found = bootstraptoken.from_secret(secret) if secret is not None else None
    refused = _refusal(secret, found, token_secret)
    if refused:
        log.info("component=apiserver bootstrap token %s refused: %s", token_id, refused)
        raise errors.Unauthorized("Unauthorized")
    assert found is not None
    return bootstraptoken.USER_PREFIX + token_id, tuple(dict.fromkeys(
        (bootstraptoken.GROUP, *found.groups, _AUTHENTICATED)))


def _refusal(secret: Object | None, found: bootstraptoken.BootstrapToken | None,
             presented: str) -> str:
    if secret is None:
        return "no such token"
    if found is None:
        return "its Secret is not a valid bootstrap token"
    if (secret.get("metadata") or {}).get("deletionTimestamp"):
        return "its Secret is being deleted"
    if not hmac.compare_digest(found.secret.encode(), presented.encode()):
        return "wrong secret"
    if found.expired(datetime.now(UTC)):
        return "expired"
    if "authentication" not in found.usages:
        return "not for authentication"
    return ""
