"""Which EndpointSlices to create, update and delete so a Service's slices hold its groups.

Kubernetes' reconciler.go (reconcileByAddressType, reconcileByPortMapping),
as a pure function over plain objects:

* existing slices are matched to the desired groups by address type and
  ports; a slice whose group is gone is deleted;
* within a group an endpoint stays in the slice that already holds it, new
  endpoints fill slices that have room, and only then go into new slices of
  at most `max_per_slice` (Kubernetes' --max-endpoints-per-slice, 100), so a
  pod coming or going rewrites one slice, not all;
* a slice left empty is deleted, except that a Service with no endpoints at
  all keeps one empty "placeholder" slice, as Kubernetes does;
* a slice is written only when its endpoints, ports, labels or owner differ.

Slices are named by the apiserver from `generateName: <service>-`, labelled
with the Service's labels plus kubernetes.io/service-name and
endpointslice.kubernetes.io/managed-by, and owned by the Service
(controller: true), so the garbage collector removes them with it. Who owns
the slices and how they are labelled is a `SliceOwner`, so the
endpointslicemirroring controller plans its slices (owned by an Endpoints)
with the same reconciler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apimachinery import meta
from apimachinery.meta import Object

from .desired import EndpointKey, Group, GroupKey, endpoint_key, group_key

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
MAX_ENDPOINTS_PER_SLICE = 100


@dataclass
class Plan:
    """The writes that bring a Service's slices to the desired state."""

    create: list[Object] = field(default_factory=list)
    update: list[Object] = field(default_factory=list)
    delete: list[Object] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


@dataclass(frozen=True)
class SliceOwner:
    """What every slice of one owner carries: its namespace, name prefix, labels and
    controller ownerReference; and whether an owner without endpoints keeps one empty
    placeholder slice (the endpointslice controller's, not the mirroring one's)."""

    namespace: str
    generate_name: str
    labels: dict[str, str]
    reference: Object
    placeholder: bool = True


def service_owner(service: Object) -> SliceOwner:
    return SliceOwner(meta.namespace_of(service), f"{meta.name_of(service)}-",
                      slice_labels(service), owner_reference(service))


def slice_labels(service: Object) -> dict[str, str]:
    """setEndpointSliceLabels: the Service's labels, the two reserved ones set by us."""
    labels = {k: v for k, v in meta.labels_of(service).items()
              if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL)}
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    labels[SERVICE_NAME_LABEL] = meta.name_of(service)
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    return labels


def owner_reference(service: Object) -> Object:
    md = meta.metadata(service)
    return {"apiVersion": "v1", "kind": "Service", "name": md.get("name", ""),
            "uid": md.get("uid", ""), "controller": True, "blockOwnerDeletion": True}


def is_managed(slice_: Object, service: Object) -> bool:
    """A slice this controller keeps for this Service (the labels Kubernetes selects on)."""
    labels = meta.labels_of(slice_)
    return (labels.get(SERVICE_NAME_LABEL) == meta.name_of(service)
            and labels.get(MANAGED_BY_LABEL) == CONTROLLER_NAME
            and meta.namespace_of(slice_) == meta.namespace_of(service))


def _existing_key(slice_: Object) -> GroupKey:
    return group_key(slice_.get("addressType") or "", slice_.get("ports") or [])


def _ordered(endpoints: dict[EndpointKey, Object]) -> list[Object]:
    """Endpoints in a fixed order, so the same pods always give the same slice."""
    return [endpoints[k] for k in sorted(endpoints, key=lambda k: (k[1], k[0]))]


def _new_slice(owner: SliceOwner, group: Group, endpoints: list[Object]) -> Object:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"generateName": owner.generate_name,
                         "namespace": owner.namespace,
                         "labels": dict(owner.labels),
                         "ownerReferences": [dict(owner.reference)]},
            "addressType": group.address_type, "endpoints": endpoints,
            "ports": [dict(p) for p in group.ports]}


def _changed(owner: SliceOwner, current: Object, group: Group,
             endpoints: list[Object]) -> Object | None:
    """The updated slice, or None when it already holds exactly this."""
    md = meta.metadata(current)
    wanted = (endpoints, group.ports, owner.labels, [owner.reference])
    have = (current.get("endpoints") or [], current.get("ports") or [],
            meta.labels_of(current), md.get("ownerReferences") or [])
    if wanted == have:
        return None
    updated = meta.deep_copy(current)
    updated["metadata"]["labels"] = dict(owner.labels)
    updated["metadata"]["ownerReferences"] = [dict(owner.reference)]
    updated["endpoints"] = endpoints
    updated["ports"] = [dict(p) for p in group.ports]
    return updated


def _reconcile_group(owner: SliceOwner, group: Group, slices: list[Object],
                     max_per_slice: int, plan: Plan, *, keep_one: bool = False) -> None:
    """reconcileByPortMapping for one group: keep endpoints in place, fill, then add."""
    remaining = dict(group.endpoints)
    contents: list[tuple[Object, dict[EndpointKey, Object]]] = []
    for current in slices:
        kept: dict[EndpointKey, Object] = {}
        for endpoint in current.get("endpoints") or []:
            key = endpoint_key(endpoint)
            if key in remaining and len(kept) < max_per_slice:
                kept[key] = remaining.pop(key)
        contents.append((current, kept))
    for _, kept in contents:  # fill the room left in existing slices
        for key in sorted(remaining, key=lambda k: (k[1], k[0])):
            if len(kept) >= max_per_slice:
                break
            kept[key] = remaining.pop(key)
    for index, (current, kept) in enumerate(contents):
        if not kept and not (keep_one and index == 0):
            plan.delete.append(current)
            continue
        updated = _changed(owner, current, group, _ordered(kept))
        if updated is not None:
            plan.update.append(updated)
    ordered = _ordered(remaining)
    for start in range(0, len(ordered), max_per_slice):
        plan.create.append(_new_slice(owner, group, ordered[start:start + max_per_slice]))
    if keep_one and not contents and not ordered:
        plan.create.append(_new_slice(owner, group, []))


def plan_slices(service: Object, groups: dict[GroupKey, Group], existing: list[Object],
                placeholder_type: str, max_per_slice: int = MAX_ENDPOINTS_PER_SLICE) -> Plan:
    """The creates, updates and deletes that make `existing` (the Service's managed
    slices) hold `groups`; a Service without endpoints keeps one empty slice."""
    return plan_owned_slices(service_owner(service), groups, existing, placeholder_type,
                             max_per_slice)


def plan_owned_slices(owner: SliceOwner, groups: dict[GroupKey, Group],
                      existing: list[Object], placeholder_type: str,
                      max_per_slice: int = MAX_ENDPOINTS_PER_SLICE) -> Plan:
    """`plan_slices` for any owner: without groups, one empty placeholder slice of
    `placeholder_type` if the owner keeps one, else no slice at all."""
    plan = Plan()
    by_key: dict[GroupKey, list[Object]] = {}
    for current in sorted(existing, key=meta.name_of):
        by_key.setdefault(_existing_key(current), []).append(current)
    if not groups and owner.placeholder:  # one slice, no endpoints, no ports
        empty = Group(placeholder_type, [])
        groups = {group_key(placeholder_type, []): empty}
    for key, group in sorted(groups.items()):
        _reconcile_group(owner, group, by_key.pop(key, []), max_per_slice, plan,
                         keep_one=not group.endpoints)
    for stale in by_key.values():
        plan.delete.extend(stale)
    return plan
