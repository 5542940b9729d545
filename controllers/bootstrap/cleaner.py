"""tokencleaner: delete bootstrap tokens once they expire (Kubernetes' TokenCleaner).

Keyed by Secret `kube-system/bootstrap-token-ID`; a token not yet expired is looked
at again when it will be. The delete carries the Secret's uid as a precondition, so a
token made again under the same name meanwhile is not the one deleted.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from apimachinery import bootstraptoken, errors, meta
from apimachinery.meta import Object

from ..base import Controller, ControllerClient, SharedInformerFactory


def is_token_secret(secret: Object) -> bool:
    return secret.get("type") == bootstraptoken.SECRET_TYPE and \
        meta.namespace_of(secret) == bootstraptoken.NAMESPACE


class TokenCleaner(Controller):
    name = "tokencleaner"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory,
                 **kwargs: Any) -> None:
        super().__init__(client, factory, **kwargs)
        self.secrets = factory.informer("secrets")
        self.secrets.add_event_handler(self._changed, lambda _old, new: self._changed(new))

    def _changed(self, secret: Object) -> None:
        if is_token_secret(secret):
            self.enqueue(secret)

    async def reconcile(self, key: str) -> None:
        secret = self.secrets.store.get(key)
        if secret is None or meta.metadata(secret).get("deletionTimestamp"):
            return
        token = bootstraptoken.from_secret(secret)
        if token is None or token.expiration is None:
            return
        now = self.clock.now().astimezone(UTC)
        if not token.expired(now):
            self.queue.add_after(key, (token.expiration - now).total_seconds() + 0.1)
            return
        try:
            await self.client.delete("secrets", meta.name_of(secret), meta.namespace_of(secret),
                                     preconditions={"uid": meta.metadata(secret)["uid"]})
        except (errors.NotFound, errors.Conflict):
            return
        self.decision(key, "delete", why="expired", expiration=token.expiration.isoformat())
