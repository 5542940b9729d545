"""Authentication: X.509 client certificates and bearer tokens, as kube-apiserver does it.

A request is authenticated by the first of these that knows it (Kubernetes'
union authenticator, in its order):
- a client certificate signed by the `--client-ca-file` CA (verified during the
  TLS handshake, tlspeer.py): the user is the subject's CN, its groups the O values;
- a bearer token from the static `--token-auth-file` (`token,user,uid,"group1,group2"`);
- a service-account token (a JWT this apiserver signed, serviceaccount/tokens.py) whose
  ServiceAccount, and Pod when bound to one, still exist with the uids it names: the
  user `system:serviceaccount:NS:NAME` in `system:serviceaccounts` and
  `system:serviceaccounts:NS`;
- with `--enable-bootstrap-token-auth`, a bootstrap token (bootstraptokens.py): the
  user `system:bootstrap:ID` in `system:bootstrappers` and the token's extra groups.
Every authenticated user is also in `system:authenticated`. With `--anonymous-auth`,
a request that presents no credentials at all is `system:anonymous` in
`system:unauthenticated`, which RBAC then judges like anyone (Kubernetes'
anonymous authenticator); a request with a bad credential is still a 401. The user
is kept on the request (`request.state.user`) for the authorizer.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.pki import read_token_file

from .bootstraptokens import authenticate_bootstrap_token, looks_like_bootstrap_token
from .serviceaccount.tokens import InvalidToken, ServiceAccountTokens, TokenClaims

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/livez", "/version"})


@dataclass(frozen=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = field(default_factory=tuple)


def user_info(user: UserInfo) -> Object:
    """A user as authentication.k8s.io/v1 UserInfo on the wire (empty fields left out,
    as Go's omitempty): what SelfSubjectReview and TokenReview answer."""
    out: Object = {"username": user.name}
    if user.uid:
        out["uid"] = user.uid
    if user.groups:
        out["groups"] = list(user.groups)
    return out


ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))
AUTHENTICATED = "system:authenticated"


class TokenAuthenticator:
    """Maps `Authorization: Bearer <token>` to a user; no token file means no authentication."""

    def __init__(self, token_file: str | None) -> None:
        self._users: dict[str, UserInfo] = {}
        self.enabled = token_file is not None
        if token_file:
            for token, entry in read_token_file(Path(token_file)).items():
                self._users[token] = UserInfo(entry.user, entry.uid,
                                              (*entry.groups, AUTHENTICATED))

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


@functools.lru_cache(maxsize=1024)
def user_from_certificate(pem: str) -> UserInfo:
    """The user a verified client certificate names: CN the user, each O a group
    (Kubernetes' CommonNameUserConversion); a certificate without a CN is refused."""
    subject = x509.load_pem_x509_certificate(pem.encode()).subject
    names = [str(a.value) for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not names or not names[0]:
        raise errors.Unauthorized("Unauthorized")
    groups = [str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return UserInfo(names[0], groups=(*dict.fromkeys(groups), AUTHENTICATED))


# Reads an object (plural, namespace, name) for the service-account check; None if gone.
Lookup = Callable[[str, str, str], Awaitable[Object | None]]


class Authenticator:
    """Client certificate first, then static token, then service-account token; with
    none configured, no authentication.

    `client_ca_file` only says whether certificates are trusted at all: the TLS layer
    verified the certificate against it before the request reached here.
    """

    def __init__(self, token_file: str | None, client_ca_file: str | None = None,
                 service_accounts: ServiceAccountTokens | None = None,
                 lookup: Lookup | None = None, *, bootstrap_tokens: bool = False,
                 anonymous: bool = False) -> None:
        self.tokens = TokenAuthenticator(token_file)
        self.bootstrap_tokens = bootstrap_tokens and lookup is not None
        self.anonymous = anonymous
        self.certificates = client_ca_file is not None
        self.service_accounts = service_accounts if service_accounts is not None and \
            service_accounts.enabled and lookup is not None else None
        self._lookup = lookup
        self.enabled = self.tokens.enabled or self.certificates or \
            self.service_accounts is not None

    async def authenticate(self, authorization: str | None,
                           certificate: str | None) -> UserInfo:
        """The request's user, or 401 Unauthorized."""
        if not self.enabled:
            return ANONYMOUS
        if certificate is not None and self.certificates:
            return user_from_certificate(certificate)
        if self.anonymous and certificate is None and not (authorization or "").strip():
            return ANONYMOUS
        if self.bootstrap_tokens and looks_like_bootstrap_token(authorization):
            assert self._lookup is not None
            name, groups = await authenticate_bootstrap_token(_bearer(authorization),
                                                              self._lookup)
            return UserInfo(name, groups=groups)
        if self.tokens.enabled:
            try:
                return self.tokens.authenticate(authorization)
            except errors.Unauthorized:
                if self.service_accounts is None:
                    raise
        if self.service_accounts is None:
            raise errors.Unauthorized("Unauthorized")
        return await self._service_account(_bearer(authorization))

    async def review(self, token: str, audiences: Sequence[str]
                     ) -> tuple[UserInfo, tuple[str, ...]]:
        """A TokenReview: the token's user and the audiences it is good for, or 401.
        Static tokens are good for the apiserver's own audiences only, as Kubernetes
        wraps audience-agnostic authenticators."""
        own = self.service_accounts.api_audiences if self.service_accounts else ()
        wanted = tuple(audiences) or own
        if self.tokens.enabled:
            with contextlib.suppress(errors.Unauthorized):
                user = self.tokens.authenticate(f"Bearer {token}")
                good = tuple(a for a in wanted if a in own) if audiences else own
                if good or not audiences:
                    return user, good
        if self.service_accounts is None:
            raise errors.Unauthorized("Unauthorized")
        claims, user = await self._verified(token, wanted)
        return user, claims.audiences

    async def _service_account(self, token: str) -> UserInfo:
        return (await self._verified(token, ()))[1]

    async def _verified(self, token: str, audiences: Sequence[str]
                        ) -> tuple[TokenClaims, UserInfo]:
        """A service-account token's claims and user, once its ServiceAccount (and bound
        Pod) are found alive with the uids it names (Kubernetes' legacy-free validator)."""
        assert self.service_accounts is not None and self._lookup is not None
        try:
            claims = self.service_accounts.verify(token, audiences=audiences)
        except InvalidToken:
            raise errors.Unauthorized("Unauthorized") from None
        account = await self._lookup("serviceaccounts", claims.namespace, claims.name)
        if account is None or _uid(account) != claims.uid:
            raise errors.Unauthorized("Unauthorized")
        if claims.bound is not None:
            pod = await self._lookup("pods", claims.namespace, claims.bound.name)
            if pod is None or _uid(pod) != claims.bound.uid or _deleted(pod):
                raise errors.Unauthorized("Unauthorized")
        return claims, UserInfo(claims.username, claims.uid, (
            "system:serviceaccounts", f"system:serviceaccounts:{claims.namespace}",
            AUTHENTICATED))


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.Unauthorized("Unauthorized")
    return token.strip()


def _uid(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def _deleted(obj: Object) -> bool:
    """Past its deletionTimestamp (Kubernetes: "marked for deletion"): a pod's tokens keep
    working through its grace period, while it shuts down, and stop after."""
    stamp = (obj.get("metadata") or {}).get("deletionTimestamp")
    if not stamp:
        return False
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) < datetime.now(UTC)
    except ValueError:
        return True
