"""What the proxy should serve, as a pure function of Services and EndpointSlices.

kube-proxy builds a `ServicePortName -> (clusterIP, port)` map from Services and a
`ServicePortName -> [endpoint]` map from EndpointSlices (`slices` merges a
Service's slices), then makes the sockets match. This module is those two maps and
their join, with no sockets and no `ip` commands, so every rule below is unit-tested
in microseconds:

* A Service is proxied when its type is ClusterIP or NodePort (an absent type means
  ClusterIP), its clusterIP is set and not "None" (headless), and it lies inside the
  service range the proxy was given (a safety belt: the proxy only ever adds
  addresses of the cluster's own service range to `lo`). Only TCP ports are served.
* A service port's backends are the endpoints of the Service's IPv4 slices whose
  port has the same name as the service port, or, when both sides have exactly one
  port, that port (an unnamed single port, as users write by hand): the ready ones,
  or only when none is ready the serving terminating ones (`slices`). A not-ready
  endpoint never receives traffic.
* The clusterIP is bound while the Service exists, but a port gets a listener only
  while it has a ready backend: with no listener the kernel refuses a connection at
  once, where a listener with nowhere to send it would accept and then drop it.
* A NodePort Service's port is also served on `NODE_IP:nodePort` for each of the
  node addresses the proxy was given (kube-proxy's `--nodeport-addresses`), by the
  same balancer as its clusterIP listener, and under the same rule: no ready
  backend, no listener. The proxy never adds node addresses anywhere: they are the
  node's own.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from apimachinery import meta
from apimachinery.meta import Object
from apimachinery.specialip import is_special_ip

from .slices import port_endpoints, traffic_endpoints

PROXIED_TYPES = frozenset({"ClusterIP", "NodePort"})
DEFAULT_AFFINITY_TIMEOUT = 10800  # seconds, Kubernetes' sessionAffinityConfig default


@dataclass(frozen=True, order=True)
class Backend:
    """One endpoint a connection may go to."""

    ip: str
    port: int

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class ServicePort:
    """One TCP port of one proxied Service: kube-proxy's ServicePortName plus its address.

    The forwarder listens on `cluster_ip:port`; for the NodePort listeners of a port
    those two are the node address and the nodePort (`on_node`).
    """

    namespace: str
    service: str
    port_name: str
    cluster_ip: str
    port: int
    affinity_timeout: float | None  # seconds; None without sessionAffinity: ClientIP
    node_port: int | None = None  # set for a NodePort Service's ports
    service_port: int | None = None  # on a NodePort listener: the Service's own port

    def on_node(self, node_ip: str) -> ServicePort:
        """This service port as served on `node_ip:nodePort` (same key, same balancer)."""
        assert self.node_port is not None
        return dataclasses.replace(self, cluster_ip=node_ip, port=self.node_port,
                                   service_port=self.service_port or self.port)

    @property
    def key(self) -> str:
        """`namespace/name:port` (the port's name, else the Service's port number), the name
        logs and balancers use; a NodePort listener shares its service port's key."""
        return f"{self.namespace}/{self.service}:{self.port_name or self.service_port or self.port}"


@dataclass
class DesiredState:
    """Every address to keep on `lo` and every listener to run, with its backends."""

    cluster_ips: set[str] = field(default_factory=set)
    # (clusterIP, port) -> the service port served there and its ready backends
    listeners: dict[tuple[str, int], tuple[ServicePort, list[Backend]]] = field(
        default_factory=dict)
    # every proxied service port, ready or not, so balancers can be dropped when one goes
    service_ports: dict[str, ServicePort] = field(default_factory=dict)


def parse_range(cidr: str) -> ipaddress.IPv4Network:
    """The service range as a network; ValueError on a malformed or IPv6 range."""
    network = ipaddress.ip_network(cidr, strict=False)
    if not isinstance(network, ipaddress.IPv4Network):
        raise ValueError(f"only IPv4 service ranges are supported: {cidr}")
    return network


def proxied_cluster_ip(service: Object, service_range: ipaddress.IPv4Network) -> str | None:
    """The clusterIP to serve, or None when this Service is not the proxy's to serve."""
    spec = service.get("spec") or {}
    if (spec.get("type") or "ClusterIP") not in PROXIED_TYPES:
        return None
    cluster_ip = spec.get("clusterIP") or ""
    if not cluster_ip or cluster_ip == "None":
        return None
    try:
        address = ipaddress.ip_address(cluster_ip)
    except ValueError:
        return None
    return cluster_ip if address in service_range else None


def service_ports(service: Object, service_range: ipaddress.IPv4Network) -> list[ServicePort]:
    """The TCP ports of a proxied Service (none if it is not proxied)."""
    cluster_ip = proxied_cluster_ip(service, service_range)
    if cluster_ip is None:
        return []
    spec = service.get("spec") or {}
    affinity: float | None = None
    if spec.get("sessionAffinity") == "ClientIP":
        config = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
        affinity = float(config.get("timeoutSeconds") or DEFAULT_AFFINITY_TIMEOUT)
    is_node_port = spec.get("type") == "NodePort"
    ports = []
    for port in spec.get("ports") or []:
        if (port.get("protocol") or "TCP") != "TCP" or not isinstance(port.get("port"), int):
            continue
        node_port = port.get("nodePort") if is_node_port else None
        ports.append(ServicePort(meta.namespace_of(service), meta.name_of(service),
                                 port.get("name") or "", cluster_ip, port["port"], affinity,
                                 node_port if isinstance(node_port, int) and node_port else None))
    return ports


def ready_backends(slices: Sequence[Object], port_name: str,
                   single_service_port: bool = False) -> list[Backend]:
    """The backends that get traffic for `port_name`, in the slices' order, once each.

    An address validation refuses today (not an IP, or unspecified, loopback or
    link-local: the node itself or its metadata service) is never a backend, even if
    stored before.
    """
    endpoints = port_endpoints(slices, port_name, "TCP", single_service_port)
    return [Backend(e.ip, e.port) for e in traffic_endpoints(endpoints)
            if _forwardable(e.ip)]


def _forwardable(ip: str) -> bool:
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return False
    return not is_special_ip(ip)


def desired_state(services: Iterable[Object], slices: Mapping[str, Sequence[Object]],
                  service_range: ipaddress.IPv4Network,
                  node_addresses: Sequence[str] = ()) -> DesiredState:
    """Join Services with their EndpointSlices (by the Service's `namespace/name`) into
    what to serve.

    Two Services cannot share a clusterIP or a nodePort (the apiserver allocates each
    once), but if the cache ever shows it mid-update, the first Service by key keeps
    the listener.
    """
    state = DesiredState()
    for service in sorted(services, key=meta.key_of):
        ports = service_ports(service, service_range)
        if not ports:
            continue
        state.cluster_ips.add(ports[0].cluster_ip)
        own = slices.get(meta.key_of(service), ())
        for sp in ports:
            state.service_ports[sp.key] = sp
            backends = ready_backends(own, sp.port_name, single_service_port=len(ports) == 1)
            if not backends:
                continue
            served = [sp] + ([sp.on_node(ip) for ip in node_addresses]
                             if sp.node_port is not None else [])
            for listener in served:
                state.listeners.setdefault((listener.cluster_ip, listener.port),
                                           (listener, backends))
    return state
