"""`schooner describe`: kubectl describe's layout, from plain wire-format dicts.

Mirrors k8s.io/kubectl/pkg/describe/describe.go. Pod (`pods`), Deployment,
ReplicaSet, StatefulSet (`workloads`), Service, Node, Namespace, ConfigMap and
Secret (`others`) have kubectl's own layouts; any other kind gets kubectl's
generic describer, a sorted dump of the object with "smart" labels
(`apiVersion` -> `API Version`). All of them write through `_writer`'s
PrefixWriter, so their columns line up as kubectl's do.
Related objects kubectl would fetch (a controller's pods and ReplicaSets, a
Service's Endpoints) are passed in by the caller, which does the I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from cli.describe._writer import Context, Writer
from cli.describe.others import (
    describe_config_map,
    describe_generic,
    describe_namespace,
    describe_node,
    describe_secret,
    describe_service,
)
from cli.describe.pods import describe_pod
from cli.describe.workloads import (
    describe_deployment,
    describe_replica_set,
    describe_stateful_set,
)

__all__ = ["describe"]

_DESCRIBERS: dict[str, Callable[[Writer, Object, Context], None]] = {
    "Pod": describe_pod, "Deployment": describe_deployment, "ReplicaSet": describe_replica_set,
    "StatefulSet": describe_stateful_set, "Service": describe_service, "Node": describe_node,
    "Namespace": describe_namespace, "ConfigMap": describe_config_map, "Secret": describe_secret,
}


def describe(resource: ResourceInfo, obj: Object, events: Sequence[Object], now: datetime, *,
             pods: Sequence[Object] | None = None,
             replica_sets: Sequence[Object] | None = None,
             endpoints: Object | None = None) -> str:
    """`kubectl describe` text for one object and the events about it.

    `pods` (for a ReplicaSet's or StatefulSet's `Pods Status`), `replica_sets`
    (for a Deployment's Old/NewReplicaSet lines) and `endpoints` (for a
    Service's `Endpoints`) are what kubectl would list alongside; a caller that
    did not fetch them leaves them out and those lines are omitted or `<none>`.
    """
    ctx = Context(events, now, pods, replica_sets, endpoints)
    w = Writer()
    _DESCRIBERS.get(resource.kind, describe_generic)(w, obj, ctx)
    return w.text()
