"""slices: a Service's backends merged from all its EndpointSlices, as kube-proxy does."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

from apimachinery.informer import Store
from proxy.plan import Backend, desired_state, parse_range, ready_backends
from proxy.proxier import Proxier
from proxy.slices import (
    SERVICE_INDEX,
    Endpoint,
    port_endpoints,
    service_index,
    traffic_endpoints,
)

RANGE = parse_range("172.28.255.0/24")
HTTP = {"name": "http", "port": 8080, "protocol": "TCP"}


def ep(ip: str, ready: bool | None = True, serving: bool | None = None,
       terminating: bool | None = None, **extra: Any) -> dict[str, Any]:
    conditions = {k: v for k, v in (("ready", ready), ("serving", serving),
                                    ("terminating", terminating)) if v is not None}
    return {"addresses": [ip], "conditions": conditions, **extra}


def eslice(name: str, endpoints: list[dict[str, Any]], ports: list[dict[str, Any]] | None = None,
           service: str | None = "web", ns: str = "default",
           address_type: str = "IPv4") -> dict[str, Any]:
    labels = {"endpointslice.kubernetes.io/managed-by": "someone.example.com"}
    if service is not None:
        labels["kubernetes.io/service-name"] = service
    return {"metadata": {"name": name, "namespace": ns, "labels": labels},
            "addressType": address_type, "endpoints": endpoints,
            "ports": [HTTP] if ports is None else ports}


def svc(name: str = "web", ip: str = "172.28.255.10",
        ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default"},
            "spec": {"clusterIP": ip, "ports": ports or [{"name": "http", "port": 80}]}}


def test_several_slices_of_a_service_are_merged_in_slice_name_order() -> None:
    slices = [eslice("web-b", [ep("10.1.0.3")]),
              eslice("web-a", [ep("10.1.0.1"), ep("10.1.0.2")])]
    assert ready_backends(slices, "http") == [
        Backend("10.1.0.1", 8080), Backend("10.1.0.2", 8080), Backend("10.1.0.3", 8080)]


def test_ports_match_by_name_and_protocol_and_each_slice_has_its_own_numbers() -> None:
    slices = [eslice("web-a", [ep("10.1.0.1")], ports=[
                  HTTP, {"name": "metrics", "port": 9090},
                  {"name": "dns", "port": 53, "protocol": "UDP"}]),
              eslice("web-b", [ep("10.1.0.2")], ports=[{"name": "http", "port": 8081}])]
    assert ready_backends(slices, "http") == [Backend("10.1.0.1", 8080),
                                              Backend("10.1.0.2", 8081)]
    assert ready_backends(slices, "metrics") == [Backend("10.1.0.1", 9090)]
    assert ready_backends(slices, "dns") == []  # UDP: the proxy serves TCP only
    assert ready_backends(slices, "missing") == []


def test_only_ready_endpoints_get_traffic_while_any_is_ready() -> None:
    slices = [eslice("web-a", [ep("10.1.0.1"), ep("10.1.0.2", ready=False, serving=False),
                               ep("10.1.0.3", ready=False, serving=True, terminating=True)])]
    assert ready_backends(slices, "http") == [Backend("10.1.0.1", 8080)]


def test_serving_terminating_endpoints_get_traffic_only_when_none_is_ready() -> None:
    slices = [eslice("web-a", [ep("10.1.0.2", ready=False, serving=False, terminating=True),
                               ep("10.1.0.3", ready=False, serving=True, terminating=True),
                               ep("10.1.0.4", ready=False, serving=True, terminating=False)])]
    assert ready_backends(slices, "http") == [Backend("10.1.0.3", 8080)]
    not_serving = [eslice("web-a", [ep("10.1.0.2", ready=False, serving=False)])]
    assert ready_backends(not_serving, "http") == []


def test_absent_conditions_count_as_ready_and_serving_not_terminating() -> None:
    slices = [eslice("web-a", [{"addresses": ["10.1.0.1"]}, {"addresses": []},
                               {"addresses": ["10.1.0.2"], "conditions": {"serving": False}}])]
    assert port_endpoints(slices, "http") == [
        Endpoint("10.1.0.1", 8080, True, True, False),
        Endpoint("10.1.0.2", 8080, True, False, False)]


def test_a_duplicate_across_slices_counts_once_the_first_slice_by_name_winning() -> None:
    slices = [eslice("web-b", [ep("10.1.0.1", ready=True), ep("10.1.0.2")]),
              eslice("web-a", [ep("10.1.0.1", ready=False, serving=False)])]
    endpoints = port_endpoints(slices, "http")
    assert [(e.ip, e.ready) for e in endpoints] == [("10.1.0.1", False), ("10.1.0.2", True)]
    assert [e.ip for e in traffic_endpoints(endpoints)] == ["10.1.0.2"]
    same = [eslice("web-a", [ep("10.1.0.1")]), eslice("web-b", [ep("10.1.0.1")])]
    assert ready_backends(same, "http") == [Backend("10.1.0.1", 8080)]


def test_only_ipv4_slices_count() -> None:
    slices = [eslice("web-a", [ep("fd00::1")], address_type="IPv6"),
              eslice("web-b", [ep("db.example.com")], address_type="FQDN"),
              eslice("web-c", [ep("10.1.0.1")])]
    assert ready_backends(slices, "http") == [Backend("10.1.0.1", 8080)]


def test_desired_state_serves_a_selectorless_service_from_its_hand_made_slice() -> None:
    slices = {"default/web": [eslice("web-hand", [ep("10.1.0.7")])]}
    state = desired_state([svc()], slices, RANGE)
    sp, backends = state.listeners[("172.28.255.10", 80)]
    assert (sp.key, backends) == ("default/web:http", [Backend("10.1.0.7", 8080)])


def test_the_service_index_follows_a_slice_whose_label_changes_or_goes() -> None:
    store = Store()
    store.add_indexer(SERVICE_INDEX, service_index)
    store._put(eslice("s1", [ep("10.1.0.1")], service="web"))
    assert [s["metadata"]["name"] for s in store.by_index(SERVICE_INDEX, "default/web")] == ["s1"]
    store._put(eslice("s1", [ep("10.1.0.1")], service="api"))
    assert store.by_index(SERVICE_INDEX, "default/web") == []
    assert len(store.by_index(SERVICE_INDEX, "default/api")) == 1
    store._put(eslice("s1", [ep("10.1.0.1")], service=None))
    assert store.by_index(SERVICE_INDEX, "default/api") == []
    assert store.by_index(SERVICE_INDEX, "other/web") == []


class UnreachableClient:
    """The proxier under test never starts its informers: any API call is a bug."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the API was reached: {name}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_proxier_balancer_follows_slices_moving_between_services() -> None:
    """The proxier's sync reads the slice cache by index: a slice relabelled to another
    Service leaves the first one's balancer, and its listener closes when none is left."""
    async def body() -> None:
        port = _free_port()
        proxier = Proxier(UnreachableClient(),  # type: ignore[arg-type]
                          ipaddress.ip_network("127.77.0.0/24"), addresses=None)
        proxier.services.store._put(svc("web", "127.77.0.10", [{"name": "http", "port": port}]))
        proxier.services.store._put(svc("api", "127.77.0.11", [{"name": "http", "port": port}]))
        slices = proxier.slices.store
        slices._put(eslice("web-1", [ep("10.1.0.1")]))
        slices._put(eslice("web-2", [ep("10.1.0.2"), ep("10.1.0.1")]))
        await proxier.sync()
        assert proxier._balancers["default/web:http"].backends == [
            Backend("10.1.0.1", 8080), Backend("10.1.0.2", 8080)]
        slices._put(eslice("web-2", [ep("10.1.0.2")], service="api"))
        await proxier.sync()
        assert proxier._balancers["default/web:http"].backends == [Backend("10.1.0.1", 8080)]
        assert proxier._balancers["default/api:http"].backends == [Backend("10.1.0.2", 8080)]
        slices._put(eslice("web-1", [ep("10.1.0.1")], service=None))
        await proxier.sync()
        assert proxier._balancers["default/web:http"].backends == []
        assert sorted(proxier._listeners) == [("127.77.0.11", port)]
        await proxier.shutdown()

    asyncio.run(body())
