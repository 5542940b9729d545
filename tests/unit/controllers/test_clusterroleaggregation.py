"""The ClusterRole aggregation controller on a fake client."""

from __future__ import annotations

from typing import Any

from apimachinery.clock import FakeClock
from controllers.base import SharedInformerFactory
from controllers.clusterroleaggregation import ClusterRoleAggregationController
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

LABEL = "rbac.authorization.k8s.io/aggregate-to-view"


def _rule(verb: str) -> dict[str, Any]:
    return {"verbs": [verb], "apiGroups": [""], "resources": ["pods"]}


def build(client: FakeClient, factory: SharedInformerFactory,
          clock: FakeClock) -> ClusterRoleAggregationController:
    return ClusterRoleAggregationController(client, factory, clock=clock)


def test_an_aggregated_role_gets_the_selected_roles_rules_once() -> None:
    async def scenario() -> None:
        view = obj("clusterroles", "view", rules=[], aggregationRule={
            "clusterRoleSelectors": [{"matchLabels": {LABEL: "true"}}]})
        client = FakeClient([
            view,
            obj("clusterroles", "a", rules=[_rule("get")], metadata={"labels": {LABEL: "true"}}),
            obj("clusterroles", "b", rules=[_rule("get"), _rule("list")],
                metadata={"labels": {LABEL: "true"}}),
            obj("clusterroles", "c", rules=[_rule("delete")])])
        async with started(client, build) as (ctl, _):
            await ctl.reconcile("view")
            (update,) = client.writes("update")
            assert update[2] == "view"
            assert update[3]["rules"] == [_rule("get"), _rule("list")]
            await ctl.reconcile("a")  # not aggregated: left alone
            assert len(client.writes("update")) == 1
    run(scenario)


def test_nothing_is_written_when_the_rules_already_agree() -> None:
    async def scenario() -> None:
        client = FakeClient([
            obj("clusterroles", "view", rules=[_rule("get")], aggregationRule={
                "clusterRoleSelectors": [{"matchLabels": {LABEL: "true"}}]}),
            obj("clusterroles", "a", rules=[_rule("get")], metadata={"labels": {LABEL: "true"}})])
        async with started(client, build) as (ctl, _):
            await ctl.reconcile("view")
            await ctl.reconcile("gone")
            assert client.writes("update") == []
    run(scenario)
