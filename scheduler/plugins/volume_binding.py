"""VolumeBinding: a pod whose claim already lives on a node goes back to that node.

Schooner backs a `persistentVolumeClaim` with a named Docker volume on the node
where the pod first ran (`agent/volumes.py`); the agent lists those claims in its
Node's `status.volumesAttached` (`schooner.io/pvc/<namespace>/<claim>`). Kubernetes
reaches the same place through local PersistentVolumes, whose node affinity the
`VolumeBinding` plugin turns into a PreFilterResult: only the node holding the
volume is a candidate. Other nodes are rejected with Kubernetes' reason, `node(s)
had volume node affinity conflict`. A claim held nowhere yet lets every node in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from apimachinery import meta
from apimachinery.typeddicts import Node, Pod
from scheduler.framework import NodeInfo

REASON = "node(s) had volume node affinity conflict"
attached_claim = meta.attached_claim  # how a node reports a claim it holds


def pod_claims(pod: Pod) -> list[str]:
    namespace = meta.namespace_of(pod)
    return [attached_claim(namespace, str(v["persistentVolumeClaim"]["claimName"]))
            for v in meta.pod_spec(pod).get("volumes") or []
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]


def node_claims(node: Node) -> set[str]:
    attached = meta.node_status(node).get("volumesAttached")
    return {str(v.get("name")) for v in attached or []}


class VolumeBinding:
    name: ClassVar[str] = "VolumeBinding"
    reason: ClassVar[str] = REASON

    def candidate_nodes(self, pod: Pod, node_infos: Sequence[NodeInfo]) -> set[str] | None:
        """PreFilterResult.NodeNames: the nodes allowed to run the pod, or None for all."""
        claims = pod_claims(pod)
        if not claims:
            return None
        allowed: set[str] | None = None
        for claim in claims:
            holders = {info.name for info in node_infos if claim in node_claims(info.node)}
            if holders:
                allowed = holders if allowed is None else allowed & holders
        return allowed
