"""Fake Services and EndpointSlices caches for the DNS tests: the reads the records do."""

from __future__ import annotations

from typing import Any

from apimachinery import meta
from apimachinery.informer import NAMESPACE_INDEX
from apimachinery.meta import Object
from proxy.slices import SERVICE_INDEX, service_index


class FakeCache:
    """`get(key)`, the namespace index and the slices' service index of an informer
    store, over a fixed object list."""

    def __init__(self, *objects: Object) -> None:
        self.items = {meta.key_of(o): o for o in objects}

    def get(self, key: str) -> Object | None:
        return self.items.get(key)

    def index_keys(self, name: str, value: str) -> list[str]:
        assert name == NAMESPACE_INDEX, f"unexpected index {name}"
        return sorted(k for k, o in self.items.items() if meta.namespace_of(o) == value)

    def by_index(self, name: str, value: str) -> list[Object]:
        assert name == SERVICE_INDEX, f"unexpected index {name}"
        return [o for _, o in sorted(self.items.items()) if value in service_index(o)]


def service(name: str, ns: str = "default", ip: str | None = "172.28.255.20",
            ports: list[Object] | None = None, **spec: Any) -> Object:
    body: Object = {"ports": ports if ports is not None else [
        {"name": "http", "port": 80, "protocol": "TCP"}], **spec}
    if ip is not None:
        body["clusterIP"] = ip
    return {"metadata": {"name": name, "namespace": ns}, "spec": body}


def endpoints(name: str, addresses: list[Object], ns: str = "default",
              ports: list[Object] | None = None,
              not_ready: list[Object] | None = None) -> Object:
    """A Service's EndpointSlice: `addresses` ready, `not_ready` not (Endpoints' shape in,
    so each test reads as the addresses it is about)."""
    def endpoint(address: Object, ready: bool) -> Object:
        out: Object = {"addresses": [address["ip"]], "conditions": {"ready": ready}}
        if address.get("hostname"):
            out["hostname"] = address["hostname"]
        return out

    return {"metadata": {"name": f"{name}-abcde", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": [endpoint(a, True) for a in addresses]
            + [endpoint(a, False) for a in not_ready or []],
            "ports": ports if ports is not None else [
                {"name": "http", "port": 8080, "protocol": "TCP"}]}
