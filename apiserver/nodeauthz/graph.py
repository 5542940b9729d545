"""Which objects each node's pods reference: the Node authorizer's graph, as an index.

Kubernetes' node authorizer (plugin/pkg/auth/authorizer/node/graph.go) keeps a
graph of secret -> pod, configmap -> pod, serviceaccount -> pod, pod -> node
edges and asks whether a path leads from an object to the node. Schooner has no
PersistentVolumes, so every path is two edges long and the graph folds into one
index: per node, how many of its pods reference each object. A lookup is two
dict reads; a pod event costs one walk over that pod's spec. Only pods with
`spec.nodeName` count (an unbound pod gives no node anything), as in Kubernetes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from apimachinery.meta import Object

SECRETS, CONFIGMAPS, SERVICEACCOUNTS = "secrets", "configmaps", "serviceaccounts"
# (resource, namespace, name): an object a pod references, in the pod's namespace.
Ref = tuple[str, str, str]
PodKey = tuple[str, str]
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, dict))


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _name(ref: Any, key: str = "name") -> str:
    return str(ref.get(key) or "") if isinstance(ref, dict) else ""


def _container_refs(container: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """env[].valueFrom.{secretKeyRef,configMapKeyRef} and envFrom[].{secretRef,configMapRef}."""
    for env in _dicts(container.get("env")):
        source = _obj(env.get("valueFrom"))
        yield SECRETS, _name(source.get("secretKeyRef"))
        yield CONFIGMAPS, _name(source.get("configMapKeyRef"))
    for env_from in _dicts(container.get("envFrom")):
        yield SECRETS, _name(env_from.get("secretRef"))
        yield CONFIGMAPS, _name(env_from.get("configMapRef"))


def _volume_refs(volume: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """secret and configMap volumes, and their projected sources."""
    yield SECRETS, _name(volume.get("secret"), "secretName")
    yield CONFIGMAPS, _name(volume.get("configMap"))
    projected = _obj(volume.get("projected"))
    for source in _dicts(projected.get("sources")):
        yield SECRETS, _name(source.get("secret"))
        yield CONFIGMAPS, _name(source.get("configMap"))


def pod_references(pod: Object) -> frozenset[Ref]:
    """Every Secret, ConfigMap and ServiceAccount the pod names, as Kubernetes'
    VisitPodSecretNames and VisitPodConfigmapNames walk it (image pull secrets,
    env, envFrom, volumes, projected sources), and its service account."""
    spec = _obj(pod.get("spec"))
    namespace = str((pod.get("metadata") or {}).get("namespace") or "")
    found: list[tuple[str, str]] = [(SECRETS, _name(s)) for s in
                                     _dicts(spec.get("imagePullSecrets"))]
    for key in _CONTAINER_LISTS:
        for container in _dicts(spec.get(key)):
            found += _container_refs(container)
    for volume in _dicts(spec.get("volumes")):
        found += _volume_refs(volume)
    found.append((SERVICEACCOUNTS, str(spec.get("serviceAccountName") or "")))
    return frozenset((resource, namespace, name) for resource, name in found if name)


def pod_key(pod: Object) -> PodKey:
    meta = pod.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def bound_node(pod: Object) -> str:
    spec = _obj(pod.get("spec"))
    return str(spec.get("nodeName") or "")


class NodeGraph:
    """Per node, how many of its pods reference each object; per pod, its node and refs."""

    def __init__(self) -> None:
        self._pods: dict[PodKey, tuple[str, frozenset[Ref]]] = {}
        self._refs: dict[str, Counter[Ref]] = {}

    def replace(self, pods: Iterable[Object]) -> None:
        """Start over from a full list of pods."""
        self._pods.clear()
        self._refs.clear()
        for pod in pods:
            self.set_pod(pod)

    def set_pod(self, pod: Object) -> None:
        """A pod was added or changed: its edges become the ones it has now."""
        key, node = pod_key(pod), bound_node(pod)
        refs = pod_references(pod) if node else frozenset()
        if self._pods.get(key) == (node, refs):
            return  # the usual case, a status update: nothing the graph holds changed
        self.delete_pod(key)
        if not node:
            return
        self._pods[key] = (node, refs)
        if refs:
            self._refs.setdefault(node, Counter()).update(refs)

    def delete_pod(self, key: PodKey) -> None:
        old = self._pods.pop(key, None)
        if old is None:
            return
        node, refs = old
        counts = self._refs.get(node)
        if counts is None:
            return
        for ref in refs:
            counts[ref] -= 1
            if counts[ref] <= 0:
                del counts[ref]
        if not counts:
            del self._refs[node]

    def related(self, node: str, ref: Ref) -> bool:
        """Whether a pod bound to `node` references `ref` (a path object -> pod -> node)."""
        counts = self._refs.get(node)
        return counts is not None and counts.get(ref, 0) > 0

    def pod_node(self, key: PodKey) -> str:
        """The node a pod is bound to, "" when unknown or unbound."""
        entry = self._pods.get(key)
        return entry[0] if entry else ""

    def __len__(self) -> int:
        return len(self._pods)
