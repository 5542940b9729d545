"""Typed pod spec and status (core/v1 PodSpec, Container, Volume, PodStatus...).

The shapes are Kubernetes' own. Fields a component reads are typed; the
sprawling rest (security contexts, pod affinity, topology spread) stays as
loose dicts, and anything else a user sends is kept as an extra field. The
fields the official Python client insists on (a container's `name`, a
condition's `status`, a container status's `imageID`) are required here too.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from apimachinery.models.meta import (
    IntOrString,
    K8sModel,
    LocalObjectReference,
    ObjectMeta,
    Quantity,
    ResourceList,
    Time,
)

# -- environment ------------------------------------------------------------------


class ConfigMapKeySelector(K8sModel):
    name: str | None = None
    key: str
    optional: bool | None = None


class SecretKeySelector(K8sModel):
    name: str | None = None
    key: str
    optional: bool | None = None


class ObjectFieldSelector(K8sModel):
    """The downward API: `fieldPath: metadata.name`, `status.podIP`..."""

    api_version: str | None = None
    field_path: str


class EnvVarSource(K8sModel):
    config_map_key_ref: ConfigMapKeySelector | None = None
    secret_key_ref: SecretKeySelector | None = None
    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: dict[str, Any] | None = None


class EnvVar(K8sModel):
    name: str
    value: str | None = None
    value_from: EnvVarSource | None = None


class ConfigMapEnvSource(K8sModel):
    name: str | None = None
    optional: bool | None = None


class SecretEnvSource(K8sModel):
    name: str | None = None
    optional: bool | None = None


class EnvFromSource(K8sModel):
    prefix: str | None = None
    config_map_ref: ConfigMapEnvSource | None = None
    secret_ref: SecretEnvSource | None = None


# -- containers -------------------------------------------------------------------


class ContainerPort(K8sModel):
    container_port: int
    name: str | None = None
    protocol: str | None = None
    host_port: int | None = None
    host_ip: str | None = Field(default=None, alias="hostIP")


class VolumeMount(K8sModel):
    name: str
    mount_path: str
    read_only: bool | None = None
    sub_path: str | None = None


class ResourceRequirements(K8sModel):
    limits: ResourceList | None = None
    requests: ResourceList | None = None


class ExecAction(K8sModel):
    command: list[str] | None = None


class HTTPHeader(K8sModel):
    name: str
    value: str


class HTTPGetAction(K8sModel):
    path: str | None = None
    port: IntOrString
    host: str | None = None
    scheme: str | None = None
    http_headers: list[HTTPHeader] | None = None


class TCPSocketAction(K8sModel):
    port: IntOrString
    host: str | None = None


class Probe(K8sModel):
    """Liveness/readiness/startup probe: one handler plus the timing fields."""

    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: dict[str, Any] | None = None
    initial_delay_seconds: int | None = None
    timeout_seconds: int | None = None
    period_seconds: int | None = None
    success_threshold: int | None = None
    failure_threshold: int | None = None
    termination_grace_period_seconds: int | None = None


class LifecycleHandler(K8sModel):
    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    sleep: dict[str, Any] | None = None


class Lifecycle(K8sModel):
    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None


class Container(K8sModel):
    name: str
    image: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    working_dir: str | None = None
    ports: list[ContainerPort] | None = None
    env: list[EnvVar] | None = None
    env_from: list[EnvFromSource] | None = None
    resources: ResourceRequirements | None = None
    volume_mounts: list[VolumeMount] | None = None
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: Lifecycle | None = None
    image_pull_policy: str | None = None
    termination_message_path: str | None = None
    termination_message_policy: str | None = None
    security_context: dict[str, Any] | None = None
    stdin: bool | None = None
    tty: bool | None = None


# -- volumes ----------------------------------------------------------------------


class KeyToPath(K8sModel):
    key: str
    path: str
    mode: int | None = None


class EmptyDirVolumeSource(K8sModel):
    medium: str | None = None
    size_limit: Quantity | None = None


class ConfigMapVolumeSource(K8sModel):
    name: str | None = None
    items: list[KeyToPath] | None = None
    default_mode: int | None = None
    optional: bool | None = None


class SecretVolumeSource(K8sModel):
    secret_name: str | None = None
    items: list[KeyToPath] | None = None
    default_mode: int | None = None
    optional: bool | None = None


class HostPathVolumeSource(K8sModel):
    path: str
    type: str | None = None


class PersistentVolumeClaimVolumeSource(K8sModel):
    claim_name: str
    read_only: bool | None = None


class Volume(K8sModel):
    """A pod volume; other sources (projected, nfs, csi...) are kept as extra fields."""

    name: str
    empty_dir: EmptyDirVolumeSource | None = None
    config_map: ConfigMapVolumeSource | None = None
    secret: SecretVolumeSource | None = None
    host_path: HostPathVolumeSource | None = None
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = None


# -- scheduling -------------------------------------------------------------------


class Toleration(K8sModel):
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


class NodeSelectorRequirement(K8sModel):
    key: str
    operator: str
    values: list[str] | None = None


class NodeSelectorTerm(K8sModel):
    match_expressions: list[NodeSelectorRequirement] | None = None
    match_fields: list[NodeSelectorRequirement] | None = None


class NodeSelector(K8sModel):
    node_selector_terms: list[NodeSelectorTerm]


class PreferredSchedulingTerm(K8sModel):
    weight: int
    preference: NodeSelectorTerm


class NodeAffinity(K8sModel):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: (
        list[PreferredSchedulingTerm] | None) = None


class Affinity(K8sModel):
    """Node affinity is typed (the scheduler reads it); pod (anti-)affinity stays loose."""

    node_affinity: NodeAffinity | None = None
    pod_affinity: dict[str, Any] | None = None
    pod_anti_affinity: dict[str, Any] | None = None


# -- spec and template ------------------------------------------------------------


class PodSpec(K8sModel):
    containers: list[Container]
    init_containers: list[Container] | None = None
    volumes: list[Volume] | None = None
    restart_policy: str | None = None
    termination_grace_period_seconds: int | None = None
    active_deadline_seconds: int | None = None
    dns_policy: str | None = None
    node_selector: dict[str, str] | None = None
    service_account_name: str | None = None
    automount_service_account_token: bool | None = None
    node_name: str | None = None
    host_network: bool | None = None
    host_pid: bool | None = Field(default=None, alias="hostPID")
    host_ipc: bool | None = Field(default=None, alias="hostIPC")
    security_context: dict[str, Any] | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None
    hostname: str | None = None
    subdomain: str | None = None
    affinity: Affinity | None = None
    scheduler_name: str | None = None
    tolerations: list[Toleration] | None = None
    priority_class_name: str | None = None
    priority: int | None = None
    enable_service_links: bool | None = None
    topology_spread_constraints: list[dict[str, Any]] | None = None


class PodTemplateSpec(K8sModel):
    """The pod a Deployment, ReplicaSet or StatefulSet stamps out."""

    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None


# -- status -----------------------------------------------------------------------


class PodCondition(K8sModel):
    type: str
    status: str
    last_probe_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class ContainerStateWaiting(K8sModel):
    reason: str | None = None
    message: str | None = None


class ContainerStateRunning(K8sModel):
    started_at: Time | None = None


class ContainerStateTerminated(K8sModel):
    exit_code: int
    signal: int | None = None
    reason: str | None = None
    message: str | None = None
    started_at: Time | None = None
    finished_at: Time | None = None
    container_id: str | None = Field(default=None, alias="containerID")


class ContainerState(K8sModel):
    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


class ContainerStatus(K8sModel):
    name: str
    ready: bool
    restart_count: int
    image: str
    image_id: str = Field(alias="imageID")
    container_id: str | None = Field(default=None, alias="containerID")
    state: ContainerState | None = None
    last_state: ContainerState | None = None
    started: bool | None = None


class PodIP(K8sModel):
    ip: str


class PodStatus(K8sModel):
    phase: str | None = None
    conditions: list[PodCondition] | None = None
    message: str | None = None
    reason: str | None = None
    host_ip: str | None = Field(default=None, alias="hostIP")
    host_ips: list[PodIP] | None = Field(default=None, alias="hostIPs")
    pod_ip: str | None = Field(default=None, alias="podIP")
    pod_ips: list[PodIP] | None = Field(default=None, alias="podIPs")
    start_time: Time | None = None
    container_statuses: list[ContainerStatus] | None = None
    init_container_statuses: list[ContainerStatus] | None = None
    qos_class: str | None = None
    nominated_node_name: str | None = None
