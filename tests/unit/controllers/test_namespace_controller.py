"""The namespace controller: delete content, wait while some remains, then finalize."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.base import Requeue
from controllers.namespace import NamespaceController, namespaced_resources
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

TERMINATING = {"deletionTimestamp": "2024-01-01T00:00:00Z"}


def namespace() -> dict[str, Any]:
    return obj("namespaces", "ns", metadata=TERMINATING, spec={"finalizers": ["kubernetes"]},
               status={"phase": "Terminating"})


def build(client: FakeClient, factory: Any, clock: Any) -> NamespaceController:
    return NamespaceController(client, factory, clock=clock)


def test_workloads_are_deleted_before_pods_and_the_rest() -> None:
    order = [r.plural for r in namespaced_resources()]
    assert order[:4] == ["deployments", "statefulsets", "replicasets", "pods"]
    assert "namespaces" not in order and "nodes" not in order and "configmaps" in order


def test_content_remaining_requeues_without_finalizing() -> None:
    bound = obj("pods", "slow", metadata=TERMINATING)  # waits for its agent
    client = FakeClient([namespace(), bound])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            with pytest.raises(Requeue, match="pods=1"):
                await ctrl.reconcile("ns")
        assert {a[0] for a in client.actions} == {"delete_collection"}
        assert [a[1] for a in client.actions] == [r.plural for r in ctrl.resources]
    run(scenario)


def test_an_empty_namespace_is_finalized() -> None:
    client = FakeClient([namespace()])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns")
        verb, plural, name, body = client.actions[-1]
        assert (verb, plural, name) == ("update/finalize", "namespaces", "ns")
        assert body["spec"]["finalizers"] == []
    run(scenario)


def test_a_live_namespace_is_left_alone() -> None:
    client = FakeClient([obj("namespaces", "ns", spec={"finalizers": ["kubernetes"]})])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns")
        assert client.actions == []
    run(scenario)
