"""Node (core/v1): a host running an agent; its status belongs to that agent.

The agent creates its Node with its status (capacity, addresses, conditions)
already filled, so a create keeps the status (Kubernetes' nodeStrategy does the
same); the pod CIDR and provider ID are set once and never changed.
"""

from __future__ import annotations

import ipaddress

from apimachinery.meta import Object
from apimachinery.models import Node
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.kind import STATUS, Kind, Strategy
from apiserver.validation.fields import (
    Errs,
    as_dict,
    check,
    child,
    dict_items,
    duplicate,
    forbidden,
    invalid,
    label_value,
    not_supported,
    qualified_name,
    required,
)

RESOURCE = ResourceInfo("", "v1", "Node", "nodes", False, ("no",),
                        selectable_fields=("spec.unschedulable",))


class NodeStrategy(Strategy):
    """Node status (capacity, conditions) is written by its agent on create too."""

    def prepare_for_create(self, obj: Object) -> None:
        obj["metadata"]["generation"] = 1


# Kubernetes' NodeAddressType values.
ADDRESS_TYPES = ("Hostname", "InternalIP", "ExternalIP", "InternalDNS", "ExternalDNS")
_IP_TYPES = ("InternalIP", "ExternalIP")


def validate_status(status: Object) -> Errs:
    """A Node's addresses and agent port: the apiserver dials them for logs and exec
    (kubeletclient.py), so an address is of a known type, an IP type holds an IP, none
    is listed twice (ValidateNode's Duplicate), and the port is a port (0: none)."""
    errs: Errs = []
    seen: set[tuple[str, str]] = set()
    for i, address in dict_items(status.get("addresses")):
        path = f"status.addresses[{i}]"
        kind, value = address.get("type"), address.get("address")
        if not isinstance(kind, str) or kind not in ADDRESS_TYPES:
            errs.append(not_supported(child(path, "type"), kind, ADDRESS_TYPES))
        if not isinstance(value, str) or not value:
            errs.append(required(child(path, "address")))
        elif kind in _IP_TYPES and not _is_ip(value):
            errs.append(invalid(child(path, "address"), value, "must be a valid IP address"))
        if isinstance(kind, str) and isinstance(value, str):
            if (kind, value) in seen:
                errs.append(duplicate(path, {"address": value, "type": kind}))
            seen.add((kind, value))
    endpoint = as_dict(as_dict(status.get("daemonEndpoints")).get("kubeletEndpoint"))
    port = endpoint.get("Port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool)
                             or not 0 <= port <= 65535):
        errs.append(invalid("status.daemonEndpoints.kubeletEndpoint.Port", port,
                            "must be between 0 and 65535, inclusive"))
    return errs


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def validate_node(obj: Object, old: Object | None) -> Errs:
    """ValidateNode(Update): taints, pod CIDRs, CIDR/providerID set at most once, and
    the status's addresses and agent port."""
    spec = as_dict(obj.get("spec"))
    errs: Errs = validate_status(as_dict(obj.get("status")))
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


KIND = Kind(
    resource=RESOURCE,
    model=Node,
    strategy=NodeStrategy(),
    validate=validate_node,
    table=LAYOUTS["Node"],
    subresources=(STATUS,),
)
