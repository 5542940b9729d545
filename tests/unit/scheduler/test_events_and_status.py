"""Event filters, the PodScheduled condition patch, and the scheduling queue."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime

from apimachinery.clock import FakeClock
from scheduler.event_filters import (
    needs_scheduling,
    node_scheduling_properties_changed,
    pod_spec_changed,
    responsible_for,
)
from scheduler.queue import SchedulingQueue
from scheduler.status import unschedulable_patch
from tests.unit.scheduler.builders import make_node, make_pod

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_which_pods_need_scheduling() -> None:
    assert needs_scheduling(make_pod("p"), "default-scheduler")
    assert needs_scheduling(make_pod("p", scheduler_name="default-scheduler"),
                            "default-scheduler")
    assert not needs_scheduling(make_pod("p", node_name="n1"), "default-scheduler")
    assert not needs_scheduling(make_pod("p", scheduler_name="gpu"), "default-scheduler")
    assert needs_scheduling(make_pod("p", scheduler_name="gpu"), "gpu")
    assert not responsible_for(make_pod("p"), "gpu")
    assert not needs_scheduling(make_pod("p", phase="Failed"), "default-scheduler")
    deleting = make_pod("p")
    deleting["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    assert not needs_scheduling(deleting, "default-scheduler")
    gated = make_pod("p")
    gated["spec"]["schedulingGates"] = [{"name": "wait"}]
    assert not needs_scheduling(gated, "default-scheduler")


def test_status_and_bookkeeping_changes_are_not_pod_updates() -> None:
    old = make_pod("p")
    new = copy.deepcopy(old)
    new["metadata"]["resourceVersion"] = "2"
    new["status"]["conditions"] = [{"type": "PodScheduled", "status": "False"}]
    assert not pod_spec_changed(old, new)
    new["metadata"]["labels"] = {"a": "b"}
    assert pod_spec_changed(old, new)


def test_node_changes_that_matter_to_filters() -> None:
    old = make_node("n1")
    heartbeat = copy.deepcopy(old)
    heartbeat["status"]["conditions"][0]["lastHeartbeatTime"] = "2024-01-01T00:00:00Z"
    heartbeat["metadata"]["resourceVersion"] = "9"
    assert not node_scheduling_properties_changed(old, heartbeat)
    for changed in (make_node("n1", unschedulable=True), make_node("n1", cpu="8"),
                    make_node("n1", labels={"zone": "a"}), make_node("n1", ready="False"),
                    make_node("n1", taints=[{"key": "k", "effect": "NoSchedule"}])):
        assert node_scheduling_properties_changed(old, changed)


def test_unschedulable_patch_is_a_condition_merged_by_type() -> None:
    patch = unschedulable_patch(make_pod("p"), "Unschedulable", "0/1 nodes are available: x.",
                                NOW)
    assert patch == {"status": {"conditions": [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "message": "0/1 nodes are available: x.", "lastTransitionTime": "2024-05-06T07:08:09Z"}]}}


def test_unschedulable_patch_skips_what_is_already_recorded_and_keeps_the_transition() -> None:
    pod = make_pod("p")
    pod["status"]["conditions"] = [{"type": "PodScheduled", "status": "False",
                                    "reason": "Unschedulable", "message": "old",
                                    "lastTransitionTime": "2024-01-01T00:00:00Z"}]
    assert unschedulable_patch(pod, "Unschedulable", "old", NOW) is None
    patch = unschedulable_patch(pod, "Unschedulable", "new", NOW)
    assert patch is not None
    assert patch["status"]["conditions"][0]["lastTransitionTime"] == "2024-01-01T00:00:00Z"


def test_queue_keeps_unschedulable_pods_until_something_moves_them() -> None:
    async def body() -> None:
        queue = SchedulingQueue(FakeClock())
        queue.add("ns/a")
        assert await queue.get() == "ns/a"
        queue.add_unschedulable("ns/a")
        queue.done("ns/a")
        assert len(queue) == 0 and queue.unschedulable == {"ns/a"}
        queue.update("ns/a", relevant=False)
        assert len(queue) == 0
        assert queue.move_all_to_active() == 1
        assert len(queue) == 1 and queue.unschedulable == frozenset()
        assert await queue.get() == "ns/a"
        queue.add_unschedulable("ns/a")
        queue.done("ns/a")
        queue.update("ns/a", relevant=True)
        assert len(queue) == 1 and queue.num_requeues("ns/a") == 2
        queue.delete("ns/a")
        queue.forget("ns/a")
        assert queue.num_requeues("ns/a") == 0
        queue.shut_down()

    asyncio.run(body())
