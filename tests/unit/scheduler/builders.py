"""Wire-format Nodes and Pods for scheduler unit tests, with only what a test cares about."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from apimachinery.meta import Object
from scheduler.framework import NodeInfo


def make_node(name: str, *, cpu: str = "4", memory: str = "8Gi", pods: int = 110,
              labels: Mapping[str, str] | None = None, taints: Iterable[Object] = (),
              unschedulable: bool = False, ready: str | None = "True") -> Object:
    """A Node with allocatable = capacity and, unless `ready` is None, a Ready condition."""
    resources = {"cpu": cpu, "memory": memory, "pods": str(pods)}
    status: Object = {"capacity": dict(resources), "allocatable": dict(resources)}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": ready}]
    spec: Object = {}
    if taints:
        spec["taints"] = list(taints)
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
                                                  **(labels or {})},
                         "resourceVersion": "1"},
            "spec": spec, "status": status}


def make_pod(name: str, *, namespace: str = "default", cpu: str | None = None,
             memory: str | None = None, node_name: str | None = None,
             owner_uid: str | None = None, host_ports: Iterable[int] = (),
             tolerations: Iterable[Object] = (), node_selector: Mapping[str, str] | None = None,
             affinity: Object | None = None, uid: str | None = None,
             scheduler_name: str | None = None, phase: str = "Pending") -> Object:
    """A one-container Pod; requests only for the resources given."""
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: Object = {"name": "app", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    if host_ports:
        container["ports"] = [{"containerPort": p, "hostPort": p} for p in host_ports]
    spec: Object = {"containers": [container]}
    for key, value in (("nodeName", node_name), ("nodeSelector", node_selector),
                       ("affinity", affinity), ("schedulerName", scheduler_name)):
        if value:
            spec[key] = value
    if tolerations:
        spec["tolerations"] = list(tolerations)
    metadata: Object = {"name": name, "namespace": namespace, "uid": uid or f"uid-{name}",
                        "resourceVersion": "1"}
    if owner_uid:
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                        "name": "rs", "uid": owner_uid, "controller": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec,
            "status": {"phase": phase}}


def node_info(node: Object, *pods: Object) -> NodeInfo:
    return NodeInfo.build(node, pods)
