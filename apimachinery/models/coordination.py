"""Typed coordination.k8s.io/v1 Lease: node heartbeats and leader election.

The kubelet renews `kube-node-lease/<node>` and controllers elect a leader with
one Lease each; both only read and write these spec fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import ApiVersion, K8sModel, Kind, Time, TypedObject
from apimachinery.models.schema import ProtobufHint, field


class LeaseSpec(K8sModel):
    """Who holds the lease and until when."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "holderIdentity": "pointer", "leaseDurationSeconds": "pointer",
        "leaseTransitions": "pointer", "acquireTime": "microtime", "renewTime": "microtime",
        "strategy": "pointer", "preferredHolder": "pointer"}

    holder_identity: Annotated[str | None, field(
        "The holder: a node's name for its heartbeat lease, the elected instance's "
        "identity for a leader-election lease.", protobuf=1)] = None
    lease_duration_seconds: Annotated[int | None, field(
        "How long the lease holds after renewTime; others may take it over once that "
        "has passed. Must be positive.", protobuf=2)] = None
    acquire_time: Annotated[Time | None, field(
        "When the current holder took the lease.", protobuf=3)] = None
    renew_time: Annotated[Time | None, field(
        "When the holder last renewed it; the node lifecycle controller reads a node's "
        "heartbeat from here.", protobuf=4)] = None
    lease_transitions: Annotated[int | None, field(
        "How many times the lease changed holders.", protobuf=5)] = None
    strategy: Annotated[str | None, field(
        "A coordinated leader election strategy. Stored; Schooner's elector does not "
        "use it.", protobuf=6)] = None
    preferred_holder: Annotated[str | None, field(
        "A holder coordinated election would prefer. Stored; Schooner's elector does "
        "not use it.", protobuf=7)] = None


class Lease(TypedObject):
    """A lock with an expiry, renewed by its holder."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value"}

    api_version: ApiVersion = "coordination.k8s.io/v1"
    kind: Kind = "Lease"
    spec: Annotated[LeaseSpec | None, field(
        "The holder and timing.", protobuf=2)] = None
