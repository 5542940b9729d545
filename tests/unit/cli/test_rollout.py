"""The pure parts of `rollout` and `drain`: kubectl's messages, revisions, patches, filters.

Objects are plain dicts as the apiserver serves them; the watch loop and the
eviction loop run against small fakes of the client, with a fake clock, so
nothing here sleeps or talks to a server.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

from apimachinery import errors
from apimachinery.client import WatchEvent
from apimachinery.meta import Object
from apimachinery.resources import by_plural
from cli import drain, rollout_history, rollout_status
from cli.commands import CommandError
from cli.drain import Drainer, DrainOptions, filter_pod, pods_for_deletion
from cli.rollout import parse_bool, parse_timeout

DEPLOYMENTS = by_plural("deployments")
UID = "d-uid"


def deployment(*, generation: int = 2, observed: int = 2, replicas: int = 3, updated: int = 3,
               total: int = 3, available: int = 3, progressing: str | None = None,
               revision: str | None = "2", paused: bool = False) -> Object:
    annotations = {"deployment.kubernetes.io/revision": revision} if revision else {}
    conditions = [{"type": "Progressing", "status": "False" if progressing ==
                   "ProgressDeadlineExceeded" else "True", "reason": progressing}] \
        if progressing else []
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "uid": UID,
                         "generation": generation, "annotations": annotations},
            "spec": {"replicas": replicas, "paused": paused,
                     "template": template("web:2")},
            "status": {"observedGeneration": observed, "replicas": total,
                       "updatedReplicas": updated, "availableReplicas": available,
                       "conditions": conditions}}


def template(image: str, pod_hash: str | None = None) -> Object:
    labels = {"app": "web", **({"pod-template-hash": pod_hash} if pod_hash else {})}
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "web", "image": image}]}}


def replica_set(revision: int, image: str, *, cause: str | None = None,
                owner: str = UID) -> Object:
    annotations = {"deployment.kubernetes.io/revision": str(revision),
                   "deployment.kubernetes.io/desired-replicas": "3"}
    if cause:
        annotations["kubernetes.io/change-cause"] = cause
    return {"kind": "ReplicaSet",
            "metadata": {"name": f"web-h{revision}", "annotations": annotations,
                         "ownerReferences": [{"kind": "Deployment", "name": "web",
                                              "uid": owner, "controller": True}]},
            "spec": {"template": template(image, f"h{revision}")}}


# -- rollout status ------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "message", "done"), [
    ({"generation": 3, "observed": 2}, "Waiting for deployment spec update to be observed...",
     False),
    ({"updated": 1, "available": 1},
     'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been '
     "updated...", False),
    ({"total": 5}, 'Waiting for deployment "web" rollout to finish: 2 old replicas are '
                   "pending termination...", False),
    ({"available": 2}, 'Waiting for deployment "web" rollout to finish: 2 of 3 updated '
                       "replicas are available...", False),
    ({}, 'deployment "web" successfully rolled out', True),
    ({"progressing": "NewReplicaSetAvailable"}, 'deployment "web" successfully rolled out', True),
])
def test_deployment_status_messages_are_kubectls(fields: Object, message: str,
                                                  done: bool) -> None:
    assert rollout_status.deployment_status(deployment(**fields)) == (message, done)


def test_a_deployment_past_its_progress_deadline_is_an_error() -> None:
    with pytest.raises(CommandError, match='deployment "web" exceeded its progress deadline'):
        rollout_status.deployment_status(deployment(progressing="ProgressDeadlineExceeded",
                                                    available=1))
    # Not before the controller has seen the latest spec, as kubectl checks.
    stale = deployment(progressing="ProgressDeadlineExceeded", generation=3)
    assert rollout_status.deployment_status(stale)[1] is False


def test_deployment_status_pinned_to_a_revision() -> None:
    assert rollout_status.deployment_status(deployment(), revision=2)[1] is True
    with pytest.raises(CommandError, match=r"desired revision \(1\) is different from the "
                                           r"running revision \(2\)"):
        rollout_status.deployment_status(deployment(), revision=1)


def test_statefulset_status_with_the_defaulted_partition() -> None:
    sts = {"kind": "StatefulSet", "metadata": {"name": "db", "generation": 1},
           "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate",
                                                      "rollingUpdate": {"partition": 0}}},
           "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 3}}
    assert rollout_status.statefulset_status(sts) == ("Waiting for 2 pods to be ready...", False)
    sts["status"]["readyReplicas"] = 3
    assert rollout_status.statefulset_status(sts) == (
        "partitioned roll out complete: 3 new pods have been updated...", True)
    sts["spec"]["updateStrategy"] = {"type": "OnDelete"}
    with pytest.raises(CommandError, match="only available for RollingUpdate"):
        rollout_status.statefulset_status(sts)


class FakeWatchClient:
    """list_all returns the next listing; watch yields the next batch of events."""

    def __init__(self, listings: list[list[Object]], streams: list[list[WatchEvent]]) -> None:
        self.listings, self.streams = listings, streams
        self.calls: list[tuple[str, Any]] = []

    def list_all(self, resource: Any, namespace: Any, **kw: Any) -> tuple[list[Object], str]:
        self.calls.append(("list", kw.get("field_selector")))
        return self.listings.pop(0), "10"

    def watch(self, resource: Any, namespace: Any, **kw: Any) -> Iterator[WatchEvent]:
        self.calls.append(("watch", kw.get("resource_version")))
        yield from self.streams.pop(0) if self.streams else []


def _modified(available: int, rv: str) -> WatchEvent:
    d = deployment(available=available)
    d["metadata"]["resourceVersion"] = rv
    return WatchEvent("MODIFIED", d)


def test_watch_until_lists_watches_and_relists_after_gone() -> None:
    gone = WatchEvent("ERROR", errors.Gone("too old resource version").to_status())
    client = FakeWatchClient([[deployment(available=1)], [deployment(available=2)]],
                             [[_modified(1, "11"), gone], [_modified(3, "20")]])
    seen: list[str] = []

    def handle(obj: Object) -> bool:
        message, done = rollout_status.deployment_status(obj)
        seen.append(message)
        return done

    rollout_status.watch_until(client, DEPLOYMENTS, "web", "default", handle,  # type: ignore[arg-type]
                               timeout=None)
    assert client.calls == [("list", "metadata.name=web"), ("watch", "10"),
                            ("list", "metadata.name=web"), ("watch", "10")]
    assert seen[-1] == 'deployment "web" successfully rolled out' and len(seen) == 4


def test_watch_until_times_out_and_stops_on_delete() -> None:
    now = [0.0]
    client = FakeWatchClient([[deployment(available=1)]] * 3, [])

    def quiet_watch(*_a: Any, **_kw: Any) -> Iterator[WatchEvent]:
        now[0] += 10  # each watch request ends after its timeoutSeconds, with nothing new
        return iter([])

    client.watch = quiet_watch  # type: ignore[method-assign]
    with pytest.raises(CommandError, match="timed out waiting for the condition"):
        rollout_status.watch_until(client, DEPLOYMENTS, "web", None,  # type: ignore[arg-type]
                                   lambda obj: False, timeout=25, clock=lambda: now[0])
    assert now[0] == 30  # three watches of at most the time left, then the deadline
    deleted = FakeWatchClient([[]], [[WatchEvent("DELETED", deployment())]])
    with pytest.raises(CommandError, match="object has been deleted"):
        rollout_status.watch_until(deleted, DEPLOYMENTS, "web", None,  # type: ignore[arg-type]
                                   lambda obj: False, timeout=None)


def test_displays_print_each_message_once() -> None:
    lines: list[str] = []
    plain = rollout_status.PlainDisplay(lines.append)
    for message in ("a", "a", "b"):
        plain.show(deployment(), message, False)
    assert lines == ["a", "b"]
    out = io.StringIO()
    bar = rollout_status.BarDisplay(Console(file=out, force_terminal=True, width=100))
    bar.show(deployment(available=1), "Waiting 1 of 3", False)
    bar.show(deployment(), 'deployment "web" successfully rolled out', True)
    text = out.getvalue()
    assert "Waiting 1 of 3" in text and 'deployment "web" successfully rolled out' in text
    assert "3/3" in text  # the bar itself, before it was cleared


def test_flag_values_as_kubectl_takes_them() -> None:
    assert (parse_bool("--watch", "false"), parse_bool("--watch", "True")) == (False, True)
    with pytest.raises(CommandError, match='invalid argument "nah" for "--watch" flag'):
        parse_bool("--watch", "nah")
    assert (parse_timeout("5m"), parse_timeout("0"), parse_timeout("90s")) == (300, 0, 90)
    with pytest.raises(CommandError, match="--timeout"):
        parse_timeout("soon")


# -- history and undo ------------------------------------------------------------------------

def test_history_lists_the_deployments_own_revisions_in_order() -> None:
    rses = [replica_set(2, "web:2", cause="kubectl set image web=web:2"),
            replica_set(1, "web:1"), replica_set(9, "other:1", owner="someone-else")]
    by_revision = rollout_history.revisions(deployment(), rses)
    assert sorted(by_revision) == [1, 2]
    assert rollout_history.history_table(by_revision) == (
        "REVISION  CHANGE-CAUSE\n1         <none>\n2         kubectl set image web=web:2\n")
    assert rollout_history.history_table({}) == "No rollout history found.\n"


def test_one_revisions_template_carries_its_change_cause() -> None:
    by_revision = {1: replica_set(1, "web:1", cause="first")}
    tpl = rollout_history.revision_template(by_revision, 1)
    assert tpl["metadata"]["annotations"] == {"kubernetes.io/change-cause": "first"}
    assert tpl["spec"]["containers"][0]["image"] == "web:1"
    assert "annotations" not in by_revision[1]["spec"]["template"]["metadata"]  # a copy
    with pytest.raises(CommandError, match="unable to find the specified revision"):
        rollout_history.revision_template(by_revision, 5)


def test_undo_goes_to_the_previous_revision_or_the_one_asked_for() -> None:
    d = deployment()
    by_revision = {1: replica_set(1, "web:1"), 2: replica_set(2, "web:2"),
                   3: replica_set(3, "web:3")}
    assert rollout_history.rollback_target(d, by_revision, 0) is by_revision[2]
    assert rollout_history.rollback_target(d, by_revision, 1) is by_revision[1]
    with pytest.raises(CommandError, match="unable to find specified revision 7 in history"):
        rollout_history.rollback_target(d, by_revision, 7)
    with pytest.raises(CommandError, match='no rollout history found for deployment "web"'):
        rollout_history.rollback_target(d, {3: by_revision[3]}, 0)


def test_undo_patch_restores_the_template_without_the_hash_and_with_its_annotations() -> None:
    d = deployment()
    d["metadata"]["annotations"].update({"kubernetes.io/change-cause": "now",
                                         "kubectl.kubernetes.io/last-applied-configuration": "{}"})
    old = replica_set(1, "web:1", cause="then")
    patch = rollout_history.rollback_patch(d, old)
    assert patch is not None
    assert patch[0] == {"op": "replace", "path": "/spec/template", "value": template("web:1")}
    assert patch[1]["value"] == {
        "deployment.kubernetes.io/revision": "2",  # the Deployment's own, kept
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "kubernetes.io/change-cause": "then"}  # the revision's, restored
    assert old["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == "h1"


def test_undo_is_skipped_when_the_template_already_matches() -> None:
    d = deployment()
    same = replica_set(2, "web:2")
    same["spec"]["template"]["spec"]["containers"][0]["resources"] = {}  # as undo sends it
    same["spec"]["template"]["metadata"]["creationTimestamp"] = None
    assert rollout_history.rollback_patch(d, same) is None


def test_restart_pause_and_resume_patches() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert rollout_history.restart_patch(DEPLOYMENTS, deployment(), now) == {
        "spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05Z"}}}}}
    assert rollout_history.restart_patch(by_plural("statefulsets"), {"metadata": {}}, now)
    with pytest.raises(CommandError, match=r"""deployments\.apps "web" can't restart paused"""):
        rollout_history.restart_patch(DEPLOYMENTS, deployment(paused=True), now)
    with pytest.raises(CommandError, match="restarting is not supported"):
        rollout_history.restart_patch(by_plural("pods"), {"metadata": {"name": "p"}}, now)
    assert rollout_history.pause_patch(DEPLOYMENTS, deployment(), paused=True) == {
        "spec": {"paused": True}}
    assert rollout_history.pause_patch(DEPLOYMENTS, deployment(paused=True), paused=False) == {
        "spec": {"paused": None}}
    with pytest.raises(CommandError, match=r'deployments\.apps "web" is already paused'):
        rollout_history.pause_patch(DEPLOYMENTS, deployment(paused=True), paused=True)
    with pytest.raises(CommandError, match=r'deployments\.apps "web" is not paused'):
        rollout_history.pause_patch(DEPLOYMENTS, deployment(), paused=False)


# -- drain -----------------------------------------------------------------------------------

def pod(name: str, *, owner: str | None = "ReplicaSet", phase: str = "Running",
        empty_dir: bool = False, mirror: bool = False) -> Object:
    meta: Object = {"name": name, "namespace": "default", "uid": f"uid-{name}"}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "o", "uid": "o", "controller": True}]
    if mirror:
        meta["annotations"] = {drain.MIRROR_POD: "x"}
    spec: Object = {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]}
    if empty_dir:
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


@pytest.mark.parametrize(("the_pod", "opts", "expected"), [
    (pod("rs"), DrainOptions(), (True, drain.OKAY, "")),
    (pod("bare", owner=None), DrainOptions(), (False, drain.ERROR, drain.UNMANAGED_FATAL)),
    (pod("bare", owner=None), DrainOptions(force=True),
     (True, drain.WARNING, drain.UNMANAGED_WARNING)),
    (pod("done", owner=None, phase="Succeeded"), DrainOptions(), (True, drain.OKAY, "")),
    (pod("ed", empty_dir=True), DrainOptions(), (False, drain.ERROR, drain.LOCAL_STORAGE_FATAL)),
    # kubectl's own quirk, kept: a later filter's Okay replaces the local-storage warning.
    (pod("ed", empty_dir=True), DrainOptions(delete_emptydir_data=True), (True, drain.OKAY, "")),
    (pod("ed", owner=None, empty_dir=True), DrainOptions(delete_emptydir_data=True),
     (False, drain.ERROR, drain.UNMANAGED_FATAL)),
    (pod("ds", owner="DaemonSet"), DrainOptions(), (False, drain.ERROR, drain.DAEMONSET_FATAL)),
    (pod("ds", owner="DaemonSet"), DrainOptions(ignore_daemonsets=True, force=True),
     (False, drain.WARNING, drain.DAEMONSET_WARNING)),
    (pod("mirror", owner=None, mirror=True), DrainOptions(force=True), (False, drain.SKIP, "")),
])
def test_drain_filters_are_kubectls(the_pod: Object, opts: DrainOptions,
                                    expected: tuple[bool, str, str]) -> None:
    decided = filter_pod(the_pod, opts)
    assert (decided.delete, decided.reason, decided.message) == expected


def test_drain_reports_errors_and_warnings_grouped_by_reason() -> None:
    pods = [pod("a", owner=None), pod("b", owner=None, empty_dir=True), pod("c", empty_dir=True),
            pod("d")]
    refused = pods_for_deletion(pods, DrainOptions())
    assert refused.errors() == [
        "cannot delete Pods that declare no controller (use --force to override): default/a",
        "cannot delete Pods with local storage (use --delete-emptydir-data to override): "
        "default/b, default/c"]
    assert drain.aggregate(refused.errors()).startswith("[cannot delete Pods that declare")
    forced = pods_for_deletion(pods, DrainOptions(force=True, delete_emptydir_data=True))
    assert not forced.errors()
    assert [p["metadata"]["name"] for p in forced.pods()] == ["a", "b", "c", "d"]
    assert forced.warnings() == "deleting Pods that declare no controller: default/a, default/b"
    only_storage = pods_for_deletion([pod("c", owner="StatefulSet", empty_dir=True,
                                          phase="Pending")], DrainOptions())
    assert only_storage.errors() == ["cannot delete Pods with local storage (use "
                                     "--delete-emptydir-data to override): default/c"]


class FakeDrainClient:
    """Evictions are recorded; pod NAME disappears after `lingers[NAME]` more GETs."""

    def __init__(self, pods: list[Object], lingers: dict[str, int],
                 *, evictable: bool = True) -> None:
        self.pods = {p["metadata"]["name"]: p for p in pods}
        self.lingers, self.evictable = dict(lingers), evictable
        self.posts: list[tuple[str, Object]] = []
        self.deletes: list[str] = []

    def request(self, method: str, path: str, json: Any = None) -> Any:
        if method == "GET":  # discovery
            resources = [{"name": "pods/eviction", "kind": "Eviction", "group": "policy",
                          "version": "v1"}] if self.evictable else []
            return type("Reply", (), {"json": lambda _self: {"resources": resources}})()
        self.posts.append((path, json))
        if json["metadata"]["name"] not in self.pods:
            raise errors.not_found("pods", json["metadata"]["name"])
        return None

    def delete(self, resource: str, name: str, namespace: str, **kw: Any) -> Object:
        self.deletes.append(name)
        return {}

    def get(self, resource: str, name: str, namespace: str) -> Object:
        if self.lingers.get(name, 0) <= 0:
            raise errors.not_found("pods", name)
        self.lingers[name] -= 1
        return self.pods[name]


def _drainer(client: FakeDrainClient, out: list[str], **kw: Any) -> Drainer:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return Drainer(client, out=out.append, err=out.append, clock=lambda: now[0],  # type: ignore[arg-type]
                   sleep=sleep, **kw)


def test_drainer_evicts_then_waits_until_each_pod_is_gone() -> None:
    out: list[str] = []
    client = FakeDrainClient([pod("a"), pod("b")], {"a": 2, "b": 1})
    _drainer(client, out, grace_period=0).evict([pod("a"), pod("b"), pod("gone-already")])
    assert [path for path, _ in client.posts] == [
        "/api/v1/namespaces/default/pods/a/eviction", "/api/v1/namespaces/default/pods/b/eviction",
        "/api/v1/namespaces/default/pods/gone-already/eviction"]
    assert client.posts[0][1] == {"apiVersion": "policy/v1", "kind": "Eviction",
                                  "metadata": {"name": "a", "namespace": "default"},
                                  "deleteOptions": {"gracePeriodSeconds": 0}}
    assert out == ["evicting pod default/a", "evicting pod default/b",
                   "evicting pod default/gone-already", "pod/b evicted", "pod/a evicted"]


def test_drainer_deletes_without_eviction_support_and_honours_its_timeout() -> None:
    out: list[str] = []
    client = FakeDrainClient([pod("a")], {}, evictable=False)
    _drainer(client, out).evict([pod("a")])
    assert client.deletes == ["a"] and out == ["pod/a deleted"]
    stuck = FakeDrainClient([pod("a")], {"a": 1000})
    with pytest.raises(CommandError, match='error when waiting for pod "a" in namespace '
                                           '"default" to terminate: global timeout reached: 3s'):
        _drainer(stuck, [], timeout=3).evict([pod("a")])
