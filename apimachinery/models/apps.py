"""Typed apps/v1 kinds: Deployment, ReplicaSet, StatefulSet.

Shapes follow `k8s.io/api/apps/v1`. The status fields are the ones `kubectl
rollout status` and the Python client read. A StatefulSet's `volumeClaimTemplates`
are typed PersistentVolumeClaims (`apimachinery.models.storage`), of which Schooner
reads only the names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import (
    ApiVersion,
    IntOrString,
    K8sModel,
    Kind,
    LabelSelector,
    Time,
    TypedObject,
)
from apimachinery.models.pod import PodTemplateSpec
from apimachinery.models.schema import ProtobufHint, field
from apimachinery.models.storage import PersistentVolumeClaim

_CONDITION_TYPE = "The aspect the condition is about."
_CONDITION_STATUS = "True, False or Unknown."
_CONDITION_REASON = "A CamelCase reason for the status."
_CONDITION_MESSAGE = "Details for people."
_OBSERVED_GENERATION = ("The metadata.generation the controller last acted on; status is "
                        "current when it equals the generation.")
_SELECTOR = ("Which pods belong to the workload; it must match the template's labels and "
             "cannot change after creation.")
_REVISION_HISTORY = "How many old revisions to keep for rollback; defaults to 10."
_MIN_READY = ("Seconds a new pod must stay ready before it counts as available; "
              "defaults to 0.")


class DeploymentCondition(K8sModel):
    """A Deployment condition: Available, Progressing or ReplicaFailure."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "lastTransitionTime": "value", "lastUpdateTime": "value"}

    type: Annotated[str, field(
        "Available (enough pods available), Progressing (the rollout moves, or stalled "
        "past its deadline) or ReplicaFailure.", protobuf=1)]
    status: Annotated[str, field(_CONDITION_STATUS, protobuf=2)]
    last_update_time: Annotated[Time | None, field(
        "When the condition was last written; a stalled rollout is measured from here.",
        protobuf=6)] = None
    last_transition_time: Annotated[Time | None, field(
        "When status last changed.", protobuf=7)] = None
    reason: Annotated[str | None, field(
        "A CamelCase reason, e.g. NewReplicaSetAvailable or ProgressDeadlineExceeded.",
        protobuf=4)] = None
    message: Annotated[str | None, field(_CONDITION_MESSAGE, protobuf=5)] = None


_NOT_IN_KUBERNETES = ("Not a field of Kubernetes' {}; checked as a timestamp when present "
                      "(as Schooner always has) and stored, never written by Schooner.")


class ReplicaSetCondition(K8sModel):
    """A ReplicaSet condition (ReplicaFailure)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"lastTransitionTime": "value"}

    type: Annotated[str, field(_CONDITION_TYPE, protobuf=1)]
    status: Annotated[str, field(_CONDITION_STATUS, protobuf=2)]
    last_update_time: Annotated[Time | None, field(
        _NOT_IN_KUBERNETES.format("ReplicaSetCondition"), protobuf=None)] = None
    last_transition_time: Annotated[Time | None, field(
        "When status last changed.", protobuf=3)] = None
    reason: Annotated[str | None, field(_CONDITION_REASON, protobuf=4)] = None
    message: Annotated[str | None, field(_CONDITION_MESSAGE, protobuf=5)] = None


class StatefulSetCondition(K8sModel):
    """A StatefulSet condition; Schooner's controller writes none."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"lastTransitionTime": "value"}

    type: Annotated[str, field(_CONDITION_TYPE, protobuf=1)]
    status: Annotated[str, field(_CONDITION_STATUS, protobuf=2)]
    last_update_time: Annotated[Time | None, field(
        _NOT_IN_KUBERNETES.format("StatefulSetCondition"), protobuf=None)] = None
    last_transition_time: Annotated[Time | None, field(
        "When status last changed.", protobuf=3)] = None
    reason: Annotated[str | None, field(_CONDITION_REASON, protobuf=4)] = None
    message: Annotated[str | None, field(_CONDITION_MESSAGE, protobuf=5)] = None


# -- Deployment -------------------------------------------------------------------


class RollingUpdateDeployment(K8sModel):
    """How fast a rolling update replaces pods."""

    max_unavailable: Annotated[IntOrString | None, field(
        "How many desired pods may be unavailable during the update, as a number or a "
        "percentage (rounded down); defaults to 25%.", protobuf=1)] = None
    max_surge: Annotated[IntOrString | None, field(
        "How many pods may exist above the desired count during the update, as a number "
        "or a percentage (rounded up); defaults to 25%. Not both may be 0.",
        protobuf=2)] = None


class DeploymentStrategy(K8sModel):
    """How a Deployment replaces old pods with new ones."""

    type: Annotated[str | None, field(
        "RollingUpdate (the default: scale the new ReplicaSet up as the old ones go down) "
        "or Recreate (remove every old pod first).", protobuf=1)] = None
    rolling_update: Annotated[RollingUpdateDeployment | None, field(
        "The pace of a RollingUpdate; refused with Recreate.", protobuf=2)] = None


class DeploymentSpec(K8sModel):
    """The desired pods of a Deployment, and how to roll out a change to them."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "replicas": "pointer", "revisionHistoryLimit": "pointer",
        "progressDeadlineSeconds": "pointer", "strategy": "value", "template": "value"}

    replicas: Annotated[int | None, field(
        "How many pods to run; defaults to 1.", protobuf=1)] = None
    selector: Annotated[LabelSelector, field(_SELECTOR, protobuf=2)]
    template: Annotated[PodTemplateSpec, field(
        "The pods to run; changing it starts a rollout to a new ReplicaSet.",
        protobuf=3)]
    strategy: Annotated[DeploymentStrategy | None, field(
        "How a rollout replaces pods; defaults to RollingUpdate 25%/25%.", protobuf=4,
        patch_strategy="retainKeys")] = None
    min_ready_seconds: Annotated[int | None, field(_MIN_READY, protobuf=5)] = None
    revision_history_limit: Annotated[int | None, field(
        "How many old ReplicaSets to keep for `kubectl rollout undo`; defaults to 10.",
        protobuf=6)] = None
    paused: Annotated[bool | None, field(
        "While true, template changes start no rollout (`kubectl rollout pause`).",
        protobuf=7)] = None
    progress_deadline_seconds: Annotated[int | None, field(
        "Seconds a rollout may make no progress before Progressing turns False with "
        "ProgressDeadlineExceeded; defaults to 600, and must exceed minReadySeconds.",
        protobuf=9)] = None


class DeploymentStatus(K8sModel):
    """How far the Deployment's rollout is, written by the deployment controller."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"collisionCount": "pointer"}

    observed_generation: Annotated[int | None, field(_OBSERVED_GENERATION, protobuf=1)] = None
    replicas: Annotated[int | None, field(
        "Pods of all its ReplicaSets.", protobuf=2)] = None
    updated_replicas: Annotated[int | None, field(
        "Pods of the current template.", protobuf=3)] = None
    ready_replicas: Annotated[int | None, field("Pods that are ready.", protobuf=7)] = None
    available_replicas: Annotated[int | None, field(
        "Pods ready for at least minReadySeconds.", protobuf=4)] = None
    unavailable_replicas: Annotated[int | None, field(
        "Desired pods not yet available.", protobuf=5)] = None
    conditions: Annotated[list[DeploymentCondition] | None, field(
        "Available, Progressing and ReplicaFailure.", protobuf=6, list_type="map",
        list_map_keys=("type",), merge_key="type", patch_strategy="merge")] = None
    collision_count: Annotated[int | None, field(
        "Bumped when a new ReplicaSet's hashed name is taken, to make another name.",
        protobuf=8)] = None


class Deployment(TypedObject):
    """Runs a number of identical pods through ReplicaSets, and rolls out changes."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "apps/v1"
    kind: Kind = "Deployment"
    spec: Annotated[DeploymentSpec | None, field(
        "The desired pods and the rollout strategy.", protobuf=2)] = None
    status: Annotated[DeploymentStatus | None, field(
        "The rollout's progress.", protobuf=3)] = None


# -- ReplicaSet -------------------------------------------------------------------


class ReplicaSetSpec(K8sModel):
    """The desired pods of a ReplicaSet."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "replicas": "pointer", "template": "value"}

    replicas: Annotated[int | None, field(
        "How many pods to run; defaults to 1.", protobuf=1)] = None
    min_ready_seconds: Annotated[int | None, field(_MIN_READY, protobuf=4)] = None
    selector: Annotated[LabelSelector, field(_SELECTOR, protobuf=2)]
    template: Annotated[PodTemplateSpec | None, field(
        "The pods to create; pods already running are not changed when it changes.",
        protobuf=3)] = None


class ReplicaSetStatus(K8sModel):
    """What the replicaset controller last counted."""

    replicas: Annotated[int, field(
        "Pods the ReplicaSet owns that are not being deleted.", protobuf=1)]
    fully_labeled_replicas: Annotated[int | None, field(
        "Pods whose labels match the template's.", protobuf=2)] = None
    ready_replicas: Annotated[int | None, field("Pods that are ready.", protobuf=4)] = None
    available_replicas: Annotated[int | None, field(
        "Pods ready for at least minReadySeconds.", protobuf=5)] = None
    observed_generation: Annotated[int | None, field(_OBSERVED_GENERATION, protobuf=3)] = None
    conditions: Annotated[list[ReplicaSetCondition] | None, field(
        "ReplicaFailure, when pods cannot be created or deleted.", protobuf=6,
        list_type="map", list_map_keys=("type",), merge_key="type",
        patch_strategy="merge")] = None


class ReplicaSet(TypedObject):
    """Keeps a number of pods matching its selector running."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "apps/v1"
    kind: Kind = "ReplicaSet"
    spec: Annotated[ReplicaSetSpec | None, field(
        "The desired pods.", protobuf=2)] = None
    status: Annotated[ReplicaSetStatus | None, field(
        "The counted pods.", protobuf=3)] = None


# -- StatefulSet ------------------------------------------------------------------


class RollingUpdateStatefulSetStrategy(K8sModel):
    """How a StatefulSet's rolling update proceeds."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"partition": "pointer"}

    partition: Annotated[int | None, field(
        "Only pods with an ordinal at or above this are updated; defaults to 0.",
        protobuf=1)] = None
    max_unavailable: Annotated[IntOrString | None, field(
        "How many pods may be unavailable during the update. Stored; Schooner updates one "
        "pod at a time.", protobuf=2)] = None


class StatefulSetUpdateStrategy(K8sModel):
    """How a StatefulSet replaces its pods when the template changes."""

    type: Annotated[str | None, field(
        "RollingUpdate (the default: replace pods from the highest ordinal down) or "
        "OnDelete (only pods deleted by hand are replaced).", protobuf=1)] = None
    rolling_update: Annotated[RollingUpdateStatefulSetStrategy | None, field(
        "The partition of a RollingUpdate.", protobuf=2)] = None


class StatefulSetPersistentVolumeClaimRetentionPolicy(K8sModel):
    """Whether a StatefulSet's claims are deleted with it or when it scales down."""

    when_deleted: Annotated[str | None, field(
        "Retain (the default) or Delete, when the set is deleted. Stored; Schooner keeps "
        "the volumes.", protobuf=1)] = None
    when_scaled: Annotated[str | None, field(
        "Retain (the default) or Delete, when the set scales down. Stored; Schooner keeps "
        "the volumes.", protobuf=2)] = None


class StatefulSetOrdinals(K8sModel):
    """Where a StatefulSet's pod numbering starts."""

    start: Annotated[int | None, field(
        "The first ordinal. Stored; Schooner numbers pods from 0.", protobuf=1)] = None


class StatefulSetSpec(K8sModel):
    """Pods with stable names (`<set>-0`, `<set>-1`...), DNS names and storage."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "replicas": "pointer", "revisionHistoryLimit": "pointer", "template": "value",
        "updateStrategy": "value"}

    replicas: Annotated[int | None, field(
        "How many pods to run; defaults to 1.", protobuf=1)] = None
    selector: Annotated[LabelSelector, field(_SELECTOR, protobuf=2)]
    template: Annotated[PodTemplateSpec, field(
        "The pods to run; changing it starts a rolling update.", protobuf=3)]
    volume_claim_templates: Annotated[list[PersistentVolumeClaim] | None, field(
        "Claims each pod gets, named `<claim>-<set>-<ordinal>`; the agent backs each "
        "with a node-local volume that outlives the pod. Only their names are read.",
        protobuf=4, list_type="atomic")] = None
    service_name: Annotated[str | None, field(
        "The headless Service that gives the pods DNS names: pods get it as their "
        "subdomain.", protobuf=5)] = None
    pod_management_policy: Annotated[str | None, field(
        "OrderedReady (the default: one pod at a time, in ordinal order) or Parallel.",
        protobuf=6)] = None
    update_strategy: Annotated[StatefulSetUpdateStrategy | None, field(
        "How template changes reach the pods; defaults to RollingUpdate, partition 0.",
        protobuf=7)] = None
    revision_history_limit: Annotated[int | None, field(_REVISION_HISTORY, protobuf=8)] = None
    min_ready_seconds: Annotated[int | None, field(_MIN_READY, protobuf=9)] = None
    persistent_volume_claim_retention_policy: Annotated[
        StatefulSetPersistentVolumeClaimRetentionPolicy | None, field(
            "Whether claims are deleted with the set or on scale-down. Stored; Schooner "
            "keeps the volumes.", protobuf=10)] = None
    ordinals: Annotated[StatefulSetOrdinals | None, field(
        "A first ordinal other than 0. Stored; Schooner numbers pods from 0.",
        protobuf=11)] = None


class StatefulSetStatus(K8sModel):
    """What the statefulset controller last counted."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"collisionCount": "pointer"}

    observed_generation: Annotated[int | None, field(_OBSERVED_GENERATION, protobuf=1)] = None
    replicas: Annotated[int, field("Pods the set owns.", protobuf=2)]
    ready_replicas: Annotated[int | None, field("Pods that are ready.", protobuf=3)] = None
    current_replicas: Annotated[int | None, field(
        "Pods at currentRevision.", protobuf=4)] = None
    updated_replicas: Annotated[int | None, field(
        "Pods at updateRevision.", protobuf=5)] = None
    available_replicas: Annotated[int | None, field(
        "Pods ready for at least minReadySeconds.", protobuf=11)] = None
    current_revision: Annotated[str | None, field(
        "The revision of the template the pods below the partition run.",
        protobuf=6)] = None
    update_revision: Annotated[str | None, field(
        "The revision of the current template.", protobuf=7)] = None
    collision_count: Annotated[int | None, field(
        "Always 0: Schooner's controller does not rename colliding revisions.",
        protobuf=9)] = None
    conditions: Annotated[list[StatefulSetCondition] | None, field(
        "The set's conditions; Schooner's controller writes none.", protobuf=10,
        list_type="map", list_map_keys=("type",), merge_key="type",
        patch_strategy="merge")] = None


class StatefulSet(TypedObject):
    """Runs pods with stable identities, created and replaced in order."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "apps/v1"
    kind: Kind = "StatefulSet"
    spec: Annotated[StatefulSetSpec | None, field(
        "The desired pods, their storage and update strategy.", protobuf=2)] = None
    status: Annotated[StatefulSetStatus | None, field(
        "The counted pods and revisions.", protobuf=3)] = None
