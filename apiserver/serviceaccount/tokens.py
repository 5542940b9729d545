"""Service-account tokens: what is in them, how they are issued and checked.

The claims are Kubernetes' (`pkg/serviceaccount/claims.go`): `iss`, `sub`
(`system:serviceaccount:NS:NAME`), `aud`, `exp`, `iat`, `nbf`, and the private
`kubernetes.io` claim naming the namespace, the ServiceAccount (name, uid) and,
for a token bound to one, the Pod (name, uid). A token is good when a known key
signed it, its issuer is this apiserver's, one of its audiences is one the
apiserver accepts (`--api-audiences`, by default the issuer), and now is within
[nbf, exp] (a minute's leeway, as Kubernetes'). Whether its ServiceAccount (and
Pod) still exist with the same uid is the authenticator's check (auth.py), which
reads them through the registry.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import jws

LEEWAY = 60  # seconds of clock difference tolerated on exp and nbf (Kubernetes' leeway)
PREFIX = "system:serviceaccount:"
POD_CLAIM = "pod"  # the only object a token is bound to here


class InvalidToken(ValueError):
    """Not a token of this apiserver's, or no longer valid; the request is then a 401."""


@dataclass(frozen=True)
class Bound:
    """The object a token is bound to (a Pod): it dies with that object. `claim` is its
    key in the `kubernetes.io` claim (`pod`)."""

    claim: str
    name: str
    uid: str


@dataclass(frozen=True)
class TokenClaims:
    namespace: str
    name: str
    uid: str
    audiences: tuple[str, ...]
    expires: int
    bound: Bound | None = None

    @property
    def username(self) -> str:
        return f"{PREFIX}{self.namespace}:{self.name}"


class ServiceAccountTokens:
    """The apiserver's issuer and verifier of service-account tokens."""

    def __init__(self, issuer: str, signing_key: jws.PrivateKey | None,
                 keys: Sequence[jws.PublicKey], api_audiences: Sequence[str] = ()) -> None:
        self.issuer = issuer
        self.signing_key = signing_key
        self.keys = list(keys)
        if signing_key is not None:
            self.keys.append(signing_key.public_key())
        self.api_audiences = tuple(api_audiences) or (issuer,)

    @classmethod
    def from_files(cls, issuer: str, signing_key_file: str | None,
                   key_files: Sequence[str], api_audiences: Sequence[str] = (),
                   ) -> ServiceAccountTokens:
        signing = jws.load_private_key(Path(signing_key_file).read_bytes()) \
            if signing_key_file else None
        keys = [k for f in key_files for k in jws.load_public_keys(Path(f).read_bytes())]
        return cls(issuer, signing, keys, api_audiences)

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def issue(self, namespace: str, name: str, uid: str, *, audiences: Sequence[str],
              seconds: int, bound: Bound | None = None, now: int | None = None,
              ) -> tuple[str, int]:
        """A signed token and when it expires (Unix seconds)."""
        if self.signing_key is None:
            raise RuntimeError("no --service-account-signing-key-file")
        issued = int(time.time()) if now is None else now
        private: dict[str, Any] = {"namespace": namespace,
                                   "serviceaccount": {"name": name, "uid": uid}}
        if bound is not None:
            private[bound.claim] = {"name": bound.name, "uid": bound.uid}
        claims = {"aud": list(audiences or self.api_audiences), "exp": issued + seconds,
                  "iat": issued, "iss": self.issuer, "kubernetes.io": private,
                  "nbf": issued, "sub": f"{PREFIX}{namespace}:{name}"}
        return jws.sign(claims, self.signing_key), issued + seconds

    def verify(self, token: str, now: int | None = None,
               audiences: Sequence[str] = ()) -> TokenClaims:
        """The claims of a good token for one of `audiences` (default: the apiserver's);
        InvalidToken saying why otherwise. Its `audiences` are those it was good for."""
        accepted = set(audiences or self.api_audiences)
        try:
            claims = jws.verify(token, self.keys)
        except jws.JWSError as exc:
            raise InvalidToken(str(exc)) from None
        if claims.get("iss") != self.issuer:
            raise InvalidToken("token issuer is not this apiserver")
        named = claims.get("aud")
        named = [named] if isinstance(named, str) else named
        if not isinstance(named, list) or not set(map(str, named)) & accepted:
            raise InvalidToken("token audiences are not accepted")
        good = tuple(a for a in map(str, named) if a in accepted)
        at = int(time.time()) if now is None else now
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        if not isinstance(exp, int) or not isinstance(nbf, int):
            raise InvalidToken("token lacks exp or nbf")
        if at > exp + LEEWAY:
            raise InvalidToken("token has expired")
        if at < nbf - LEEWAY:
            raise InvalidToken("token is not valid yet")
        return _parse_private(claims, good, exp)


def _parse_private(claims: dict[str, Any], audiences: tuple[str, ...],
                   exp: int) -> TokenClaims:
    private = claims.get("kubernetes.io")
    if not isinstance(private, dict):
        raise InvalidToken("token lacks the kubernetes.io claim")
    sa = private.get("serviceaccount") or {}
    namespace, name, uid = private.get("namespace"), sa.get("name"), sa.get("uid")
    if not all(isinstance(v, str) and v for v in (namespace, name, uid)):
        raise InvalidToken("token does not name a service account")
    if claims.get("sub") != f"{PREFIX}{namespace}:{name}":
        raise InvalidToken("token subject does not match its service account")
    bound = None
    pod = private.get(POD_CLAIM)
    if isinstance(pod, dict):
        bound = Bound(POD_CLAIM, str(pod.get("name") or ""), str(pod.get("uid") or ""))
    return TokenClaims(str(namespace), str(name), str(uid), audiences, exp, bound)
