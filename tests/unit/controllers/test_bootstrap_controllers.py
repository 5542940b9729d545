"""bootstrapsigner's and tokencleaner's decisions over plain objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apimachinery import bootstraptoken as bt
from controllers.bootstrap.cleaner import is_token_secret
from controllers.bootstrap.signer import signed_data

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _secret(token_id: str, usages: set[str], expires: datetime | None = None) -> dict:
    return bt.to_secret(bt.BootstrapToken(token_id, "0123456789abcdef", expires,
                                          frozenset(usages)))


def test_signatures_follow_the_signing_tokens() -> None:
    data = {"kubeconfig": "k", "jws-kubeconfig-gone00": "stale"}
    secrets = [_secret("signer", {"signing"}), _secret("authnly", {"authentication"}),
               _secret("expird", {"signing"}, NOW - timedelta(seconds=1)),
               _secret("later0", {"signing"}, NOW + timedelta(hours=1))]
    wanted = signed_data(data, secrets, NOW)
    assert sorted(wanted) == ["jws-kubeconfig-later0", "jws-kubeconfig-signer", "kubeconfig"]
    assert bt.verify("k", wanted["jws-kubeconfig-signer"], "signer", "0123456789abcdef")
    assert signed_data({"other": "x"}, secrets, NOW) == {"other": "x"}


def test_only_kube_system_token_secrets_concern_the_controllers() -> None:
    secret = _secret("abcdef", {"signing"})
    assert is_token_secret(secret)
    assert not is_token_secret({**secret, "type": "Opaque"})
    assert not is_token_secret({**secret, "metadata": {"namespace": "default",
                                                       "name": "bootstrap-token-abcdef"}})
