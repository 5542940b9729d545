"""Validation of the core/v1 kinds other than Pod: Service, Endpoints, ConfigMap,
Secret, Node, Event, and of coordination.k8s.io Lease.

Mirrors the matching `Validate*` functions of
`k8s.io/kubernetes/pkg/apis/core/validation/validation.go` and
`pkg/apis/coordination/validation`, with Kubernetes' paths and messages.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

from apiserver.validation_containers import PROTOCOLS
from apiserver.validation_fields import (
    Errs,
    as_dict,
    check,
    child,
    config_key,
    dict_items,
    dns1123_label,
    dns1123_subdomain,
    duplicate,
    forbidden,
    invalid,
    ip_address,
    is_int,
    label_value,
    non_negative,
    not_supported,
    port_num_or_name,
    port_number,
    qualified_name,
    required,
    too_long,
    validate_labels,
)
from apiserver.validation_pod import comparable

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
NODE_PORT_RANGE = (30000, 32767)
MAX_DATA_BYTES = 1024 * 1024  # MaxSecretSize and MaxConfigMapSize
_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}
_IMMUTABLE_DATA = "field is immutable when `immutable` is set"

# -- Service ----------------------------------------------------------------------


def validate_service(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
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
            errs += check(child(ppath, "name"), name, dns1123_label)
            if name in names:
                errs.append(duplicate(child(ppath, "name"), name))
            names.add(name)
        number = port.get("port")
        if is_int(number):
            errs += check(child(ppath, "port"), number, port_number)
        errs += _protocol(port, ppath)
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


def _protocol(port: dict[str, Any], path: str) -> Errs:
    protocol = port.get("protocol")
    if protocol == "":
        return [required(child(path, "protocol"))]
    if isinstance(protocol, str) and protocol not in PROTOCOLS:
        return [not_supported(child(path, "protocol"), protocol, PROTOCOLS)]
    return []


# -- Endpoints --------------------------------------------------------------------


def validate_endpoints(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
    """ValidateEndpoints: every subset has addresses with valid IPs and well-formed ports."""
    errs: Errs = []
    for i, subset in dict_items(obj.get("subsets")):
        spath = f"subsets[{i}]"
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            errs.append(required(spath, "must specify `addresses` or `notReadyAddresses`"))
        for key in ("addresses", "notReadyAddresses"):
            for j, address in dict_items(subset.get(key)):
                apath = f"{child(spath, key)}[{j}]"
                ip = address.get("ip")
                if isinstance(ip, str):
                    errs += check(child(apath, "ip"), ip, ip_address)
                for field, checker in (("hostname", dns1123_label),
                                       ("nodeName", dns1123_subdomain)):
                    value = address.get(field)
                    if isinstance(value, str) and value:
                        errs += check(child(apath, field), value, checker)
        ports = dict_items(subset.get("ports"))
        names: set[str] = set()
        for j, port in ports:
            ppath = f"{child(spath, 'ports')}[{j}]"
            name = port.get("name")
            if len(ports) > 1 and not name:
                errs.append(required(child(ppath, "name")))
            elif isinstance(name, str) and name:
                errs += check(child(ppath, "name"), name, dns1123_label)
                if name in names:
                    errs.append(duplicate(child(ppath, "name"), name))
                names.add(name)
            if is_int(port.get("port")):
                errs += check(child(ppath, "port"), port["port"], port_number)
            errs += _protocol(port, ppath)
    return errs


# -- ConfigMap and Secret ---------------------------------------------------------


def _validate_keys(data: Any, path: str) -> Errs:
    return [e for key in as_dict(data) for e in check(f"{path}[{key}]", key, config_key)]


def _base64_size(data: Any, path: str) -> tuple[Errs, int]:
    """Decode base64 values; the errors never echo a value, which may be secret."""
    errs: Errs = []
    size = 0
    for key, value in as_dict(data).items():
        if not isinstance(value, str):
            continue
        try:
            size += len(base64.b64decode(value.replace("\n", "").replace("\r", ""),
                                         validate=True))
        except (binascii.Error, ValueError):
            errs.append(invalid(f"{path}[{key}]", "<value omitted>",
                                "must be base64-encoded (standard alphabet, with padding)"))
    return errs, size


def _validate_immutable(obj: dict[str, Any], old: dict[str, Any] | None,
                        fields: tuple[str, ...]) -> Errs:
    """An object with `immutable: true` keeps its data and its immutability forever."""
    if old is None or old.get("immutable") is not True:
        return []
    errs = [forbidden(f, _IMMUTABLE_DATA) for f in fields
            if comparable(obj.get(f)) != comparable(old.get(f))]
    if obj.get("immutable") is not True:
        errs.append(forbidden("immutable", _IMMUTABLE_DATA))
    return errs


def validate_config_map(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
    """ValidateConfigMap(Update): keys, no key in both maps, at most 1 MiB."""
    data, binary = as_dict(obj.get("data")), as_dict(obj.get("binaryData"))
    errs = _validate_keys(data, "data") + _validate_keys(binary, "binaryData")
    errs += [invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
             for key in data if key in binary]
    binary_errs, size = _base64_size(binary, "binaryData")
    errs += binary_errs
    size += sum(len(v.encode()) for v in data.values() if isinstance(v, str))
    if size > MAX_DATA_BYTES:
        errs.append(too_long("data", MAX_DATA_BYTES))
    return errs + _validate_immutable(obj, old, ("data", "binaryData"))


def validate_secret(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
    """ValidateSecret(Update): keys, base64 values, at most 1 MiB, the keys a type needs."""
    data = as_dict(obj.get("data"))
    errs = _validate_keys(data, "data") + _validate_keys(obj.get("stringData"), "stringData")
    decode_errs, size = _base64_size(data, "data")
    errs += decode_errs
    if size > MAX_DATA_BYTES:
        errs.append(too_long("data", MAX_DATA_BYTES))
    secret_type = obj.get("type")
    for key in _SECRET_REQUIRED_KEYS.get(secret_type, ()) if isinstance(secret_type, str) else ():
        if key not in data:
            errs.append(required(f"data[{key}]"))
    if secret_type == "kubernetes.io/service-account-token":
        annotations = as_dict(as_dict(obj.get("metadata")).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    if old is not None and old.get("type") and secret_type != old.get("type"):
        errs.append(invalid("type", secret_type, "field is immutable"))
    return errs + _validate_immutable(obj, old, ("data",))


# -- Node, Event, Lease -----------------------------------------------------------


def validate_node(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
    """ValidateNode(Update): taints, pod CIDRs, and CIDR/providerID set at most once."""
    spec = as_dict(obj.get("spec"))
    errs: Errs = []
    seen: set[tuple[str, str]] = set()
    for i, taint in dict_items(spec.get("taints")):
        tpath = f"spec.taints[{i}]"
        key, value, effect = taint.get("key"), taint.get("value"), taint.get("effect")
        if isinstance(key, str):
            errs += check(child(tpath, "key"), key, qualified_name)
        if isinstance(value, str):
            errs += check(child(tpath, "value"), value, label_value)
        if isinstance(effect, str) and effect not in ("NoExecute", "NoSchedule",
                                                      "PreferNoSchedule"):
            errs.append(not_supported(child(tpath, "effect"), effect,
                                      ("NoExecute", "NoSchedule", "PreferNoSchedule")))
        if isinstance(key, str) and isinstance(effect, str):
            if (key, effect) in seen:
                errs.append(duplicate(tpath, {"effect": effect, "key": key}))
            seen.add((key, effect))
    cidrs = ([(f"spec.podCIDRs[{i}]", c) for i, c in enumerate(spec.get("podCIDRs") or [])]
             if isinstance(spec.get("podCIDRs"), list) else [])
    for path, cidr in [("spec.podCIDR", spec.get("podCIDR")), *cidrs]:
        if isinstance(cidr, str) and cidr:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                errs.append(invalid(path, cidr, "must be a valid CIDR value, "
                                                "(e.g. 10.9.8.0/24 or 2001:db8::/64)"))
    if old is not None:
        old_spec = as_dict(old.get("spec"))
        for field, name in (("podCIDR", "podCIDR"), ("providerID", "providerID")):
            if old_spec.get(field) and spec.get(field) != old_spec.get(field):
                errs.append(forbidden(f"spec.{field}", f"node updates may not change {name} "
                                                       'except from "" to valid'))
    return errs


def validate_event(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
    """legacyValidateEvent: the involved object's namespace matches the event's; type known."""
    errs: Errs = []
    involved = obj.get("involvedObject")
    namespace = as_dict(obj.get("metadata")).get("namespace") or ""
    if isinstance(involved, dict):
        involved_ns = involved.get("namespace") or ""
        ok = namespace in ("", "default") if not involved_ns else namespace == involved_ns
        if not ok:
            errs.append(invalid("involvedObject.namespace", involved_ns,
                                "does not match event.namespace"))
    event_type = obj.get("type")
    if isinstance(event_type, str) and event_type and event_type not in ("Normal", "Warning"):
        errs.append(not_supported("type", event_type, ("Normal", "Warning")))
    errs += non_negative("count", obj.get("count"))
    return errs


def validate_lease(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
    """ValidateLeaseSpec: a positive duration, non-negative transitions."""
    spec = as_dict(obj.get("spec"))
    errs: Errs = []
    duration = spec.get("leaseDurationSeconds")
    if is_int(duration) and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    errs += non_negative("spec.leaseTransitions", spec.get("leaseTransitions"))
    return errs
