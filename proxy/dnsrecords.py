"""Which DNS records a cluster name has, as a pure function of Services and EndpointSlices.

The Kubernetes DNS specification (`dns/specification.md` of kubernetes/dns), as
CoreDNS's `kubernetes` plugin serves it, reduced to Services and the EndpointSlices
labelled with their name (merged by `slices`; IPv4 slices only):

* `SVC.NS.svc.DOMAIN` A: the Service's clusterIP; for a headless Service
  (`clusterIP: None`) every ready endpoint address, and NXDOMAIN while it has none,
  as CoreDNS answers. An ExternalName Service is a CNAME to its `externalName`.
* `HOST.SVC.NS.svc.DOMAIN` A: the ready endpoint whose `hostname` is HOST (a
  StatefulSet pod behind its headless Service), or whose dashed IP is HOST
  (`10-0-1-5`), CoreDNS's name for an endpoint without a hostname.
* `_PORT._PROTO.SVC.NS.svc.DOMAIN` SRV: one record per named port; the target is the
  Service's name, or for a headless Service each endpoint's name (with its A record
  as additional data).
* `DOMAIN`, `svc.DOMAIN` and `NS.svc.DOMAIN` (a namespace holding a Service) exist
  without addresses. Every other name under the domain is NXDOMAIN; a name outside
  it is REFUSED: this server is authoritative for the cluster and forwards nothing.

Names compare case-insensitively and a trailing dot does not matter. An existing
name asked for a type it has no record of (AAAA, MX ...) is NOERROR with no answers.
Each answer reads one Service by key and its slices by index from the caches, so
its cost does not grow with the number of Services.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from typing import Protocol

from apimachinery import meta
from apimachinery.informer import NAMESPACE_INDEX
from apimachinery.meta import Object

from .slices import SERVICE_INDEX, port_number
from .slices import ready_addresses as slice_addresses


class Cache(Protocol):
    """The part of an informer store the records read (`apimachinery.informer.Store`)."""

    def get(self, key: str) -> Object | None: ...

    def index_keys(self, name: str, value: str) -> list[str]: ...

    def by_index(self, name: str, value: str) -> list[Object]: ...


class Rcode(enum.IntEnum):
    NOERROR = 0
    SERVFAIL = 2
    NXDOMAIN = 3
    REFUSED = 5


@dataclass(frozen=True)
class A:
    name: str
    ip: str


@dataclass(frozen=True)
class SRV:
    name: str
    port: int
    target: str
    priority: int = 0
    weight: int = 100


@dataclass(frozen=True)
class CNAME:
    name: str
    target: str


Record = A | SRV | CNAME


@dataclass
class Answer:
    """What to reply: a code, the answer records and the additional ones.

    `authoritative` is False only for REFUSED (not our zone); a negative answer
    (NXDOMAIN, or NOERROR without answers) carries the zone's SOA in authority.
    """

    rcode: Rcode
    answers: list[Record] = field(default_factory=list)
    additional: list[Record] = field(default_factory=list)

    @property
    def authoritative(self) -> bool:
        return self.rcode not in (Rcode.REFUSED, Rcode.SERVFAIL)

    @property
    def negative(self) -> bool:
        return self.authoritative and not self.answers


def normalize(name: str) -> str:
    """Lower case, without the trailing dot."""
    return name.lower().rstrip(".")


def dashed(ip: str) -> str:
    """`10.0.1.5` -> `10-0-1-5`: the label CoreDNS gives an endpoint without a hostname."""
    return ip.replace(".", "-")


def _headless(service: Object) -> bool:
    return (service.get("spec") or {}).get("clusterIP") == "None"


def _cluster_ip(service: Object) -> str | None:
    ip = (service.get("spec") or {}).get("clusterIP") or ""
    try:
        return str(ipaddress.IPv4Address(ip))
    except ValueError:
        return None


def ready_addresses(slices: list[Object]) -> list[tuple[str, str]]:
    """(ip, label) of each ready endpoint address across the slices, once per ip.

    The label is the endpoint's `hostname` when set, else its dashed IP.
    """
    return [(ip, (host or dashed(ip)).lower()) for ip, host in slice_addresses(slices)]


class ClusterRecords:
    """Answers for names under one cluster domain, read from the Services and
    EndpointSlices caches at query time (so they are never staler than the caches
    themselves); the slices cache is indexed by `slices.service_index`."""

    def __init__(self, services: Cache, slices: Cache, domain: str = "cluster.local") -> None:
        self.services = services
        self.slices = slices
        self.domain = normalize(domain)
        self._suffix = "." + self.domain

    def _slices_of(self, service_key: str) -> list[Object]:
        return self.slices.by_index(SERVICE_INDEX, service_key)

    def answer(self, qname: str, qtype: str) -> Answer:
        """The answer to one question; `qtype` is the type's mnemonic (`A`, `SRV` ...)."""
        name = normalize(qname)
        if name == self.domain:
            return Answer(Rcode.NOERROR)
        if not name.endswith(self._suffix):
            return Answer(Rcode.REFUSED)
        labels = name[:-len(self._suffix)].split(".")
        if labels[-1] != "svc":
            return Answer(Rcode.NXDOMAIN)  # pod records (`1-2-3-4.NS.pod`) are not served
        rest = labels[:-1]
        if not rest:
            return Answer(Rcode.NOERROR)
        if len(rest) == 1:
            has_services = bool(self.services.index_keys(NAMESPACE_INDEX, rest[0]))
            return Answer(Rcode.NOERROR if has_services else Rcode.NXDOMAIN)
        namespace, service_name = rest[-1], rest[-2]
        service = self.services.get(f"{namespace}/{service_name}")
        if service is None:
            return Answer(Rcode.NXDOMAIN)
        if len(rest) == 2:
            return self._service(name, qtype, service)
        if len(rest) == 3:
            return self._endpoint(name, qtype, rest[0], f"{namespace}/{service_name}")
        if len(rest) == 4 and rest[0].startswith("_") and rest[1].startswith("_"):
            return self._srv(name, qtype, service, rest[0][1:], rest[1][1:])
        return Answer(Rcode.NXDOMAIN)

    def _service(self, name: str, qtype: str, service: Object) -> Answer:
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            target = normalize(str(spec.get("externalName") or ""))
            if not target:
                return Answer(Rcode.NXDOMAIN)
            return Answer(Rcode.NOERROR, [CNAME(name, target)])
        if _headless(service):
            addresses = ready_addresses(self._slices_of(meta.key_of(service)))
            if not addresses:
                return Answer(Rcode.NXDOMAIN)
            answers: list[Record] = [A(name, ip) for ip, _ in addresses]
        else:
            ip = _cluster_ip(service)
            if ip is None:
                return Answer(Rcode.NXDOMAIN)
            answers = [A(name, ip)]
        return Answer(Rcode.NOERROR, answers if qtype in ("A", "ANY") else [])

    def _endpoint(self, name: str, qtype: str, label: str, key: str) -> Answer:
        ips = [ip for ip, host in ready_addresses(self._slices_of(key)) if host == label]
        if not ips:
            return Answer(Rcode.NXDOMAIN)
        return Answer(Rcode.NOERROR, [A(name, ip) for ip in ips] if qtype in ("A", "ANY")
                      else [])

    def _srv(self, name: str, qtype: str, service: Object, port_name: str,
             protocol: str) -> Answer:
        port = next((p for p in (service.get("spec") or {}).get("ports") or []
                     if (p.get("name") or "").lower() == port_name
                     and (p.get("protocol") or "TCP").lower() == protocol), None)
        if port is None or not isinstance(port.get("port"), int):
            return Answer(Rcode.NXDOMAIN)
        service_fqdn = f"{meta.name_of(service)}.{meta.namespace_of(service)}.svc.{self.domain}"
        if not _headless(service):
            ip = _cluster_ip(service)
            if ip is None:
                return Answer(Rcode.NXDOMAIN)
            records: list[Record] = [SRV(name, int(port["port"]), service_fqdn)]
            extra: list[Record] = [A(service_fqdn, ip)]
        else:
            own = self._slices_of(meta.key_of(service))
            number = port_number(own, port_name, protocol)
            addresses = ready_addresses(own)
            if number is None or not addresses:
                return Answer(Rcode.NXDOMAIN)
            records = [SRV(name, number, f"{label}.{service_fqdn}") for _, label in addresses]
            extra = [A(f"{label}.{service_fqdn}", ip) for ip, label in addresses]
        if qtype not in ("SRV", "ANY"):
            return Answer(Rcode.NOERROR)
        return Answer(Rcode.NOERROR, records, extra)

