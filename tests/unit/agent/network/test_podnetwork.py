"""The pod network loop: waiting for spec.podCIDR, and routes following the Nodes."""

from __future__ import annotations

import asyncio
import copy
import ipaddress
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import pytest

from agent.network.hostnetwork import HostNetwork
from agent.network.podnetwork import HostGatewayRoutes, PodCIDRTimeout, wait_for_pod_cidr
from apimachinery import errors
from apimachinery.client import WatchEvent
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from tests.unit.agent.network.test_hostnetwork import FakeRunner, node

CLUSTER = ipaddress.ip_network("172.30.128.0/17")


def run(body: Callable[[], Awaitable[None]]) -> None:
    """Run on a fresh loop and fail if a task is left behind."""
    async def main() -> None:
        await body()
        leaked = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leaked == [], f"leaked tasks: {leaked}"
    asyncio.run(main())


async def settle(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


class NodeAPI:
    """Nodes for `get` (the wait) and for an informer (list, then watch events fed by tests)."""

    def __init__(self, *nodes: Object) -> None:
        self.nodes = {n["metadata"]["name"]: copy.deepcopy(n) for n in nodes}
        self.gets: list[str] = []
        self.fail_gets = 0
        self.events: asyncio.Queue[WatchEvent] = asyncio.Queue()

    async def get(self, resource: str, name: str) -> Object:
        assert resource == "nodes"
        self.gets.append(name)
        if self.fail_gets:
            self.fail_gets -= 1
            raise errors.ServiceUnavailable("apiserver restarting")
        return copy.deepcopy(self.nodes[name])

    async def list_all(self, resource: Any, namespace: str | None = None,
                       **_: Any) -> tuple[list[Object], str]:
        return [copy.deepcopy(n) for n in self.nodes.values()], "1"

    async def watch(self, resource: Any, namespace: str | None = None,
                    **_: Any) -> AsyncGenerator[WatchEvent, None]:
        while True:
            yield await self.events.get()


def test_waits_for_the_pod_cidr_the_controller_writes() -> None:
    clock = FakeClock()
    api = NodeAPI(node("n1"))
    api.fail_gets = 1

    async def body() -> None:
        waiting = asyncio.create_task(wait_for_pod_cidr(
            api, clock, node("n1"), timeout=60))  # type: ignore[arg-type]
        for _ in range(3):
            await settle(lambda: clock.sleepers == 1, "the wait to sleep")
            clock.step(1)
        await settle(lambda: clock.sleepers == 1, "the wait to sleep")
        api.nodes["n1"]["spec"]["podCIDR"] = "172.30.129.0/24"
        clock.step(1)
        assert await waiting == "172.30.129.0/24"
    run(body)
    assert api.gets == ["n1"] * 4  # the first read failed and was simply tried again


def test_a_node_registered_with_its_cidr_needs_no_wait() -> None:
    async def body() -> None:
        assert await wait_for_pod_cidr(None, FakeClock(), node(  # type: ignore[arg-type]
            "n1", "172.30.129.0/24"), timeout=60) == "172.30.129.0/24"
    run(body)


def test_the_wait_is_bounded() -> None:
    clock = FakeClock()
    api = NodeAPI(node("n1"))

    async def body() -> None:
        waiting = asyncio.create_task(wait_for_pod_cidr(
            api, clock, node("n1"), timeout=5))  # type: ignore[arg-type]
        for _ in range(5):
            await settle(lambda: clock.sleepers == 1, "the wait to sleep")
            clock.step(1)
        with pytest.raises(PodCIDRTimeout, match=r"node n1 has no spec\.podCIDR after 5s"):
            await waiting
    run(body)


def test_routes_follow_nodes_coming_and_going() -> None:
    clock = FakeClock()
    me = node("n1", "172.30.128.0/24", "172.30.0.2")
    n2 = node("n2", "172.30.129.0/24", "172.30.0.3")
    api = NodeAPI(me, n2)
    runner = FakeRunner()
    routes = HostGatewayRoutes(api, clock, HostNetwork(runner),  # type: ignore[arg-type]
                               node_name="n1", cluster_cidr=CLUSTER,
                               own_cidr=ipaddress.ip_network("172.30.128.0/24"))

    def route_commands() -> list[list[str]]:
        return [c[:6] for c in runner.commands if c[:2] == ["ip", "route"]]

    async def body() -> None:
        task = asyncio.create_task(routes.run())
        await settle(lambda: len(route_commands()) == 1, "n2's route")
        assert route_commands() == [["ip", "route", "replace", "172.30.129.0/24", "via",
                                     "172.30.0.3"]]
        assert [c[2] for c in runner.commands if c[0] == "iptables"] == ["-C", "-C"]
        # n2 goes; the kernel (the runner) still lists its route: it is removed.
        runner.answers[("ip", "-json")] = (0, '[{"dst": "172.30.129.0/24", '
                                              '"gateway": "172.30.0.3"}]')
        await api.events.put(WatchEvent("DELETED", n2))
        await settle(lambda: len(route_commands()) == 2, "n2's route removed")
        assert route_commands()[1] == ["ip", "route", "del", "172.30.129.0/24", "via",
                                       "172.30.0.3"]
        task.cancel()
        await asyncio.wait([task])
    run(body)


def test_a_failed_command_is_retried() -> None:
    clock = FakeClock()
    api = NodeAPI(node("n2", "172.30.129.0/24", "172.30.0.3"))
    runner = FakeRunner({("ip", "route", "replace"): (2, "")})
    routes = HostGatewayRoutes(api, clock, HostNetwork(runner),  # type: ignore[arg-type]
                               node_name="n1", cluster_cidr=CLUSTER, own_cidr=None,
                               resync_period=300)

    def replaces() -> int:
        return sum(1 for c in runner.commands if c[:3] == ["ip", "route", "replace"])

    async def body() -> None:
        task = asyncio.create_task(routes.run())
        await settle(lambda: replaces() == 1, "a first try")
        del runner.answers[("ip", "route", "replace")]
        await settle(lambda: clock.sleepers == 2, "the retry wait and the resync ticker")
        clock.step(5)
        await settle(lambda: replaces() == 2, "the retry")
        task.cancel()
        await asyncio.wait([task])
    run(body)


def test_status_heartbeats_do_not_wake_the_loop() -> None:
    routes = HostGatewayRoutes(NodeAPI(), FakeClock(), HostNetwork(FakeRunner()),  # type: ignore[arg-type]
                               node_name="n1", cluster_cidr=CLUSTER, own_cidr=None)
    old = node("n2", "172.30.129.0/24", "172.30.0.3")
    beat = copy.deepcopy(old)
    beat["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    routes._updated(old, beat)
    assert not routes._dirty.is_set()
    moved = copy.deepcopy(old)
    moved["status"]["addresses"][0]["address"] = "172.30.0.9"
    routes._updated(old, moved)
    assert routes._dirty.is_set()
