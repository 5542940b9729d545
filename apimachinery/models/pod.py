"""Typed pod spec and status (core/v1 PodSpec, Volume, PodTemplateSpec, PodStatus...).

The shapes are Kubernetes' own; containers live in `apimachinery.models.container`,
scheduling constraints in `apimachinery.models.scheduling` and security contexts
in `apimachinery.models.security`. Fields a component reads are typed, and so are
those Schooner only stores. The fields the official Python client insists on (a
condition's `status`) are required here too. Each description says what
Schooner does with the field, and where it only stores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.container import (
    Container,
    ContainerStatus,
    ObjectFieldSelector,
    ResourceFieldSelector,
)
from apimachinery.models.meta import (
    K8sModel,
    LocalObjectReference,
    ObjectMeta,
    Quantity,
    ResourceList,
    Time,
)
from apimachinery.models.scheduling import (
    Affinity,
    PodSchedulingGate,
    Toleration,
    TopologySpreadConstraint,
)
from apimachinery.models.schema import (
    LOCAL_OBJECT_REFERENCE,
    VOLUME_SOURCE,
    ProtobufHint,
    ProtobufZero,
    field,
)
from apimachinery.models.security import PodSecurityContext

# -- volumes ----------------------------------------------------------------------


class KeyToPath(K8sModel):
    """One key of a ConfigMap or Secret volume, written to a file of its own path."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"mode": "pointer"}

    key: Annotated[str, field("The key to write.", protobuf=1)]
    path: Annotated[str, field(
        "The file's path, relative to the volume's root.", protobuf=2)]
    mode: Annotated[int | None, field(
        "The file's permission bits; defaults to the volume's defaultMode.",
        protobuf=3)] = None


class EmptyDirVolumeSource(K8sModel):
    """A scratch volume that lives as long as the pod (a Docker volume on the node)."""

    medium: Annotated[str | None, field(
        "`Memory` backs the volume with tmpfs; empty (the default) with the node's disk.",
        protobuf=1)] = None
    size_limit: Annotated[Quantity | None, field(
        "The volume's size cap, passed to Docker when it creates the volume.",
        protobuf=2)] = None


class ConfigMapVolumeSource(K8sModel):
    """A ConfigMap's keys as files, written by the agent and mounted read-only."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "defaultMode": "pointer", "optional": "pointer"}

    name: Annotated[str | None, field(
        "Name of the ConfigMap, in the pod's namespace (required).", protobuf=1,
        embedded=LOCAL_OBJECT_REFERENCE)] = None
    items: Annotated[list[KeyToPath] | None, field(
        "Only these keys, at these paths; by default every key becomes a file named "
        "after it.", protobuf=2, list_type="atomic")] = None
    default_mode: Annotated[int | None, field(
        "Permission bits of the files (0-0777); defaults to 0644.", protobuf=3)] = None
    optional: Annotated[bool | None, field(
        "When true, a missing ConfigMap or key gives an empty volume instead of keeping "
        "the pod from starting.", protobuf=4)] = None


class SecretVolumeSource(K8sModel):
    """A Secret's keys as files, decoded, written by the agent and mounted read-only."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "defaultMode": "pointer", "optional": "pointer"}

    secret_name: Annotated[str | None, field(
        "Name of the Secret, in the pod's namespace (required).", protobuf=1)] = None
    items: Annotated[list[KeyToPath] | None, field(
        "Only these keys, at these paths; by default every key becomes a file named "
        "after it.", protobuf=2, list_type="atomic")] = None
    default_mode: Annotated[int | None, field(
        "Permission bits of the files (0-0777); defaults to 0644.", protobuf=3)] = None
    optional: Annotated[bool | None, field(
        "When true, a missing Secret or key gives an empty volume instead of keeping the "
        "pod from starting.", protobuf=4)] = None


class HostPathVolumeSource(K8sModel):
    """A file or directory of the node, bind-mounted into the pod."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"type": "pointer"}

    path: Annotated[str, field("The path on the node.", protobuf=1)]
    type: Annotated[str | None, field(
        "What must be at the path: empty (no check), DirectoryOrCreate or FileOrCreate "
        "(the agent creates it), Directory, File, Socket, CharDevice or BlockDevice.",
        protobuf=2)] = None


class PersistentVolumeClaimVolumeSource(K8sModel):
    """A claim's storage. Schooner has no PersistentVolumes: the claim is a node-local
    Docker volume that outlives the pod, and the scheduler brings the pod back to it."""

    claim_name: Annotated[str, field(
        "The claim's name, in the pod's namespace; it names the Docker volume.",
        protobuf=1)]
    read_only: Annotated[bool | None, field("Mount the volume read-only.", protobuf=2)] = None


class DownwardAPIVolumeFile(K8sModel):
    """One file of the pod's own fields (the downward API in a volume)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"mode": "pointer"}

    path: Annotated[str, field(
        "The file's path, relative to the volume's root (no `..`).", protobuf=1)]
    field_ref: Annotated[ObjectFieldSelector | None, field(
        "The pod field written: metadata.name, metadata.namespace, metadata.uid, "
        "metadata.labels, metadata.annotations, or one label or annotation "
        "(`metadata.labels['app']`).", protobuf=2)] = None
    resource_field_ref: Annotated[ResourceFieldSelector | None, field(
        "Refused by validation: Schooner's agent writes no resource values to files.",
        protobuf=3)] = None
    mode: Annotated[int | None, field(
        "The file's permission bits; defaults to the volume's defaultMode.",
        protobuf=4)] = None


class DownwardAPIVolumeSource(K8sModel):
    """The pod's own fields as files, written by the agent and mounted read-only."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"defaultMode": "pointer"}

    items: Annotated[list[DownwardAPIVolumeFile] | None, field(
        "The files to write.", protobuf=1, list_type="atomic")] = None
    default_mode: Annotated[int | None, field(
        "Permission bits of the files (0-0777); defaults to 0644.", protobuf=2)] = None


class DownwardAPIProjection(K8sModel):
    """The downward API as one source of a projected volume."""

    items: Annotated[list[DownwardAPIVolumeFile] | None, field(
        "The files to write.", protobuf=1, list_type="atomic")] = None


class ConfigMapProjection(K8sModel):
    """A ConfigMap's keys as one source of a projected volume."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"optional": "pointer"}

    name: Annotated[str | None, field(
        "Name of the object, in the pod's namespace (required).", protobuf=1,
        embedded=LOCAL_OBJECT_REFERENCE)] = None
    items: Annotated[list[KeyToPath] | None, field(
        "Only these keys, at these paths; by default every key becomes a file named "
        "after it.", protobuf=2, list_type="atomic")] = None
    optional: Annotated[bool | None, field(
        "When true, a missing object or key is skipped instead of keeping the pod from "
        "starting.", protobuf=4)] = None


class SecretProjection(ConfigMapProjection):
    """A Secret's keys (decoded) as one source of a projected volume."""


class ServiceAccountTokenProjection(K8sModel):
    """A token of the pod's ServiceAccount, bound to the pod; the agent asks for it with a
    TokenRequest and writes a new one before it expires (at 80% of its life)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"expirationSeconds": "pointer"}

    audience: Annotated[str | None, field(
        "The audience the token is for; defaults to the apiserver's own.",
        protobuf=1)] = None
    expiration_seconds: Annotated[int | None, field(
        "The token's requested lifetime: at least 600 (10 minutes); defaults to 3600.",
        protobuf=2)] = None
    path: Annotated[str, field(
        "The file's path, relative to the volume's root.", protobuf=3)]


class VolumeProjection(K8sModel):
    """One source of a projected volume: exactly one of its fields."""

    secret: Annotated[SecretProjection | None, field(
        "A Secret's keys.", protobuf=1)] = None
    downward_api: Annotated[DownwardAPIProjection | None, field(
        "The pod's own fields.", protobuf=2, alias="downwardAPI")] = None
    config_map: Annotated[ConfigMapProjection | None, field(
        "A ConfigMap's keys.", protobuf=3)] = None
    service_account_token: Annotated[ServiceAccountTokenProjection | None, field(
        "A pod-bound token of the pod's ServiceAccount.", protobuf=4)] = None


class ProjectedVolumeSource(K8sModel):
    """Several sources in one folder, written atomically by the agent on the node's tmpfs
    (Secrets and tokens never touch its disk) and mounted read-only."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"defaultMode": "pointer"}

    sources: Annotated[list[VolumeProjection] | None, field(
        "The sources, in order; their files may not share a path.", protobuf=1,
        list_type="atomic")] = None
    default_mode: Annotated[int | None, field(
        "Permission bits of the files (0-0777); defaults to 0644.", protobuf=2)] = None


class Volume(K8sModel):
    """A pod volume: one of the sources below. Other sources (nfs, csi, ...) are unknown
    fields here: never stored (fieldValidation drops or refuses them), so a volume of
    only such a source is refused as having no volume type."""

    name: Annotated[str, field(
        "A DNS label, unique in the pod; containers' volumeMounts refer to it.",
        protobuf=1)]
    empty_dir: Annotated[EmptyDirVolumeSource | None, field(
        "An empty scratch volume, removed with the pod.", protobuf=2,
        embedded=VOLUME_SOURCE)] = None
    config_map: Annotated[ConfigMapVolumeSource | None, field(
        "A ConfigMap's keys as files.", protobuf=19, embedded=VOLUME_SOURCE)] = None
    secret: Annotated[SecretVolumeSource | None, field(
        "A Secret's keys as files.", protobuf=6, embedded=VOLUME_SOURCE)] = None
    host_path: Annotated[HostPathVolumeSource | None, field(
        "A path on the node.", protobuf=1, embedded=VOLUME_SOURCE)] = None
    persistent_volume_claim: Annotated[PersistentVolumeClaimVolumeSource | None, field(
        "A claim's node-local volume, kept after the pod is gone.", protobuf=10,
        embedded=VOLUME_SOURCE)] = None
    downward_api: Annotated[DownwardAPIVolumeSource | None, field(
        "The pod's own fields as files.", protobuf=16, embedded=VOLUME_SOURCE,
        alias="downwardAPI")] = None
    projected: Annotated[ProjectedVolumeSource | None, field(
        "ConfigMaps, Secrets, the pod's fields and a service-account token in one folder "
        "(the ServiceAccount admission adds one, kube-api-access-*).", protobuf=26,
        embedded=VOLUME_SOURCE)] = None


# -- spec and template ------------------------------------------------------------


class PodDNSConfigOption(K8sModel):
    """One resolver option of the pod's resolv.conf (`ndots:2`, `edns0`)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"value": "pointer"}

    name: Annotated[str | None, field(
        "The option's name; it replaces a cluster option of the same name.",
        protobuf=1)] = None
    value: Annotated[str | None, field(
        "The option's value, written as `name:value`.", protobuf=2)] = None


class PodDNSConfig(K8sModel):
    """What the agent adds to the resolv.conf it writes for the pod."""

    nameservers: Annotated[list[str] | None, field(
        "Name servers after the cluster's; the agent writes the first three of all.",
        protobuf=1, list_type="atomic")] = None
    searches: Annotated[list[str] | None, field(
        "Search domains after the cluster's; the agent keeps the first 32 (2048 "
        "characters).", protobuf=2, list_type="atomic")] = None
    options: Annotated[list[PodDNSConfigOption] | None, field(
        "Resolver options, merged with the cluster's by name.", protobuf=3,
        list_type="atomic")] = None


class PodSpec(K8sModel):
    """What a pod runs and where: containers, volumes, scheduling constraints."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "terminationGracePeriodSeconds": "pointer", "activeDeadlineSeconds": "pointer",
        "automountServiceAccountToken": "pointer", "enableServiceLinks": "pointer",
        "priority": "pointer"}
    protobuf_unserved: ClassVar[Mapping[str, tuple[int, ProtobufZero]]] = {
        "serviceAccount": (9, "string")}

    containers: Annotated[list[Container], field(
        "The pod's containers, at least one; the agent runs them together in one "
        "network namespace. Only their images may change after creation.", protobuf=2,
        list_type="map", list_map_keys=("name",), merge_key="name",
        patch_strategy="merge")]
    init_containers: Annotated[list[Container] | None, field(
        "Containers run one after another, each to completion (exit 0), before any app "
        "container starts; a failed one is restarted with the crash-loop back-off, or "
        "fails the pod under restartPolicy Never. Sidecars (restartPolicy Always), probes "
        "and lifecycle hooks are refused.", protobuf=20,
        list_type="map", list_map_keys=("name",), merge_key="name",
        patch_strategy="merge")] = None
    volumes: Annotated[list[Volume] | None, field(
        "Volumes the containers may mount, each with exactly one source.", protobuf=1,
        list_type="map", list_map_keys=("name",), merge_key="name",
        patch_strategy="merge,retainKeys")] = None
    restart_policy: Annotated[str | None, field(
        "Always (the default), OnFailure or Never: whether the agent starts a container "
        "again after it exits. Pod templates of workloads allow only Always.",
        protobuf=3)] = None
    termination_grace_period_seconds: Annotated[int | None, field(
        "Seconds a deleted pod's containers get between SIGTERM (and preStop) and "
        "SIGKILL; defaults to 30, and the agent allows at least 2.", protobuf=4)] = None
    active_deadline_seconds: Annotated[int | None, field(
        "Seconds the pod may be active on its node, from its startTime; past it the agent "
        "fails the pod (reason DeadlineExceeded) and stops its containers. May only "
        "shrink; refused in workload templates.",
        protobuf=5)] = None
    dns_policy: Annotated[str | None, field(
        "ClusterFirst (the default) or ClusterFirstWithHostNet use the cluster DNS when "
        "the agent has one; Default keeps Docker's; None uses only the pod's dnsConfig.",
        protobuf=6)] = None
    dns_config: Annotated[PodDNSConfig | None, field(
        "Name servers, search domains and options for the pod's resolv.conf, added to "
        "the cluster's (with dnsPolicy None, the only ones).", protobuf=26)] = None
    node_selector: Annotated[dict[str, str] | None, field(
        "Labels a node must have, all of them, for the scheduler to place the pod there.",
        protobuf=7, map_type="atomic")] = None
    service_account_name: Annotated[str | None, field(
        "A service account name, readable through the downward API. Schooner has no "
        "ServiceAccount kind and mounts no token.", protobuf=8)] = None
    automount_service_account_token: Annotated[bool | None, field(
        "Stored; Schooner mounts no service account tokens either way.",
        protobuf=21)] = None
    node_name: Annotated[str | None, field(
        "The node the pod runs on, set when the scheduler binds it (or given at creation "
        "to skip the scheduler); a plain update cannot change it.", protobuf=10)] = None
    host_network: Annotated[bool | None, field(
        "Run the pod in the node's network namespace (its IP is the node's); the "
        "Pod Security level must allow it.", protobuf=11)] = None
    host_pid: Annotated[bool | None, field(
        "Share the node's process namespace (`--pid host`); the Pod Security level must "
        "allow it.", protobuf=12,
        alias="hostPID")] = None
    host_ipc: Annotated[bool | None, field(
        "Share the node's IPC namespace (`--ipc host`); the Pod Security level must allow "
        "it.", protobuf=13,
        alias="hostIPC")] = None
    security_context: Annotated[PodSecurityContext | None, field(
        "Pod-wide users, groups and profiles, applied by the agent; what it cannot apply "
        "is refused (docs/security.md).",
        protobuf=14)] = None
    image_pull_secrets: Annotated[list[LocalObjectReference] | None, field(
        "Secrets (kubernetes.io/dockerconfigjson or dockercfg) whose credentials for the "
        "image's registry the agent pulls with; a missing one is a warning event.",
        protobuf=15, list_type="map", list_map_keys=("name",),
        merge_key="name", patch_strategy="merge")] = None
    hostname: Annotated[str | None, field(
        "The containers' hostname (a DNS label); defaults to the pod's name. With a "
        "subdomain it also names the pod in DNS.", protobuf=16)] = None
    subdomain: Annotated[str | None, field(
        "A headless Service of this name makes the pod resolvable as "
        "`<hostname>.<subdomain>.<namespace>.svc`, as StatefulSet pods are.",
        protobuf=17)] = None
    affinity: Annotated[Affinity | None, field(
        "Scheduling rules; the scheduler applies node affinity (inter-pod affinity is "
        "refused).", protobuf=18)] = None
    scheduler_name: Annotated[str | None, field(
        "The scheduler that places the pod; defaults to default-scheduler, the name "
        "Schooner's scheduler answers to unless told otherwise.", protobuf=19)] = None
    tolerations: Annotated[list[Toleration] | None, field(
        "Taints the pod tolerates. On a running pod, tolerations may be added but not "
        "changed.", protobuf=22, list_type="atomic")] = None
    priority_class_name: Annotated[str | None, field(
        "The PriorityClass whose value becomes spec.priority when the pod is created; "
        "a name no class has is refused. Empty: the global default class, if any.",
        protobuf=24)] = None
    priority: Annotated[int | None, field(
        "Set by the apiserver from the PriorityClass when the pod is created (a different "
        "value sent is refused). The scheduler takes higher priorities first; it never "
        "preempts.",
        protobuf=25)] = None
    overhead: Annotated[ResourceList | None, field(
        "Resources the pod's sandbox takes beyond its containers. The scheduler adds them "
        "to the pod's requests when it fits the pod on a node; Schooner has no RuntimeClass "
        "to fill them in, so they are as the client sent them.", protobuf=32)] = None
    scheduling_gates: Annotated[list[PodSchedulingGate] | None, field(
        "Named gates (`{name: ...}`) that keep the pod from being scheduled while any "
        "remains; whoever added a gate removes it.", protobuf=38, list_type="map",
        list_map_keys=("name",), merge_key="name", patch_strategy="merge")] = None
    enable_service_links: Annotated[bool | None, field(
        "Stored; the agent injects no Service environment variables either way.",
        protobuf=30)] = None
    topology_spread_constraints: Annotated[list[TopologySpreadConstraint] | None, field(
        "Rules to spread pods over topology domains. Refused by Schooner's apiserver: "
        "the scheduler does not apply them (it spreads a controller's pods by itself).",
        protobuf=33, list_type="map", list_map_keys=("topologyKey", "whenUnsatisfiable"),
        merge_key="topologyKey", patch_strategy="merge")] = None


class PodTemplateSpec(K8sModel):
    """The pod a Deployment, ReplicaSet or StatefulSet stamps out."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"metadata": "value", "spec": "value"}

    metadata: Annotated[ObjectMeta | None, field(
        "Labels and annotations of the pods made from the template; its labels must "
        "match the workload's selector.", protobuf=1)] = None
    spec: Annotated[PodSpec | None, field(
        "The spec of the pods made from the template.", protobuf=2)] = None


# -- status -----------------------------------------------------------------------


class PodCondition(K8sModel):
    """One aspect of the pod's state: PodScheduled, Initialized, ContainersReady, Ready."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "lastProbeTime": "value", "lastTransitionTime": "value"}

    type: Annotated[str, field(
        "The aspect: PodScheduled (False from the scheduler while no node fits, True "
        "once bound), Initialized, ContainersReady or Ready (from the agent).",
        protobuf=1)]
    status: Annotated[str, field("True, False or Unknown.", protobuf=2)]
    last_probe_time: Annotated[Time | None, field(
        "When the condition was last checked.", protobuf=3)] = None
    last_transition_time: Annotated[Time | None, field(
        "When status last changed.", protobuf=4)] = None
    reason: Annotated[str | None, field(
        "A CamelCase reason for the status, e.g. Unschedulable or ContainersNotReady.",
        protobuf=5)] = None
    message: Annotated[str | None, field(
        "Details for people, e.g. why no node fits.", protobuf=6)] = None


class PodIP(K8sModel):
    """One of the pod's IP addresses."""

    ip: Annotated[str, field("The address.", protobuf=1)]


class HostIP(K8sModel):
    """One of the node's IP addresses, as seen from the pod."""

    ip: Annotated[str, field("The address.", protobuf=1)]


class PodStatus(K8sModel):
    """What the pod is doing, written by the scheduler and the agent."""

    protobuf_unserved: ClassVar[Mapping[str, tuple[int, ProtobufZero]]] = {
        "resize": (14, "string")}

    phase: Annotated[str | None, field(
        "Pending, Running, Succeeded, Failed or Unknown: the pod's place in its life, "
        "set by the agent (Pending at creation).", protobuf=1)] = None
    conditions: Annotated[list[PodCondition] | None, field(
        "The pod's conditions, one per type.", protobuf=2, list_type="map",
        list_map_keys=("type",), merge_key="type", patch_strategy="merge")] = None
    message: Annotated[str | None, field(
        "Why the pod is in its phase, for people.", protobuf=3)] = None
    reason: Annotated[str | None, field(
        "Why the pod is in its phase, CamelCase.", protobuf=4)] = None
    host_ip: Annotated[str | None, field(
        "The IP address of the node the pod runs on.", protobuf=5, alias="hostIP")] = None
    host_ips: Annotated[list[HostIP] | None, field(
        "The node's IP addresses; the first equals hostIP.", protobuf=16,
        list_type="atomic", merge_key="ip", patch_strategy="merge",
        alias="hostIPs")] = None
    pod_ip: Annotated[str | None, field(
        "The pod's IP address on the pod network, once its sandbox runs.", protobuf=6,
        alias="podIP")] = None
    pod_ips: Annotated[list[PodIP] | None, field(
        "The pod's IP addresses; the first equals podIP. Endpoints are made from these.",
        protobuf=12, list_type="map", list_map_keys=("ip",), merge_key="ip",
        patch_strategy="merge", alias="podIPs")] = None
    start_time: Annotated[Time | None, field(
        "When the agent first reported the pod's status, before its images were pulled.",
        protobuf=7)] = None
    container_statuses: Annotated[list[ContainerStatus] | None, field(
        "One status per container, as the agent last saw it.", protobuf=8,
        list_type="atomic")] = None
    init_container_statuses: Annotated[list[ContainerStatus] | None, field(
        "One status per init container; the agent writes none, as it runs none.",
        protobuf=10, list_type="atomic")] = None
    qos_class: Annotated[str | None, field(
        "Guaranteed, Burstable or BestEffort, from the containers' requests and limits; "
        "set by the apiserver at creation.", protobuf=9)] = None
    nominated_node_name: Annotated[str | None, field(
        "Stored; Schooner's scheduler does not preempt, so it nominates no node.",
        protobuf=11)] = None
