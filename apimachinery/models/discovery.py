"""Typed discovery.k8s.io/v1 EndpointSlice: a Service's endpoints, a hundred at a time.

The endpointslice controller writes them for every Service with a selector;
kubectl reads a Service's endpoints from them (`describe service`). The proxy
still follows core/v1 Endpoints. Class names are Kubernetes' (the OpenAPI
schema is `io.k8s.api.discovery.v1.EndpointPort`), so `EndpointPort` here is
not core's: import it from this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from apimachinery.models.meta import ApiVersion, K8sModel, Kind, ObjectReference, TypedObject
from apimachinery.models.schema import ProtobufHint, field


class EndpointConditions(K8sModel):
    """The state of one endpoint, as consumers should read it."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "ready": "pointer", "serving": "pointer", "terminating": "pointer"}

    ready: Annotated[bool | None, field(
        "Whether the endpoint should receive new traffic: the pod is Ready and not "
        "terminating (or the Service publishes not-ready addresses). Unset means "
        "unknown, to be read as ready.", protobuf=1)] = None
    serving: Annotated[bool | None, field(
        "The pod's Ready condition, whether or not it is terminating; lets a consumer "
        "fall back to terminating endpoints that still serve.", protobuf=2)] = None
    terminating: Annotated[bool | None, field(
        "Whether the pod is being deleted (it has a deletionTimestamp).",
        protobuf=3)] = None


class ForZone(K8sModel):
    """A zone an endpoint should serve in topology-aware routing."""

    name: Annotated[str, field("The zone's name.", protobuf=1)]


class EndpointHints(K8sModel):
    """Topology hints for consumers. Stored; Schooner's controller writes none and its
    proxy ignores them."""

    for_zones: Annotated[list[ForZone] | None, field(
        "Zones this endpoint should serve; at most 8.", protobuf=1,
        list_type="atomic")] = None


class Endpoint(K8sModel):
    """One backend of the Service: a pod, its addresses and its state."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "conditions": "value", "hostname": "pointer", "nodeName": "pointer",
        "zone": "pointer"}

    addresses: Annotated[list[str], field(
        "The endpoint's addresses, of the slice's addressType; between 1 and 100. The "
        "controller writes the pod's IP; consumers use the first.", protobuf=1,
        list_type="set")]
    conditions: Annotated[EndpointConditions | None, field(
        "Whether the endpoint is ready, serving and terminating.", protobuf=2)] = None
    hostname: Annotated[str | None, field(
        "The pod's hostname when its subdomain names the Service (a DNS-1123 label).",
        protobuf=3)] = None
    target_ref: Annotated[ObjectReference | None, field(
        "The pod this endpoint is.", protobuf=4)] = None
    deprecated_topology: Annotated[dict[str, str] | None, field(
        "Topology labels of v1beta1, kept for compatibility; the controller writes "
        "none. Stored only.", protobuf=5)] = None
    node_name: Annotated[str | None, field(
        "The node the pod runs on.", protobuf=6)] = None
    zone: Annotated[str | None, field(
        "The zone of that node (its topology.kubernetes.io/zone label).",
        protobuf=7)] = None
    hints: Annotated[EndpointHints | None, field(
        "Topology hints. Stored only.", protobuf=8)] = None


class EndpointPort(K8sModel):
    """A port every endpoint of the slice serves, named after the Service port."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "name": "pointer", "protocol": "pointer", "port": "pointer",
        "appProtocol": "pointer"}

    name: Annotated[str | None, field(
        "The Service port's name (empty when the Service has one unnamed port); a "
        "DNS-1123 label, unique in the slice.", protobuf=1)] = None
    protocol: Annotated[str | None, field(
        "TCP (the default), UDP or SCTP.", protobuf=2)] = None
    port: Annotated[int | None, field(
        "The port number on the endpoints, from the Service port's targetPort; unset "
        "means every port.", protobuf=3)] = None
    app_protocol: Annotated[str | None, field(
        "The Service port's appProtocol.", protobuf=4)] = None


class EndpointSlice(TypedObject):
    """A subset of a Service's endpoints; the endpointslice controller keeps those of
    Services with a selector, labelled kubernetes.io/service-name."""

    api_version: ApiVersion = "discovery.k8s.io/v1"
    kind: Kind = "EndpointSlice"
    address_type: Annotated[str | None, field(
        "IPv4, IPv6 or FQDN: the type of every address in the slice. Required; "
        "immutable.", protobuf=4)] = None
    endpoints: Annotated[list[Endpoint] | None, field(
        "The endpoints; at most 1000 (the controller puts at most 100 in a slice).",
        protobuf=2, list_type="atomic")] = None
    ports: Annotated[list[EndpointPort] | None, field(
        "The ports every endpoint serves; at most 100. None means no ports are "
        "exposed; a port without a number means all ports.", protobuf=3,
        list_type="atomic")] = None
