"""Node lifecycle: stale heartbeats make a node Unknown, tainted, and its pods evicted."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from controllers.base import SharedInformerFactory
from controllers.nodelifecycle import (
    NOT_READY,
    UNREACHABLE,
    UNSCHEDULABLE,
    NodeLifecycleController,
    eviction_due,
    heartbeat_age,
    wanted_taints,
    with_unknown_conditions,
)
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


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


def test_heartbeat_is_the_later_of_lease_and_condition() -> None:
    n = node(heartbeat=NOW - timedelta(seconds=60))
    assert heartbeat_age(n, None, NOW) == 60
    assert heartbeat_age(n, lease("n1", NOW - timedelta(seconds=3)), NOW) == 3
    assert heartbeat_age(obj("nodes", "bare"), None, NOW) is None


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
    not_ready = wanted_taints(node(ready="False", taints=unknown), NOW)
    assert [t["key"] for t in not_ready or []] == [NOT_READY]
    other = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}
    assert wanted_taints(node(taints=[other, *unknown]), NOW) == [other]


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
    assert eviction_due(pod("p"), taint, NOW + timedelta(seconds=5), 10).wait == 5
    assert eviction_due(pod("p"), taint, NOW + timedelta(seconds=10), 10).due
    long = pod("p", tolerations=[{"key": UNREACHABLE, "operator": "Exists",
                                  "effect": "NoExecute", "tolerationSeconds": 60}])
    assert not eviction_due(long, taint, NOW + timedelta(seconds=30), 10).due
    forever = pod("p", tolerations=[{"operator": "Exists"}])
    assert eviction_due(forever, taint, NOW + timedelta(days=1), 10).wait is None


def build(client: FakeClient, factory: SharedInformerFactory,
          clock: FakeClock) -> NodeLifecycleController:
    return NodeLifecycleController(client, factory, grace_period=15, unreachable_seconds=10,
                                   clock=clock)


def test_a_silent_node_is_marked_unknown_tainted_and_its_pods_evicted() -> None:
    async def scenario() -> None:
        start = FakeClock().now()
        client = FakeClient([node(heartbeat=start - timedelta(seconds=20)),
                             lease("n1", start - timedelta(seconds=20)), pod("p1"),
                             pod("p2", tolerations=[{"operator": "Exists"}])])
        async with started(client, build) as (ctl, _clock):
            await ctl.reconcile("n1")
        verbs = [(a[0], a[1], a[2]) for a in client.actions if a[1] != "events"]
        assert verbs[:4] == [("update_status", "nodes", "n1"), ("update_status", "pods", "p1"),
                             ("update_status", "pods", "p2"), ("update", "nodes", "n1")]
        taints = client.actions[3][3]["spec"]["taints"]
        assert [t["key"] for t in taints] == [UNREACHABLE]
        assert ("delete", "pods", "p1") not in verbs  # the toleration has 10 s to run
    run(scenario)


def test_eviction_after_the_default_toleration() -> None:
    async def scenario() -> None:
        start = FakeClock().now()
        taint = {"key": UNREACHABLE, "effect": "NoExecute",
                 "timeAdded": stamp(start - timedelta(seconds=11))}
        client = FakeClient([node(ready="Unknown", heartbeat=start - timedelta(seconds=40),
                                  taints=[taint]),
                             pod("p1"), pod("p2", tolerations=[{"operator": "Exists"}]),
                             pod("elsewhere", node_name="n2")])
        async with started(client, build) as (ctl, _clock):
            await ctl.reconcile("n1")
        deletes = [a[2] for a in client.actions if a[0] == "delete"]
        assert deletes == ["p1"]
    run(scenario)


def test_a_live_node_is_left_alone_and_rechecked_before_its_grace_ends() -> None:
    async def scenario() -> None:
        start = FakeClock().now()
        client = FakeClient([node(heartbeat=start - timedelta(seconds=5)), pod("p1")])
        async with started(client, build) as (ctl, clock):
            await ctl.reconcile("n1")
            assert client.actions == []
            assert await ctl.queue.get() == "n1"  # the informer's first add
            ctl.queue.done("n1")
            clock.step(9)
            assert len(ctl.queue) == 0  # rechecked when its grace can have run out
            clock.step(2)
            assert len(ctl.queue) == 1
    run(scenario)
