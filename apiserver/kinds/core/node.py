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
)

RESOURCE = ResourceInfo("", "v1", "Node", "nodes", False, ("no",),
                        selectable_fields=("spec.unschedulable",))


class NodeStrategy(Strategy):
    """Node status (capacity, conditions) is written by its agent on create too."""

    def prepare_for_create(self, obj: Object) -> None:
        obj["metadata"]["generation"] = 1


def validate_node(obj: Object, old: Object | None) -> Errs:
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


KIND = Kind(
    resource=RESOURCE,
    model=Node,
    strategy=NodeStrategy(),
    validate=validate_node,
    table=LAYOUTS["Node"],
    subresources=(STATUS,),
)
