"""host-gw routes and forwarding rules: the pure decisions, and the commands run for them."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Sequence
from typing import Any

import pytest

from agent.network.hostnetwork import (
    HostNetwork,
    HostNetworkError,
    Route,
    desired_routes,
    parse_routes,
    plan_routes,
)
from apimachinery.meta import Object

CLUSTER = ipaddress.ip_network("172.30.128.0/17")
OWN = ipaddress.ip_network("172.30.128.0/24")


def net(text: str) -> Any:
    return ipaddress.ip_network(text)


def ip(text: str) -> Any:
    return ipaddress.ip_address(text)


def node(name: str, cidr: str = "", address: str = "", *, listed: bool = True) -> Object:
    spec: Object = {}
    if cidr:
        spec = {"podCIDR": cidr, **({"podCIDRs": [cidr]} if listed else {})}
    addresses = [{"type": "Hostname", "address": name}]
    if address:
        addresses.insert(0, {"type": "InternalIP", "address": address})
    return {"metadata": {"name": name}, "spec": spec, "status": {"addresses": addresses}}


def desired(*nodes: Object) -> dict[Any, Any]:
    return desired_routes(nodes, node_name="self", cluster_cidr=CLUSTER, own_cidr=OWN)


def test_a_route_to_each_other_nodes_pod_cidr_via_its_internal_ip() -> None:
    assert desired(node("self", "172.30.128.0/24", "172.30.0.2"),
                   node("n2", "172.30.129.0/24", "172.30.0.3"),
                   node("n3", "172.30.130.0/24", "172.30.0.4", listed=False)) == {
        net("172.30.129.0/24"): ip("172.30.0.3"), net("172.30.130.0/24"): ip("172.30.0.4")}


@pytest.mark.parametrize("other", [
    node("no-cidr", "", "172.30.0.3"),
    node("no-address", "172.30.129.0/24"),
    node("outside", "10.244.1.0/24", "172.30.0.3"),  # never route outside the cluster CIDR
    node("straddling", "172.30.0.0/16", "172.30.0.3"),
    node("overlapping-own", "172.30.128.0/25", "172.30.0.3"),
    node("loopback-gateway", "172.30.129.0/24", "127.0.0.1"),
    node("gateway-in-pod-range", "172.30.129.0/24", "172.30.140.1"),
    node("ipv6-gateway", "172.30.129.0/24", "fd00::3"),
    node("bad-cidr", "172.30.129.1/24", "172.30.0.3"),
], ids=lambda n: n["metadata"]["name"])
def test_nodes_that_get_no_route(other: Object) -> None:
    assert desired(other) == {}


def test_a_cidr_claimed_twice_goes_to_the_first_node_by_name() -> None:
    assert desired(node("n3", "172.30.129.0/24", "172.30.0.4"),
                   node("n2", "172.30.129.0/24", "172.30.0.3")) == {
        net("172.30.129.0/24"): ip("172.30.0.3")}


def test_plan_adds_replaces_and_deletes_only_inside_the_cluster_cidr() -> None:
    want = {net("172.30.129.0/24"): ip("172.30.0.3"), net("172.30.130.0/24"): ip("172.30.0.4"),
            net("172.30.131.0/24"): ip("172.30.0.5")}
    have = [Route(net("172.30.129.0/24"), ip("172.30.0.3")),   # right already
            Route(net("172.30.130.0/24"), ip("172.30.0.9")),   # node moved
            Route(net("172.30.132.0/24"), ip("172.30.0.6")),   # node gone
            Route(net("10.0.0.0/24"), ip("172.30.0.7"))]       # not ours to touch
    plan = plan_routes(want, have, CLUSTER)
    assert plan.replace == [Route(net("172.30.130.0/24"), ip("172.30.0.4")),
                            Route(net("172.30.131.0/24"), ip("172.30.0.5"))]
    assert plan.delete == [Route(net("172.30.132.0/24"), ip("172.30.0.6"))]


def test_nothing_to_do_when_the_table_matches() -> None:
    want = {net("172.30.129.0/24"): ip("172.30.0.3")}
    plan = plan_routes(want, [Route(net("172.30.129.0/24"), ip("172.30.0.3"))], CLUSTER)
    assert (plan.replace, plan.delete) == ([], [])


def test_parse_routes_keeps_the_cluster_cidrs_routes_only() -> None:
    output = json.dumps([
        {"dst": "172.30.129.0/24", "gateway": "172.30.0.3", "dev": "eth0", "flags": []},
        {"dst": "default", "gateway": "172.30.0.1", "dev": "eth0", "flags": []},
        {"dst": "192.0.2.0/24", "gateway": "172.30.0.3", "dev": "eth0", "flags": []},
        {"dst": "172.30.130.0/24", "dev": "br-1", "flags": []}])
    assert parse_routes(output, CLUSTER) == [Route(net("172.30.129.0/24"), ip("172.30.0.3"))]
    assert parse_routes("", CLUSTER) == []


# -- the commands -----------------------------------------------------------------------------

class FakeRunner:
    """Answers commands from a table of (argv prefix -> exit code, stdout); records them."""

    def __init__(self, answers: dict[tuple[str, ...], tuple[int, str]] | None = None) -> None:
        self.answers = answers or {}
        self.commands: list[list[str]] = []

    async def __call__(self, argv: Sequence[str]) -> tuple[int, str, str]:
        self.commands.append(list(argv))
        for prefix, (code, out) in self.answers.items():
            if tuple(argv[:len(prefix)]) == prefix:
                return code, out, "" if code == 0 else "iptables: Bad rule"
        return 0, "", ""


RULE = ["DOCKER-USER", "{dir}", "172.30.128.0/17", "-m", "comment", "--comment",
        "schooner pod network", "-j", "ACCEPT"]


def rule(direction: str) -> list[str]:
    return [direction if part == "{dir}" else part for part in RULE]


def test_route_commands() -> None:
    runner = FakeRunner({("ip", "-json"): (0, json.dumps(
        [{"dst": "172.30.129.0/24", "gateway": "172.30.0.3"}]))})
    host = HostNetwork(runner)
    route = Route(net("172.30.130.0/24"), ip("172.30.0.4"))

    async def body() -> None:
        assert await host.routes(CLUSTER) == [Route(net("172.30.129.0/24"), ip("172.30.0.3"))]
        await host.replace_route(route)
        await host.delete_route(route)
    asyncio.run(body())
    assert runner.commands == [
        ["ip", "-json", "route", "show", "table", "main", "proto", "157"],
        ["ip", "route", "replace", "172.30.130.0/24", "via", "172.30.0.4", "proto", "157"],
        ["ip", "route", "del", "172.30.130.0/24", "via", "172.30.0.4", "proto", "157"]]


def test_deleting_a_route_already_gone_is_fine_other_failures_raise() -> None:
    route = Route(net("172.30.130.0/24"), ip("172.30.0.4"))
    gone = HostNetwork(FakeRunner({("ip", "route", "del"): (2, "")}))
    asyncio.run(gone.delete_route(route))
    broken = HostNetwork(FakeRunner({("ip", "route", "replace"): (2, "")}))
    with pytest.raises(HostNetworkError, match=r"ip route replace 172\.30\.130\.0/24 .* exit 2"):
        asyncio.run(broken.replace_route(route))


def test_forward_rules_are_inserted_only_when_missing() -> None:
    missing = FakeRunner({("iptables", "-w", "-C"): (1, "")})
    assert asyncio.run(HostNetwork(missing).ensure_forward_accept(CLUSTER)) == [
        "-s 172.30.128.0/17", "-d 172.30.128.0/17"]
    assert missing.commands == [["iptables", "-w", "-C", *rule("-s")],
                                ["iptables", "-w", "-I", *rule("-s")],
                                ["iptables", "-w", "-C", *rule("-d")],
                                ["iptables", "-w", "-I", *rule("-d")]]
    present = FakeRunner()
    assert asyncio.run(HostNetwork(present).ensure_forward_accept(CLUSTER)) == []
    assert [c[2] for c in present.commands] == ["-C", "-C"]


def test_no_docker_user_chain_is_an_error() -> None:
    runner = FakeRunner({("iptables", "-w", "-C"): (1, ""), ("iptables", "-w", "-I"): (1, "")})
    with pytest.raises(HostNetworkError, match="iptables -w -I DOCKER-USER"):
        asyncio.run(HostNetwork(runner).ensure_forward_accept(CLUSTER))


def test_ipv6_uses_the_v6_tools() -> None:
    runner = FakeRunner()
    cluster = net("fd00:10::/56")

    async def body() -> None:
        await HostNetwork(runner).ensure_forward_accept(cluster)
        await HostNetwork(runner).replace_route(Route(net("fd00:10:0:1::/64"), ip("fd00::3")))
    asyncio.run(body())
    assert runner.commands[0][0] == "ip6tables"
    assert runner.commands[-1][:3] == ["ip", "-6", "route"]
