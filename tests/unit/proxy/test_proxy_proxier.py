"""proxier: an address held for the DNS server stays on lo across syncs until shutdown."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from proxy.addresses import LoopbackAddresses
from proxy.proxier import Proxier


class RecordingAddresses(LoopbackAddresses):
    """LoopbackAddresses that records `ip addr` actions instead of running them."""

    def __init__(self) -> None:
        super().__init__("lo")
        self.actions: list[tuple[str, str]] = []

    async def add(self, ip: str) -> None:
        self.actions.append(("add", ip))
        self.added.add(ip)

    async def remove(self, ip: str) -> None:
        if ip in self.added:
            self.actions.append(("del", ip))
            self.added.discard(ip)


class UnreachableClient:
    """The proxier under test never starts its informers: any API call is a bug."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the API was reached: {name}")


def service(name: str, ip: str, ns: str = "default") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": ip, "ports": [{"name": "dns-tcp", "port": 53}]}}


def test_a_held_address_survives_syncs_with_or_without_its_service() -> None:
    async def body() -> None:
        addresses = RecordingAddresses()
        proxier = Proxier(UnreachableClient(),  # type: ignore[arg-type]
                          ipaddress.ip_network("172.28.255.0/24"), addresses=addresses)
        await proxier.hold_address("172.28.255.10")
        await proxier.sync()
        store = proxier.services.store
        store._put(service("kube-dns", "172.28.255.10", ns="kube-system"))
        store._put(service("web", "172.28.255.20"))
        await proxier.sync()
        store._pop("kube-system/kube-dns")
        store._pop("default/web")
        await proxier.sync()
        assert addresses.actions == [("add", "172.28.255.10"), ("add", "172.28.255.20"),
                                     ("del", "172.28.255.20")]
        await proxier.shutdown()
        assert addresses.actions[-1] == ("del", "172.28.255.10")
        assert addresses.added == set()

    asyncio.run(body())
