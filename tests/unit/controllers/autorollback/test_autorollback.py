"""Auto-rollback: the pure decisions, then the controller's writes against a fake client."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from controllers.autorollback import AutoRollbackController
from controllers.autorollback import decisions as ar
from controllers.base import SharedInformerFactory
from controllers.common.template_hash import POD_TEMPLATE_HASH, template_hash
from controllers.deployment.revisions import REVISION_HISTORY, build_new_rs, new_rs_annotations
from controllers.deployment.rollout import REVISION
from controllers.main import selected_controllers
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

KEY = "ns/web"
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def template(image: str) -> Object:
    return {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": image}]}}


def deploy(image: str = "img:2", *, revision: int = 2, last_available: int | None = 1,
           generation: int = 2, observed: int = 2, replicas: int = 2,
           progressing: tuple[str, str] = ("True", "ReplicaSetUpdated"),
           counts: tuple[int, int, int] = (3, 1, 2), **annotations: str) -> Object:
    """A Deployment mid-rollout by default: 3 pods, 1 of them updated, 2 available."""
    notes = {ar.AUTO_ROLLBACK: "true", REVISION: str(revision), **annotations}
    if last_available is not None:
        notes[ar.LAST_AVAILABLE_REVISION] = str(last_available)
    total, updated, available = counts
    return obj("deployments", "web", metadata={"annotations": notes, "generation": generation},
               spec={"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": template(image), "progressDeadlineSeconds": 600},
               status={"observedGeneration": observed, "replicas": total,
                       "updatedReplicas": updated, "availableReplicas": available,
                       "conditions": [{"type": "Progressing", "status": progressing[0],
                                       "reason": progressing[1], "message": "m"}]})


def rset(d: Object, image: str, revision: int, replicas: int, **annotations: str) -> Object:
    pod_hash = template_hash(template(image))
    rs = build_new_rs(d, pod_hash, replicas,
                           {REVISION: str(revision), **annotations})
    rs["spec"]["template"] = copy.deepcopy(template(image))
    rs["spec"]["template"]["metadata"]["labels"][POD_TEMPLATE_HASH] = pod_hash
    rs["metadata"].update({"uid": f"uid-rs-{revision}", "resourceVersion": "1",
                           "creationTimestamp": f"2024-01-01T00:00:0{revision}Z"})
    rs["status"] = {"replicas": replicas, "availableReplicas": replicas}
    return rs


def pod(rs: Object, name: str, *, reason: str | None = None, restarts: int = 0,
        started_ago: float = 60) -> Object:
    state: Object = {"waiting": {"reason": reason, "message": "back-off"}} if reason \
        else {"running": {}}
    return obj("pods", name, metadata={"ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["metadata"]["name"],
         "uid": rs["metadata"]["uid"], "controller": True}]},
        spec={"containers": [{"name": "c", "image": "i"}]},
        status={"phase": "Running",
                "startTime": (NOW - timedelta(seconds=started_ago)).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"),
                "containerStatuses": [{"name": "c", "restartCount": restarts,
                                       "state": state}]})


def world(d: Object | None = None) -> tuple[Object, Object, Object]:
    """A Deployment rolling out img:2 (revision 2) over img:1 (revision 1)."""
    d = d or deploy()
    old = rset(d, "img:1", 1, 2, **{"kubernetes.io/change-cause": "first"})
    new = rset(d, "img:2", 2, 1)
    return d, old, new


def decide(d: Object, rses: list[Object], pods: list[Object]) -> ar.Decision:
    return ar.decide(d, rses, pods, NOW, restart_threshold=3, image_pull_grace=30)


# -- decisions -------------------------------------------------------------------------------

def test_a_complete_rollout_records_its_revision_once() -> None:
    d, old, new = world(deploy(counts=(2, 2, 2), progressing=("True", "NewReplicaSetAvailable")))
    decision = decide(d, [old, new], [])
    assert (decision.action, decision.revision) == ("record", 2)
    d["metadata"]["annotations"][ar.LAST_AVAILABLE_REVISION] = "2"
    assert decide(d, [old, new], []).action == "none"


def test_complete_only_when_the_deployment_shows_the_new_replicasets_revision() -> None:
    d, old, new = world(deploy(revision=1, counts=(2, 2, 2)))
    assert decide(d, [old, new], []).why == "progressing"  # the annotation lags: look later
    d, old, new = world(deploy(counts=(2, 2, 2), generation=3))
    assert decide(d, [old, new], []).action == "none"  # an unobserved template


def test_a_passed_progress_deadline_rolls_back_to_the_last_available_revision() -> None:
    d, old, new = world(deploy(progressing=("False", "ProgressDeadlineExceeded")))
    decision = decide(d, [old, new], [])
    assert (decision.action, decision.revision, decision.target) == ("rollback", 2, old)
    assert decision.failure == ar.Failure("ProgressDeadlineExceeded", "m")
    assert decision.failed_hash == template_hash(template("img:2"))


def test_a_deadline_about_an_older_generation_is_not_a_failure_of_this_one() -> None:
    d, old, new = world(deploy(progressing=("False", "ProgressDeadlineExceeded"), generation=3))
    assert decide(d, [old, new], []).action == "none"


@pytest.mark.parametrize(("restarts", "action"), [(2, "none"), (3, "rollback"), (7, "rollback")])
def test_crash_loop_counts_from_the_restart_threshold(restarts: int, action: str) -> None:
    d, old, new = world()
    decision = decide(d, [old, new], [pod(new, "p1", reason="CrashLoopBackOff",
                                          restarts=restarts)])
    assert decision.action == action
    if action == "rollback":
        assert decision.failure == ar.Failure(
            "CrashLoopBackOff", f'container "c" of pod p1 restarted {restarts} times')


def test_an_old_revisions_crash_loop_is_not_this_rollouts_failure() -> None:
    d, old, new = world()
    assert decide(d, [old, new], [pod(old, "p1", reason="CrashLoopBackOff",
                                      restarts=9)]).action == "none"


@pytest.mark.parametrize("reason", ["ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull",
                                    "InvalidImageName"])
def test_waiting_on_an_image_fails_after_the_grace(reason: str) -> None:
    d, old, new = world()
    early = decide(d, [old, new], [pod(new, "p1", reason=reason, started_ago=12)])
    assert (early.action, early.recheck_after) == ("none", 18)
    late = decide(d, [old, new], [pod(new, "p1", reason=reason, started_ago=31)])
    assert late.action == "rollback" and late.failure is not None
    assert late.failure.reason == reason and "waited 31s" in late.failure.message


def test_other_waiting_reasons_are_not_failures() -> None:
    d, old, new = world()
    for reason in ("ContainerCreating", "CreateContainerConfigError"):
        assert decide(d, [old, new], [pod(new, "p1", reason=reason, restarts=9)]).action == \
            "none"


def test_a_template_already_rolled_back_is_left_alone() -> None:
    d, old, new = world(deploy(progressing=("False", "ProgressDeadlineExceeded"),
                               **{ar.FAILED_HASH: template_hash(template("img:2"))}))
    decision = decide(d, [old, new], [])
    assert (decision.action, decision.why) == ("handled", "failed-hash-seen")


def test_without_an_available_revision_there_is_no_target() -> None:
    d, old, new = world(deploy(last_available=None,
                               progressing=("False", "ProgressDeadlineExceeded")))
    assert decide(d, [old, new], []).action == "no-target"
    d, _, new = world(deploy(last_available=1, progressing=("False", "ProgressDeadlineExceeded")))
    assert decide(d, [new], []).action == "no-target"  # revision 1's ReplicaSet is gone


def test_a_revision_that_was_available_is_not_rolled_back_when_it_crashes_later() -> None:
    d, old, new = world(deploy(last_available=2))
    crash = pod(new, "p1", reason="CrashLoopBackOff", restarts=5)
    assert decide(d, [old, new], [crash]).why == "revision-was-available"
    new["metadata"]["annotations"].update({REVISION: "4", REVISION_HISTORY: "2"})
    d["metadata"]["annotations"][REVISION] = "4"  # rolled back to it since
    assert decide(d, [old, new], [crash]).why == "revision-was-available"


def test_the_target_is_found_under_its_new_number_after_a_rollback() -> None:
    d, old, new = world(deploy(progressing=("False", "ProgressDeadlineExceeded"), revision=4))
    old["metadata"]["annotations"].update({REVISION: "3", REVISION_HISTORY: "1"})
    new["metadata"]["annotations"][REVISION] = "4"
    decision = decide(d, [old, new], [])
    assert (decision.action, decision.target) == ("rollback", old)


def test_disabled_paused_and_deleting_deployments_are_not_looked_at() -> None:
    for change in ({"metadata": {"annotations": {ar.AUTO_ROLLBACK: "false"}}},
                   {"spec": {"paused": True}},
                   {"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}}):
        d, old, new = world(deploy(progressing=("False", "ProgressDeadlineExceeded")))
        for section, values in change.items():
            if section == "metadata" and "annotations" in values:
                d["metadata"]["annotations"].update(values["annotations"])
            else:
                d[section].update(values)
        assert decide(d, [old, new], []).action == "none", change


def test_the_rollback_is_rollout_undo_with_the_reason_recorded() -> None:
    d, old, new = world(deploy(progressing=("False", "ProgressDeadlineExceeded"),
                               **{"kubernetes.io/change-cause": "second", "team": "a"}))
    old["metadata"]["annotations"][ar.LAST_AVAILABLE_REVISION] = "stale"
    decision = decide(d, [old, new], [])
    updated = ar.rollback_deployment(d, old, decision)
    assert updated["spec"]["template"] == template("img:1")  # no pod-template-hash
    notes = updated["metadata"]["annotations"]
    assert notes[REVISION] == "2"  # the Deployment controller moves it on
    assert notes["kubernetes.io/change-cause"] == "first"  # kubectl copies it back, too
    assert "team" not in notes  # and drops what the revision did not have, as kubectl does
    assert notes[ar.LAST_AVAILABLE_REVISION] == "1"
    assert notes[ar.FAILED_HASH] == decision.failed_hash
    assert notes[ar.ROLLBACK_REASON] == \
        "ProgressDeadlineExceeded: m; rolled back from revision 2 to revision 1"
    assert d["spec"]["template"] == template("img:2")  # the input is not touched


def test_the_deployment_controller_does_not_copy_the_bookkeeping_to_replicasets() -> None:
    d = deploy(**{ar.FAILED_HASH: "h", ar.ROLLBACK_REASON: "r"})
    annotations, _ = new_rs_annotations(d, {}, 3, exists=False)
    assert ar.AUTO_ROLLBACK in annotations
    assert not ar.BOOKKEEPING & set(annotations)


def test_the_controller_is_on_by_default() -> None:
    assert "auto-rollback" in selected_controllers("*")


# -- the controller --------------------------------------------------------------------------

class Events(list[tuple[str, str, str, bool]]):
    """A recorder that keeps (object name, reason, message, warning)."""

    def record(self, o: Object, reason: str, message: str, *, container: str | None = None,
               warning: bool = False) -> None:
        assert o["kind"] == "Deployment" and o["apiVersion"] == "apps/v1"
        self.append((o["metadata"]["name"], reason, message, warning))


async def drain(ctrl: AutoRollbackController) -> None:
    """Take what the informers' initial lists queued, so a test sees only its own."""
    while len(ctrl.queue):
        ctrl.queue.done(await ctrl.queue.get())


def builder(events: Events) -> Any:
    def build(client: FakeClient, factory: SharedInformerFactory,
              clock: FakeClock) -> AutoRollbackController:
        return AutoRollbackController(client, factory, clock=clock, recorder=events,
                                      image_pull_grace=30)
    return build


def test_reconcile_records_a_complete_rollout() -> None:
    d, old, new = world(deploy(counts=(2, 2, 2)))
    client, events = FakeClient([d, old, new]), Events()

    async def scenario() -> None:
        async with started(client, builder(events)) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert client.actions == [("patch", "deployments", "web", {
            "metadata": {"annotations": {ar.LAST_AVAILABLE_REVISION: "2"}}})]
        assert events == []
    run(scenario)


def test_reconcile_rolls_back_once_and_records_a_warning() -> None:
    d, old, new = world()
    crash = pod(new, "web-1", reason="CrashLoopBackOff", restarts=3)
    client, events = FakeClient([d, old, new, crash]), Events()

    async def scenario() -> None:
        async with started(client, builder(events)) as (ctrl, _):
            await ctrl.reconcile(KEY)
            ((verb, plural, name, sent),) = client.actions
            assert (verb, plural, name) == ("update", "deployments", "web")
            assert sent["metadata"]["resourceVersion"] == "1"  # the cached one: 409 if stale
            assert sent["spec"]["template"] == template("img:1")
            assert events == [("web", "AutoRollback",
                               'Rolled back from revision 2 to revision 1: CrashLoopBackOff: '
                               'container "c" of pod web-1 restarted 3 times', True)]
            ctrl.d_informer.store._put(sent)  # what the watch would bring back
            await ctrl.reconcile(KEY)
            assert len(client.actions) == 1 and len(events) == 1  # img:1's pods are fine
    run(scenario)


def test_reapplying_the_failed_template_is_not_rolled_back_again() -> None:
    d, old, new = world(deploy(**{ar.FAILED_HASH: template_hash(template("img:2"))}))
    crash = pod(new, "web-1", reason="CrashLoopBackOff", restarts=3)
    client, events = FakeClient([d, old, new, crash]), Events()

    async def scenario() -> None:
        async with started(client, builder(events)) as (ctrl, _):
            await ctrl.reconcile(KEY)
        assert client.actions == [] and events == []
    run(scenario)


def test_no_target_is_reported_once() -> None:
    d, _, new = world(deploy(last_available=None,
                             progressing=("False", "ProgressDeadlineExceeded")))
    client, events = FakeClient([d, new]), Events()

    async def scenario() -> None:
        async with started(client, builder(events)) as (ctrl, _):
            await ctrl.reconcile(KEY)
            ((verb, _, _, patch),) = client.actions
            assert verb == "patch"
            notes = patch["metadata"]["annotations"]
            assert notes[ar.FAILED_HASH] == template_hash(template("img:2"))
            assert "not rolled back" in notes[ar.ROLLBACK_REASON]
            assert [e[1] for e in events] == ["AutoRollbackRevisionNotFound"]
            ctrl.d_informer.store._put(client.objects[("deployments", KEY)])
            await ctrl.reconcile(KEY)
            assert len(client.actions) == 1 and len(events) == 1
    run(scenario)


def test_an_image_wait_is_looked_at_again_when_its_grace_ends() -> None:
    d, old, new = world()
    waiting = pod(new, "web-1", reason="ErrImageNeverPull", started_ago=0)
    client, events = FakeClient([d, old, new, waiting]), Events()

    async def scenario() -> None:
        async with started(client, builder(events)) as (ctrl, clock):
            clock.step((NOW - clock.now()).total_seconds())
            await drain(ctrl)
            await ctrl.reconcile(KEY)
            assert client.actions == [] and len(ctrl.queue) == 0
            clock.step(30.5)
            assert len(ctrl.queue) == 1
            assert await ctrl.queue.get() == KEY
            await ctrl.reconcile(KEY)
            assert [a[0] for a in client.actions] == ["update"]
            assert events[0][2].startswith("Rolled back from revision 2 to revision 1: "
                                           "ErrImageNeverPull")
    run(scenario)


def test_a_conflict_is_left_to_the_work_queue() -> None:
    d, old, new = world(deploy(progressing=("False", "ProgressDeadlineExceeded")))
    client, events = FakeClient([d, old, new]), Events()
    client.fail("update", "deployments", errors.Conflict("changed"))

    async def scenario() -> None:
        async with started(client, builder(events)) as (ctrl, _):
            with pytest.raises(errors.Conflict):
                await ctrl.reconcile(KEY)
        assert events == []
    run(scenario)


def test_only_annotated_deployments_are_enqueued_by_their_pods() -> None:
    d, old, new = world()
    plain = obj("deployments", "plain", spec={"selector": {"matchLabels": {"app": "p"}},
                                              "template": template("img:1")})
    plain_rs = rset(plain, "img:1", 1, 1)
    plain_rs["metadata"]["name"], plain_rs["metadata"]["uid"] = "plain-rs", "uid-plain-rs"
    client, events = FakeClient([d, old, new, plain, plain_rs]), Events()

    async def scenario() -> None:
        async with started(client, builder(events)) as (ctrl, _):
            await drain(ctrl)
            ctrl._pod_updated(pod(plain_rs, "q"), pod(plain_rs, "q", reason="CrashLoopBackOff"))
            assert len(ctrl.queue) == 0
            same = pod(new, "p")
            ctrl._pod_updated(same, copy.deepcopy(same))
            assert len(ctrl.queue) == 0  # no status change, nothing to look at
            ctrl._pod_updated(same, pod(new, "p", reason="CrashLoopBackOff"))
            assert len(ctrl.queue) == 1 and await ctrl.queue.get() == KEY
    run(scenario)
