"""The `default` ServiceAccount of every namespace (Kubernetes' serviceaccount-controller).

Each active namespace gets a ServiceAccount named `default`, made again when deleted,
as kube-controller-manager's ServiceAccountsController does (pkg/controller/
serviceaccount). A namespace being deleted gets none: its content is going.
Keyed by namespace name; the namespace and ServiceAccount informers enqueue it.
"""

from __future__ import annotations

from typing import Any

from apimachinery import errors, meta
from apimachinery.meta import Object

from .base import Controller, ControllerClient, SharedInformerFactory

DEFAULT = "default"


class ServiceAccountsController(Controller):
    """Keyed by namespace: make sure its `default` ServiceAccount exists."""

    name = "serviceaccount"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory,
                 **kwargs: Any) -> None:
        super().__init__(client, factory, **kwargs)
        self.namespaces = factory.informer("namespaces")
        self.accounts = factory.informer("serviceaccounts")
        self.namespaces.add_event_handler(self.enqueue, lambda _old, new: self.enqueue(new))
        self.accounts.add_event_handler(on_delete=self._account_deleted)

    def _account_deleted(self, account: Object) -> None:
        if meta.metadata(account).get("name") == DEFAULT:
            self.queue.add(str(meta.metadata(account).get("namespace") or ""))

    async def reconcile(self, key: str) -> None:
        namespace = self.namespaces.store.get(key)
        if namespace is None or meta.metadata(namespace).get("deletionTimestamp"):
            return
        if (namespace.get("status") or {}).get("phase") == "Terminating":
            return
        if self.accounts.store.get(f"{key}/{DEFAULT}") is not None:
            return
        try:
            await self.client.create("serviceaccounts", {"metadata": {"name": DEFAULT}},
                                     namespace=key)
        except errors.AlreadyExists:
            return
        except errors.Forbidden:  # the namespace began terminating meanwhile
            return
        self.decision(key, "create", serviceaccount=DEFAULT)
