"""Typed core/v1 kinds: Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret, Event.

Each top-level kind is a `TypedObject` (`from_dict` / `to_dict`); the pod's
spec and status live in `apimachinery.models.pod`. Acronyms keep Kubernetes'
spelling on the wire (`clusterIP`, `podCIDR`, `providerID`), so those aliases
are written out instead of generated.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from apimachinery.models.meta import (
    IntOrString,
    K8sModel,
    ObjectReference,
    ResourceList,
    Time,
    TypedObject,
)
from apimachinery.models.pod import PodSpec, PodStatus

# -- Namespace --------------------------------------------------------------------


class NamespaceSpec(K8sModel):
    finalizers: list[str] | None = None


class NamespaceStatus(K8sModel):
    phase: str | None = None
    conditions: list[dict[str, Any]] | None = None


class Namespace(TypedObject):
    kind: str = "Namespace"
    spec: NamespaceSpec | None = None
    status: NamespaceStatus | None = None


# -- Node -------------------------------------------------------------------------


class Taint(K8sModel):
    """`key=value:effect` that repels pods without a matching toleration."""

    key: str
    value: str | None = None
    effect: str
    time_added: Time | None = None


class NodeSpec(K8sModel):
    pod_cidr: str | None = Field(default=None, alias="podCIDR")
    pod_cidrs: list[str] | None = Field(default=None, alias="podCIDRs")
    provider_id: str | None = Field(default=None, alias="providerID")
    unschedulable: bool | None = None
    taints: list[Taint] | None = None


class NodeCondition(K8sModel):
    type: str
    status: str
    last_heartbeat_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class NodeAddress(K8sModel):
    type: str
    address: str


class NodeStatus(K8sModel):
    capacity: ResourceList | None = None
    allocatable: ResourceList | None = None
    phase: str | None = None
    conditions: list[NodeCondition] | None = None
    addresses: list[NodeAddress] | None = None
    daemon_endpoints: dict[str, Any] | None = None
    node_info: dict[str, Any] | None = None
    images: list[dict[str, Any]] | None = None


class Node(TypedObject):
    kind: str = "Node"
    spec: NodeSpec | None = None
    status: NodeStatus | None = None


# -- Pod --------------------------------------------------------------------------


class Pod(TypedObject):
    kind: str = "Pod"
    spec: PodSpec | None = None
    status: PodStatus | None = None


# -- Service and Endpoints --------------------------------------------------------


class ServicePort(K8sModel):
    name: str | None = None
    protocol: str | None = None
    port: int
    target_port: IntOrString | None = None
    node_port: int | None = None
    app_protocol: str | None = None


class ServiceSpec(K8sModel):
    type: str | None = None
    selector: dict[str, str] | None = None
    ports: list[ServicePort] | None = None
    cluster_ip: str | None = Field(default=None, alias="clusterIP")
    cluster_ips: list[str] | None = Field(default=None, alias="clusterIPs")
    external_ips: list[str] | None = Field(default=None, alias="externalIPs")
    external_name: str | None = None
    session_affinity: str | None = None
    session_affinity_config: dict[str, Any] | None = None
    load_balancer_ip: str | None = Field(default=None, alias="loadBalancerIP")
    external_traffic_policy: str | None = None
    internal_traffic_policy: str | None = None
    ip_families: list[str] | None = None
    ip_family_policy: str | None = None
    publish_not_ready_addresses: bool | None = None


class ServiceStatus(K8sModel):
    load_balancer: dict[str, Any] | None = None
    conditions: list[dict[str, Any]] | None = None


class Service(TypedObject):
    kind: str = "Service"
    spec: ServiceSpec | None = None
    status: ServiceStatus | None = None


class EndpointAddress(K8sModel):
    ip: str
    hostname: str | None = None
    node_name: str | None = None
    target_ref: ObjectReference | None = None


class EndpointPort(K8sModel):
    name: str | None = None
    port: int
    protocol: str | None = None
    app_protocol: str | None = None


class EndpointSubset(K8sModel):
    """Ready `addresses` and `notReadyAddresses`, each served on every one of `ports`."""

    addresses: list[EndpointAddress] | None = None
    not_ready_addresses: list[EndpointAddress] | None = None
    ports: list[EndpointPort] | None = None


class Endpoints(TypedObject):
    kind: str = "Endpoints"
    subsets: list[EndpointSubset] | None = None


# -- ConfigMap and Secret ---------------------------------------------------------


class ConfigMap(TypedObject):
    kind: str = "ConfigMap"
    data: dict[str, str] | None = None
    binary_data: dict[str, str] | None = None
    immutable: bool | None = None


class Secret(TypedObject):
    """`data` values are base64 strings on the wire; `stringData` is write-only plain text."""

    kind: str = "Secret"
    data: dict[str, str] | None = None
    string_data: dict[str, str] | None = None
    type: str | None = None
    immutable: bool | None = None


# -- Event ------------------------------------------------------------------------


class EventSource(K8sModel):
    component: str | None = None
    host: str | None = None


class Event(TypedObject):
    """A core/v1 Event, what `kubectl describe` lists under `Events:`."""

    kind: str = "Event"
    involved_object: ObjectReference
    reason: str | None = None
    message: str | None = None
    source: EventSource | None = None
    first_timestamp: Time | None = None
    last_timestamp: Time | None = None
    count: int | None = None
    type: str | None = None
    event_time: Time | None = None
    series: dict[str, Any] | None = None
    action: str | None = None
    related: ObjectReference | None = None
    reporting_component: str | None = None
    reporting_instance: str | None = None
