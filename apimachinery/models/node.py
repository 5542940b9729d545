"""Typed Node (core/v1): spec, taints, and the status its agent reports.

The shapes, wire names and protobuf numbers are Kubernetes'. The agent writes
the status (`agent/nodestatus`): capacity, conditions, addresses, nodeInfo, its
daemon endpoint and the claim volumes it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import K8sModel, Kind, ResourceList, Time, TypedObject
from apimachinery.models.schema import ProtobufHint, ProtobufZero, field


class Taint(K8sModel):
    """`key=value:effect` that repels pods without a matching toleration."""

    key: Annotated[str, field("The taint's key, a qualified name.", protobuf=1)]
    value: Annotated[str | None, field(
        "The taint's value, a label value.", protobuf=2)] = None
    effect: Annotated[str, field(
        "NoSchedule (the scheduler keeps new pods off), PreferNoSchedule (it avoids the "
        "node) or NoExecute (pods not tolerating it are also evicted).", protobuf=3)]
    time_added: Annotated[Time | None, field(
        "When a NoExecute taint was added; toleration seconds count from here.",
        protobuf=4)] = None


class NodeSpec(K8sModel):
    """How the node is set up: its pod network range, and whether pods may land on it."""

    protobuf_unserved: ClassVar[Mapping[str, tuple[int, ProtobufZero]]] = {
        "externalID": (2, "string")}

    pod_cidr: Annotated[str | None, field(
        "The node's pod IP range, assigned once by the node IPAM controller from the "
        "cluster CIDR; it may be set only once.", protobuf=1, alias="podCIDR")] = None
    pod_cidrs: Annotated[list[str] | None, field(
        "The node's pod IP ranges; the first equals podCIDR.", protobuf=7,
        list_type="set", patch_strategy="merge", alias="podCIDRs")] = None
    provider_id: Annotated[str | None, field(
        "An ID of the machine at its provider; set at most once.", protobuf=3,
        alias="providerID")] = None
    unschedulable: Annotated[bool | None, field(
        "When true (`kubectl cordon`), the scheduler places no new pods on the node.",
        protobuf=4)] = None
    taints: Annotated[list[Taint] | None, field(
        "Taints that repel pods without matching tolerations; the node lifecycle "
        "controller adds and removes the not-ready and unreachable ones.", protobuf=5,
        list_type="atomic")] = None


class NodeCondition(K8sModel):
    """One aspect of the node's health, written by its agent."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "lastHeartbeatTime": "value", "lastTransitionTime": "value"}

    type: Annotated[str, field(
        "Ready, MemoryPressure, DiskPressure or PIDPressure.", protobuf=1)]
    status: Annotated[str, field(
        "True, False or Unknown; the node lifecycle controller sets Unknown when the "
        "agent stops reporting.", protobuf=2)]
    last_heartbeat_time: Annotated[Time | None, field(
        "When the agent last reported this condition.", protobuf=3)] = None
    last_transition_time: Annotated[Time | None, field(
        "When status last changed.", protobuf=4)] = None
    reason: Annotated[str | None, field(
        "A CamelCase reason, e.g. KubeletReady.", protobuf=5)] = None
    message: Annotated[str | None, field("Details for people.", protobuf=6)] = None


class NodeAddress(K8sModel):
    """One address of the node."""

    type: Annotated[str, field(
        "InternalIP (what other nodes route pod traffic through) or Hostname.",
        protobuf=1)]
    address: Annotated[str, field("The address.", protobuf=2)]


class DaemonEndpoint(K8sModel):
    """A port a daemon of the node listens on."""

    port: Annotated[int | None, field(
        "The port. Its wire name is capitalised (`Port`), as in Kubernetes.",
        protobuf=1, alias="Port")] = None


class NodeDaemonEndpoints(K8sModel):
    """Where the node's daemons listen."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"kubeletEndpoint": "value"}

    kubelet_endpoint: Annotated[DaemonEndpoint | None, field(
        "The agent's own server, which the apiserver calls for logs, exec and "
        "port-forward.", protobuf=1)] = None


class NodeSystemInfo(K8sModel):
    """Facts about the machine, reported by its agent."""

    machine_id: Annotated[str | None, field(
        "The machine ID (/etc/machine-id).", protobuf=1, alias="machineID")] = None
    system_uuid: Annotated[str | None, field(
        "The system UUID; Schooner's agent reports the machine ID.", protobuf=2,
        alias="systemUUID")] = None
    boot_id: Annotated[str | None, field(
        "Changes at every boot of the machine.", protobuf=3, alias="bootID")] = None
    kernel_version: Annotated[str | None, field(
        "The kernel release, as `uname -r` prints it.", protobuf=4)] = None
    os_image: Annotated[str | None, field(
        "The operating system's name, from /etc/os-release.", protobuf=5)] = None
    container_runtime_version: Annotated[str | None, field(
        "The container runtime and its version, `docker://<version>`.",
        protobuf=6)] = None
    kubelet_version: Annotated[str | None, field(
        "The agent's version, as a kubelet's (`v1.32.0-schooner`).", protobuf=7)] = None
    kube_proxy_version: Annotated[str | None, field(
        "Deprecated in Kubernetes; the agent reports its own version.",
        protobuf=8)] = None
    operating_system: Annotated[str | None, field(
        "The GOOS-style system name: linux.", protobuf=9)] = None
    architecture: Annotated[str | None, field(
        "The GOARCH-style architecture: amd64, arm64...", protobuf=10)] = None


class ContainerImage(K8sModel):
    """An image present on the node."""

    names: Annotated[list[str] | None, field(
        "The image's names and digests.", protobuf=1, list_type="atomic")] = None
    size_bytes: Annotated[int | None, field(
        "The image's size in bytes.", protobuf=2)] = None


class AttachedVolume(K8sModel):
    """A volume the node holds."""

    name: Annotated[str | None, field(
        "The volume's unique name; Schooner's agent writes "
        "`schooner.io/pvc/<namespace>/<claim>` for a claim's volume.", protobuf=1)] = None
    device_path: Annotated[str | None, field(
        "Where the volume is on the node; Schooner's agent writes the Docker volume's "
        "name.", protobuf=2)] = None


class NodeStatus(K8sModel):
    """What the node's agent last reported about it."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "daemonEndpoints": "value", "nodeInfo": "value"}

    capacity: Annotated[ResourceList | None, field(
        "The node's cpu, memory, ephemeral-storage and pod slots.", protobuf=1)] = None
    allocatable: Annotated[ResourceList | None, field(
        "What the scheduler may hand out to pods; equal to capacity in Schooner.",
        protobuf=2)] = None
    phase: Annotated[str | None, field(
        "Deprecated in Kubernetes; stored, not written by Schooner.", protobuf=3)] = None
    conditions: Annotated[list[NodeCondition] | None, field(
        "Ready and the pressure conditions, refreshed by the agent on every heartbeat.",
        protobuf=4, list_type="map", list_map_keys=("type",), merge_key="type",
        patch_strategy="merge")] = None
    addresses: Annotated[list[NodeAddress] | None, field(
        "The node's InternalIP and Hostname.", protobuf=5, list_type="map",
        list_map_keys=("type",), merge_key="type", patch_strategy="merge")] = None
    daemon_endpoints: Annotated[NodeDaemonEndpoints | None, field(
        "The port of the agent's own server, which the apiserver calls for logs and "
        "exec.", protobuf=6)] = None
    node_info: Annotated[NodeSystemInfo | None, field(
        "Facts about the machine: kernel, OS image, architecture, container runtime.",
        protobuf=7)] = None
    images: Annotated[list[ContainerImage] | None, field(
        "Images present on the node. Stored; the agent does not report them.",
        protobuf=8, list_type="atomic")] = None
    volumes_attached: Annotated[list[AttachedVolume] | None, field(
        "The volumes attached to the node, as its agent reports them; the scheduler's "
        "volume binding reads them.", protobuf=10,
        list_type="atomic")] = None


class Node(TypedObject):
    """A machine that runs pods: registered and kept up to date by its agent."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    kind: Kind = "Node"
    spec: Annotated[NodeSpec | None, field(
        "The node's pod range, taints and cordon.", protobuf=2)] = None
    status: Annotated[NodeStatus | None, field(
        "What the agent reports: resources, conditions, addresses.", protobuf=3)] = None
