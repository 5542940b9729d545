"""Fake Services and Endpoints caches for the DNS tests: the two reads the records do."""

from __future__ import annotations

from typing import Any

from apimachinery import meta
from apimachinery.informer import NAMESPACE_INDEX
from apimachinery.meta import Object


class FakeCache:
    """`get(key)` and the namespace index of an informer store, over a fixed object list."""

    def __init__(self, *objects: Object) -> None:
        self.items = {meta.key_of(o): o for o in objects}

    def get(self, key: str) -> Object | None:
        return self.items.get(key)

    def index_keys(self, name: str, value: str) -> list[str]:
        assert name == NAMESPACE_INDEX, f"unexpected index {name}"
        return sorted(k for k, o in self.items.items() if meta.namespace_of(o) == value)


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
    return {"metadata": {"name": name, "namespace": ns}, "subsets": [{
        "addresses": addresses, "notReadyAddresses": not_ready or [],
        "ports": ports if ports is not None else [
            {"name": "http", "port": 8080, "protocol": "TCP"}]}]}
