"""Hollow nodes' pure parts (names, podCIDRs, fake IPs, a hollow pod's status, spreading) and
the pod sync's decisions against a fake client on a fake clock."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta

import pytest

from agent.hollow.addresses import PodIPAllocator, PodIPsExhausted, node_names, node_pod_cidr
from agent.hollow.nodes import GatedLeaseRenewer, HollowNodeConfig, HollowNodes, spread
from agent.hollow.pods import HollowPods
from agent.hollow.reported_status import container_id, hollow_pod_status
from agent.main import hollow_config_from, parse_args
from agent.podsync.pod_status import status_changed
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from tests.unit.agent.fakes import FakeClient
from tests.unit.agent.helpers import NOW, UID, make_pod


def test_node_names_are_prefix_and_index() -> None:
    assert node_names("hollow-", 3) == ["hollow-0", "hollow-1", "hollow-2"]
    assert node_names("h", 0) == []
    with pytest.raises(ValueError):
        node_names("h", -1)


@pytest.mark.parametrize(("index", "cidr"), [
    (0, "10.64.0.0/24"), (3, "10.64.3.0/24"), (256, "10.65.0.0/24"),
    (16383, "10.127.255.0/24")])
def test_node_pod_cidr_is_the_index_th_subnet(index: int, cidr: str) -> None:
    assert node_pod_cidr(index, "10.64.0.0/10", 24) == cidr


def test_node_pod_cidr_out_of_range() -> None:
    with pytest.raises(ValueError, match="16384"):
        node_pod_cidr(16384, "10.64.0.0/10", 24)
    with pytest.raises(ValueError, match="does not fit"):
        node_pod_cidr(0, "10.64.0.0/24", 16)
    assert node_pod_cidr(1, "10.64.0.0/16", 26) == "10.64.0.64/26"


def test_pod_ips_skip_network_gateway_and_broadcast() -> None:
    ips = PodIPAllocator("10.64.3.0/29")  # .0 network, .1 gateway, .7 broadcast
    assert ips.capacity == 5
    got = [ips.allocate(f"u{i}") for i in range(5)]
    assert got == [f"10.64.3.{i}" for i in range(2, 7)]
    assert ips.allocate("u0") == "10.64.3.2"  # the same pod keeps its IP
    with pytest.raises(PodIPsExhausted):
        ips.allocate("u5")


def test_pod_ips_roam_forward_after_release() -> None:
    ips = PodIPAllocator("10.64.3.0/24")
    assert [ips.allocate(u) for u in ("a", "b", "c")] == ["10.64.3.2", "10.64.3.3",
                                                          "10.64.3.4"]
    ips.release("a")
    assert ips.ip_of("a") is None and len(ips) == 2
    assert ips.allocate("d") == "10.64.3.5"  # not .2 again at once
    small = PodIPAllocator("10.0.0.0/30")  # one usable address: .2
    small.allocate("x")
    small.release("x")
    assert small.allocate("y") == "10.0.0.2"  # wraps round to the freed one


def test_reserve_adopts_an_ip_reported_before_a_restart() -> None:
    ips = PodIPAllocator("10.64.3.0/24")
    assert ips.reserve("a", "10.64.3.9")
    assert ips.reserve("a", "10.64.3.9")  # idempotent
    assert not ips.reserve("b", "10.64.3.9")  # taken
    assert not ips.reserve("c", "10.99.0.5")  # not in this node's CIDR
    assert not ips.reserve("d", "10.64.3.1")  # the gateway
    assert not ips.reserve("e", "not-an-ip")
    assert ips.allocate("a") == "10.64.3.9"
    assert ips.allocate("f") == "10.64.3.2"


def test_hollow_pod_status_is_running_and_ready_like_the_agents() -> None:
    pod = make_pod("app", "sidecar")
    status = hollow_pod_status(pod, pod_ip="10.64.3.2", host_ip="127.0.0.1", now=NOW)
    assert status["phase"] == "Running"
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Initialized": "True", "Ready": "True", "ContainersReady": "True",
        "PodScheduled": "True"}
    assert (status["podIP"], status["podIPs"]) == ("10.64.3.2", [{"ip": "10.64.3.2"}])
    assert (status["hostIP"], status["hostIPs"]) == ("127.0.0.1", [{"ip": "127.0.0.1"}])
    assert status["startTime"] == "2024-01-01T12:00:00Z"
    assert status["qosClass"] == "BestEffort"
    app, sidecar = status["containerStatuses"]
    assert app["containerID"] == f"hollow://{container_id(UID, 'app')}"
    assert app["state"] == {"running": {"startedAt": "2024-01-01T12:00:00Z"}}
    assert (app["ready"], app["started"], app["restartCount"]) == (True, True, 0)
    assert app["imageID"].startswith("sha256:") and sidecar["name"] == "sidecar"


def test_a_hollow_pod_reports_its_init_containers_completed() -> None:
    pod = make_pod("app")
    pod["spec"]["initContainers"] = [{"name": "setup", "image": "schooner/busybox:latest"}]
    status = hollow_pod_status(pod, pod_ip="10.64.3.2", host_ip="127.0.0.1", now=NOW)
    assert status["phase"] == "Running"
    (setup,) = status["initContainerStatuses"]
    assert setup["state"]["terminated"]["reason"] == "Completed" and setup["ready"]
    assert status["conditions"][0] == {"type": "Initialized", "status": "True",
                                       "lastProbeTime": None,
                                       "lastTransitionTime": "2024-01-01T12:00:00Z"}


def test_a_reported_pod_yields_the_same_status_later() -> None:
    pod = make_pod("app")
    first = hollow_pod_status(pod, pod_ip="10.64.3.2", host_ip="127.0.0.1", now=NOW)
    stored = copy.deepcopy(pod)
    stored["status"] = {**stored["status"], **first}
    later = hollow_pod_status(stored, pod_ip="10.64.3.2", host_ip="127.0.0.1",
                              now=NOW + timedelta(minutes=3))
    assert not status_changed(stored["status"], later)


def test_renewals_are_spread_evenly_over_the_interval() -> None:
    assert [spread(i, 4, 10.0) for i in range(4)] == [0.0, 2.5, 5.0, 7.5]
    assert spread(0, 0, 10.0) == 0.0


def test_hollow_nodes_have_their_own_cidrs_and_hollow_label() -> None:
    nodes = HollowNodes(FakeClient(), FakeClock(), HollowNodeConfig(count=3, prefix="h-"))
    assert nodes.pod_cidrs == {"h-0": "10.64.0.0/24", "h-1": "10.64.1.0/24",
                               "h-2": "10.64.2.0/24"}
    status = nodes.nodes[1].status
    assert status.spec == {"podCIDR": "10.64.1.0/24", "podCIDRs": ["10.64.1.0/24"]}
    assert status.extra_labels == {"schooner.io/hollow": "true"}
    node_status = status._status(None)
    assert node_status["capacity"] == {"cpu": "4", "memory": "16777216Ki",
                                       "ephemeral-storage": str(100 * 1024**3), "pods": "110"}
    assert node_status["nodeInfo"]["containerRuntimeVersion"] == "hollow://1.0.0"
    # no server behind it: port 0 says so, and the apiserver answers logs/exec 503
    assert node_status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 0}}


def test_hollow_flags() -> None:
    config = hollow_config_from(parse_args([
        "--hollow", "1000", "--hollow-name-prefix", "hn-", "--hollow-start-delay", "2s",
        "--hollow-memory", "8Gi", "--hollow-max-pods", "50", "--hollow-cleanup"]))
    assert (config.nodes.count, config.nodes.prefix, config.start_delay) == (1000, "hn-", 2.0)
    assert (config.nodes.memory_bytes, config.nodes.max_pods, config.cleanup) == (
        8 * 1024**3, 50, True)
    assert (config.nodes.lease_renew_interval, config.nodes.status_period) == (10.0, 300.0)
    assert (config.workers, config.nodes.pod_cidr_range) == (16, "10.64.0.0/10")
    assert parse_args([]).hollow == 0  # off: a real agent


# -- the pod sync, on a fake clock ---------------------------------------------------------------

def hollow_pods(clock: FakeClock, client: FakeClient, delay: float = 1.0) -> HollowPods:
    return HollowPods(client, clock, pod_cidrs={"n1": "10.64.1.0/24"}, host_ip="127.0.0.1",
                      start_delay=delay)


def seen(pods: HollowPods, pod: Object) -> str:
    """Put `pod` in the cache as the informer would, and tell the handler."""
    pods.informer.store._put(pod)
    pods._on_pod(pod)
    return "ns/p"


def test_a_pod_is_reported_running_after_the_start_delay() -> None:
    async def scenario() -> None:
        clock, client = FakeClock(wall=NOW), FakeClient()
        pods = hollow_pods(clock, client)
        key = seen(pods, make_pod("app"))
        await pods.sync(key)
        assert client.calls == []  # too early: requeued for the rest of the delay
        clock.step(1.0)
        await pods.sync(key)
        (status,) = client.statuses()
        assert (status["phase"], status["podIP"]) == ("Running", "10.64.1.2")
        assert (pods.stats.started, pods.stats.writes) == (1, 1)

    asyncio.run(scenario())


def test_pods_on_other_nodes_are_not_touched() -> None:
    async def scenario() -> None:
        clock, client = FakeClock(wall=NOW), FakeClient()
        pods = hollow_pods(clock, client, delay=0)
        pod = make_pod("app")
        pod["spec"]["nodeName"] = "real-node"
        key = seen(pods, pod)
        await pods.sync(key)
        assert client.calls == [] and pods.pods_on("n1") == []

    asyncio.run(scenario())


def test_a_deleting_pod_is_deleted_for_good_and_its_ip_freed() -> None:
    async def scenario() -> None:
        clock, client = FakeClock(wall=NOW), FakeClient()
        pods = hollow_pods(clock, client, delay=0)
        key = seen(pods, make_pod("app"))
        await pods.sync(key)
        assert pods.allocators["n1"].ip_of(UID) == "10.64.1.2"
        deleting = make_pod("app", deleting=True)
        key = seen(pods, deleting)
        await pods.sync(key)
        assert client.calls[-1] == ("delete", "pods", "p", 0, {"uid": UID})
        pods._on_delete(deleting)
        assert pods.allocators["n1"].ip_of(UID) is None and pods.stats.deleted == 1

    asyncio.run(scenario())


def test_an_ip_reported_before_a_restart_is_kept() -> None:
    async def scenario() -> None:
        clock, client = FakeClock(wall=NOW), FakeClient()
        pods = hollow_pods(clock, client, delay=0)
        key = seen(pods, make_pod("app", phase="Running", podIP="10.64.1.77"))
        await pods.sync(key)
        (status,) = client.statuses()
        assert status["podIP"] == "10.64.1.77"

    asyncio.run(scenario())


def test_lease_renewals_wait_at_the_gate_not_in_the_client_pool() -> None:
    async def scenario() -> None:
        gate, release = asyncio.Semaphore(1), asyncio.Event()
        in_flight: list[str] = []

        class SlowLeases:
            async def get(self, resource: str, name: str, namespace: str) -> Object:
                in_flight.append(name)
                await release.wait()
                return {"metadata": {"name": name, "namespace": namespace}, "spec": {}}

            async def update(self, resource: str, obj: Object) -> Object:
                return obj

        renewers = [GatedLeaseRenewer(SlowLeases(), FakeClock(), f"h-{i}", gate=gate)
                    for i in range(3)]
        tasks = [asyncio.create_task(r.renew()) for r in renewers]
        for _ in range(5):
            await asyncio.sleep(0)
        assert in_flight == ["h-0"]  # the others wait at the gate
        release.set()
        await asyncio.gather(*tasks)
        assert in_flight == ["h-0", "h-1", "h-2"]

    asyncio.run(scenario())
