"""activeDeadlineSeconds fails a pod that stays too long; a liveness or startup probe's own
terminationGracePeriodSeconds bounds the kill its failure causes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from agent.podsync.actions import probe_grace
from agent.podsync.deadline import deadline_left
from agent.runtime.container import PodObservation
from tests.unit.agent.helpers import NOW, UID, make_pod
from tests.unit.agent.podsync.test_pod_sync import World


def test_deadline_left_counts_from_the_start_time() -> None:
    pod = make_pod("a")
    assert deadline_left(pod, NOW, NOW) is None
    pod["spec"]["activeDeadlineSeconds"] = 30
    assert deadline_left(pod, NOW, NOW + timedelta(seconds=10)) == 20
    pod["status"]["startTime"] = (NOW - timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert deadline_left(pod, NOW, NOW) == -10


def test_a_pod_past_its_deadline_fails_and_its_containers_stop(tmp_path: Path) -> None:
    pod = make_pod("a")
    pod["spec"]["activeDeadlineSeconds"] = 10
    world = World(tmp_path, pod)

    async def body() -> None:
        first = await world.syncer.sync(UID)
        assert first.requeue_after == 10  # woken when the deadline passes
        world.accept_status()
        world.clock.step(11)
        await world.syncer.sync(UID)
    asyncio.run(body())
    failed = [s for s in world.client.statuses() if s.get("reason") == "DeadlineExceeded"]
    assert failed == [{"phase": "Failed", "reason": "DeadlineExceeded",
                       "message": "Pod was active on the node longer than the specified "
                                  "deadline"}]
    assert ("stop", "a/30") in world.runtime.actions()
    assert "DeadlineExceeded" in world.events()
    assert world.status()["phase"] == "Failed"


def test_probe_grace_applies_to_its_own_kills_only() -> None:
    pod = make_pod("a")
    pod["spec"]["containers"][0]["livenessProbe"] = {"exec": {"command": ["true"]},
                                                     "terminationGracePeriodSeconds": 5}
    assert probe_grace(pod, "a", "Container a failed liveness probe, will be restarted") == 5
    assert probe_grace(pod, "a", "Container a failed startup probe, will be restarted") is None
    assert probe_grace(pod, "a", "pod is terminal") is None


def test_a_liveness_kill_uses_the_probes_grace(tmp_path: Path) -> None:
    pod = make_pod("a")
    pod["spec"]["containers"][0]["livenessProbe"] = {"exec": {"command": ["true"]},
                                                     "terminationGracePeriodSeconds": 5}
    world = World(tmp_path, pod)

    async def body() -> None:
        await world.syncer.sync(UID)
        observed = PodObservation.of(await world.runtime.pod_containers(UID))
        running = observed.running()[0]
        await world.syncer._kill(pod, observed, {
            running.id: "Container a failed liveness probe, will be restarted"}, 30)
    asyncio.run(body())
    assert world.runtime.actions()[-1] == ("stop", "a/5")
