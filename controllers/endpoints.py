"""The endpoints controller: each Service's Endpoints = the pods its selector matches.

Kubernetes' pkg/controller/endpoint/endpoints_controller.go. For a Service with
a selector, the Endpoints object of the same name lists the matching pods of
its namespace, grouped into `subsets` as the API wants them (`compute_subsets`,
pure): each subset is a set of addresses that all serve the same ports.

* A pod counts once it has a `podIP`; terminating pods (deletionTimestamp) and
  finished pods (Succeeded, Failed) are left out (ShouldPodBeInEndpoints).
* Ready pods go to `addresses`, the others to `notReadyAddresses` (a pod that
  has an IP but is not Ready yet, or any longer), unless the Service says
  `publishNotReadyAddresses`, which makes every such pod an address.
* Each Service port becomes an endpoint port named as the Service port, its
  number from `targetPort`: a number as it is, or a name looked up per pod
  among its containers' ports with the same protocol (podutil.FindPort). A pod
  that exposes the name under another number lands in another subset; a pod
  that does not expose it at all is left out for that port.
* An address carries `ip`, `nodeName`, `targetRef` to the pod, and `hostname`
  when the pod's `subdomain` is this Service (StatefulSet pods behind their
  governing Service), so DNS can name each pod.

The controller writes only when subsets or labels differ from what is stored,
deletes the Endpoints when the Service goes (Kubernetes does the same; there is
no ownerReference), and leaves Services without a selector alone: their
Endpoints are the user's to manage. ExternalName Services get none.
"""

from __future__ import annotations

from typing import Any

from apimachinery import errors, meta
from apimachinery.clock import Clock
from apimachinery.conditions import is_ready
from apimachinery.informer import NAMESPACE_INDEX, Informer
from apimachinery.meta import Object

from .base import Controller, ControllerClient, Requeue, SharedInformerFactory

HEADLESS_LABEL = "service.kubernetes.io/headless"


# -- the pure part -------------------------------------------------------------------------------

def service_selector(service: Object) -> dict[str, str] | None:
    """The selector, or None when the Service has none (its Endpoints are user-managed)."""
    selector = (service.get("spec") or {}).get("selector")
    return dict(selector) if isinstance(selector, dict) and selector else None


def selects(service: Object, pod: Object) -> bool:
    """Whether the Service's selector matches the pod's labels (same namespace)."""
    selector = service_selector(service)
    if selector is None or meta.namespace_of(pod) != meta.namespace_of(service):
        return False
    labels = meta.labels_of(pod)
    return all(labels.get(k) == v for k, v in selector.items())


def pod_ip(pod: Object) -> str:
    status = pod.get("status") or {}
    ips = status.get("podIPs") or []
    return status.get("podIP") or (ips[0].get("ip", "") if ips else "")


def should_be_in_endpoints(pod: Object) -> bool:
    """ShouldPodBeInEndpoints: an IP, not terminating, not finished."""
    if not pod_ip(pod) or meta.metadata(pod).get("deletionTimestamp"):
        return False
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def find_port(pod: Object, service_port: Object) -> int | None:
    """podutil.FindPort: the targetPort number, or the named containerPort of this pod."""
    target = service_port.get("targetPort")
    if target is None or target == "":
        target = service_port.get("port")
    if isinstance(target, int):
        return target
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return int(port["containerPort"])
    return None


def endpoint_address(service: Object, pod: Object) -> Object:
    """podToEndpointAddressForService, with the hostname rule of ShouldSetHostname."""
    md, spec = meta.metadata(pod), pod.get("spec") or {}
    address: Object = {"ip": pod_ip(pod)}
    if spec.get("hostname") and spec.get("subdomain") == meta.name_of(service):
        address["hostname"] = spec["hostname"]
    if spec.get("nodeName"):
        address["nodeName"] = spec["nodeName"]
    address["targetRef"] = {"kind": "Pod", "namespace": md.get("namespace", ""),
                            "name": md.get("name", ""), "uid": md.get("uid", "")}
    return address


def endpoint_port(service_port: Object, number: int) -> Object:
    port: Object = {"port": number, "protocol": service_port.get("protocol") or "TCP"}
    if service_port.get("name"):
        port["name"] = service_port["name"]
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def _address_key(address: Object) -> tuple[str, str]:
    return address["ip"], address["targetRef"]["uid"]


def _port_key(port: Object) -> tuple[str, int, str, str]:
    return (port.get("name", ""), port["port"], port["protocol"], port.get("appProtocol", ""))


def compute_subsets(service: Object, pods: list[Object]) -> list[Object]:
    """The Endpoints subsets for `service` over `pods` (pure; RepackSubsets' grouping).

    Every (address, port) pair is collected first; addresses that serve exactly the
    same set of ports then share a subset. Addresses, ports and subsets come out
    sorted, so the same pods always give the same list and nothing is rewritten
    for nothing (Kubernetes sorts by hash; any fixed order serves that purpose).
    """
    spec = service.get("spec") or {}
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    service_ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    addresses: dict[tuple[str, str], Object] = {}
    ready: dict[tuple[str, str], bool] = {}
    ports_of: dict[tuple[str, str], set[tuple[str, int, str, str]]] = {}
    port_objects: dict[tuple[str, int, str, str], Object] = {}
    for pod in pods:
        if not selects(service, pod) or not should_be_in_endpoints(pod):
            continue
        address = endpoint_address(service, pod)
        ports = []
        for service_port in service_ports:
            number = find_port(pod, service_port)
            if number is not None:
                ports.append(endpoint_port(service_port, number))
        if not ports and (service_ports or not headless):
            continue  # serves none of the ports (a headless Service may have no ports)
        key = _address_key(address)
        addresses[key] = address
        ready[key] = publish_not_ready or is_ready(pod)
        ports_of[key] = {_port_key(p) for p in ports}
        port_objects.update({_port_key(p): p for p in ports})
    groups: dict[frozenset[tuple[str, int, str, str]], list[tuple[str, str]]] = {}
    for key, port_keys in ports_of.items():
        groups.setdefault(frozenset(port_keys), []).append(key)
    subsets = []
    for group_ports, keys in groups.items():
        subset: Object = {}
        ready_keys = sorted(k for k in keys if ready[k])
        not_ready_keys = sorted(k for k in keys if not ready[k])
        if ready_keys:
            subset["addresses"] = [addresses[k] for k in ready_keys]
        if not_ready_keys:
            subset["notReadyAddresses"] = [addresses[k] for k in not_ready_keys]
        if group_ports:
            subset["ports"] = [port_objects[k] for k in sorted(group_ports)]
        subsets.append(subset)
    return sorted(subsets, key=_subset_key)


def _subset_key(subset: Object) -> tuple[list[Any], list[Any], list[Any]]:
    return ([_port_key(p) for p in subset.get("ports") or []],
            [_address_key(a) for a in subset.get("addresses") or []],
            [_address_key(a) for a in subset.get("notReadyAddresses") or []])


def endpoints_labels(service: Object) -> dict[str, str]:
    """The Service's labels, plus service.kubernetes.io/headless for a headless Service."""
    labels = dict(meta.labels_of(service))
    labels.pop(HEADLESS_LABEL, None)
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


def endpoints_up_to_date(current: Object, subsets: list[Object], labels: dict[str, str]) -> bool:
    return (current.get("subsets") or []) == subsets and meta.labels_of(current) == labels


# -- the controller ----------------------------------------------------------------------------

class PodServiceHandlers(Controller):
    """Pod events turned into the keys of the Services that select the pod, shared by the
    Endpoints and EndpointSlice controllers (both keyed by Service)."""

    service_informer: Informer

    def _services_for(self, pod: Object) -> list[Object]:
        """getPodServiceMemberships: the Services of the pod's namespace that select it."""
        return [s for s in self.service_informer.store.by_index(
            NAMESPACE_INDEX, meta.namespace_of(pod)) if selects(s, pod)]

    def _pod_added(self, pod: Object) -> None:
        for service in self._services_for(pod):
            self.enqueue(service)

    def _pod_updated(self, old: Object, cur: Object) -> None:
        """The Services of the pod now, and of its old labels if they changed."""
        if meta.resource_version_of(old) == meta.resource_version_of(cur):
            return
        keys = {meta.key_of(s) for s in self._services_for(cur)}
        if meta.labels_of(old) != meta.labels_of(cur):
            keys |= {meta.key_of(s) for s in self._services_for(old)}
        for key in keys:
            self.queue.add(key)


class EndpointsController(PodServiceHandlers):
    """Keeps each selector Service's Endpoints equal to its matching pods."""

    name = "endpoints"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 workers: int = 5, clock: Clock | None = None) -> None:
        super().__init__(client, factory, workers=workers, clock=clock)
        self.service_informer = factory.informer("services")
        self.pod_informer = factory.informer("pods")
        self.endpoints_informer = factory.informer("endpoints")
        self.service_informer.add_event_handler(
            self.enqueue, lambda old, new: self.enqueue(new), self.enqueue)
        self.pod_informer.add_event_handler(self._pod_added, self._pod_updated,
                                            self._pod_added)
        # Someone deleted an Endpoints object: put it back if its Service wants one.
        self.endpoints_informer.add_event_handler(None, None, self.enqueue)

    async def reconcile(self, key: str) -> None:
        namespace, name = meta.split_key(key)
        service = self.service_informer.store.get(key)
        if service is None:
            await self._delete_endpoints(key, namespace, name)
            return
        if service_selector(service) is None:
            return  # user-managed Endpoints
        if (service.get("spec") or {}).get("type") == "ExternalName":
            return
        pods = self.pod_informer.store.by_index(NAMESPACE_INDEX, namespace)
        subsets = compute_subsets(service, pods)
        labels = endpoints_labels(service)
        current = self.endpoints_informer.store.get(key)
        if current is not None and endpoints_up_to_date(current, subsets, labels):
            return
        ready = sum(len(s.get("addresses") or []) for s in subsets)
        not_ready = sum(len(s.get("notReadyAddresses") or []) for s in subsets)
        if current is None:
            self.decision(key, "create", ready=ready, not_ready=not_ready)
            body: Object = {"apiVersion": "v1", "kind": "Endpoints",
                            "metadata": {"name": name, "namespace": namespace,
                                         "labels": labels},
                            "subsets": subsets}
            try:
                await self.client.create("endpoints", body, namespace)
            except errors.AlreadyExists:
                raise Requeue("endpoints not in the cache yet") from None  # a stale cache
            except errors.Forbidden as exc:
                if "being terminated" not in exc.message:
                    raise  # a terminating namespace refuses it: nothing to retry
            return
        self.decision(key, "update", ready=ready, not_ready=not_ready)
        updated = meta.deep_copy(current)
        updated["metadata"]["labels"] = labels
        updated["subsets"] = subsets
        await self.client.update("endpoints", updated)

    async def _delete_endpoints(self, key: str, namespace: str, name: str) -> None:
        """The Service is gone: so is its Endpoints object, whoever wrote it.

        Asked of the API, not the cache, as Kubernetes does: an Endpoints object
        written a moment ago may not be in the cache yet.
        """
        try:
            await self.client.delete("endpoints", name, namespace)
        except errors.NotFound:
            return
        self.decision(key, "delete", reason="service-gone")
