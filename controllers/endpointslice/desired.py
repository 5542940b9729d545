"""What a Service's EndpointSlices should hold: one endpoint per pod, grouped by ports.

Kubernetes' pkg/controller/endpointslice (reconciler.go's desired state and
utils.go's podToEndpoint, getEndpointPorts). Pure functions of plain objects.

* A pod counts once it has an IP; terminal pods (Succeeded, Failed) are left
  out (ShouldPodBeInEndpoints). Unlike core/v1 Endpoints, a terminating pod
  stays, marked `terminating`.
* Conditions as Kubernetes computes them: `serving` is the pod's Ready
  condition, `terminating` whether it has a deletionTimestamp, and `ready` is
  serving and not terminating (or always true when the Service publishes
  not-ready addresses).
* An endpoint carries the pod's IPs of the slice's address type, `nodeName`,
  `targetRef` to the pod, `zone` from the node's topology.kubernetes.io/zone
  label, and `hostname` when the pod's subdomain is this Service.
* Each Service port becomes a slice port named as the Service port, its number
  resolved per pod from `targetPort` (a named port may differ between pods);
  a port a pod does not expose is left out for that pod. Pods with the same
  resolved ports share a group, and a group becomes one or more slices.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from apimachinery import meta
from apimachinery.conditions import is_ready
from apimachinery.meta import Object

from ..endpoints import find_port, selects

ZONE_LABEL = "topology.kubernetes.io/zone"
# (name, port, protocol, appProtocol) of a slice port: the identity of a group.
PortKey = tuple[str, int | None, str, str]
GroupKey = tuple[str, tuple[PortKey, ...]]
# An endpoint's identity across syncs: the pod's uid and its first address.
EndpointKey = tuple[str, str]


@dataclass
class Group:
    """The endpoints of one address type that serve exactly the same ports."""

    address_type: str
    ports: list[Object]
    endpoints: dict[EndpointKey, Object] = field(default_factory=dict)


def address_types(service: Object) -> list[str]:
    """getAddressTypesForService: the Service's ipFamilies, else its clusterIP's family."""
    spec = service.get("spec") or {}
    families = [f for f in spec.get("ipFamilies") or [] if f in ("IPv4", "IPv6")]
    if families:
        return families
    try:
        return [f"IPv{ipaddress.ip_address(spec.get('clusterIP') or '').version}"]
    except ValueError:
        return ["IPv4"]


def should_be_in_slices(pod: Object) -> bool:
    """ShouldPodBeInEndpoints(pod, includeTerminating=true): an IP, not terminal."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    return bool(status.get("podIP") or status.get("podIPs"))


def pod_addresses(pod: Object, address_type: str) -> list[str]:
    """getEndpointAddresses: the pod's IPs of the address type's family."""
    status = pod.get("status") or {}
    ips = [p.get("ip", "") for p in status.get("podIPs") or [] if isinstance(p, dict)]
    ips = ips or [status.get("podIP") or ""]
    version = 6 if address_type == "IPv6" else 4
    out = []
    for ip in ips:
        try:
            if ipaddress.ip_address(ip).version == version:
                out.append(ip)
        except ValueError:
            continue
    return out


def endpoint_ports(service: Object, pod: Object) -> list[Object]:
    """getEndpointPorts: the Service's ports this pod serves, numbers resolved for it."""
    out = []
    for service_port in (service.get("spec") or {}).get("ports") or []:
        number = find_port(pod, service_port)
        if number is None:
            continue
        port: Object = {"name": service_port.get("name") or "", "port": number,
                        "protocol": service_port.get("protocol") or "TCP"}
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        out.append(port)
    return out


def port_key(port: Object) -> PortKey:
    return (port.get("name") or "", port.get("port"), port.get("protocol") or "TCP",
            port.get("appProtocol") or "")


def group_key(address_type: str, ports: list[Object]) -> GroupKey:
    return address_type, tuple(sorted(port_key(p) for p in ports))


def endpoint_key(endpoint: Object) -> EndpointKey:
    addresses = endpoint.get("addresses") or [""]
    return (endpoint.get("targetRef") or {}).get("uid", ""), addresses[0]


def pod_to_endpoint(service: Object, pod: Object, node: Object | None,
                    addresses: list[str]) -> Object:
    """podToEndpoint: addresses, conditions, hostname, targetRef, nodeName and zone."""
    md, spec = meta.metadata(pod), pod.get("spec") or {}
    serving = is_ready(pod)
    terminating = bool(md.get("deletionTimestamp"))
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    endpoint: Object = {"addresses": addresses, "conditions": {
        "ready": publish or (serving and not terminating), "serving": serving,
        "terminating": terminating}}
    if spec.get("hostname") and spec.get("subdomain") == meta.name_of(service):
        endpoint["hostname"] = spec["hostname"]
    endpoint["targetRef"] = {"kind": "Pod", "namespace": md.get("namespace", ""),
                             "name": md.get("name", ""), "uid": md.get("uid", "")}
    if spec.get("nodeName"):
        endpoint["nodeName"] = spec["nodeName"]
    zone = meta.labels_of(node).get(ZONE_LABEL) if node is not None else None
    if zone:
        endpoint["zone"] = zone
    return endpoint


def desired_groups(service: Object, pods: list[Object], nodes: Mapping[str, Object]
                   ) -> tuple[dict[GroupKey, Group], list[str]]:
    """The groups the Service's pods make, and the pods left out because their node is
    not known yet (Kubernetes requeues the Service for those)."""
    groups: dict[GroupKey, Group] = {}
    waiting: list[str] = []
    types = address_types(service)
    for pod in sorted(pods, key=meta.name_of):
        if not selects(service, pod) or not should_be_in_slices(pod):
            continue
        node_name = (pod.get("spec") or {}).get("nodeName") or ""
        node = nodes.get(node_name)
        if node_name and node is None:
            waiting.append(meta.name_of(pod))
            continue
        ports = endpoint_ports(service, pod)
        for address_type in types:
            addresses = pod_addresses(pod, address_type)
            if not addresses:
                continue
            key = group_key(address_type, ports)
            group = groups.setdefault(key, Group(address_type, ports))
            endpoint = pod_to_endpoint(service, pod, node, addresses)
            group.endpoints[endpoint_key(endpoint)] = endpoint
    return groups, waiting
