"""Auto-rollback with the real controller-manager, apiserver and etcd.

No agent runs: the test plays it, marking a revision's pods Running and Ready
through the status subresource (the ReplicaSet controller counts ready pods),
and leaving the next revision's pods unready, or reporting one of them in
CrashLoopBackOff. The module has its own etcd and apiserver, so the
controllers never meet other modules' Deployments.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object, now_rfc3339
from bench.rollouts import set_image
from cli.cluster.processes import (
    Apiserver,
    Process,
    own_control_plane,
    start_controller_manager,
    wait_for,
)
from tests.integration.test_controllers import mark_ready

TIMEOUT = 30.0
REVISION = "deployment.kubernetes.io/revision"
AUTO = "schooner.io/auto-rollback"
LAST_AVAILABLE = "schooner.io/last-available-revision"
REASON = "schooner.io/auto-rollback-reason"
FAILED_HASH = "schooner.io/auto-rollback-failed-hash"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """This module's own etcd and apiserver (overrides the session-wide one)."""
    with own_control_plane(tmp_path_factory.mktemp("autorollback")) as server:
        yield server


@pytest.fixture
def manager(apiserver: Apiserver, tmp_path: Path) -> Iterator[Process]:
    proc = start_controller_manager(apiserver.component_kubeconfig(
        tmp_path / "kubeconfig", "controller-manager"),
                                    tmp_path / "controller-manager.log", timeout=TIMEOUT)
    try:
        yield proc
    finally:
        proc.stop()


# -- playing the agent ------------------------------------------------------------------------

def live_pods(client: Client, ns: str) -> list[Object]:
    return [p for p in client.list("pods", ns)["items"]
            if not p["metadata"].get("deletionTimestamp")]


def report(client: Client, pod: Object, status: Object) -> None:
    pod["status"] = {**(pod.get("status") or {}), **status}
    with contextlib.suppress(errors.Conflict, errors.NotFound):
        client.update_status("pods", pod)  # else changed or gone: the next round looks again


def crash_loop(client: Client, pod: Object, restarts: int) -> None:
    report(client, pod, {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "False", "lastTransitionTime": now_rfc3339()}],
        "containerStatuses": [{"name": "main", "image": pod["spec"]["containers"][0]["image"],
                               "imageID": "", "ready": False, "restartCount": restarts,
                               "state": {"waiting": {
                                   "reason": "CrashLoopBackOff",
                                   "message": "back-off 40s restarting failed container"}}}]})


# -- the Deployment -----------------------------------------------------------------------------

def deployment(name: str, image: str, deadline: int) -> Object:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "annotations": {AUTO: "true"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "progressDeadlineSeconds": deadline,
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "containers": [{"name": "main", "image": image}]}}}}


def image_of(d: Object) -> str:
    return str(d["spec"]["template"]["spec"]["containers"][0]["image"])


def annotation(client: Client, ns: str, name: str, key: str) -> str | None:
    return client.get("deployments", name, ns)["metadata"].get("annotations", {}).get(key)


def available(client: Client, ns: str, name: str, image: str) -> Callable[[], Any]:
    """Playing the agent for `image`'s pods until the controller records the revision."""
    def check() -> Any:
        mark_ready(client, ns, image=image)
        return annotation(client, ns, name, LAST_AVAILABLE)
    return check


def rolled_back_to(client: Client, ns: str, name: str, image: str) -> Callable[[], Any]:
    def check() -> Any:
        d = client.get("deployments", name, ns)
        return image_of(d) == image and REASON in d["metadata"]["annotations"] and d
    return check


def rollback_events(client: Client, ns: str) -> list[Object]:
    return [e for e in client.list("events", ns)["items"] if e["reason"] == "AutoRollback"]


def rs_by_image(client: Client, ns: str) -> dict[str, Object]:
    return {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs
            for rs in client.list("replicasets", ns)["items"]}


# -- tests --------------------------------------------------------------------------------------

def test_a_stalled_rollout_rolls_back_by_itself_and_only_once(
        manager: Process, client: Client, namespace: str) -> None:
    client.create("deployments", deployment("web", "busybox:1", deadline=3), namespace)
    assert wait_for(available(client, namespace, "web", "busybox:1"), TIMEOUT,
                    "revision 1 recorded as available") == "1"

    set_image(client, namespace, "web", "busybox:2", "main")  # its pods never become ready
    d = wait_for(rolled_back_to(client, namespace, "web", "busybox:1"), TIMEOUT,
                 "the rollback to busybox:1")
    notes = d["metadata"]["annotations"]
    bad = rs_by_image(client, namespace)["busybox:2"]
    assert notes[FAILED_HASH] == bad["metadata"]["labels"]["pod-template-hash"]
    assert notes[REASON].startswith("ProgressDeadlineExceeded: ")
    assert notes[REASON].endswith("rolled back from revision 2 to revision 1")
    assert "kubernetes.io/change-cause" not in notes  # revision 1's own (none), as kubectl
    (event,) = wait_for(lambda: rollback_events(client, namespace), TIMEOUT, "the event")
    assert (event["type"], event["involvedObject"]["kind"], event["involvedObject"]["name"]) \
        == ("Warning", "Deployment", "web")
    assert event["message"].startswith(
        "Rolled back from revision 2 to revision 1: ProgressDeadlineExceeded: ")

    # The Deployment controller takes it from there: busybox:1 is revision 3, complete.
    assert wait_for(lambda: available(client, namespace, "web", "busybox:1")() == "3",
                    TIMEOUT, "revision 3 (busybox:1 again) recorded as available")
    by_image = rs_by_image(client, namespace)
    assert by_image["busybox:1"]["metadata"]["annotations"][REVISION] == "3"
    assert by_image["busybox:2"]["spec"]["replicas"] == 0

    # The same bad template again: the user means it; it stalls and stays.
    set_image(client, namespace, "web", "busybox:2", "main")
    wait_for(lambda: any(c["reason"] == "ProgressDeadlineExceeded" for c in client.get(
        "deployments", "web", namespace).get("status", {}).get("conditions", [])),
        TIMEOUT, "the second stall")
    wait_for(lambda: "reason=already-rolled-back" in manager.log_path.read_text(),
             TIMEOUT, "the controller to leave it alone")
    assert image_of(client.get("deployments", "web", namespace)) == "busybox:2"
    assert len(rollback_events(client, namespace)) == 1


def test_a_crash_looping_new_pod_rolls_back_before_the_deadline(
        manager: Process, client: Client, namespace: str) -> None:
    client.create("deployments", deployment("api", "busybox:1", deadline=600), namespace)
    wait_for(available(client, namespace, "api", "busybox:1"), TIMEOUT, "revision 1 available")

    set_image(client, namespace, "api", "busybox:crash", "main")
    new_pod = wait_for(lambda: next((p for p in live_pods(client, namespace)
                                     if p["spec"]["containers"][0]["image"] == "busybox:crash"),
                                    None), TIMEOUT, "a pod of busybox:crash")
    crash_loop(client, new_pod, restarts=3)
    d = wait_for(rolled_back_to(client, namespace, "api", "busybox:1"), TIMEOUT,
                 "the rollback to busybox:1")
    reason = d["metadata"]["annotations"][REASON]
    assert reason == (f'CrashLoopBackOff: container "main" of pod {new_pod["metadata"]["name"]}'
                      " restarted 3 times; rolled back from revision 2 to revision 1")
    (event,) = wait_for(lambda: rollback_events(client, namespace), TIMEOUT, "the event")
    assert "CrashLoopBackOff" in event["message"]
