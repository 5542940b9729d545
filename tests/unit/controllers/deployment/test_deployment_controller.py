"""The Deployment controller's actions, in order, against a fake client."""

from __future__ import annotations

import copy
from typing import Any

from apimachinery.conditions import find_condition
from apimachinery.meta import Object
from controllers.common.template_hash import POD_TEMPLATE_HASH, template_hash
from controllers.deployment import DeploymentController
from controllers.deployment.revisions import build_new_rs
from controllers.deployment.rollout import DESIRED_REPLICAS, REVISION
from tests.unit.controllers.controller_fakes import (
    FakeClient,
    ListRecorder,
    obj,
    run,
    started,
)

KEY = "ns/web"
TEMPLATE: Object = {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "img:1"}]}}


def deploy(replicas: int = 3, *, image: str = "img:1", strategy: str = "RollingUpdate",
           revision: str | None = None, **spec: Any) -> Object:
    template = copy.deepcopy(TEMPLATE)
    template["spec"]["containers"][0]["image"] = image
    strat: Object = {"type": strategy}
    if strategy == "RollingUpdate":
        strat["rollingUpdate"] = {"maxSurge": "25%", "maxUnavailable": "25%"}
    annotations = {REVISION: revision} if revision else {}
    return obj("deployments", "web", metadata={"annotations": annotations}, spec={
        "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": template, "strategy": strat, "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600, **spec})


def owned_rs(d: Object, replicas: int, revision: int, *, available: int | None = None,
             template: Object | None = None, desired: int | None = None,
             created: str = "2024-01-01T00:00:00Z") -> Object:
    tpl = template if template is not None else d["spec"]["template"]
    pod_hash = template_hash(tpl)
    rs = build_new_rs(d, pod_hash, replicas, {
        REVISION: str(revision),
        DESIRED_REPLICAS: str(d["spec"]["replicas"] if desired is None else desired)})
    rs["spec"]["template"] = {**copy.deepcopy(tpl), "metadata": {
        "labels": {"app": "web", POD_TEMPLATE_HASH: pod_hash}}}
    rs["metadata"].update({"uid": f"uid-rs-{revision}", "resourceVersion": "1",
                           "creationTimestamp": created, "generation": 1})
    avail = replicas if available is None else available
    rs["status"] = {"replicas": replicas, "availableReplicas": avail,
                    "readyReplicas": avail, "observedGeneration": 1}
    return rs


def build(client: FakeClient, factory: Any, clock: Any) -> DeploymentController:
    return DeploymentController(client, factory, clock=clock)


def steps(client: FakeClient) -> list[tuple[str, str]]:
    return [(a[0], a[1]) for a in client.actions]


def test_a_new_deployment_gets_a_replicaset_at_revision_1() -> None:
    client = FakeClient([deploy(3)])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert steps(client) == [("create", "replicasets"), ("patch", "deployments"),
                                 ("update_status", "deployments"),
                                 ("update_status", "deployments")]
        created = client.writes("create")[0][3]
        pod_hash = template_hash(TEMPLATE)
        assert created["metadata"]["name"] == f"web-{pod_hash}"
        assert created["spec"]["replicas"] == 3
        assert created["metadata"]["annotations"][REVISION] == "1"
        assert client.writes("patch")[0][3] == {
            "metadata": {"annotations": {REVISION: "1"}}}
        progressing = find_condition(client.writes("update_status")[0][3].get("conditions"),
                                     "Progressing")
        assert progressing is not None and progressing["reason"] == "NewReplicaSetCreated"
        final = client.writes("update_status")[-1][3]
        assert (final["observedGeneration"], final["updatedReplicas"]) == (1, 0)
    run(scenario)


def test_a_new_template_starts_a_rolling_update_within_max_surge() -> None:
    d = deploy(3, image="img:2", revision="1")
    old = owned_rs(deploy(3), 3, 1)
    client = FakeClient([d, old])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        created = client.writes("create")[0][3]
        assert created["spec"]["replicas"] == 1  # 3 + maxSurge 1 = 4 pods at most
        assert created["metadata"]["annotations"][REVISION] == "2"
        assert client.writes("patch")[0][3]["metadata"]["annotations"] == {REVISION: "2"}
        assert client.writes("update") == []  # the old ReplicaSet waits for availability
    run(scenario)


def test_old_replicasets_shrink_once_new_pods_are_available() -> None:
    d = deploy(3, image="img:2", revision="2")
    old = owned_rs(deploy(3), 3, 1, created="2024-01-01T00:00:00Z")
    new = owned_rs(d, 1, 2, created="2024-01-01T00:01:00Z")
    client = FakeClient([d, old, new])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        (update,) = client.writes("update")
        assert (update[2], update[3]["spec"]["replicas"]) == (old["metadata"]["name"], 2)
        assert steps(client)[-1] == ("update_status", "deployments")
    run(scenario)


def test_a_replicas_change_scales_the_only_replicaset() -> None:
    d = deploy(5, revision="1")
    rs = owned_rs(deploy(3), 3, 1, desired=3)
    client = FakeClient([d, rs])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        (update,) = client.writes("update")
        assert update[3]["spec"]["replicas"] == 5
        assert update[3]["metadata"]["annotations"][DESIRED_REPLICAS] == "5"
        assert client.writes("create") == []
    run(scenario)


def test_recreate_scales_old_to_zero_before_creating_anything() -> None:
    d = deploy(2, image="img:2", strategy="Recreate", revision="1")
    old = owned_rs(deploy(2, strategy="Recreate"), 2, 1)
    client = FakeClient([d, old])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert steps(client) == [("update", "replicasets"), ("update_status", "deployments")]
        assert client.writes("update")[0][3]["spec"]["replicas"] == 0
    run(scenario)


def test_rollout_undo_reuses_the_old_replicaset_with_revision_max_plus_one() -> None:
    # kubectl sends the old template back with nulls and empty maps.
    undone = copy.deepcopy(TEMPLATE)
    undone["metadata"]["creationTimestamp"] = None
    undone["spec"]["containers"][0]["resources"] = {}
    d = deploy(2, revision="2")
    d["spec"]["template"] = undone
    first = owned_rs(deploy(2), 0, 1, created="2024-01-01T00:00:00Z")
    second = owned_rs(deploy(2, image="img:2"), 2, 2, created="2024-01-01T00:01:00Z")
    client = FakeClient([d, first, second])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert client.writes("create") == []
        revived = client.writes("update")[0][3]
        assert revived["metadata"]["name"] == first["metadata"]["name"]
        assert revived["metadata"]["annotations"][REVISION] == "3"
        assert client.writes("patch")[0][3]["metadata"]["annotations"] == {REVISION: "3"}
    run(scenario)


def test_a_paused_deployment_does_not_roll_out() -> None:
    d = deploy(3, image="img:2", revision="1", paused=True)
    client = FakeClient([d, owned_rs(deploy(3), 3, 1)])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert client.writes("create") == []
        paused = find_condition(client.writes("update_status")[0][3].get("conditions"),
                                "Progressing")
        assert paused is not None and paused["reason"] == "DeploymentPaused"
    run(scenario)


def test_a_deployment_being_deleted_only_gets_status() -> None:
    d = deploy(3, revision="1")
    d["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    client = FakeClient([d, owned_rs(deploy(3), 3, 1)])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert steps(client) and set(steps(client)) == {("update_status", "deployments")}
    run(scenario)


def test_scaling_a_replicaset_is_a_scaling_replicaset_event() -> None:
    """`kubectl describe deployment` lists how each ReplicaSet was resized."""
    recorder = ListRecorder()
    created = FakeClient([deploy(3)])
    d = deploy(5, revision="1")
    rs = owned_rs(deploy(3), 3, 1, desired=3)
    scaled = FakeClient([d, rs])
    shrunk = FakeClient([deploy(1, revision="1"), owned_rs(deploy(3), 3, 1, desired=3)])

    def build_with(client: FakeClient, factory: Any, clock: Any) -> DeploymentController:
        return DeploymentController(client, factory, clock=clock, recorder=recorder)

    async def scenario() -> None:
        for client in (created, scaled, shrunk):
            async with started(client, build_with) as (ctrl, _):
                await ctrl.reconcile(KEY)
        name = rs["metadata"]["name"]
        assert recorder.events == [
            ("Deployment", "web", "ScalingReplicaSet",
             f"Scaled up replica set {name} from 0 to 3", False),
            ("Deployment", "web", "ScalingReplicaSet",
             f"Scaled up replica set {name} from 3 to 5", False),
            ("Deployment", "web", "ScalingReplicaSet",
             f"Scaled down replica set {name} from 3 to 1", False)]
    run(scenario)
