"""Typed coordination.k8s.io/v1 Lease: node heartbeats and leader election.

The kubelet renews `kube-node-lease/<node>` and controllers elect a leader with
one Lease each; both only read and write these spec fields.
"""

from __future__ import annotations

from apimachinery.models.meta import K8sModel, Time, TypedObject


class LeaseSpec(K8sModel):
    holder_identity: str | None = None
    lease_duration_seconds: int | None = None
    acquire_time: Time | None = None
    renew_time: Time | None = None
    lease_transitions: int | None = None
    strategy: str | None = None
    preferred_holder: str | None = None


class Lease(TypedObject):
    api_version: str = "coordination.k8s.io/v1"
    kind: str = "Lease"
    spec: LeaseSpec | None = None
