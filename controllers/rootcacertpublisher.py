"""The cluster CA's certificate in every namespace (Kubernetes' root-ca-cert-publisher).

Each active namespace gets a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the
certificate of the CA that signed the apiservers' serving certificates (the
controller-manager's `--root-ca-file`, else its kubeconfig's CA: certificates only,
never a key). A pod's projected service-account volume reads it, so a program in the
pod can verify the apiserver (`load_incluster_config()` uses it). The ConfigMap is
made again when deleted and put back when its data is changed, as
pkg/controller/certificates/rootcacertpublisher does. Keyed by namespace name; the
namespace informer and the ConfigMap informer (for `kube-root-ca.crt` only) enqueue.
"""

from __future__ import annotations

from typing import Any

from apimachinery import errors, meta
from apimachinery.meta import Object

from .base import Controller, ControllerClient, SharedInformerFactory

CONFIGMAP = "kube-root-ca.crt"
KEY = "ca.crt"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when "
               "using internal endpoints such as the internal service IP or "
               "kubernetes.default.svc. No other usage is guaranteed across distributions "
               "of Kubernetes clusters.")
DESCRIPTION_ANNOTATION = "kubernetes.io/description"


def wanted_configmap(ca_pem: str) -> Object:
    """The ConfigMap every namespace should hold (name, data, description)."""
    return {"metadata": {"name": CONFIGMAP,
                         "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION}},
            "data": {KEY: ca_pem}}


class RootCACertPublisher(Controller):
    """Keyed by namespace: make its `kube-root-ca.crt` exist and hold the CA."""

    name = "root-ca-cert-publisher"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 ca_pem: str, **kwargs: Any) -> None:
        super().__init__(client, factory, **kwargs)
        self.ca_pem = ca_pem
        self.namespaces = factory.informer("namespaces")
        self.configmaps = factory.informer("configmaps")
        self.namespaces.add_event_handler(self.enqueue, lambda _old, new: self.enqueue(new))
        self.configmaps.add_event_handler(on_update=lambda _old, new: self._configmap(new),
                                          on_delete=self._configmap)

    def _configmap(self, configmap: Object) -> None:
        md = meta.metadata(configmap)
        if md.get("name") == CONFIGMAP:
            self.queue.add(str(md.get("namespace") or ""))

    async def reconcile(self, key: str) -> None:
        namespace = self.namespaces.store.get(key)
        if namespace is None or meta.metadata(namespace).get("deletionTimestamp") \
                or (namespace.get("status") or {}).get("phase") == "Terminating":
            return
        current = self.configmaps.store.get(f"{key}/{CONFIGMAP}")
        if current is None:
            await self._create(key)
        elif (current.get("data") or {}) != {KEY: self.ca_pem} or current.get("binaryData"):
            await self._update(key, current)

    async def _create(self, namespace: str) -> None:
        try:
            await self.client.create("configmaps", wanted_configmap(self.ca_pem),
                                     namespace=namespace)
        except (errors.AlreadyExists, errors.Forbidden):
            return  # made meanwhile (its event comes), or the namespace began terminating
        self.decision(namespace, "create", configmap=CONFIGMAP)

    async def _update(self, namespace: str, current: Object) -> None:
        md = dict(meta.metadata(current))
        md["annotations"] = {**(md.get("annotations") or {}),
                             DESCRIPTION_ANNOTATION: DESCRIPTION}
        fixed = {**current, "metadata": md, "data": {KEY: self.ca_pem}}
        fixed.pop("binaryData", None)
        try:
            await self.client.update("configmaps", fixed)
        except errors.NotFound:
            return  # deleted meanwhile: its delete event brings it back
        self.decision(namespace, "update", configmap=CONFIGMAP)
