"""Typed apps/v1 kinds: Deployment, ReplicaSet, StatefulSet.

Shapes follow `k8s.io/api/apps/v1`. The status fields are the ones `kubectl
rollout status` and the Python client read; `volumeClaimTemplates` stays loose
since Schooner only stores them.
"""

from __future__ import annotations

from typing import Any

from apimachinery.models.meta import IntOrString, K8sModel, LabelSelector, Time, TypedObject
from apimachinery.models.pod import PodTemplateSpec


class WorkloadCondition(K8sModel):
    """A Deployment/ReplicaSet/StatefulSet condition (`Available`, `Progressing`...)."""

    type: str
    status: str
    last_update_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


# -- Deployment -------------------------------------------------------------------


class RollingUpdateDeployment(K8sModel):
    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DeploymentStrategy(K8sModel):
    type: str | None = None
    rolling_update: RollingUpdateDeployment | None = None


class DeploymentSpec(K8sModel):
    replicas: int | None = None
    selector: LabelSelector
    template: PodTemplateSpec
    strategy: DeploymentStrategy | None = None
    min_ready_seconds: int | None = None
    revision_history_limit: int | None = None
    paused: bool | None = None
    progress_deadline_seconds: int | None = None


class DeploymentStatus(K8sModel):
    observed_generation: int | None = None
    replicas: int | None = None
    updated_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    unavailable_replicas: int | None = None
    conditions: list[WorkloadCondition] | None = None
    collision_count: int | None = None


class Deployment(TypedObject):
    api_version: str = "apps/v1"
    kind: str = "Deployment"
    spec: DeploymentSpec | None = None
    status: DeploymentStatus | None = None


# -- ReplicaSet -------------------------------------------------------------------


class ReplicaSetSpec(K8sModel):
    replicas: int | None = None
    min_ready_seconds: int | None = None
    selector: LabelSelector
    template: PodTemplateSpec | None = None


class ReplicaSetStatus(K8sModel):
    replicas: int
    fully_labeled_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    observed_generation: int | None = None
    conditions: list[WorkloadCondition] | None = None


class ReplicaSet(TypedObject):
    api_version: str = "apps/v1"
    kind: str = "ReplicaSet"
    spec: ReplicaSetSpec | None = None
    status: ReplicaSetStatus | None = None


# -- StatefulSet ------------------------------------------------------------------


class RollingUpdateStatefulSetStrategy(K8sModel):
    partition: int | None = None
    max_unavailable: IntOrString | None = None


class StatefulSetUpdateStrategy(K8sModel):
    type: str | None = None
    rolling_update: RollingUpdateStatefulSetStrategy | None = None


class StatefulSetSpec(K8sModel):
    replicas: int | None = None
    selector: LabelSelector
    template: PodTemplateSpec
    volume_claim_templates: list[dict[str, Any]] | None = None
    service_name: str | None = None
    pod_management_policy: str | None = None
    update_strategy: StatefulSetUpdateStrategy | None = None
    revision_history_limit: int | None = None
    min_ready_seconds: int | None = None
    persistent_volume_claim_retention_policy: dict[str, Any] | None = None
    ordinals: dict[str, Any] | None = None


class StatefulSetStatus(K8sModel):
    observed_generation: int | None = None
    replicas: int
    ready_replicas: int | None = None
    current_replicas: int | None = None
    updated_replicas: int | None = None
    available_replicas: int | None = None
    current_revision: str | None = None
    update_revision: str | None = None
    collision_count: int | None = None
    conditions: list[WorkloadCondition] | None = None


class StatefulSet(TypedObject):
    api_version: str = "apps/v1"
    kind: str = "StatefulSet"
    spec: StatefulSetSpec | None = None
    status: StatefulSetStatus | None = None
