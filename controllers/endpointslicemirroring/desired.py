"""What the mirrored EndpointSlices of one Endpoints object should hold.

Kubernetes' pkg/controller/endpointslicemirroring (utils.go's addressToEndpoint,
epPortsToEpsPorts, newEndpointSlice; reconciler.go's per-subset loop), as pure
functions of plain objects:

* An Endpoints object is mirrored unless it is labelled
  `endpointslice.kubernetes.io/skip-mirror: "true"` or carries a leader-election
  record annotation (it is a lock, not a list of backends); the controller
  also requires its Service to exist without a selector (a selector Service's
  slices are the endpointslice controller's).
* Each subset's ports become the slice ports, names, protocols and
  appProtocols as written; each address becomes an endpoint with
  `conditions.ready` true (`addresses`) or false (`notReadyAddresses`), its
  IP re-spelt in canonical form, and its `hostname`, `nodeName` and
  `targetRef` carried over. An address that is no IP is skipped; an IPv6 one
  goes into an IPv6 group.
* At most `max_per_subset` addresses of a subset are mirrored (Kubernetes'
  --mirroring-max-endpoints-per-subset, 1000), ready ones first; the rest are
  skipped, as Kubernetes skips them.
* The slices carry the Endpoints' labels plus kubernetes.io/service-name and
  endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io,
  and are owned by the Endpoints (controller: true), so the garbage collector
  removes them with it. An Endpoints without addresses gets no slice.
"""

from __future__ import annotations

import ipaddress

from apimachinery import meta
from apimachinery.meta import Object

from ..endpointslice.desired import Group, GroupKey, endpoint_key, group_key
from ..endpointslice.reconciler import MANAGED_BY_LABEL, SERVICE_NAME_LABEL, SliceOwner

CONTROLLER_NAME = "endpointslicemirroring-controller.k8s.io"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
MAX_ENDPOINTS_PER_SUBSET = 1000


def should_mirror(endpoints: Object) -> bool:
    """shouldMirror: not skip-mirror, not a leader-election lock."""
    if meta.labels_of(endpoints).get(SKIP_MIRROR_LABEL) == "true":
        return False
    annotations = meta.metadata(endpoints).get("annotations") or {}
    return LEADER_ANNOTATION not in annotations


def mirror_owner(endpoints: Object) -> SliceOwner:
    """newEndpointSlice's metadata: the Endpoints' labels, the two reserved ones ours."""
    md = meta.metadata(endpoints)
    labels = dict(meta.labels_of(endpoints))
    labels[SERVICE_NAME_LABEL] = meta.name_of(endpoints)
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    reference = {"apiVersion": "v1", "kind": "Endpoints", "name": md.get("name", ""),
                 "uid": md.get("uid", ""), "controller": True, "blockOwnerDeletion": True}
    return SliceOwner(meta.namespace_of(endpoints), f"{meta.name_of(endpoints)}-", labels,
                      reference, placeholder=False)


def slice_ports(subset: Object) -> list[Object]:
    """epPortsToEpsPorts: each port as written, name and protocol spelt out."""
    out = []
    for port in subset.get("ports") or []:
        mirrored: Object = {"name": port.get("name") or "", "port": port.get("port"),
                            "protocol": port.get("protocol") or "TCP"}
        if port.get("appProtocol"):
            mirrored["appProtocol"] = port["appProtocol"]
        out.append(mirrored)
    return out


def address_to_endpoint(address: Object, ready: bool) -> tuple[str, Object] | None:
    """addressToEndpoint: (address type, endpoint), or None for an address no IP."""
    try:
        ip = ipaddress.ip_address(str(address.get("ip") or ""))
    except ValueError:
        return None
    endpoint: Object = {"addresses": [str(ip)], "conditions": {"ready": ready}}
    if address.get("hostname"):
        endpoint["hostname"] = address["hostname"]
    if address.get("nodeName"):
        endpoint["nodeName"] = address["nodeName"]
    if address.get("targetRef"):
        endpoint["targetRef"] = address["targetRef"]
    return f"IPv{ip.version}", endpoint


def mirrored_groups(endpoints: Object, max_per_subset: int = MAX_ENDPOINTS_PER_SUBSET
                    ) -> tuple[dict[GroupKey, Group], int]:
    """The groups of endpoints to mirror, and how many addresses were skipped."""
    groups: dict[GroupKey, Group] = {}
    skipped = 0
    for subset in endpoints.get("subsets") or []:
        ports = slice_ports(subset)
        addresses = [(a, True) for a in subset.get("addresses") or []] + \
                    [(a, False) for a in subset.get("notReadyAddresses") or []]
        skipped += max(0, len(addresses) - max_per_subset)
        for address, ready in addresses[:max_per_subset]:
            mirrored = address_to_endpoint(address, ready)
            if mirrored is None:
                continue
            address_type, endpoint = mirrored
            group = groups.setdefault(group_key(address_type, ports),
                                      Group(address_type, ports))
            group.endpoints.setdefault(endpoint_key(endpoint), endpoint)
    return groups, skipped
