"""A Service's endpoints, merged from all its EndpointSlices, as kube-proxy reads them.

kube-proxy (since 1.22) and CoreDNS read only discovery.k8s.io/v1 EndpointSlices:
a Service's slices are the ones labelled `kubernetes.io/service-name: <service>` in
its namespace, whoever manages them (the endpointslice controller, the mirroring
controller for hand-made Endpoints, or a user). Kubernetes' endpointslicecache.go,
reduced to what a userspace proxy needs, as pure functions of plain objects:

* only `addressType: IPv4` slices count (the proxy and the DNS serve IPv4 only);
* a slice port matches a service port by name and protocol (absent: "" and TCP);
* an endpoint is its first address; one without addresses is skipped;
* absent conditions mean what the API says they mean: `ready` and `serving`
  unknown count as true, `terminating` unknown as false;
* the same address:port in several slices (an endpoint moving between slices,
  two managers) counts once, as kube-proxy's cache keys endpoints by
  address:port; where kube-proxy keeps whichever slice its map iteration meets
  first, here the first slice by name wins, so the result never varies;
* which endpoints get traffic is kube-proxy's CategorizeEndpoints: the ready
  ones, or, only when none is ready, the serving and terminating ones (a
  rolling update's last pods finish their work rather than nothing answering).

The proxy's informer indexes slices by `service_index`, so a Service's slices
are found without a scan, and a slice whose label changes or goes moves to its
new Service, or to none, in the index itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from apimachinery import meta
from apimachinery.meta import Object

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
SERVICE_INDEX = "service-name"
ADDRESS_TYPE = "IPv4"


def service_index(slice_: Object) -> list[str]:
    """The `namespace/name` of the Service a slice belongs to (none without the label)."""
    name = meta.labels_of(slice_).get(SERVICE_NAME_LABEL)
    return [f"{meta.namespace_of(slice_)}/{name}"] if name else []


@dataclass(frozen=True)
class Endpoint:
    """One address of one slice port, with its conditions (kube-proxy's BaseEndpointInfo)."""

    ip: str
    port: int
    ready: bool
    serving: bool
    terminating: bool
    hostname: str = ""


def _condition(endpoint: Object, name: str, default: bool) -> bool:
    value = (endpoint.get("conditions") or {}).get(name)
    return default if value is None else bool(value)


def _ipv4_slices(slices: Iterable[Object]) -> list[Object]:
    """The IPv4 slices, in name order: the order duplicates are resolved in."""
    return sorted((s for s in slices if s.get("addressType") == ADDRESS_TYPE),
                  key=meta.name_of)


def _slice_port(slice_: Object, port_name: str, protocol: str,
                single_service_port: bool) -> int | None:
    """The number the slice gives the named service port, or None when it has none.

    With `single_service_port`, a slice with exactly one port of the protocol serves
    it whatever its name (Schooner's rule for hand-written objects, kept from
    Endpoints days: a Service with one unnamed port and an object naming it).
    """
    ports = [p for p in slice_.get("ports") or []
             if (p.get("protocol") or "TCP") == protocol and isinstance(p.get("port"), int)]
    for port in ports:
        if (port.get("name") or "") == port_name:
            return int(port["port"])
    if single_service_port and len(ports) == 1:
        return int(ports[0]["port"])
    return None


def port_endpoints(slices: Iterable[Object], port_name: str, protocol: str = "TCP",
                   single_service_port: bool = False) -> list[Endpoint]:
    """Every endpoint of the named service port across the slices, once per address:port."""
    found: dict[tuple[str, int], Endpoint] = {}
    for slice_ in _ipv4_slices(slices):
        number = _slice_port(slice_, port_name, protocol, single_service_port)
        if number is None:
            continue
        for endpoint in slice_.get("endpoints") or []:
            addresses = endpoint.get("addresses") or []
            if not addresses or not isinstance(addresses[0], str):
                continue
            found.setdefault((addresses[0], number), Endpoint(
                addresses[0], number, _condition(endpoint, "ready", True),
                _condition(endpoint, "serving", True),
                _condition(endpoint, "terminating", False),
                str(endpoint.get("hostname") or "")))
    return list(found.values())


def traffic_endpoints(endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    """CategorizeEndpoints: the ready endpoints, else the serving terminating ones."""
    ready = [e for e in endpoints if e.ready]
    if ready:
        return ready
    return [e for e in endpoints if e.serving and e.terminating]


def ready_addresses(slices: Iterable[Object]) -> list[tuple[str, str]]:
    """(ip, hostname) of each ready address across the slices, once per ip, for DNS.

    CoreDNS publishes only ready endpoints (a Service with
    `publishNotReadyAddresses` has every endpoint marked ready by its controller).
    """
    seen: dict[str, str] = {}
    for slice_ in _ipv4_slices(slices):
        for endpoint in slice_.get("endpoints") or []:
            addresses = endpoint.get("addresses") or []
            if not addresses or not _condition(endpoint, "ready", True):
                continue
            ip = addresses[0]
            if isinstance(ip, str) and ip and ip not in seen:
                seen[ip] = str(endpoint.get("hostname") or "")
    return list(seen.items())


def port_number(slices: Iterable[Object], name: str, protocol: str) -> int | None:
    """The target port the slices give a named port (names and protocols compared
    case-insensitively, as DNS names are), for a headless Service's SRV records."""
    for slice_ in _ipv4_slices(slices):
        for port in slice_.get("ports") or []:
            if ((port.get("name") or "").lower() == name
                    and (port.get("protocol") or "TCP").lower() == protocol
                    and isinstance(port.get("port"), int)):
                return int(port["port"])
    return None
