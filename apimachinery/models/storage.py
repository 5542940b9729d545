"""Typed PersistentVolumeClaim (core/v1), as a StatefulSet's `volumeClaimTemplates` carry it.

Schooner serves no PersistentVolumeClaim kind and has no PersistentVolumes: a
StatefulSet pod's claim is a node-local Docker volume named after the claim,
which outlives the pod. Of a claim template only `metadata.name` is read; the
rest is validated for its types and stored as given, with Kubernetes' shapes,
wire names and protobuf numbers so manifests and `kubectl explain` work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from apimachinery.models.meta import K8sModel, LabelSelector, ObjectMeta, ResourceList, Time
from apimachinery.models.schema import TYPE_META, ProtobufHint, field

_STORED = "Stored; Schooner's node-local volumes ignore it."


class VolumeResourceRequirements(K8sModel):
    """The storage a claim asks for."""

    limits: Annotated[ResourceList | None, field(
        f"The most storage the volume may have. {_STORED}", protobuf=1)] = None
    requests: Annotated[ResourceList | None, field(
        f"The least storage the volume must have, e.g. `storage: 1Gi`. {_STORED}",
        protobuf=2)] = None


class TypedLocalObjectReference(K8sModel):
    """An object in the claim's namespace, by API group, kind and name."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"apiGroup": "pointer"}

    api_group: Annotated[str | None, field(
        "The referent's API group; empty for the core group.", protobuf=1)] = None
    kind: Annotated[str | None, field("The referent's kind.", protobuf=2)] = None
    name: Annotated[str | None, field("The referent's name.", protobuf=3)] = None


class TypedObjectReference(K8sModel):
    """An object, by API group, kind, name and (optionally) namespace."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "apiGroup": "pointer", "namespace": "pointer"}

    api_group: Annotated[str | None, field(
        "The referent's API group; empty for the core group.", protobuf=1)] = None
    kind: Annotated[str | None, field("The referent's kind.", protobuf=2)] = None
    name: Annotated[str | None, field("The referent's name.", protobuf=3)] = None
    namespace: Annotated[str | None, field(
        "The referent's namespace; defaults to the claim's.", protobuf=4)] = None


class PersistentVolumeClaimSpec(K8sModel):
    """The storage a claim wants: size, access modes, class, source."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "storageClassName": "pointer", "volumeMode": "pointer",
        "volumeAttributesClassName": "pointer", "resources": "value"}

    access_modes: Annotated[list[str] | None, field(
        f"ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod. {_STORED}",
        protobuf=1, list_type="atomic")] = None
    selector: Annotated[LabelSelector | None, field(
        f"Labels of the PersistentVolumes the claim may bind. {_STORED}",
        protobuf=4)] = None
    resources: Annotated[VolumeResourceRequirements | None, field(
        f"The storage requested. {_STORED}", protobuf=2)] = None
    volume_name: Annotated[str | None, field(
        f"A PersistentVolume to bind by name. {_STORED}", protobuf=3)] = None
    storage_class_name: Annotated[str | None, field(
        f"The StorageClass of the volume; empty asks for none. {_STORED}",
        protobuf=5)] = None
    volume_mode: Annotated[str | None, field(
        f"Filesystem (the default) or Block. {_STORED}", protobuf=6)] = None
    data_source: Annotated[TypedLocalObjectReference | None, field(
        f"A snapshot or claim to fill the new volume from. {_STORED}", protobuf=7)] = None
    data_source_ref: Annotated[TypedObjectReference | None, field(
        f"Any populator object to fill the new volume from. {_STORED}",
        protobuf=8)] = None
    volume_attributes_class_name: Annotated[str | None, field(
        f"The VolumeAttributesClass of the volume. {_STORED}", protobuf=9)] = None


class PersistentVolumeClaimCondition(K8sModel):
    """One aspect of a claim's state, such as a resize in progress."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "lastProbeTime": "value", "lastTransitionTime": "value"}

    type: Annotated[str | None, field(
        "The aspect, e.g. Resizing or FileSystemResizePending.", protobuf=1)] = None
    status: Annotated[str | None, field("True, False or Unknown.", protobuf=2)] = None
    last_probe_time: Annotated[Time | None, field(
        "When the condition was last checked.", protobuf=3)] = None
    last_transition_time: Annotated[Time | None, field(
        "When status last changed.", protobuf=4)] = None
    reason: Annotated[str | None, field(
        "A CamelCase reason for the status.", protobuf=5)] = None
    message: Annotated[str | None, field("Details for people.", protobuf=6)] = None


class ModifyVolumeStatus(K8sModel):
    """The state of a change of the volume's VolumeAttributesClass."""

    target_volume_attributes_class_name: Annotated[str | None, field(
        "The class being applied.", protobuf=1)] = None
    status: Annotated[str | None, field(
        "Pending, InProgress or Infeasible.", protobuf=2)] = None


class PersistentVolumeClaimStatus(K8sModel):
    """A claim's binding state; no Schooner component writes it."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "currentVolumeAttributesClassName": "pointer"}

    phase: Annotated[str | None, field(
        "Pending, Bound or Lost.", protobuf=1)] = None
    access_modes: Annotated[list[str] | None, field(
        "The access modes of the bound volume.", protobuf=2, list_type="atomic")] = None
    capacity: Annotated[ResourceList | None, field(
        "The storage of the bound volume.", protobuf=3)] = None
    conditions: Annotated[list[PersistentVolumeClaimCondition] | None, field(
        "The claim's conditions.", protobuf=4, list_type="map", list_map_keys=("type",),
        merge_key="type", patch_strategy="merge")] = None
    allocated_resources: Annotated[ResourceList | None, field(
        "The storage allocated to the claim during a resize.", protobuf=5)] = None
    allocated_resource_statuses: Annotated[dict[str, str] | None, field(
        "The state of each resource's resize.", protobuf=7)] = None
    current_volume_attributes_class_name: Annotated[str | None, field(
        "The VolumeAttributesClass the volume has now.", protobuf=8)] = None
    modify_volume_status: Annotated[ModifyVolumeStatus | None, field(
        "The state of a change of VolumeAttributesClass.", protobuf=9)] = None


class PersistentVolumeClaim(K8sModel):
    """A request for storage; here, one entry of a StatefulSet's volumeClaimTemplates."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "metadata": "value", "spec": "value", "status": "value"}

    api_version: Annotated[str | None, field(
        "`v1`, when the template names it; optional inside a StatefulSet.", protobuf=1,
        embedded=TYPE_META)] = None
    kind: Annotated[str | None, field(
        "`PersistentVolumeClaim`, when the template names it; optional inside a "
        "StatefulSet.", protobuf=2, embedded=TYPE_META)] = None
    metadata: Annotated[ObjectMeta | None, field(
        "The claim's name, labels and annotations. Each pod's volume is named "
        "`<name>-<set>-<ordinal>`, and its containers mount it by `<name>`.",
        protobuf=1)] = None
    spec: Annotated[PersistentVolumeClaimSpec | None, field(
        "The storage wanted. Stored; Schooner's node-local volumes have no size, class "
        "or access mode.", protobuf=2)] = None
    status: Annotated[PersistentVolumeClaimStatus | None, field(
        "The claim's binding state. Stored; no Schooner component writes it.",
        protobuf=3)] = None
