"""kubectl delete (each cascade, selectors, grace periods, waiting, a missing object)
and kubectl wait (conditions, deletion, jsonpath, a timeout)."""

from __future__ import annotations

import time

import pytest

from apimachinery import errors
from cli.cluster.processes import wait_for
from tests.compat.conftest import ROOT_CA, Cluster, Kubectl
from tests.compat.readkit import (
    deployment,
    gone,
    make,
    pod,
    pods_of,
    wait_available,
    wait_pod_ready,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

HOLD = "example.com/hold"


def replicasets(cluster: Cluster, namespace: str) -> list[dict[str, object]]:
    return list(cluster.client.list("replicasets", namespace)["items"])


def held_deployment(cluster: Cluster, namespace: str) -> None:
    """A Deployment whose pods carry a finalizer: they outlive a delete until it is
    removed, so the states in between can be looked at without racing the agent."""
    body = deployment("web", 2)
    body["spec"]["template"]["metadata"]["finalizers"] = [HOLD]
    make(cluster, namespace, "deployments", body)
    wait_available(cluster, namespace, "web")


def release(cluster: Cluster, namespace: str) -> None:
    for p in pods_of(cluster, namespace, "app=web"):
        cluster.client.patch("pods", p["metadata"]["name"], {"metadata": {"finalizers": None}},
                             namespace)


@pytest.mark.compat("kubectl delete --cascade=background")
def test_background_removes_the_owner_then_its_dependents(
        kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    held_deployment(cluster, namespace)
    out = kubectl("delete", "deployment", "web", "--cascade=background")
    assert out.stdout == 'deployment.apps "web" deleted\n'
    assert gone(cluster, "deployments", "web", namespace)  # at once, dependents after
    wait_for(lambda: all(p["metadata"].get("deletionTimestamp")
                         for p in pods_of(cluster, namespace, "app=web")), 90,
             "the garbage collector to delete the pods")
    release(cluster, namespace)
    wait_for(lambda: not replicasets(cluster, namespace)
             and not pods_of(cluster, namespace, "app=web"), 90, "the ReplicaSet and pods gone")


@pytest.mark.compat("kubectl delete --cascade=foreground")
def test_foreground_keeps_the_owner_until_its_dependents_are_gone(
        kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    held_deployment(cluster, namespace)
    out = kubectl("delete", "deployment", "web", "--cascade=foreground", "--wait=false")
    assert out.stdout == 'deployment.apps "web" deleted\n'
    owner = cluster.client.get("deployments", "web", namespace)
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert owner["metadata"]["deletionTimestamp"]
    (rs,) = wait_for(lambda: [r for r in replicasets(cluster, namespace)
                              if r["metadata"].get("deletionTimestamp")], 90,
                     "the ReplicaSet deleted in the foreground too")
    assert rs["metadata"]["finalizers"] == ["foregroundDeletion"]
    wait_for(lambda: all(p["metadata"].get("deletionTimestamp")
                         for p in pods_of(cluster, namespace, "app=web")), 90, "pods deleted")
    assert not gone(cluster, "deployments", "web", namespace)  # the pods still hold it
    release(cluster, namespace)
    wait_for(lambda: gone(cluster, "deployments", "web", namespace), 90,
             "the Deployment gone once its dependents are")
    assert replicasets(cluster, namespace) == [] and pods_of(cluster, namespace, "app=web") == []


@pytest.mark.compat("kubectl delete --cascade=orphan")
def test_orphan_leaves_the_replicaset_without_its_owner_reference(
        kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    make(cluster, namespace, "deployments", deployment("web", 2))
    wait_available(cluster, namespace, "web")
    pods = sorted(p["metadata"]["name"] for p in pods_of(cluster, namespace, "app=web"))
    out = kubectl("delete", "deployment", "web", "--cascade=orphan")
    assert out.stdout == 'deployment.apps "web" deleted\n'
    assert gone(cluster, "deployments", "web", namespace)
    (rs,) = replicasets(cluster, namespace)
    assert rs["metadata"].get("ownerReferences") in (None, [])
    assert "orphan" not in (rs["metadata"].get("finalizers") or [])
    assert not rs["metadata"].get("deletionTimestamp")
    left = pods_of(cluster, namespace, "app=web")
    assert sorted(p["metadata"]["name"] for p in left) == pods
    assert all(p["metadata"]["ownerReferences"][0]["name"] == rs["metadata"]["name"]
               for p in left)


@pytest.mark.compat("kubectl delete -l", "kubectl delete --all")
def test_delete_by_label_and_all(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    for name, team in [("a", "x"), ("b", "x"), ("c", "y")]:
        make(cluster, namespace, "configmaps",
             {"metadata": {"name": name, "labels": {"team": team}}})
    out = kubectl("delete", "cm", "-l", "team=x")
    assert out.stdout.splitlines() == ['configmap "a" deleted', 'configmap "b" deleted']
    left = cluster.client.list("configmaps", namespace)["items"]
    assert [c["metadata"]["name"] for c in left] == ["c", ROOT_CA]
    none = kubectl("delete", "cm", "-l", "team=nobody")
    assert none.out == "No resources found\n"
    everything = kubectl("delete", "cm", "--all")
    assert everything.stdout == f'configmap "c" deleted\nconfigmap "{ROOT_CA}" deleted\n'
    # the root-ca-cert-publisher makes its ConfigMap again, as in Kubernetes
    wait_for(lambda: [c["metadata"]["name"] for c in cluster.client.list(
        "configmaps", namespace)["items"]] == [ROOT_CA], 30, f"only {ROOT_CA} again")


@pytest.mark.compat("kubectl delete --grace-period", "kubectl delete --now")
def test_grace_period_and_now(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    stubborn = {"name": "main", "image": "schooner/busybox:latest",
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]}
    for name in ("slow", "quick"):
        body = pod(name, None, stubborn)
        body["spec"]["terminationGracePeriodSeconds"] = 60
        make(cluster, namespace, "pods", body)
    for name in ("slow", "quick"):
        wait_pod_ready(cluster, namespace, name)
    kubectl("delete", "pod", "slow", "--grace-period=30", "--wait=false")
    slow = cluster.client.get("pods", "slow", namespace)
    assert slow["metadata"]["deletionGracePeriodSeconds"] == 30
    started = time.monotonic()
    out = kubectl("delete", "pod", "quick", "--now", timeout=120)
    assert out.stdout == 'pod "quick" deleted\n'
    assert gone(cluster, "pods", "quick", namespace)  # --wait (the default) saw it go
    assert time.monotonic() - started < 30  # one second's grace, not the pod's sixty
    forced = kubectl("delete", "pod", "slow", "--grace-period=0", "--force")
    assert forced.stderr.startswith("Warning: Immediate deletion does not wait for "
                                    "confirmation that the running resource has been "
                                    "terminated.")
    assert forced.stdout == 'pod "slow" force deleted\n'
    assert gone(cluster, "pods", "slow", namespace)


@pytest.mark.compat("kubectl delete --wait", "kubectl delete NotFound")
def test_delete_waits_and_a_missing_object(kubectl: Kubectl, cluster: Cluster,
                                           namespace: str) -> None:
    body = pod("p")
    body["metadata"]["finalizers"] = [HOLD]
    make(cluster, namespace, "pods", body)
    bounded = kubectl("delete", "pod", "p", "--timeout=3s", ok=False, timeout=60)
    assert bounded.code == 1
    assert bounded.stdout == 'pod "p" deleted\n'
    # (the last line: on a busy machine kubectl may also log that its watch was cut short)
    assert bounded.stderr.splitlines()[-1] == "error: timed out waiting for the condition on pods/p"
    cluster.client.patch("pods", "p", {"metadata": {"finalizers": None}}, namespace)
    wait_for(lambda: gone(cluster, "pods", "p", namespace), 90, "pod p gone")
    missing = kubectl("delete", "pod", "p", ok=False)
    assert missing.code == 1 and missing.stdout == ""
    assert missing.stderr == 'Error from server (NotFound): pods "p" not found\n'
    quiet = kubectl("delete", "pod", "p", "--ignore-not-found")
    assert quiet.out == ""
    with pytest.raises(errors.NotFound):
        cluster.client.get("pods", "p", namespace)


@pytest.mark.compat("kubectl wait --for=condition", "kubectl wait --for=jsonpath")
def test_wait_for_conditions_and_jsonpath(kubectl: Kubectl, cluster: Cluster,
                                          namespace: str) -> None:
    make(cluster, namespace, "deployments", deployment("web", 2))
    make(cluster, namespace, "pods", pod("p"))
    ready = kubectl("wait", "--for=condition=Ready", "pod/p", "--timeout=120s", timeout=180)
    assert ready.stdout == "pod/p condition met\n"
    assert any(c["type"] == "Ready" and c["status"] == "True"
               for c in cluster.client.get("pods", "p", namespace)["status"]["conditions"])
    available = kubectl("wait", "--for=condition=Available", "deployment/web",
                        "--timeout=120s", timeout=180)
    assert available.stdout == "deployment.apps/web condition met\n"
    replicas = kubectl("wait", "--for=jsonpath={.status.readyReplicas}=2", "deployment/web",
                       "--timeout=120s", timeout=180)
    assert replicas.stdout == "deployment.apps/web condition met\n"
    assert cluster.client.get("deployments", "web", namespace)["status"]["readyReplicas"] == 2
    by_label = kubectl("wait", "--for=condition=Ready", "pods", "-l", "app=web",
                       "--timeout=120s", timeout=180)
    names = sorted(p["metadata"]["name"] for p in pods_of(cluster, namespace, "app=web"))
    assert sorted(by_label.stdout.splitlines()) == [f"pod/{n} condition met" for n in names]


@pytest.mark.compat("kubectl wait --for=delete", "kubectl wait --timeout")
def test_wait_for_delete_and_a_timeout(kubectl: Kubectl, cluster: Cluster,
                                       namespace: str) -> None:
    make(cluster, namespace, "pods", pod("p"))
    stuck = pod("stuck")
    stuck["spec"]["nodeSelector"] = {"no-such": "node"}
    make(cluster, namespace, "pods", stuck)
    wait_pod_ready(cluster, namespace, "p")
    timed_out = kubectl("wait", "--for=condition=Ready", "pod/stuck", "--timeout=3s",
                        ok=False, timeout=60)
    assert timed_out.code == 1 and timed_out.stdout == ""
    assert timed_out.stderr.splitlines()[-1] == (
        "error: timed out waiting for the condition on pods/stuck")
    kubectl("delete", "pod", "p", "--wait=false")
    deleted = kubectl("wait", "--for=delete", "pod/p", "--timeout=120s", timeout=180)
    assert deleted.stdout == "pod/p condition met\n"
    assert gone(cluster, "pods", "p", namespace)
    absent = kubectl("wait", "--for=delete", "pod/p", "--timeout=5s")
    assert absent.out == ""  # already gone: nothing to wait for, exit 0
