"""Authentication: bearer tokens checked against a static token file.

Kubernetes' `--token-auth-file` in CSV form (`token,user,uid,"group1,group2"`).
The authenticated user is kept on the request for the authorizer that a later
issue adds (RBAC); today every authenticated user may do everything.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path

from apimachinery import errors
from apimachinery.pki import read_token_file

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/livez", "/version"})


@dataclass(frozen=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = field(default_factory=tuple)


ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))


class TokenAuthenticator:
    """Maps `Authorization: Bearer <token>` to a user; no token file means no authentication."""

    def __init__(self, token_file: str | None) -> None:
        self._users: dict[str, UserInfo] = {}
        self.enabled = token_file is not None
        if token_file:
            for token, entry in read_token_file(Path(token_file)).items():
                self._users[token] = UserInfo(entry.user, entry.uid,
                                              (*entry.groups, "system:authenticated"))

    def authenticate(self, authorization: str | None) -> UserInfo:
        """The user a request's Authorization header names, or 401 Unauthorized."""
        if not self.enabled:
            return ANONYMOUS
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.Unauthorized("Unauthorized")
        presented = _token_bytes(token.strip())
        for known, user in self._users.items():
            if hmac.compare_digest(known.encode(), presented):
                return user
        raise errors.Unauthorized("Unauthorized")


def _token_bytes(token: str) -> bytes:
    """The token as bytes: `hmac.compare_digest` refuses a str past ASCII with a TypeError
    (a 500 per request), and a header is any Latin-1 text; such a token matches no entry."""
    return token.encode("utf-8", "surrogateescape")
