"""The Controller worker loop, the shared informer factory and the manager's flags."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.clock import FakeClock
from controllers.base import Controller, Requeue, SharedInformerFactory, uid_index
from controllers.main import (
    enabled_controllers,
    parse_args,
    run_controllers,
    selected_controllers,
)
from tests.unit.controllers.controller_fakes import FakeClient, obj, run


class Scripted(Controller):
    """Reconciles by raising (or not) what the test queued for each key."""

    name = "scripted"

    def __init__(self, outcomes: list[BaseException | None], **kwargs: Any) -> None:
        super().__init__(FakeClient(), SharedInformerFactory(FakeClient()), **kwargs)
        self.outcomes = outcomes
        self.seen: list[str] = []

    async def reconcile(self, key: str) -> None:
        self.seen.append(key)
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome


def test_success_forgets_and_errors_back_off() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        ctrl = Scripted([errors.Conflict("stale"), RuntimeError("bug"), None], clock=clock)
        ctrl.queue.add("ns/a")
        assert await ctrl.process_next()
        assert ctrl.queue.num_requeues("ns/a") == 1 and len(ctrl.queue) == 0
        clock.step(1)
        assert await ctrl.process_next()
        assert ctrl.queue.num_requeues("ns/a") == 2
        clock.step(1)
        assert await ctrl.process_next()
        assert ctrl.queue.num_requeues("ns/a") == 0
        assert ctrl.seen == ["ns/a"] * 3
        ctrl.shut_down()
        assert not await ctrl.process_next()
    run(scenario)


def test_requeue_after_waits_on_the_clock() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        ctrl = Scripted([Requeue("content left", after=10.0)], clock=clock)
        ctrl.queue.add("ns")
        await ctrl.process_next()
        clock.step(9.9)
        assert len(ctrl.queue) == 0
        clock.step(0.2)
        assert len(ctrl.queue) == 1
        ctrl.shut_down()
    run(scenario)


def test_the_factory_shares_one_informer_and_index_per_resource() -> None:
    factory = SharedInformerFactory(FakeClient())
    assert factory.informer("pods") is factory.informer("po")
    factory.add_indexer("pods", "uid", uid_index)
    factory.add_indexer("pods", "uid", uid_index)  # a second controller asking: shared
    assert list(factory.informers) == ["pods"]


def test_controller_selection_and_flags() -> None:
    every = ["replicaset", "deployment", "garbagecollector", "namespace", "endpoints",
             "endpointslice", "endpointslicemirroring", "statefulset", "auto-rollback",
             "nodelifecycle", "podgc", "clusterrole-aggregation", "serviceaccount",
             "root-ca-cert-publisher", "nodeipam", "csrapproving", "csrsigning"]
    assert selected_controllers("*") == every  # bootstrapsigner, tokencleaner: named only
    assert selected_controllers("*,bootstrapsigner,tokencleaner")[-3:] == [
        "bootstrapsigner", "tokencleaner", "csrsigning"]
    assert selected_controllers("*,-garbagecollector") == [
        n for n in every if n != "garbagecollector"]
    assert selected_controllers("namespace") == ["namespace"]
    with pytest.raises(ValueError, match="unknown controllers: nope"):
        selected_controllers("nope")
    args = parse_args(["--kubeconfig", "kc"])
    assert (args.concurrent_replicaset_syncs, args.concurrent_deployment_syncs) == (2, 2)
    assert args.controllers == "*" and args.kubeconfig == "kc"
    assert (args.concurrent_service_endpoint_syncs, args.max_endpoints_per_slice) == (5, 100)
    assert parse_args(["--max-endpoints-per-slice", "1000"]).max_endpoints_per_slice == 1000
    with pytest.raises(SystemExit):
        parse_args(["--max-endpoints-per-slice", "1001"])
    # csrsigning runs only with the CA it signs with
    assert "csrsigning" not in enabled_controllers(every, args)
    signing = parse_args(["--cluster-signing-cert-file", "ca.crt",
                          "--cluster-signing-key-file", "ca.key",
                          "--cluster-signing-duration", "2h"])
    assert "csrsigning" in enabled_controllers(every, signing)
    assert signing.cluster_signing_duration == 7200


def test_run_controllers_works_until_stopped() -> None:
    async def scenario() -> None:
        rs = obj("replicasets", "web", spec={
            "replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {}}})
        client = FakeClient([rs])
        stop = asyncio.Event()
        task = asyncio.create_task(run_controllers(client, ["replicaset"], parse_args([]), stop))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while not client.writes("create"):
            assert loop.time() < deadline, f"no pod created; actions: {client.actions}"
            await asyncio.sleep(0.001)
        stop.set()
        await asyncio.wait_for(task, 5)
        created = [a[1] for a in client.writes("create")]
        assert created[0] == "pods" and created.count("pods") == 1
        assert set(created) <= {"pods", "events"}  # the SuccessfulCreate event, if sent yet
    run(scenario)
