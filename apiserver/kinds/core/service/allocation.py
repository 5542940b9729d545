"""ClusterIP and NodePort allocation for Services, as kube-apiserver's Service REST does it.

Kubernetes wraps the generic store for Services (`pkg/registry/core/service/
storage/alloc.go` and `storage.go`): on create it gives every Service but an
ExternalName or headless one a ClusterIP, and every port of a NodePort or
LoadBalancer Service a nodePort, honouring explicit values when they are in
range and free; on update it keeps what it allocated when the client omits it
(`patchAllocatedValues`), clears what a type change makes meaningless
(`dropTypeDependentFields`, in the strategy), allocates what is new and
releases what is no longer used; on delete it releases everything.

Each value is one etcd key (`ipallocator.key`, `portallocator.key`) whose value
names its holder, `namespace/name/uid`. Claims and releases ride in the
Service's own etcd transaction (`storage.Reservations`), so two creates can
never both get one address, whichever apiserver serves them, and nothing leaks
when a create fails.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.meta import Object
from apiserver.storage import Reservations, Storage
from apiserver.validation.fields import dict_items, duplicate, invalid, is_int

from . import ipallocator, portallocator
from .ipallocator import ServiceIPRange
from .portallocator import PortRange

log = logging.getLogger("apiserver.servicealloc")



def _spec(svc: Object | None) -> dict[str, Any]:
    spec = (svc or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def service_type(svc: Object) -> str:
    """`spec.type`, with Kubernetes' default (ClusterIP) when it is not set yet."""
    return str(_spec(svc).get("type") or "ClusterIP")


def needs_cluster_ip(svc: Object) -> bool:
    """Every type but ExternalName has a clusterIP (an address, or `None` when headless)."""
    return service_type(svc) != "ExternalName"


def needs_node_ports(svc: Object) -> bool:
    return service_type(svc) in ("NodePort", "LoadBalancer")


def held_cluster_ip(svc: Object | None) -> str | None:
    """The address `svc` holds from the range, if any (not for headless or ExternalName)."""
    if svc is None or not needs_cluster_ip(svc):
        return None
    ip = _spec(svc).get("clusterIP")
    return ipallocator.normalize(ip) if isinstance(ip, str) and ip not in ("", "None") else None


def held_node_ports(svc: Object | None) -> set[int]:
    """The nodePorts `svc` holds from the range (none unless it is NodePort or LoadBalancer)."""
    if svc is None or not needs_node_ports(svc):
        return set()
    return _node_ports(svc)


def _node_ports(svc: Object) -> set[int]:
    """Every nodePort set on `svc`'s ports, whatever its type."""
    return {p["nodePort"] for _, p in dict_items(_spec(svc).get("ports"))
            if is_int(p.get("nodePort")) and p["nodePort"] != 0}


def patch_allocated_values(new: Object, old: Object) -> None:
    """Kubernetes' patchAllocatedValues: an update that omits allocated values keeps them.

    Resubmitting the YAML a Service was created from (no clusterIP, no
    nodePort) must succeed, not fail clusterIP immutability or get new ports.
    A port's nodePort is found by the port's name, unless another port of the
    new Service already uses it.
    """
    spec, old_spec = _spec(new), _spec(old)
    if not spec:
        return
    if needs_cluster_ip(old) and needs_cluster_ip(new):
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if needs_node_ports(old) and needs_node_ports(new):
        used = _node_ports(old) & _node_ports(new)
        by_name = {p.get("name"): p.get("nodePort") for _, p in dict_items(old_spec.get("ports"))}
        for _, port in dict_items(spec.get("ports")):
            previous = by_name.get(port.get("name"))
            if not port.get("nodePort") and is_int(previous) and previous not in used:
                port["nodePort"] = previous


def drop_type_dependent_fields(new: Object, old: Object) -> None:
    """Kubernetes' dropTypeDependentFields: a type change clears what no longer applies.

    Only values the client left as they were are cleared (a changed value is
    the client's and meets validation), so `kubectl patch -p
    '{"spec":{"type":"ClusterIP"}}'` turns a NodePort Service back without the
    client having to remove its nodePorts. What is cleared is released.
    """
    spec, old_spec = _spec(new), _spec(old)
    if not spec:
        return
    if needs_cluster_ip(old) and not needs_cluster_ip(new):
        for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if spec.get(field) == old_spec.get(field):
                spec.pop(field, None)
    if needs_node_ports(old) and not needs_node_ports(new) \
            and _node_ports(old) >= _node_ports(new):
        for _, port in dict_items(spec.get("ports")):
            port.pop("nodePort", None)
    if needs_node_ports(old) and not needs_node_ports(new) and \
            spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy"):
        spec.pop("externalTrafficPolicy", None)
    if service_type(old) == "LoadBalancer" and service_type(new) != "LoadBalancer" and \
            spec.get("allocateLoadBalancerNodePorts") == old_spec.get(
                "allocateLoadBalancerNodePorts"):
        spec.pop("allocateLoadBalancerNodePorts", None)


def normalize_cluster_ips(new: Object, old: Object | None) -> None:
    """Kubernetes' normalizeClusterIPs: keep `clusterIPs` in step with `clusterIP`."""
    spec = _spec(new)
    ip, ips = spec.get("clusterIP") or "", spec.get("clusterIPs") or []
    if old is None:
        if ip and not ips:
            spec["clusterIPs"] = [ip]
        return
    old_ip = _spec(old).get("clusterIP") or ""
    old_ips = _spec(old).get("clusterIPs") or []
    if old_ips and not ips and old_ip == ip:
        spec["clusterIPs"] = ips = list(old_ips)
    if old_ip != ip and ips == old_ips:
        if ip:
            spec["clusterIPs"] = [ip]
        else:
            spec.pop("clusterIPs", None)


def check_cluster_ips(spec: dict[str, Any]) -> list[FieldError]:
    """`clusterIPs` must agree with `clusterIP`, and this cluster is single-stack IPv4."""
    ip, ips = spec.get("clusterIP") or "", spec.get("clusterIPs") or []
    if not isinstance(ips, list):
        return [invalid("spec.clusterIPs", ips, "must be a list of IP addresses")]
    if not ip and ips:
        return [invalid("spec.clusterIPs", ips, "must be empty when `clusterIP` is not "
                        "specified")]
    if ip and ips and ips[0] != ip:
        return [invalid("spec.clusterIPs", ips, "first value must match `clusterIP`")]
    if len(ips) > 1:
        return [invalid("spec.clusterIPs", ips, "this cluster is single-stack (IPv4): at "
                        "most one address may be given")]
    return []


def owner(svc: Object) -> str:
    """What a reservation key holds: the Service's `namespace/name/uid`."""
    meta = svc.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}/{meta.get('uid', '')}"


class ServiceAllocator:
    """The registry's Allocator for Services: one ClusterIP range and one NodePort range."""

    def __init__(self, storage: Storage, ips: ServiceIPRange, ports: PortRange,
                 rng: random.Random | None = None) -> None:
        self.storage = storage
        self.ips = ips
        self.ports = ports
        self._rng = rng or random.Random()

    async def allocate(self, new: Object, old: Object | None) -> Reservations:
        """Fill in `new`'s clusterIP(s) and nodePorts; claim what is new, release what went.

        Explicit values out of range or held by another Service are a 422 with
        the field's path, as Kubernetes reports them; a full range is a 500.
        """
        spec = new.get("spec")
        if not isinstance(spec, dict):
            return Reservations()
        normalize_cluster_ips(new, old)
        holder = owner(new)
        claims: dict[str, str] = {}
        problems = check_cluster_ips(spec)
        if not problems:
            problems += await self._allocate_cluster_ip(new, old, claims, holder)
        problems += await self._allocate_node_ports(new, old, claims, holder)
        if problems:
            raise errors.Invalid("Service", str((new.get("metadata") or {}).get("name", "")),
                                 problems)
        released = self._released(old, new)
        if claims or released:
            log.debug("component=apiserver service=%s claim=%s release=%s", holder, sorted(claims),
                      sorted(released))
        return Reservations(claim=claims, release=released)

    def release(self, old: Object) -> Reservations:
        """Everything a deleted Service held goes back to its range."""
        return Reservations(release=self._released(old, None))

    async def _allocate_cluster_ip(self, new: Object, old: Object | None,
                                   claims: dict[str, str], holder: str) -> list[FieldError]:
        spec = _spec(new)
        if not needs_cluster_ip(new):
            return []
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        ip = spec.get("clusterIP") or ""
        if ip == "None":  # headless: no address, and kube-proxy leaves it alone
            spec["clusterIPs"] = ["None"]
            return []
        if ip and ipallocator.normalize(ip) == held_cluster_ip(old):
            return []
        taken = await self.storage.list_keys(ipallocator.PREFIX)
        if ip:
            problem = self.ips.check(ip, taken)
            if problem:
                return [invalid("spec.clusterIP", ip, problem)]
            ip = ipallocator.normalize(ip) or ip
        else:
            found = self.ips.allocate_next(taken, self._rng)
            if found is None:
                raise errors.InternalError("failed to allocate a serviceIP: range is full")
            ip = found
        claims[ipallocator.key(ip)] = holder
        spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        return []

    async def _allocate_node_ports(self, new: Object, old: Object | None,
                                   claims: dict[str, str], holder: str) -> list[FieldError]:
        if not needs_node_ports(new):
            return []
        spec = _spec(new)
        ports = dict_items(spec.get("ports"))
        held = held_node_ports(old)
        mine: set[int] = set()
        seen: set[tuple[int, str]] = set()
        taken: set[int] | None = None
        problems: list[FieldError] = []
        for i, port in ports:  # explicit nodePorts first, so dynamic ones avoid them
            number = port.get("nodePort")
            if not is_int(number) or number == 0:
                continue
            path = f"spec.ports[{i}].nodePort"
            protocol = str(port.get("protocol") or "TCP")
            if (number, protocol) in seen:  # one port number may serve TCP and UDP
                problems.append(duplicate(path, number))
                continue
            seen.add((number, protocol))
            if number in held or number in mine:
                mine.add(number)
                continue
            taken = taken if taken is not None else await self._taken_ports()
            problem = self.ports.check(number, taken)
            if problem:
                problems.append(invalid(path, number, problem))
                continue
            mine.add(number)
            claims[portallocator.key(number)] = holder
        if service_type(new) == "LoadBalancer" and \
                spec.get("allocateLoadBalancerNodePorts") is False:
            return problems
        for _, port in ports:
            if is_int(port.get("nodePort")) and port["nodePort"] != 0:
                continue
            taken = taken if taken is not None else await self._taken_ports()
            found = self.ports.allocate_next(taken | mine | held, self._rng)
            if found is None:
                raise errors.InternalError("failed to allocate a nodePort: range is full")
            port["nodePort"] = found
            mine.add(found)
            claims[portallocator.key(found)] = holder
        return problems

    async def _taken_ports(self) -> set[int]:
        return {int(k) for k in await self.storage.list_keys(portallocator.PREFIX)
                if k.isdigit()}

    @staticmethod
    def _released(old: Object | None, new: Object | None) -> dict[str, str]:
        """The keys `old` held that `new` (None: deleted) no longer uses."""
        if old is None:
            return {}
        holder = owner(old)
        released: dict[str, str] = {}
        ip = held_cluster_ip(old)
        if ip and ip != held_cluster_ip(new):
            released[ipallocator.key(ip)] = holder
        for number in sorted(held_node_ports(old) - held_node_ports(new)):
            released[portallocator.key(number)] = holder
        return released
