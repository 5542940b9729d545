"""Typed core/v1 kinds: Namespace, Pod, Service, Endpoints, ConfigMap, Secret, Event.

Each top-level kind is a `TypedObject` (`from_dict` / `to_dict`); the pod's
spec and status live in `apimachinery.models.pod`, the Node in
`apimachinery.models.node`. Acronyms keep Kubernetes'
spelling on the wire (`clusterIP`, `podCIDR`, `providerID`), so those aliases
are written out instead of generated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from apimachinery.models.meta import (
    Condition,
    IntOrString,
    K8sModel,
    Kind,
    ObjectReference,
    Time,
    TypedObject,
)
from apimachinery.models.pod import PodSpec, PodStatus
from apimachinery.models.schema import ProtobufHint, ProtobufZero, field

# -- Namespace --------------------------------------------------------------------


class NamespaceSpec(K8sModel):
    """What a namespace needs before it may be removed."""

    finalizers: Annotated[list[str] | None, field(
        "Set to `kubernetes` at creation; the namespace controller removes it once "
        "everything in the namespace is gone, and only then is the namespace deleted.",
        protobuf=1, list_type="atomic")] = None


class NamespaceCondition(K8sModel):
    """One aspect of a namespace's deletion, such as content that cannot be removed."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"lastTransitionTime": "value"}

    type: Annotated[str | None, field(
        "The aspect, e.g. NamespaceDeletionContentFailure or NamespaceContentRemaining.",
        protobuf=1)] = None
    status: Annotated[str | None, field("True, False or Unknown.", protobuf=2)] = None
    last_transition_time: Annotated[Time | None, field(
        "When status last changed.", protobuf=4)] = None
    reason: Annotated[str | None, field(
        "A CamelCase reason for the status.", protobuf=5)] = None
    message: Annotated[str | None, field("Details for people.", protobuf=6)] = None


class NamespaceStatus(K8sModel):
    """Whether the namespace accepts new objects."""

    phase: Annotated[str | None, field(
        "Active, or Terminating once deletion began; a Terminating namespace refuses "
        "new objects.", protobuf=1)] = None
    conditions: Annotated[list[NamespaceCondition] | None, field(
        "Conditions of the namespace's deletion. Stored; Schooner's namespace controller "
        "does not write them.", protobuf=2, list_type="map", list_map_keys=("type",),
        merge_key="type", patch_strategy="merge")] = None


class Namespace(TypedObject):
    """A scope for names; deleting it deletes everything in it."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    kind: Kind = "Namespace"
    spec: Annotated[NamespaceSpec | None, field(
        "The namespace's finalizers.", protobuf=2)] = None
    status: Annotated[NamespaceStatus | None, field(
        "The namespace's phase, set by the apiserver.", protobuf=3)] = None


# -- Pod --------------------------------------------------------------------------


class Pod(TypedObject):
    """Containers that run together on one node, sharing one IP."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    kind: Kind = "Pod"
    spec: Annotated[PodSpec | None, field(
        "What to run, and constraints on where.", protobuf=2)] = None
    status: Annotated[PodStatus | None, field(
        "What the pod is doing, written by the scheduler and the agent.",
        protobuf=3)] = None


# -- Service and Endpoints --------------------------------------------------------


class ServicePort(K8sModel):
    """One port a Service serves, and where it sends the traffic."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "targetPort": "value", "appProtocol": "pointer"}

    name: Annotated[str | None, field(
        "A DNS label, unique in the Service; required when it has several ports, and "
        "matched to the Endpoints' port names.", protobuf=1)] = None
    protocol: Annotated[str | None, field(
        "TCP (the default), UDP or SCTP; the proxy forwards TCP only.", protobuf=2)] = None
    port: Annotated[int, field(
        "The port on the Service's cluster IP.", protobuf=3)]
    target_port: Annotated[IntOrString | None, field(
        "The pods' port, by number or by container port name; defaults to `port`.",
        protobuf=4)] = None
    node_port: Annotated[int | None, field(
        "For NodePort and LoadBalancer Services, the port on every node, allocated from "
        "the node port range unless given; refused on ClusterIP Services.",
        protobuf=5)] = None
    app_protocol: Annotated[str | None, field(
        "A hint of the application protocol, copied to the Endpoints' port.",
        protobuf=6)] = None


class ClientIPConfig(K8sModel):
    """How long ClientIP affinity lasts."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"timeoutSeconds": "pointer"}

    timeout_seconds: Annotated[int | None, field(
        "How long an idle client keeps its endpoint, in seconds; defaults to 10800, "
        "three hours. The proxy applies it.", protobuf=1)] = None


class SessionAffinityConfig(K8sModel):
    """The settings of a Service's session affinity."""

    client_ip: Annotated[ClientIPConfig | None, field(
        "The settings of ClientIP affinity.", protobuf=1, alias="clientIP")] = None


class ServiceSpec(K8sModel):
    """How a Service is reached and which pods it sends traffic to."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "internalTrafficPolicy": "pointer", "ipFamilyPolicy": "pointer"}
    protobuf_unserved: ClassVar[Mapping[str, tuple[int, ProtobufZero]]] = {
        "healthCheckNodePort": (12, "int")}

    type: Annotated[str | None, field(
        "ClusterIP (the default) and NodePort are proxied on every node; ExternalName is "
        "a DNS alias only; LoadBalancer is allocated node ports but neither proxied nor "
        "given a load balancer.",
        protobuf=4)] = None
    selector: Annotated[dict[str, str] | None, field(
        "The labels of the pods the endpoints controller lists as this Service's "
        "endpoints; without one, Endpoints are managed by hand.", protobuf=2,
        map_type="atomic")] = None
    ports: Annotated[list[ServicePort] | None, field(
        "The ports served; at least one unless headless or ExternalName.", protobuf=1,
        list_type="map", list_map_keys=("port", "protocol"), merge_key="port",
        patch_strategy="merge")] = None
    cluster_ip: Annotated[str | None, field(
        "The virtual IP, allocated from the service cluster IP range unless given, or "
        "`None` for a headless Service; it cannot change.", protobuf=3,
        alias="clusterIP")] = None
    cluster_ips: Annotated[list[str] | None, field(
        "The virtual IPs; kept equal to [clusterIP].", protobuf=18, list_type="atomic",
        alias="clusterIPs")] = None
    external_ips: Annotated[list[str] | None, field(
        "Stored; the proxy does not serve Services on external IPs.", protobuf=5,
        list_type="atomic", alias="externalIPs")] = None
    external_name: Annotated[str | None, field(
        "For ExternalName Services, the DNS name the cluster DNS answers with a CNAME.",
        protobuf=10)] = None
    session_affinity: Annotated[str | None, field(
        "None (the default) or ClientIP, which makes the proxy send a client to the same "
        "endpoint while it keeps connecting.", protobuf=7)] = None
    session_affinity_config: Annotated[SessionAffinityConfig | None, field(
        "The settings of ClientIP affinity.", protobuf=14)] = None
    load_balancer_ip: Annotated[str | None, field(
        "Stored; Schooner provisions no load balancers.", protobuf=8,
        alias="loadBalancerIP")] = None
    external_traffic_policy: Annotated[str | None, field(
        "Cluster or Local, for NodePort and LoadBalancer Services only. Validated and "
        "stored; the proxy always uses every endpoint.", protobuf=11)] = None
    internal_traffic_policy: Annotated[str | None, field(
        "Stored; the proxy always uses every endpoint.", protobuf=22)] = None
    ip_families: Annotated[list[str] | None, field(
        "IPv4 or IPv6; stored, as Schooner's service range decides the family.",
        protobuf=19, list_type="atomic")] = None
    ip_family_policy: Annotated[str | None, field(
        "SingleStack, PreferDualStack or RequireDualStack; stored, Schooner allocates a "
        "single IP.", protobuf=17)] = None
    publish_not_ready_addresses: Annotated[bool | None, field(
        "When true, pods are listed as ready endpoints whether they are ready or not.",
        protobuf=13)] = None


class PortStatus(K8sModel):
    """The state of one port of a load balancer."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"error": "pointer"}

    port: Annotated[int | None, field("The port number.", protobuf=1)] = None
    protocol: Annotated[str | None, field("TCP, UDP or SCTP.", protobuf=2)] = None
    error: Annotated[str | None, field(
        "Why the port is not served, as a CamelCase reason.", protobuf=3)] = None


class LoadBalancerIngress(K8sModel):
    """An address a load balancer takes traffic on."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"ipMode": "pointer"}

    ip: Annotated[str | None, field("The address, when it is an IP.", protobuf=1)] = None
    hostname: Annotated[str | None, field(
        "The address, when it is a DNS name.", protobuf=2)] = None
    ip_mode: Annotated[str | None, field(
        "VIP or Proxy: how traffic reaches the endpoints.", protobuf=3)] = None
    ports: Annotated[list[PortStatus] | None, field(
        "The state of the load balancer's ports.", protobuf=4, list_type="atomic")] = None


class LoadBalancerStatus(K8sModel):
    """The addresses of a Service's load balancer."""

    ingress: Annotated[list[LoadBalancerIngress] | None, field(
        "The addresses traffic for the Service arrives on.", protobuf=1,
        list_type="atomic")] = None


class ServiceStatus(K8sModel):
    """A Service's load balancer and conditions; Schooner writes neither."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"loadBalancer": "value"}

    load_balancer: Annotated[LoadBalancerStatus | None, field(
        "The load balancer's ingress addresses. Stored; Schooner provisions none.",
        protobuf=1)] = None
    conditions: Annotated[list[Condition] | None, field(
        "The Service's conditions. Stored; Schooner writes none.", protobuf=2,
        list_type="map", list_map_keys=("type",), merge_key="type",
        patch_strategy="merge")] = None


class Service(TypedObject):
    """A stable virtual IP and DNS name in front of a changing set of pods."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    kind: Kind = "Service"
    spec: Annotated[ServiceSpec | None, field(
        "Ports, selector and type of the Service.", protobuf=2)] = None
    status: Annotated[ServiceStatus | None, field(
        "Load balancer status; unused in Schooner.", protobuf=3)] = None


class EndpointAddress(K8sModel):
    """One pod (or other target) behind a Service."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"nodeName": "pointer"}

    ip: Annotated[str, field("The target's IP address.", protobuf=1)]
    hostname: Annotated[str | None, field(
        "The pod's hostname, when the pod's subdomain names this Service; the cluster "
        "DNS then answers `<hostname>.<service>`.", protobuf=3)] = None
    node_name: Annotated[str | None, field(
        "The node the target runs on.", protobuf=4)] = None
    target_ref: Annotated[ObjectReference | None, field(
        "The pod this address belongs to.", protobuf=2)] = None


class EndpointPort(K8sModel):
    """One port of the endpoints, named after the Service port it serves."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"appProtocol": "pointer"}

    name: Annotated[str | None, field(
        "The Service port's name; required when there are several ports.",
        protobuf=1)] = None
    port: Annotated[int, field("The port on the targets.", protobuf=2)]
    protocol: Annotated[str | None, field(
        "TCP (the default), UDP or SCTP.", protobuf=3)] = None
    app_protocol: Annotated[str | None, field(
        "The Service port's appProtocol.", protobuf=4)] = None


class EndpointSubset(K8sModel):
    """Ready `addresses` and `notReadyAddresses`, each served on every one of `ports`."""

    addresses: Annotated[list[EndpointAddress] | None, field(
        "Targets that are ready; the proxy and the cluster DNS use only these.",
        protobuf=1, list_type="atomic")] = None
    not_ready_addresses: Annotated[list[EndpointAddress] | None, field(
        "Targets that are not ready yet.", protobuf=2, list_type="atomic")] = None
    ports: Annotated[list[EndpointPort] | None, field(
        "The ports every address serves.", protobuf=3, list_type="atomic")] = None


class Endpoints(TypedObject):
    """The addresses behind the Service of the same name; the endpoints controller keeps
    those of Services with a selector up to date."""

    kind: Kind = "Endpoints"
    subsets: Annotated[list[EndpointSubset] | None, field(
        "Groups of addresses that share the same ports.", protobuf=2,
        list_type="atomic")] = None


# -- ConfigMap and Secret ---------------------------------------------------------


class ConfigMap(TypedObject):
    """Configuration as keys and values, for environment variables and volume files."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "binaryData": "bytes", "immutable": "pointer"}

    kind: Kind = "ConfigMap"
    data: Annotated[dict[str, str] | None, field(
        "UTF-8 values by key; keys are file-name-like, and data plus binaryData may "
        "hold at most 1 MiB.", protobuf=2)] = None
    binary_data: Annotated[dict[str, str] | None, field(
        "Binary values, base64-encoded on the wire; a key may not also be in data.",
        protobuf=3)] = None
    immutable: Annotated[bool | None, field(
        "When true, data and binaryData can no longer change, nor can this flag be "
        "unset.", protobuf=4)] = None


class Secret(TypedObject):
    """`data` values are base64 strings on the wire; `stringData` is write-only plain text."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"data": "bytes", "immutable": "pointer"}

    kind: Kind = "Secret"
    data: Annotated[dict[str, str] | None, field(
        "Values by key, base64-encoded on the wire; at most 1 MiB in total. Stored as "
        "given in etcd, not encrypted.", protobuf=2)] = None
    string_data: Annotated[dict[str, str] | None, field(
        "Plain-text values to write: the apiserver encodes them into data (winning over "
        "a data key of the same name) and never stores this field.", protobuf=4)] = None
    type: Annotated[str | None, field(
        "What the Secret holds (Opaque by default, kubernetes.io/tls, "
        "kubernetes.io/dockerconfigjson...); each type requires its keys. It cannot "
        "change.", protobuf=3)] = None
    immutable: Annotated[bool | None, field(
        "When true, data can no longer change, nor can this flag be unset.",
        protobuf=5)] = None


# -- Event ------------------------------------------------------------------------


class EventSource(K8sModel):
    """Who reported an event."""

    component: Annotated[str | None, field(
        "The reporting component, e.g. `kubelet` for the agent or `default-scheduler`.",
        protobuf=1)] = None
    host: Annotated[str | None, field(
        "The node the reporter runs on, for the agent's events.", protobuf=2)] = None


class EventSeries(K8sModel):
    """How often an event repeated, as newer recorders report it."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint | tuple[ProtobufHint, ...]]] = {
        "lastObservedTime": ("microtime", "value")}

    count: Annotated[int | None, field(
        "How often the event has been seen so far.", protobuf=1)] = None
    last_observed_time: Annotated[Time | None, field(
        "When it was last seen, at microsecond precision.", protobuf=2)] = None


class Event(TypedObject):
    """A core/v1 Event, what `kubectl describe` lists under `Events:`."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint | tuple[ProtobufHint, ...]]] = {
        "eventTime": ("microtime", "value"), "firstTimestamp": "value",
        "lastTimestamp": "value", "involvedObject": "value", "source": "value"}

    kind: Kind = "Event"
    involved_object: Annotated[ObjectReference, field(
        "The object the event is about; its namespace must be the event's.", protobuf=2)]
    reason: Annotated[str | None, field(
        "A short CamelCase reason, e.g. Scheduled, Pulled, BackOff.", protobuf=3)] = None
    message: Annotated[str | None, field("What happened, for people.", protobuf=4)] = None
    source: Annotated[EventSource | None, field(
        "The component that reported it.", protobuf=5)] = None
    first_timestamp: Annotated[Time | None, field(
        "When this event was first seen; filled in by the apiserver when missing.",
        protobuf=6)] = None
    last_timestamp: Annotated[Time | None, field(
        "When it was seen most recently; recorders update it as the event repeats.",
        protobuf=7)] = None
    count: Annotated[int | None, field(
        "How often it was seen; defaults to 1.", protobuf=8)] = None
    type: Annotated[str | None, field(
        "Normal or Warning.", protobuf=9)] = None
    event_time: Annotated[Time | None, field(
        "The time of the event at microsecond precision, as newer recorders write it.",
        protobuf=10)] = None
    series: Annotated[EventSeries | None, field(
        "Repetition data newer recorders send; stored.", protobuf=11)] = None
    action: Annotated[str | None, field(
        "What was done or failed, for newer recorders.", protobuf=12)] = None
    related: Annotated[ObjectReference | None, field(
        "A second object involved, for newer recorders.", protobuf=13)] = None
    reporting_component: Annotated[str | None, field(
        "The controller that emitted the event, for newer recorders.", protobuf=14)] = None
    reporting_instance: Annotated[str | None, field(
        "The instance of that controller.", protobuf=15)] = None

