"""bootstrapsigner: sign `kube-public/cluster-info` with every signing token
(Kubernetes' BootstrapSigner).

For each bootstrap token that is valid, not expired and has
`usage-bootstrap-signing`, cluster-info carries `jws-kubeconfig-ID`: a detached JWS
of its `kubeconfig` keyed by the token's secret (apimachinery/bootstraptoken.py).
Signatures of tokens gone, expired or no longer for signing are removed. A joining
host that knows a token checks with it that cluster-info is the cluster's own.
One key: the ConfigMap; any token Secret's change enqueues it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apimachinery import bootstraptoken, errors
from apimachinery.meta import Object, deep_copy

from ..base import Controller, ControllerClient, SharedInformerFactory
from .cleaner import is_token_secret

KEY = f"{bootstraptoken.CLUSTER_INFO_NAMESPACE}/{bootstraptoken.CLUSTER_INFO}"


def signatures(content: str, secrets: list[Object], now: datetime) -> dict[str, str]:
    """`jws-kubeconfig-ID` -> signature, for every token that may sign now."""
    out: dict[str, str] = {}
    for secret in secrets:
        token = bootstraptoken.from_secret(secret)
        if token is None or token.expired(now) or "signing" not in token.usages or \
                (secret.get("metadata") or {}).get("deletionTimestamp"):
            continue
        out[bootstraptoken.JWS_PREFIX + token.id] = bootstraptoken.sign(
            content, token.id, token.secret)
    return out


def signed_data(data: dict[str, str], secrets: list[Object], now: datetime) -> dict[str, str]:
    """cluster-info's data with exactly the signatures the tokens call for."""
    kept = {k: v for k, v in data.items() if not k.startswith(bootstraptoken.JWS_PREFIX)}
    content = kept.get("kubeconfig")
    if content is None:
        return kept
    return {**kept, **signatures(content, secrets, now)}


class BootstrapSigner(Controller):
    name = "bootstrapsigner"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory,
                 **kwargs: Any) -> None:
        super().__init__(client, factory, **kwargs)
        self.configmaps = factory.informer("configmaps")
        self.secrets = factory.informer("secrets")
        self.configmaps.add_event_handler(self._configmap, lambda _o, n: self._configmap(n))
        self.secrets.add_event_handler(self._secret, lambda _o, n: self._secret(n),
                                       self._secret)

    def _configmap(self, configmap: Object) -> None:
        meta = configmap.get("metadata") or {}
        if f"{meta.get('namespace')}/{meta.get('name')}" == KEY:
            self.queue.add(KEY)

    def _secret(self, secret: Object) -> None:
        if is_token_secret(secret):
            self.queue.add(KEY)

    async def reconcile(self, key: str) -> None:
        configmap = self.configmaps.store.get(KEY)
        if configmap is None:
            return
        now = self.clock.now().astimezone(UTC)
        tokens = [s for s in self.secrets.store.list() if is_token_secret(s)]
        data = dict(configmap.get("data") or {})
        wanted = signed_data(data, tokens, now)
        expiries = [t.expiration for t in map(bootstraptoken.from_secret, tokens)
                    if t is not None and t.expiration is not None and t.expiration > now]
        if expiries:  # an expiring token's signature goes when it does
            self.queue.add_after(KEY, (min(expiries) - now).total_seconds() + 0.1)
        if wanted == data:
            return
        updated = deep_copy(configmap)
        updated["data"] = wanted
        try:
            await self.client.update("configmaps", updated)
        except errors.NotFound:
            return
        self.decision(key, "sign", tokens=",".join(sorted(
            k.removeprefix(bootstraptoken.JWS_PREFIX) for k in wanted
            if k.startswith(bootstraptoken.JWS_PREFIX))) or "-")
