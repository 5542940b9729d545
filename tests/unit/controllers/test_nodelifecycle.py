"""Node lifecycle: stale heartbeats (by the controller's clock) make a node Unknown,
tainted at the zone's rate and its pods evicted, unless the whole cluster looks down."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta

from apimachinery import errors
from apimachinery.client import WatchEvent
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from controllers.base import SharedInformerFactory
from controllers.disruption import FULL, NORMAL, PARTIAL, TokenBucket, zone_qps, zone_state
from controllers.nodehealth import NodeHealth
from controllers.nodelifecycle import (
    NOT_READY,
    UNREACHABLE,
    UNSCHEDULABLE,
    NodeLifecycleController,
    eviction_due,
    wanted_taints,
    with_unknown_conditions,
)
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
GRACE = 15


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def node(name: str = "n1", ready: str = "True", heartbeat: datetime = NOW,
         taints: list[Object] | None = None) -> Object:
    return obj("nodes", name, spec={"taints": taints or []}, status={"conditions": [
        {"type": "Ready", "status": ready, "lastHeartbeatTime": stamp(heartbeat),
         "lastTransitionTime": stamp(heartbeat - timedelta(minutes=5))}]})


def lease(name: str, renewed: datetime) -> Object:
    return obj("leases", name, ns="kube-node-lease",
               spec={"holderIdentity": name, "renewTime": renewed.isoformat()})


def pod(name: str, node_name: str = "n1", tolerations: list[Object] | None = None) -> Object:
    return obj("pods", name, spec={"nodeName": node_name, "tolerations": tolerations or [],
                                   "containers": [{"name": "c", "image": "i"}]},
               status={"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]})


def tolerating(name: str, node_name: str, seconds: int) -> Object:
    """A pod as DefaultTolerationSeconds admission leaves it."""
    return pod(name, node_name, [{"key": key, "operator": "Exists", "effect": "NoExecute",
                                  "tolerationSeconds": seconds}
                                 for key in (NOT_READY, UNREACHABLE)])


# -- pure decisions ---------------------------------------------------------------------------

def test_health_is_when_the_controller_saw_the_heartbeat_change() -> None:
    health = NodeHealth()
    ancient = NOW - timedelta(days=3)  # an agent clock days behind: only change counts
    assert health.observe("n1", node(heartbeat=ancient), lease("n1", ancient), NOW) == 0
    later = NOW + timedelta(seconds=20)
    assert health.observe("n1", node(heartbeat=ancient), lease("n1", ancient), later) == 20
    renewed = lease("n1", ancient + timedelta(seconds=5))
    assert health.observe("n1", node(heartbeat=ancient), renewed, later) == 0
    health.reset(later + timedelta(seconds=30))
    assert health.observe("n1", node(heartbeat=ancient), renewed,
                          later + timedelta(seconds=31)) == 1
    assert health.observe("bare", obj("nodes", "bare"), None, NOW) is None


def test_unknown_conditions_once() -> None:
    updated = with_unknown_conditions(node(), NOW)
    assert updated is not None
    ready = updated["status"]["conditions"][0]
    assert (ready["status"], ready["reason"]) == ("Unknown", "NodeStatusUnknown")
    assert with_unknown_conditions(updated, NOW) is None


def test_taints_follow_the_ready_condition() -> None:
    assert wanted_taints(node(), NOW) is None
    unknown = wanted_taints(node(ready="Unknown"), NOW)
    assert unknown == [{"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp(NOW)}]
    not_ready = wanted_taints(node(ready="False", taints=unknown), NOW, may_add=False)
    assert [t["key"] for t in not_ready or []] == [NOT_READY]  # swapped without the limiter
    other = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}
    assert wanted_taints(node(taints=[other, *unknown]), NOW) == [other]


def test_a_new_taint_waits_for_the_limiter_and_full_disruption_clears_them() -> None:
    assert wanted_taints(node(ready="Unknown"), NOW, may_add=False) is None
    tainted = node(ready="Unknown", taints=wanted_taints(node(ready="Unknown"), NOW))
    assert wanted_taints(tainted, NOW, may_add=False) is None
    assert wanted_taints(tainted, NOW, clear=True) == []


def test_a_cordoned_node_gets_the_unschedulable_taint_until_uncordoned() -> None:
    cordoned = node()
    cordoned["spec"]["unschedulable"] = True
    taints = wanted_taints(cordoned, NOW)
    assert taints == [{"key": UNSCHEDULABLE, "effect": "NoSchedule"}]
    cordoned["spec"]["taints"] = taints
    assert wanted_taints(cordoned, NOW) is None
    unknown = copy.deepcopy(cordoned)
    unknown["status"]["conditions"][0]["status"] = "Unknown"
    assert [t["key"] for t in wanted_taints(unknown, NOW) or []] == [UNSCHEDULABLE, UNREACHABLE]
    cordoned["spec"]["unschedulable"] = False
    assert wanted_taints(cordoned, NOW) == []


def test_eviction_waits_for_the_toleration() -> None:
    taint = {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp(NOW)}
    assert eviction_due(pod("p"), taint, NOW).due  # no toleration: at once, as Kubernetes
    long = tolerating("p", "n1", 60)
    assert eviction_due(long, taint, NOW + timedelta(seconds=30)).wait == 30
    assert eviction_due(long, taint, NOW + timedelta(seconds=60)).due
    forever = pod("p", tolerations=[{"operator": "Exists"}])
    assert eviction_due(forever, taint, NOW + timedelta(days=1)).wait is None


def test_zone_states_as_kubernetes_computes_them() -> None:
    assert zone_state([True, True, False], 0.55) == NORMAL
    assert zone_state([False, False], 0.55) == FULL
    assert zone_state([True, True, False, False], 0.55) == NORMAL  # 2 unhealthy: never partial
    assert zone_state([True, True, False, False, False], 0.55) == PARTIAL
    assert zone_state([True, True, True, False, False, False], 0.55) == NORMAL  # 50 % < 55 %
    rates = {"rate": 0.1, "secondary_rate": 0.01, "large_cluster": 50}
    assert zone_qps(PARTIAL, 10, **rates) == 0  # a small zone mostly down: no evictions
    assert zone_qps(PARTIAL, 51, **rates) == 0.01
    assert zone_qps(NORMAL, 10, **rates) == 0.1


def test_token_bucket() -> None:
    clock = FakeClock()
    bucket = TokenBucket(0.1, clock)
    assert bucket.try_accept() and not bucket.try_accept()
    clock.step(9.9)
    assert not bucket.try_accept()
    clock.step(0.2)
    assert bucket.try_accept()
    bucket.set_qps(0)
    clock.step(3600)
    assert not bucket.try_accept()


# -- the controller on a fake clock -----------------------------------------------------------

def build(client: FakeClient, factory: SharedInformerFactory,
          clock: FakeClock) -> NodeLifecycleController:
    return NodeLifecycleController(client, factory, grace_period=GRACE, monitor_period=5,
                                   clock=clock)


class Cluster:
    """Agents renewing their Leases on the controller's informers, with skewable clocks."""

    def __init__(self, ctl: NodeLifecycleController, clock: FakeClock, names: list[str]) -> None:
        self.ctl, self.clock = ctl, clock
        self.renewals = dict.fromkeys(names, 0)

    async def renew(self, *names: str, skew: timedelta = timedelta(0)) -> None:
        for name in names:
            self.renewals[name] += 1
            agent_time = self.clock.now() + skew
            await self.ctl.leases._apply(WatchEvent("MODIFIED", lease(name, agent_time)))

    async def run_for(self, seconds: int, live: list[str], skew: timedelta = timedelta(0),
                      apiserver_up: bool = True) -> None:
        """Pass seconds in monitor periods; the live agents renew before each pass."""
        for _ in range(seconds // 5):
            self.clock.step(5)
            if apiserver_up:
                await self.renew(*live, skew=skew)
            await self.ctl.monitor()


def seeded(names: list[str], pods: list[Object]) -> FakeClient:
    objects: list[Object] = []
    for name in names:
        objects += [node(name), lease(name, NOW)]
    return FakeClient(objects + pods)


def taint_writes(client: FakeClient) -> list[tuple[str, list[str]]]:
    return [(a[2], [t["key"] for t in a[3]["spec"]["taints"]])
            for a in client.actions if a[0] == "update" and a[1] == "nodes"]


def unknown_writes(client: FakeClient) -> list[str]:
    return [a[2] for a in client.actions if a[0] == "update_status" and a[1] == "nodes"]


def deletes(client: FakeClient) -> list[str]:
    return [a[2] for a in client.actions if a[0] == "delete"]


async def drain(ctl: NodeLifecycleController) -> None:
    while len(ctl.queue):
        await ctl.process_next()


def test_skewed_agent_clocks_stay_ready_while_their_leases_change() -> None:
    async def scenario() -> None:
        names = ["n1", "n2", "n3"]
        client = seeded(names, [pod("p1")])
        async with started(client, build) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(60, ["n1"], skew=timedelta(hours=-6))
            await cluster.run_for(0, [])
            await cluster.run_for(60, ["n1"], skew=timedelta(days=400))
        # n1's agent clock is hours behind then a year ahead: it stays Ready. n2 and n3
        # (silent) go Unknown after the grace period.
        assert "n1" not in unknown_writes(client)
        assert set(unknown_writes(client)) == {"n2", "n3"}
    run(scenario)


def test_a_silent_node_is_marked_tainted_and_its_pods_evicted_after_their_toleration() -> None:
    async def scenario() -> None:
        names = ["n1", "n2", "n3"]
        client = seeded(names, [tolerating("p1", "n3", 10), pod("forever", "n3",
                                [{"operator": "Exists"}]), tolerating("other", "n1", 10)])
        async with started(client, build) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(15, ["n1", "n2"])
            assert unknown_writes(client) == []  # a full grace period first
            await cluster.run_for(5, ["n1", "n2"])
            assert unknown_writes(client) == ["n3"]
            assert sorted(a[2] for a in client.actions if a[:2] == ("update_status", "pods")) == \
                ["forever", "p1"]  # MarkPodsNotReady
            assert taint_writes(client) == [("n3", [UNREACHABLE])]
            tainted = copy.deepcopy(client.objects[("nodes", "n3")])
            await ctl.nodes._apply(WatchEvent("MODIFIED", tainted))
            await drain(ctl)
            assert deletes(client) == []
            clock.step(11)  # p1's 10 s are up
            await asyncio.sleep(0)
            await drain(ctl)
            assert deletes(client) == ["p1"]
    run(scenario)


def test_after_a_restart_every_node_gets_a_full_grace_period() -> None:
    async def scenario() -> None:
        names = ["n1", "n2"]
        old = NOW - timedelta(minutes=10)  # Leases last renewed while no controller ran
        client = FakeClient([node("n1", heartbeat=old), lease("n1", old),
                             node("n2", heartbeat=old), lease("n2", old), pod("p1")])
        async with started(client, build) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(15, [])
            assert unknown_writes(client) == [] and taint_writes(client) == []
            await cluster.run_for(5, ["n1"])
            assert unknown_writes(client) == ["n2"]  # judged only after the grace period
    run(scenario)


def test_an_apiserver_outage_of_60s_judges_nothing_and_restarts_the_grace_period() -> None:
    async def scenario() -> None:
        names = ["n1", "n2", "n3"]
        client = seeded(names, [tolerating(f"p-{n}", n, 0) for n in names])
        async with started(client, build) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(30, names)
            gone = errors.Unreachable("cannot reach the apiserver")
            client.fail("get", "namespaces", *[gone] * 12)  # 60 s of passes, 5 s apart
            client.fail("update_status", "nodes", *[gone] * 100)
            await cluster.run_for(60, names, apiserver_up=False)
            assert ctl.control_plane_away
            client.failures.clear()
            # Back: n1's agent renews first; n2 and n3 take 10 s more, inside the full
            # grace period every node gets from the moment the apiserver answers again.
            await cluster.run_for(5, ["n1"])
            assert not ctl.control_plane_away
            await cluster.run_for(10, ["n1"])
            await cluster.run_for(30, names)
            await drain(ctl)
        assert unknown_writes(client) == []  # not even tried: nothing was judged
        assert taint_writes(client) == []
        assert deletes(client) == []
    run(scenario)


def test_an_outage_shorter_than_the_grace_period_also_restarts_it() -> None:
    async def scenario() -> None:
        names = ["n1", "n2"]
        client = seeded(names, [])
        async with started(client, build) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(5, names)
            client.fail("get", "namespaces", errors.ServiceUnavailable("etcd away"))
            await cluster.run_for(10, names, apiserver_up=False)  # 10 s of a 15 s grace
            # The renewals take 10 s to get through after the outage: still not judged.
            await cluster.run_for(10, [])
            await cluster.run_for(10, names)
        assert unknown_writes(client) == []
    run(scenario)


def test_nodes_left_unknown_by_an_outage_end_the_full_disruption_when_they_renew() -> None:
    async def scenario() -> None:
        names = ["n1", "n2", "n3"]
        client = seeded(names, [])
        async with started(client, build) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(20, [])  # every agent cut off: all Unknown, written
            assert ctl.fully_disrupted
            for name in names:  # the cache now holds what was written
                await ctl.nodes._apply(WatchEvent("MODIFIED", client.objects[("nodes", name)]))
            await cluster.run_for(5, ["n1"])  # n1's Lease moves again, its status not yet
            assert not ctl.fully_disrupted
            written = len(unknown_writes(client))
            await cluster.run_for(10, ["n1"])  # n2, n3 get a full grace period again
            assert len(unknown_writes(client)) == written
            assert taint_writes(client) == []
    run(scenario)


def test_full_disruption_marks_nodes_unknown_but_evicts_nothing() -> None:
    async def scenario() -> None:
        names = ["n1", "n2", "n3"]
        old_taint = {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp(NOW)}
        client = FakeClient([node("n1", taints=[old_taint]), lease("n1", NOW),
                             node("n2"), lease("n2", NOW), node("n3"), lease("n3", NOW),
                             pod("p1"), pod("p2", "n2")])
        async with started(client, build) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(20, [])  # no Lease changes (the nodes cut off), writes work
            await drain(ctl)
            clock.step(300)
            await cluster.run_for(30, [])
            await drain(ctl)
        assert set(unknown_writes(client)) == set(names)  # NotReady is marked...
        # ...the old NoExecute taint removed (again on each pass: the fake's writes do not
        # reach the cache)...
        assert {(n, tuple(keys)) for n, keys in taint_writes(client)} == {("n1", ())}
        assert deletes(client) == []  # ...and nothing evicted
    run(scenario)


def test_partial_disruption_stops_tainting_in_a_small_zone() -> None:
    async def scenario() -> None:
        names = [f"n{i}" for i in range(5)]
        client = seeded(names, [])
        async with started(client, build) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(60, names[:2])  # 3 of 5 silent: 60 % >= 55 %
            assert ctl.zone_states == {"": PARTIAL}
        assert set(unknown_writes(client)) == set(names[2:])
        assert taint_writes(client) == []
    run(scenario)


def test_partial_disruption_taints_at_the_secondary_rate_in_a_large_zone() -> None:
    def large(client: FakeClient, factory: SharedInformerFactory,
              clock: FakeClock) -> NodeLifecycleController:
        return NodeLifecycleController(client, factory, grace_period=GRACE, monitor_period=5,
                                       secondary_eviction_rate=0.05, large_cluster_size=4,
                                       clock=clock)

    async def scenario() -> None:
        names = [f"n{i}" for i in range(5)]
        client = seeded(names, [])
        async with started(client, large) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(20, names[:2])
            assert ctl.zone_states == {"": PARTIAL}
            first = len(taint_writes(client))
            await cluster.run_for(15, names[:2])
            assert len(taint_writes(client)) == first  # 1 node per 20 s
            await cluster.run_for(5, names[:2])
            assert len(taint_writes(client)) == first + 1
        assert first == 1
    run(scenario)


def test_normal_zone_taints_at_the_eviction_rate() -> None:
    async def scenario() -> None:
        names = [f"n{i}" for i in range(10)]
        client = seeded(names, [])
        async with started(client, build) as (ctl, clock):
            cluster = Cluster(ctl, clock, names)
            await ctl.monitor()
            await cluster.run_for(20, names[:7])  # 3 of 10 silent: Normal, 0.1 node/s
            assert ctl.zone_states == {"": NORMAL}
            assert [n for n, _ in taint_writes(client)] == ["n7"]
            await cluster.run_for(5, names[:7])
            assert [n for n, _ in taint_writes(client)] == ["n7"]
            await cluster.run_for(5, names[:7])
            assert [n for n, _ in taint_writes(client)] == ["n7", "n8"]
            await cluster.run_for(10, names[:7])
            assert [n for n, _ in taint_writes(client)] == ["n7", "n8", "n9"]
    run(scenario)


def test_a_ready_node_loses_its_taint_at_once() -> None:
    async def scenario() -> None:
        taint = {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp(NOW)}
        client = FakeClient([node("n1", taints=[taint]), lease("n1", NOW), pod("p1")])
        async with started(client, build) as (ctl, _clock):
            await ctl.reconcile("n1")
        assert taint_writes(client) == [("n1", [])]
        assert deletes(client) == []
    run(scenario)
