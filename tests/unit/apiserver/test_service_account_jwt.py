"""Service-account JWTs: Kubernetes' claims, ES256 and RS256, and every reason to refuse."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from apimachinery import errors
from apimachinery.sakey import make_service_account_key
from apiserver.auth import Authenticator
from apiserver.serviceaccount import jws
from apiserver.serviceaccount.tokens import Bound, InvalidToken, ServiceAccountTokens

ISSUER = "https://kubernetes.default.svc.cluster.local"
NOW = 1_800_000_000


def _tokens(key: jws.PrivateKey | None = None, **kw: object) -> ServiceAccountTokens:
    return ServiceAccountTokens(ISSUER, key or ec.generate_private_key(ec.SECP256R1()), [],
                                **kw)  # type: ignore[arg-type]


def _claims(token: str) -> dict[str, object]:
    return json.loads(jws.unb64url(token.split(".")[1]))


def test_claims_are_kubernetes_claims() -> None:
    tokens = _tokens()
    token, expires = tokens.issue("ns", "ci", "uid-1", audiences=[], seconds=600,
                                  bound=Bound("pod", "p", "uid-p"), now=NOW)
    assert expires == NOW + 600
    assert _claims(token) == {
        "aud": [ISSUER], "exp": NOW + 600, "iat": NOW, "iss": ISSUER, "nbf": NOW,
        "sub": "system:serviceaccount:ns:ci",
        "kubernetes.io": {"namespace": "ns", "serviceaccount": {"name": "ci", "uid": "uid-1"},
                          "pod": {"name": "p", "uid": "uid-p"}}}
    header = json.loads(jws.unb64url(token.split(".")[0]))
    assert header["alg"] == "ES256" and header["kid"]
    claims = tokens.verify(token, now=NOW + 1)
    assert (claims.username, claims.uid, claims.bound) == (
        "system:serviceaccount:ns:ci", "uid-1", Bound("pod", "p", "uid-p"))


def test_rsa_keys_sign_rs256() -> None:
    tokens = _tokens(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    token, _ = tokens.issue("ns", "a", "u", audiences=[], seconds=600, now=NOW)
    assert json.loads(jws.unb64url(token.split(".")[0]))["alg"] == "RS256"
    assert tokens.verify(token, now=NOW).name == "a"


def test_expiry_and_not_before_with_a_minute_of_leeway() -> None:
    tokens = _tokens()
    token, _ = tokens.issue("ns", "a", "u", audiences=[], seconds=600, now=NOW)
    tokens.verify(token, now=NOW + 660)
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(token, now=NOW + 661)
    with pytest.raises(InvalidToken, match="not valid yet"):
        tokens.verify(token, now=NOW - 61)


def test_a_signature_of_another_key_is_refused() -> None:
    token, _ = _tokens().issue("ns", "a", "u", audiences=[], seconds=600, now=NOW)
    with pytest.raises(InvalidToken, match="signature"):
        _tokens().verify(token, now=NOW)


def test_a_verify_only_key_accepts_its_tokens() -> None:
    signer = _tokens()
    assert signer.signing_key is not None
    verifier = ServiceAccountTokens(ISSUER, None, [signer.signing_key.public_key()])
    token, _ = signer.issue("ns", "a", "u", audiences=[], seconds=600, now=NOW)
    assert verifier.verify(token, now=NOW).name == "a"


def test_wrong_issuer_or_audience_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token, _ = ServiceAccountTokens("https://other", key, []).issue(
        "ns", "a", "u", audiences=[ISSUER], seconds=600, now=NOW)
    with pytest.raises(InvalidToken, match="issuer"):
        _tokens(key).verify(token, now=NOW)
    token, _ = _tokens(key).issue("ns", "a", "u", audiences=["vault"], seconds=600, now=NOW)
    with pytest.raises(InvalidToken, match="audiences"):
        _tokens(key).verify(token, now=NOW)
    assert _tokens(key, api_audiences=["vault"]).verify(token, now=NOW).name == "a"


def test_alg_none_and_hmac_tokens_are_refused() -> None:
    tokens = _tokens()
    token, _ = tokens.issue("ns", "a", "u", audiences=[], seconds=600, now=NOW)
    _, claims, _ = token.split(".")
    for alg in ("none", "HS256"):
        header = jws.b64url(json.dumps({"alg": alg}).encode())
        with pytest.raises(InvalidToken):
            tokens.verify(f"{header}.{claims}.", now=NOW)


def test_a_subject_that_is_not_its_account_is_refused() -> None:
    tokens = _tokens()
    assert tokens.signing_key is not None
    forged = jws.sign({"iss": ISSUER, "aud": [ISSUER], "exp": NOW + 600, "nbf": NOW,
                       "sub": "system:serviceaccount:kube-system:admin",
                       "kubernetes.io": {"namespace": "ns",
                                         "serviceaccount": {"name": "a", "uid": "u"}}},
                      tokens.signing_key)
    with pytest.raises(InvalidToken, match="subject"):
        tokens.verify(forged, now=NOW)


def test_key_files_hold_public_or_private_keys() -> None:
    private = make_service_account_key()
    key = jws.load_private_key(private)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    assert len(jws.load_public_keys(private + public)) == 2
    with pytest.raises(ValueError, match="no PEM key"):
        jws.load_public_keys(b"nothing")


def _authenticator(objects: dict[tuple[str, str, str], dict[str, object]]
                   ) -> tuple[Authenticator, ServiceAccountTokens]:
    tokens = _tokens()

    async def lookup(plural: str, namespace: str, name: str) -> dict[str, object] | None:
        return objects.get((plural, namespace, name))

    return Authenticator(None, None, tokens, lookup), tokens


def _stamp(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(("deletion", "works"), [(None, True), (60, True), (-1, False)])
def test_a_bound_token_works_through_its_pods_grace_period(deletion: int | None,
                                                           works: bool) -> None:
    pod_meta: dict[str, object] = {"uid": "pu"}
    if deletion is not None:
        pod_meta["deletionTimestamp"] = _stamp(deletion)
    auth, tokens = _authenticator({
        ("serviceaccounts", "ns", "a"): {"metadata": {"uid": "su"}},
        ("pods", "ns", "p"): {"metadata": pod_meta}})
    token, _ = tokens.issue("ns", "a", "su", audiences=[], seconds=600,
                            bound=Bound("pod", "p", "pu"))
    if works:
        user = asyncio.run(auth.authenticate(f"Bearer {token}", None))
        assert user.name == "system:serviceaccount:ns:a" and user.uid == "su"
    else:
        with pytest.raises(errors.Unauthorized):
            asyncio.run(auth.authenticate(f"Bearer {token}", None))


def test_an_account_made_again_does_not_revive_old_tokens() -> None:
    auth, tokens = _authenticator({("serviceaccounts", "ns", "a"): {"metadata": {"uid": "new"}}})
    token, _ = tokens.issue("ns", "a", "old", audiences=[], seconds=600)
    with pytest.raises(errors.Unauthorized):
        asyncio.run(auth.authenticate(f"Bearer {token}", None))
