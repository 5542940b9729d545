"""plan: which addresses and listeners the proxy wants, from Services and EndpointSlices."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.plan import (
    DEFAULT_AFFINITY_TIMEOUT,
    Backend,
    desired_state,
    parse_range,
    ready_backends,
    service_ports,
)

RANGE = parse_range("172.28.255.0/24")


def svc(name: str, ip: str | None = "172.28.255.10", ports: list[dict[str, Any]] | None = None,
        ns: str = "default", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ports": ports if ports is not None else [{"port": 80}], **spec}
    if ip is not None:
        body["clusterIP"] = ip
    return {"metadata": {"name": name, "namespace": ns}, "spec": body}


def eps(name: str, *subsets: dict[str, Any], ns: str = "default") -> list[dict[str, Any]]:
    """The Service's slices: one per subset, named in order."""
    return [{"metadata": {"name": f"{name}-{i}", "namespace": ns,
                          "labels": {"kubernetes.io/service-name": name}},
             "addressType": "IPv4", **sub} for i, sub in enumerate(subsets)]


def subset(ips: list[str], ports: list[dict[str, Any]],
           not_ready: list[str] | None = None) -> dict[str, Any]:
    """One slice's endpoints and ports: `ips` ready, `not_ready` not."""
    return {"endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips]
            + [{"addresses": [ip], "conditions": {"ready": False}} for ip in not_ready or []],
            "ports": ports}


@pytest.mark.parametrize("service", [
    svc("headless", ip="None"),
    svc("pending", ip=None),
    svc("external", type="ExternalName"),
    svc("lb", type="LoadBalancer"),
    svc("outside", ip="10.0.0.1"),
    svc("garbage", ip="not-an-ip"),
])
def test_services_the_proxy_does_not_serve(service: dict[str, Any]) -> None:
    assert service_ports(service, RANGE) == []


def test_tcp_ports_only_with_names_and_affinity() -> None:
    service = svc("web", type="NodePort", sessionAffinity="ClientIP", ports=[
        {"name": "http", "port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "https", "port": 443, "protocol": "TCP"}])
    ports = service_ports(service, RANGE)
    assert [(p.port_name, p.port, p.cluster_ip) for p in ports] == [
        ("http", 80, "172.28.255.10"), ("https", 443, "172.28.255.10")]
    assert ports[0].affinity_timeout == DEFAULT_AFFINITY_TIMEOUT
    assert ports[0].key == "default/web:http"


def test_affinity_timeout_from_config_and_none_without_affinity() -> None:
    timed = svc("a", sessionAffinity="ClientIP",
                sessionAffinityConfig={"clientIP": {"timeoutSeconds": 30}})
    assert service_ports(timed, RANGE)[0].affinity_timeout == 30
    assert service_ports(svc("b"), RANGE)[0].affinity_timeout is None


def test_ready_backends_by_port_name_skipping_not_ready_and_repeats() -> None:
    endpoints = eps("web",
                    subset(["10.1.0.1", "10.1.0.2"], [{"name": "http", "port": 8080},
                                                      {"name": "metrics", "port": 9090}],
                           not_ready=["10.1.0.9"]),
                    subset(["10.1.0.3", "10.1.0.1"], [{"name": "http", "port": 8081}]),
                    subset(["10.1.0.1"], [{"name": "http", "port": 8080}]))
    assert ready_backends(endpoints, "http") == [
        Backend("10.1.0.1", 8080), Backend("10.1.0.2", 8080), Backend("10.1.0.3", 8081),
        Backend("10.1.0.1", 8081)]
    assert ready_backends(endpoints, "metrics") == [Backend("10.1.0.1", 9090),
                                                    Backend("10.1.0.2", 9090)]
    assert ready_backends(endpoints, "missing") == []
    assert ready_backends([], "http") == []


def test_single_unnamed_port_matches_single_endpoint_port_of_any_name() -> None:
    endpoints = eps("web", subset(["10.1.0.1"], [{"name": "whatever", "port": 8080}]))
    assert ready_backends(endpoints, "", single_service_port=True) == [Backend("10.1.0.1", 8080)]
    assert ready_backends(endpoints, "", single_service_port=False) == []
    udp = eps("web", subset(["10.1.0.1"], [{"port": 53, "protocol": "UDP"}]))
    assert ready_backends(udp, "", single_service_port=True) == []


def test_desired_state_binds_ip_but_listens_only_with_ready_backends() -> None:
    services = [svc("ready", ip="172.28.255.10"), svc("empty", ip="172.28.255.11"),
                svc("unready", ip="172.28.255.12"), svc("none", ip="None")]
    endpoints = {
        "default/ready": eps("ready", subset(["10.1.0.1"], [{"port": 8080}])),
        "default/empty": eps("empty"),
        "default/unready": eps("unready", subset([], [{"port": 8080}], not_ready=["10.1.0.2"])),
    }
    state = desired_state(services, endpoints, RANGE)
    assert state.cluster_ips == {"172.28.255.10", "172.28.255.11", "172.28.255.12"}
    assert list(state.listeners) == [("172.28.255.10", 80)]
    sp, backends = state.listeners[("172.28.255.10", 80)]
    assert (sp.key, backends) == ("default/ready:80", [Backend("10.1.0.1", 8080)])
    assert set(state.service_ports) == {"default/ready:80", "default/empty:80",
                                        "default/unready:80"}


def test_endpoints_are_joined_by_namespace_and_name() -> None:
    services = [svc("web", ns="a", ip="172.28.255.20"), svc("web", ns="b", ip="172.28.255.21")]
    endpoints = {"b/web": eps("web", subset(["10.1.0.5"], [{"port": 80}]), ns="b")}
    state = desired_state(services, endpoints, RANGE)
    assert list(state.listeners) == [("172.28.255.21", 80)]


def test_a_shared_address_goes_to_the_first_service_by_key() -> None:
    services = [svc("b", ip="172.28.255.30"), svc("a", ip="172.28.255.30")]
    endpoints = {k: eps(k[8:], subset(["10.1.0.1"], [{"port": 80}]))
                 for k in ("default/a", "default/b")}
    state = desired_state(services, endpoints, RANGE)
    assert state.listeners[("172.28.255.30", 80)][0].service == "a"


def test_parse_range_refuses_ipv6() -> None:
    with pytest.raises(ValueError):
        parse_range("fd00::/108")


def test_a_headless_service_has_no_address_and_no_listener_even_with_endpoints() -> None:
    services = [svc("db", ip="None", ports=[{"name": "pg", "port": 5432}])]
    endpoints = {"default/db": eps("db", subset(["10.1.0.1", "10.1.0.2"],
                                                [{"name": "pg", "port": 5432}]))}
    state = desired_state(services, endpoints, RANGE, ["127.0.0.1"])
    assert (state.cluster_ips, state.listeners, state.service_ports) == (set(), {}, {})


NODE_PORT_SVC = svc("web", ip="172.28.255.40", type="NodePort", ports=[
    {"name": "http", "port": 80, "nodePort": 30080},
    {"name": "admin", "port": 81, "nodePort": 30081}])


def test_a_node_port_listens_on_every_node_address_with_the_cluster_ip_backends() -> None:
    endpoints = {"default/web": eps("web", subset(["10.1.0.1"], [
        {"name": "http", "port": 8080}, {"name": "admin", "port": 8081}]))}
    state = desired_state([NODE_PORT_SVC], endpoints, RANGE, ["127.0.0.1", "192.168.5.2"])
    assert sorted(state.listeners) == [
        ("127.0.0.1", 30080), ("127.0.0.1", 30081), ("172.28.255.40", 80),
        ("172.28.255.40", 81), ("192.168.5.2", 30080), ("192.168.5.2", 30081)]
    on_node, backends = state.listeners[("192.168.5.2", 30080)]
    cluster, cluster_backends = state.listeners[("172.28.255.40", 80)]
    # one service port, one balancer: the same key, the same backends, the same affinity
    assert on_node.key == cluster.key == "default/web:http"
    assert backends == cluster_backends == [Backend("10.1.0.1", 8080)]
    assert (on_node.cluster_ip, on_node.port, on_node.node_port) == ("192.168.5.2", 30080, 30080)
    assert state.service_ports["default/web:http"] == cluster
    assert state.cluster_ips == {"172.28.255.40"}  # node addresses are never put on lo


def test_an_unnamed_node_port_shares_its_service_ports_key() -> None:
    """The balancer is found by key: an unnamed port's key is the Service's port number,
    not the nodePort its node listener listens on."""
    service = svc("web", ip="172.28.255.41", type="NodePort",
                  ports=[{"port": 80, "nodePort": 30090}])
    endpoints = {"default/web": eps("web", subset(["10.1.0.1"], [{"port": 8080}]))}
    state = desired_state([service], endpoints, RANGE, ["192.168.5.2"])
    on_node, _ = state.listeners[("192.168.5.2", 30090)]
    assert on_node.key == "default/web:80" and on_node.key in state.service_ports


def test_a_node_port_without_ready_backends_has_no_listener() -> None:
    endpoints = {"default/web": eps("web", subset(["10.1.0.1"], [{"name": "http", "port": 8080}],
                                                  not_ready=["10.1.0.2"]))}
    state = desired_state([NODE_PORT_SVC], endpoints, RANGE, ["127.0.0.1"])
    assert sorted(state.listeners) == [("127.0.0.1", 30080), ("172.28.255.40", 80)]


def test_no_node_port_listeners_without_node_addresses_or_for_cluster_ip_services() -> None:
    endpoints = {"default/web": eps("web", subset(["10.1.0.1"], [{"name": "http", "port": 8080}]))}
    assert sorted(desired_state([NODE_PORT_SVC], endpoints, RANGE).listeners) == [
        ("172.28.255.40", 80)]
    # a nodePort left behind on a Service whose type went back to ClusterIP is not served
    cluster_ip = svc("web", ip="172.28.255.40", ports=[
        {"name": "http", "port": 80, "nodePort": 30080}])
    assert sorted(desired_state([cluster_ip], endpoints, RANGE, ["127.0.0.1"]).listeners) == [
        ("172.28.255.40", 80)]


def test_ready_backends_never_include_an_address_validation_refuses() -> None:
    """Stored before validation refused them, or by a writer that skipped it: the node
    itself, its metadata service or no IP at all is never forwarded to."""
    refused = ["0.0.0.0", "127.0.0.1", "127.9.9.9", "169.254.169.254", "224.0.0.1", "::",
               "::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "not-an-ip", ""]
    endpoints = eps("web", subset([*refused, "10.1.0.1"], [{"name": "http", "port": 80}]))
    assert ready_backends(endpoints, "http") == [Backend("10.1.0.1", 80)]
