"""Service (core/v1): a stable virtual address and DNS name in front of a set of pods.

The apiserver allocates each Service's ClusterIP from `--service-cluster-ip-range`
and its NodePorts from `--service-node-port-range` (`allocation.py`; every
address and port is its own etcd key, claimed in the Service's own
transaction); an update keeps the values allocated before when the client
omits them and drops those a type change makes meaningless. At start the
apiserver creates `default/kubernetes` (the range's first address) and
`kube-system/kube-dns` (its 10th), as Kubernetes' bootstrap controller and
kubeadm's DNS add-on do. While it serves, each apiserver keeps its own address in
the `kubernetes` Service's Endpoints and EndpointSlice (`endpointreconciler.py`).
"""

from __future__ import annotations

import logging
from typing import Any

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.models import Service
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.allocator import Allocator
from apiserver.config import ServerConfig
from apiserver.defaulting import Obj, dict_at, dicts_at, is_int, set_default
from apiserver.kind import STATUS, Kind, Strategy
from apiserver.kinds.core.service import allocation
from apiserver.kinds.core.service.endpointreconciler import endpoint_reconciler
from apiserver.kinds.core.service.ipallocator import ServiceIPRange
from apiserver.kinds.core.service.portallocator import PortRange
from apiserver.registry import Registry
from apiserver.storage import Storage
from apiserver.validation.fields import (
    Errs,
    as_dict,
    check,
    child,
    dict_items,
    dns1035_label,
    dns1123_subdomain,
    duplicate,
    forbidden,
    invalid,
    ip_address,
    not_supported,
    port_num_or_name,
    port_number,
    port_protocol,
    required,
    unique_label,
    validate_labels,
)

log = logging.getLogger("apiserver")

RESOURCE = ResourceInfo("", "v1", "Service", "services", True, ("svc",), ("all",),
                        selectable_fields=("spec.clusterIP", "spec.type"))
DNS_SERVICE_OFFSET = 10  # kubeadm's convention: the cluster DNS is the range's 10th address


class ServiceStrategy(Strategy):
    """A Service update keeps the ClusterIP and nodePorts the apiserver allocated when the
    client omits them, and drops those a type change makes meaningless (Kubernetes'
    patchAllocatedValues and dropTypeDependentFields); `allocation` reserves them."""

    returns_deleted_object = True

    def prepare_for_update(self, new: Object, old: Object) -> None:
        allocation.patch_allocated_values(new, old)
        allocation.drop_type_dependent_fields(new, old)
        super().prepare_for_update(new, old)


def default_service(obj: Obj) -> None:
    """SetDefaults_Service: ClusterIP, no session affinity, TCP, targetPort = port."""
    spec = dict_at(obj, "spec")
    if spec is None:
        return
    set_default(spec, "type", "ClusterIP")
    set_default(spec, "sessionAffinity", "None")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        set_default(spec, "externalTrafficPolicy", "Cluster")
    for port in dicts_at(spec, "ports"):
        set_default(port, "protocol", "TCP")
        number = port.get("port")
        if port.get("targetPort") in (None, 0, "") and is_int(number):
            port["targetPort"] = number


_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")


NODE_PORT_RANGE = (30000, 32767)


def validate_service(obj: Object, old: Object | None) -> Errs:
    """ValidateService(Update): type, ports, clusterIP, and clusterIP immutability."""
    spec = as_dict(obj.get("spec"))
    errs: Errs = []
    svc_type = spec.get("type")
    if isinstance(svc_type, str) and svc_type not in _SERVICE_TYPES:
        errs.append(not_supported("spec.type", svc_type, _SERVICE_TYPES))
    cluster_ip = spec.get("clusterIP")
    headless = cluster_ip == "None"
    ports = spec.get("ports")
    if not ports and not headless and svc_type != "ExternalName":
        errs.append(required("spec.ports"))
    errs += _validate_service_ports(ports, svc_type)
    if isinstance(cluster_ip, str) and cluster_ip not in ("", "None"):
        errs += check("spec.clusterIP", cluster_ip, ip_address)
    if svc_type == "ExternalName":
        name = spec.get("externalName")
        if not name:
            errs.append(required("spec.externalName"))
        elif isinstance(name, str):
            errs += check("spec.externalName", name, lambda n: dns1123_subdomain(n.rstrip(".")))
    affinity = spec.get("sessionAffinity")
    if isinstance(affinity, str) and affinity not in ("ClientIP", "None"):
        errs.append(not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None")))
    policy = spec.get("externalTrafficPolicy")
    if isinstance(policy, str) and policy:
        if policy not in ("Cluster", "Local"):
            errs.append(not_supported("spec.externalTrafficPolicy", policy, ("Cluster", "Local")))
        elif svc_type not in ("NodePort", "LoadBalancer"):
            errs.append(invalid("spec.externalTrafficPolicy", policy,
                                "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
    errs += validate_labels(spec.get("selector"), "spec.selector")
    if old is not None:
        old_ip = as_dict(old.get("spec")).get("clusterIP")
        if old_ip and cluster_ip != old_ip and svc_type != "ExternalName":
            errs.append(invalid("spec.clusterIP", cluster_ip, "field is immutable"))
    return errs


def _validate_service_ports(ports: Any, svc_type: Any) -> Errs:
    """validateServicePort for each port, plus unique names and unique port/protocol pairs."""
    errs: Errs = []
    items = dict_items(ports)
    names: set[str] = set()
    seen: set[tuple[int, str]] = set()
    for i, port in items:
        ppath = f"spec.ports[{i}]"
        name = port.get("name")
        if len(items) > 1 and not name:
            errs.append(required(child(ppath, "name")))
        elif isinstance(name, str) and name:
            errs += unique_label(child(ppath, "name"), name, names)
        number = port.get("port")
        if is_int(number):
            errs += check(child(ppath, "port"), number, port_number)
        errs += port_protocol(port, ppath)
        errs += port_num_or_name(child(ppath, "targetPort"), port.get("targetPort"))
        node_port = port.get("nodePort")
        if is_int(node_port) and node_port != 0:
            low, high = NODE_PORT_RANGE
            if svc_type in (None, "ClusterIP"):
                errs.append(forbidden(child(ppath, "nodePort"),
                                      "may not be used when `type` is 'ClusterIP'"))
            elif not low <= node_port <= high:
                errs.append(invalid(child(ppath, "nodePort"), node_port,
                                    "provided port is not in the valid range. The range of "
                                    f"valid ports is {low}-{high}"))
        protocol = port.get("protocol") or "TCP"
        if is_int(number) and isinstance(protocol, str):
            if (number, protocol) in seen:
                errs.append(duplicate(ppath, {"port": number, "protocol": protocol}))
            seen.add((number, protocol))
    return errs


def allocator(storage: Storage, config: ServerConfig) -> Allocator:
    return allocation.ServiceAllocator(
        storage, ServiceIPRange.parse(config.service_cluster_ip_range),
        PortRange.parse(config.service_node_port_range))


async def create_system_services(registry: Registry, config: ServerConfig) -> None:
    service_ips = ServiceIPRange.parse(config.service_cluster_ip_range)
    await _create_kubernetes_service(registry, service_ips, config.secure_port)
    await _create_dns_service(registry, service_ips)


async def _exists(registry: Registry, namespace: str, name: str) -> bool:
    try:
        await registry.get(RESOURCE, namespace, name)
    except errors.NotFound:
        return False
    return True


async def _create_kubernetes_service(registry: Registry, service_ips: ServiceIPRange,
                                     secure_port: int) -> None:
    """The `kubernetes` Service in `default` at the range's first address, as Kubernetes'
    bootstrap controller creates it: port 443 to the apiserver's secure port, no selector.
    Its Endpoints and EndpointSlice are the apiservers' own (endpointreconciler.py).

    Several apiservers may race to create it; the loser's AlreadyExists is fine.
    A range whose first address some Service already took leaves a warning, not
    a dead apiserver.
    """
    if await _exists(registry, "default", "kubernetes"):
        return
    body = {"metadata": {"name": "kubernetes",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": service_ips.kubernetes_ip,
                     "sessionAffinity": "None",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                                "targetPort": secure_port}]}}
    try:
        await registry.create(RESOURCE, "default", body)
        log.info("component=apiserver created service default/kubernetes clusterIP=%s",
                 service_ips.kubernetes_ip)
    except errors.AlreadyExists:
        pass
    except errors.Invalid as exc:
        log.warning("component=apiserver cannot create service default/kubernetes: %s", exc.message)


def cluster_dns_ip(service_ips: ServiceIPRange) -> str | None:
    """The range's 10th address, or None when the range is too small to have one."""
    ip = str(service_ips.network.network_address + DNS_SERVICE_OFFSET)
    return ip if service_ips.contains(ip) else None


async def _create_dns_service(registry: Registry, service_ips: ServiceIPRange) -> None:
    """`kube-system/kube-dns` at the range's 10th address, as kubeadm's CoreDNS addon
    creates it: ports 53/UDP and 53/TCP, no selector (the service proxy answers DNS
    itself, on that address). Created with an explicit clusterIP, so the allocator
    reserves the address in the Service's own transaction and no other Service is
    ever given the address every pod's resolv.conf names.

    `kube-system` comes from the Namespace kind's bootstrap, which runs first (cluster-scoped
    kinds start before namespaced ones). As for the
    `kubernetes` Service, a lost race or a taken address is a log line, not a dead
    apiserver.
    """
    ip = cluster_dns_ip(service_ips)
    if ip is None:
        log.warning("component=apiserver no cluster DNS address in service range %s: "
                    "kube-dns not created", service_ips)
        return
    if await _exists(registry, "kube-system", "kube-dns"):
        return
    body = {"metadata": {"name": "kube-dns",
                         "labels": {"k8s-app": "kube-dns"}},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "sessionAffinity": "None",
                     "ports": [{"name": "dns", "port": 53, "protocol": "UDP",
                                "targetPort": 53},
                               {"name": "dns-tcp", "port": 53, "protocol": "TCP",
                                "targetPort": 53}]}}
    try:
        await registry.create(RESOURCE, "kube-system", body)
        log.info("component=apiserver created service kube-system/kube-dns clusterIP=%s", ip)
    except errors.AlreadyExists:
        pass
    except errors.Invalid as exc:
        log.warning("component=apiserver cannot create service kube-system/kube-dns: %s",
                    exc.message)


KIND = Kind(
    resource=RESOURCE,
    model=Service,
    strategy=ServiceStrategy(),
    default=default_service,
    validate=validate_service,
    name_rule=dns1035_label,
    table=LAYOUTS["Service"],
    subresources=(STATUS,),
    allocator=allocator,
    bootstrap=create_system_services,
    background=endpoint_reconciler,
)
