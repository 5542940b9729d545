"""Typed containers (core/v1 Container, its env, ports and mounts, and its status).

The shapes are Kubernetes' own (probes and lifecycle hooks live in
`apimachinery.models.probe`, security contexts in `apimachinery.models.security`);
the descriptions say what Schooner's agent does with each field. Fields the agent
does not act on are stored, and each says so. The fields the official Python client insists on (a
container's `name`, a container status's `imageID`) are required here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from apimachinery.models.meta import K8sModel, Quantity, ResourceList, Time
from apimachinery.models.probe import Lifecycle, Probe
from apimachinery.models.schema import (
    LOCAL_OBJECT_REFERENCE,
    ProtobufHint,
    ProtobufZero,
    field,
)
from apimachinery.models.security import SecurityContext

# -- environment ------------------------------------------------------------------

_OPTIONAL_REF = ("When true, a missing object or key is skipped instead of keeping the "
                 "container from starting.")


class ConfigMapKeySelector(K8sModel):
    """One key of a ConfigMap in the pod's namespace, as an environment variable's value."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"optional": "pointer"}

    name: Annotated[str | None, field(
        "Name of the ConfigMap, in the pod's namespace (required).", protobuf=1,
        embedded=LOCAL_OBJECT_REFERENCE)] = None
    key: Annotated[str, field("The key whose value becomes the variable's.", protobuf=2)]
    optional: Annotated[bool | None, field(_OPTIONAL_REF, protobuf=3)] = None


class SecretKeySelector(K8sModel):
    """One key of a Secret in the pod's namespace, as an environment variable's value."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"optional": "pointer"}

    name: Annotated[str | None, field(
        "Name of the Secret, in the pod's namespace (required).", protobuf=1,
        embedded=LOCAL_OBJECT_REFERENCE)] = None
    key: Annotated[str, field(
        "The key whose decoded value becomes the variable's.", protobuf=2)]
    optional: Annotated[bool | None, field(_OPTIONAL_REF, protobuf=3)] = None


class ObjectFieldSelector(K8sModel):
    """The downward API: `fieldPath: metadata.name`, `status.podIP`..."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    api_version: Annotated[str | None, field(
        "Version the field path is written against; only `v1`, the default.",
        protobuf=1)] = None
    field_path: Annotated[str, field(
        "The pod field to read: metadata.name, metadata.namespace, metadata.uid, "
        "metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, "
        "spec.serviceAccountName, status.hostIP(s) or status.podIP(s).", protobuf=2)]


class ResourceFieldSelector(K8sModel):
    """A container's own cpu or memory request or limit, as an environment variable's value."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"divisor": "value"}

    container_name: Annotated[str | None, field(
        "The container whose resources are read; defaults to the variable's own.",
        protobuf=1)] = None
    resource: Annotated[str | None, field(
        "limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, "
        "requests.memory or requests.ephemeral-storage: the value to read.", protobuf=2)] = None
    divisor: Annotated[Quantity | None, field(
        "The unit the value is given in, rounded up; defaults to 1.", protobuf=3)] = None


class EnvVarSource(K8sModel):
    """Where a variable's value comes from; exactly one source may be set."""

    config_map_key_ref: Annotated[ConfigMapKeySelector | None, field(
        "Take the value from a ConfigMap key.", protobuf=3)] = None
    secret_key_ref: Annotated[SecretKeySelector | None, field(
        "Take the value from a Secret key.", protobuf=4)] = None
    field_ref: Annotated[ObjectFieldSelector | None, field(
        "Take the value from a field of the pod itself (the downward API).",
        protobuf=1)] = None
    resource_field_ref: Annotated[ResourceFieldSelector | None, field(
        "Take the value from the container's own cpu or memory request or limit, "
        "rounded up.", protobuf=2)] = None


class EnvVar(K8sModel):
    """One environment variable of a container."""

    name: Annotated[str, field(
        "The variable's name; a later entry of the same name wins.", protobuf=1)]
    value: Annotated[str | None, field(
        "A literal value. `$(NAME)` refers to a variable defined earlier in the "
        "container and is expanded; `$$` writes a `$`.", protobuf=2)] = None
    value_from: Annotated[EnvVarSource | None, field(
        "Read the value from elsewhere instead; not allowed together with a non-empty "
        "value.", protobuf=3)] = None


class ConfigMapEnvSource(K8sModel):
    """A ConfigMap whose every key becomes an environment variable."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"optional": "pointer"}

    name: Annotated[str | None, field(
        "Name of the ConfigMap, in the pod's namespace (required).", protobuf=1,
        embedded=LOCAL_OBJECT_REFERENCE)] = None
    optional: Annotated[bool | None, field(
        "When true, a missing ConfigMap adds nothing instead of keeping the container "
        "from starting.", protobuf=2)] = None


class SecretEnvSource(K8sModel):
    """A Secret whose every key becomes an environment variable."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"optional": "pointer"}

    name: Annotated[str | None, field(
        "Name of the Secret, in the pod's namespace (required).", protobuf=1,
        embedded=LOCAL_OBJECT_REFERENCE)] = None
    optional: Annotated[bool | None, field(
        "When true, a missing Secret adds nothing instead of keeping the container from "
        "starting.", protobuf=2)] = None


class EnvFromSource(K8sModel):
    """A whole ConfigMap or Secret as environment variables; exactly one of the two."""

    prefix: Annotated[str | None, field(
        "Prepended to every key to make the variable's name.", protobuf=1)] = None
    config_map_ref: Annotated[ConfigMapEnvSource | None, field(
        "The ConfigMap to read.", protobuf=2)] = None
    secret_ref: Annotated[SecretEnvSource | None, field(
        "The Secret to read.", protobuf=3)] = None


# -- ports, mounts, resources -----------------------------------------------------


class ContainerPort(K8sModel):
    """A port the container listens on; it names the port for probes and Services."""

    container_port: Annotated[int, field(
        "The port number inside the pod's network namespace (1-65535).", protobuf=3)]
    name: Annotated[str | None, field(
        "An IANA-style name, unique in the container, that probes and a Service's "
        "targetPort may use instead of the number.", protobuf=1)] = None
    protocol: Annotated[str | None, field(
        "TCP (the default), UDP or SCTP.", protobuf=4)] = None
    host_port: Annotated[int | None, field(
        "A port on the node claimed for this pod: the scheduler keeps two pods claiming "
        "the same host port apart, but the agent does not publish it.",
        protobuf=2)] = None
    host_ip: Annotated[str | None, field(
        "The node address the host port is claimed on (default: all); read only by the "
        "scheduler's port check.", protobuf=5, alias="hostIP")] = None


class VolumeMount(K8sModel):
    """Where one of the pod's volumes appears inside a container."""

    protobuf_unserved: ClassVar[Mapping[str, tuple[int, ProtobufZero]]] = {
        "subPathExpr": (6, "string")}

    name: Annotated[str, field(
        "The pod volume to mount; it must be one of spec.volumes.", protobuf=1)]
    mount_path: Annotated[str, field(
        "The path in the container, unique among the container's mounts.", protobuf=3)]
    read_only: Annotated[bool | None, field(
        "Mount read-only (configMap and secret volumes always are).", protobuf=2)] = None
    sub_path: Annotated[str | None, field(
        "Mount only this relative path of the volume; the agent supports it for "
        "host-backed volumes (configMap, secret, hostPath).", protobuf=4)] = None


class ResourceRequirements(K8sModel):
    """A container's cpu and memory: what the scheduler reserves and what Docker enforces."""

    limits: Annotated[ResourceList | None, field(
        "The most the container may use: a cpu limit becomes a Docker CPU quota, a "
        "memory limit Docker's memory limit. A request above its limit is refused.",
        protobuf=1)] = None
    requests: Annotated[ResourceList | None, field(
        "What the scheduler reserves on the node for the container; a cpu request also "
        "sets Docker's CPU shares. Without one, the limit counts as the request.",
        protobuf=2)] = None


# -- the container ----------------------------------------------------------------


class Container(K8sModel):
    """One container of a pod; the agent runs it with Docker inside the pod's sandbox."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "resources": "value", "restartPolicy": "pointer"}

    name: Annotated[str, field(
        "A DNS label, unique among the pod's containers; it cannot change.", protobuf=1)]
    image: Annotated[str | None, field(
        "The image to run, as Docker names it (`nginx:1.27`). Required; the one container "
        "field a pod update may change, which restarts the container.", protobuf=2)] = None
    command: Annotated[list[str] | None, field(
        "Replaces the image's ENTRYPOINT (and drops its CMD); `$(NAME)` expands from the "
        "container's environment.", protobuf=3, list_type="atomic")] = None
    args: Annotated[list[str] | None, field(
        "Replaces the image's CMD; `$(NAME)` expands from the container's environment.",
        protobuf=4, list_type="atomic")] = None
    working_dir: Annotated[str | None, field(
        "The working directory; defaults to the image's.", protobuf=5)] = None
    ports: Annotated[list[ContainerPort] | None, field(
        "Ports the container listens on. Informational for traffic (the pod's IP reaches "
        "every port); names are used by probes and Services, host ports by the scheduler.",
        protobuf=6, list_type="map", list_map_keys=("containerPort", "protocol"),
        merge_key="containerPort", patch_strategy="merge")] = None
    env: Annotated[list[EnvVar] | None, field(
        "Environment variables, applied after envFrom and overriding it.", protobuf=7,
        list_type="map", list_map_keys=("name",), merge_key="name",
        patch_strategy="merge")] = None
    env_from: Annotated[list[EnvFromSource] | None, field(
        "ConfigMaps and Secrets whose keys all become environment variables, in order.",
        protobuf=19, list_type="atomic")] = None
    resources: Annotated[ResourceRequirements | None, field(
        "The container's cpu and memory requests and limits; they also decide the pod's "
        "QoS class.", protobuf=8)] = None
    volume_mounts: Annotated[list[VolumeMount] | None, field(
        "The pod volumes mounted into this container.", protobuf=9, list_type="map",
        list_map_keys=("mountPath",), merge_key="mountPath",
        patch_strategy="merge")] = None
    liveness_probe: Annotated[Probe | None, field(
        "Checked periodically; when it fails, the agent restarts the container.",
        protobuf=10)] = None
    readiness_probe: Annotated[Probe | None, field(
        "Checked periodically; the container is Ready, and the pod an endpoint of its "
        "Services, only while it passes.", protobuf=11)] = None
    startup_probe: Annotated[Probe | None, field(
        "Holds the other probes back until it passes once; a failure restarts the "
        "container.", protobuf=22)] = None
    lifecycle: Annotated[Lifecycle | None, field(
        "postStart and preStop hooks.", protobuf=12)] = None
    image_pull_policy: Annotated[str | None, field(
        "Always, IfNotPresent or Never: when the agent pulls the image. Defaults to "
        "Always for `:latest` or untagged images, else IfNotPresent.", protobuf=14)] = None
    termination_message_path: Annotated[str | None, field(
        "A file the container may write its termination message to (default "
        "/dev/termination-log); the agent mounts one there and copies at most 4096 bytes "
        "of it into the terminated state's message.", protobuf=13)] = None
    termination_message_policy: Annotated[str | None, field(
        "File (the default) or FallbackToLogsOnError: with an empty file and a non-zero "
        "exit, the last log lines (80 lines, 2048 bytes) are the message.",
        protobuf=20)] = None
    security_context: Annotated[SecurityContext | None, field(
        "Users, capabilities and privileges for the container, applied by the agent; what "
        "it cannot apply is refused (docs/security.md).", protobuf=15)] = None
    stdin: Annotated[bool | None, field(
        "Keep a stdin open for the container. Refused when true: the agent keeps none.",
        protobuf=16)] = None
    stdin_once: Annotated[bool | None, field(
        "Close the container's stdin after the first attach ends. Refused when true: the "
        "agent keeps no stdin.", protobuf=17)] = None
    tty: Annotated[bool | None, field(
        "Give the container a terminal. Refused when true: the agent allocates none.",
        protobuf=18)] = None
    restart_policy: Annotated[str | None, field(
        "Only `Always`, on an init container: a sidecar that keeps running beside the "
        "pod's containers. Refused (a 422): Schooner's agent does not run sidecars yet; "
        "on an app container it is forbidden, as in Kubernetes.", protobuf=24)] = None


# -- status -----------------------------------------------------------------------


class ContainerStateWaiting(K8sModel):
    """The container is not running yet (or again), and why."""

    reason: Annotated[str | None, field(
        "A CamelCase reason: ContainerCreating, ErrImagePull, ImagePullBackOff, "
        "CrashLoopBackOff, CreateContainerConfigError...", protobuf=1)] = None
    message: Annotated[str | None, field("Details of the reason.", protobuf=2)] = None


class ContainerStateRunning(K8sModel):
    """The container is running."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"startedAt": "value"}

    started_at: Annotated[Time | None, field(
        "When the container (this instance of it) started.", protobuf=1)] = None


class ContainerStateTerminated(K8sModel):
    """The container ran and exited."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "finishedAt": "value", "startedAt": "value"}

    exit_code: Annotated[int, field("The process's exit code.", protobuf=1)]
    signal: Annotated[int | None, field(
        "The signal that ended it, when one did.", protobuf=2)] = None
    reason: Annotated[str | None, field(
        "Completed, Error, OOMKilled...", protobuf=3)] = None
    message: Annotated[str | None, field("Details of the reason.", protobuf=4)] = None
    started_at: Annotated[Time | None, field("When it started.", protobuf=5)] = None
    finished_at: Annotated[Time | None, field("When it exited.", protobuf=6)] = None
    container_id: Annotated[str | None, field(
        "The runtime's ID of the container that exited, `docker://<id>`.", protobuf=7,
        alias="containerID")] = None


class ContainerState(K8sModel):
    """Exactly one of waiting, running, terminated."""

    waiting: Annotated[ContainerStateWaiting | None, field(
        "Set while the container is not running.", protobuf=1)] = None
    running: Annotated[ContainerStateRunning | None, field(
        "Set while it runs.", protobuf=2)] = None
    terminated: Annotated[ContainerStateTerminated | None, field(
        "Set once it has exited.", protobuf=3)] = None


class ContainerStatus(K8sModel):
    """What the agent last saw of one container; written by the agent only."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "started": "pointer", "lastState": "value", "state": "value"}

    name: Annotated[str, field("The container's name in the pod spec.", protobuf=1)]
    ready: Annotated[bool, field(
        "Whether its readiness probe passes (true once running when it has none).",
        protobuf=4)]
    restart_count: Annotated[int, field(
        "How often the agent has restarted it.", protobuf=5)]
    image: Annotated[str, field("The image it runs.", protobuf=6)]
    image_id: Annotated[str, field(
        "The ID of the image it runs, as Docker reports it.", protobuf=7,
        alias="imageID")]
    container_id: Annotated[str | None, field(
        "The runtime's ID of its current instance, `docker://<id>`.", protobuf=8,
        alias="containerID")] = None
    state: Annotated[ContainerState | None, field(
        "Its current state.", protobuf=2)] = None
    last_state: Annotated[ContainerState | None, field(
        "How its previous instance ended, after a restart.", protobuf=3)] = None
    started: Annotated[bool | None, field(
        "Whether its startup probe has passed (true once running when it has none).",
        protobuf=9)] = None
