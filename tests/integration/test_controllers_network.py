"""The endpoints and StatefulSet controllers as a real process, real etcd and apiserver.

No agent runs: the tests write what it would report (phase, podIP, the Ready
condition) through the status subresource, bind pods to a node name when they
want graceful deletion, and confirm a terminating pod's end with
gracePeriodSeconds=0. Unbound pods are deleted at once, as the apiserver does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object, now_rfc3339
from cli.cluster.processes import Apiserver, Process, own_control_plane, wait_for
from tests.integration.test_controllers import TIMEOUT, exists, start_manager

QUIET = 1.0  # how long "nothing else happens" is watched for


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """This module's own etcd and apiserver, so other modules' objects never interfere."""
    with own_control_plane(tmp_path_factory.mktemp("net")) as server:
        yield server


@pytest.fixture
def manager(apiserver: Apiserver, tmp_path: Path) -> Iterator[Process]:
    kubeconfig = apiserver.component_kubeconfig(tmp_path / "kubeconfig", "controller-manager")
    proc = start_manager(kubeconfig, tmp_path / "controller-manager.log")
    try:
        yield proc
    finally:
        proc.stop()


# -- helpers ------------------------------------------------------------------------------------

def holds(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `condition` for `seconds`; fail at the first time it is false."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert condition(), f"expected {what} to hold for {seconds}s"
        time.sleep(0.05)


def set_pod_status(client: Client, ns: str, name: str, *, ip: str,
                   ready: bool = True) -> None:
    """What an agent reports: Running, the pod IP, and the Ready condition."""
    for _ in range(10):
        pod = client.get("pods", name, ns)
        pod["status"] = {**(pod.get("status") or {}), "phase": "Running", "podIP": ip,
                         "podIPs": [{"ip": ip}], "conditions": [
                             {"type": "Ready", "status": "True" if ready else "False",
                              "lastTransitionTime": now_rfc3339()}]}
        try:
            client.update_status("pods", pod)
            return
        except errors.Conflict:
            continue
    raise AssertionError(f"could not write the status of {name}")


def live_pods(client: Client, ns: str) -> dict[str, Object]:
    return {p["metadata"]["name"]: p for p in client.list("pods", ns)["items"]
            if not p["metadata"].get("deletionTimestamp")}


def endpoints_summary(client: Client, ns: str, name: str) -> Object | None:
    """{ready: [...], not_ready: [...], ports: [...]} over all subsets, or None if absent."""
    ep = exists(client, "endpoints", name, ns)
    if ep is None:
        return None
    subsets = ep.get("subsets") or []
    return {"ready": sorted(a["targetRef"]["name"] for s in subsets
                            for a in s.get("addresses") or []),
            "not_ready": sorted(a["targetRef"]["name"] for s in subsets
                                for a in s.get("notReadyAddresses") or []),
            "ports": sorted({(p.get("name"), p["port"]) for s in subsets
                             for p in s.get("ports") or []})}


# -- endpoints ----------------------------------------------------------------------------------

def test_endpoints_follow_pod_readiness_and_deletion(manager: Any, client: Client,
                                                     namespace: str) -> None:
    client.create("services", {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": "web-port"}]}}, namespace)
    for i in range(3):
        client.create("pods", {"metadata": {"name": f"web-{i}", "labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "main", "image": "busybox:1",
                                                        "ports": [{"name": "web-port",
                                                                   "containerPort": 8080}]}]}},
                      namespace)
        client.bind(f"web-{i}", "node-1", namespace)  # deletion is graceful, as on a node
        set_pod_status(client, namespace, f"web-{i}", ip=f"10.244.0.{10 + i}")
    wait_for(lambda: endpoints_summary(client, namespace, "web") == {
        "ready": ["web-0", "web-1", "web-2"], "not_ready": [], "ports": [("http", 8080)]},
        TIMEOUT, "3 ready addresses on port 8080")
    (subset,) = client.get("endpoints", "web", namespace)["subsets"]
    assert subset["addresses"][0]["ip"] == "10.244.0.10"
    assert subset["addresses"][0]["nodeName"] == "node-1"
    assert subset["addresses"][0]["targetRef"]["kind"] == "Pod"

    rv = client.get("endpoints", "web", namespace)["metadata"]["resourceVersion"]
    client.patch("pods", "web-0", {"metadata": {"annotations": {"touched": "yes"}}}, namespace)
    holds(lambda: client.get("endpoints", "web", namespace)["metadata"]["resourceVersion"]
          == rv, QUIET, "Endpoints unchanged when nothing it shows changed")

    set_pod_status(client, namespace, "web-1", ip="10.244.0.11", ready=False)
    wait_for(lambda: endpoints_summary(client, namespace, "web") == {
        "ready": ["web-0", "web-2"], "not_ready": ["web-1"], "ports": [("http", 8080)]},
        TIMEOUT, "web-1 among notReadyAddresses")

    client.delete("pods", "web-2", namespace)  # terminating: out at once
    wait_for(lambda: endpoints_summary(client, namespace, "web") == {
        "ready": ["web-0"], "not_ready": ["web-1"], "ports": [("http", 8080)]},
        TIMEOUT, "terminating web-2 gone from the Endpoints")
    client.delete("pods", "web-2", namespace, grace_period_seconds=0)

    client.delete("services", "web", namespace)
    wait_for(lambda: exists(client, "endpoints", "web", namespace) is None, TIMEOUT,
             "the Endpoints deleted with the Service")


def test_a_selector_matching_nothing_gives_no_subsets(manager: Any, client: Client,
                                                      namespace: str) -> None:
    client.create("services", {"metadata": {"name": "empty"}, "spec": {
        "selector": {"app": "nothing"}, "ports": [{"port": 80}]}}, namespace)
    ep = wait_for(lambda: exists(client, "endpoints", "empty", namespace), TIMEOUT,
                  "the Endpoints of a Service selecting nothing")
    assert ep.get("subsets") == []


# -- statefulsets -------------------------------------------------------------------------------

def stateful_set(replicas: int, image: str = "busybox:1") -> Object:
    labels = {"app": "db"}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"replicas": replicas, "serviceName": "db",
                     "selector": {"matchLabels": labels},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}}],
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "containers": [{"name": "main", "image": image}]}}}}


def mark_ready(client: Client, ns: str, name: str) -> None:
    set_pod_status(client, ns, name, ip=f"10.244.1.{10 + int(name.rsplit('-', 1)[1])}")


def revisions(client: Client, ns: str) -> dict[str, str]:
    return {n: p["metadata"]["labels"]["controller-revision-hash"]
            for n, p in live_pods(client, ns).items()}


def test_statefulset_ordered_scaling_identity_and_rolling_update(
        manager: Any, client: Client, namespace: str) -> None:
    client.create("services", {"metadata": {"name": "db"}, "spec": {
        "clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]}},
        namespace)
    sts = client.create("statefulsets", stateful_set(3), namespace)

    for i in range(3):  # OrderedReady: each pod only once its predecessor is Ready
        name = f"db-{i}"
        wait_for(lambda n=name: n in live_pods(client, namespace), TIMEOUT, f"{name}")
        expected = {f"db-{j}" for j in range(i + 1)}
        holds(lambda e=expected: set(live_pods(client, namespace)) == e, QUIET,
              f"only {sorted(expected)} while {name} is not ready")
        mark_ready(client, namespace, name)

    pods = live_pods(client, namespace)
    for i in range(3):
        pod = pods[f"db-{i}"]
        assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == (f"db-{i}", "db")
        assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == f"db-{i}"
        assert pod["metadata"]["ownerReferences"][0]["uid"] == sts["metadata"]["uid"]
        assert {"name": "data", "persistentVolumeClaim": {"claimName": f"data-db-{i}"}} \
            in pod["spec"]["volumes"]
    status = wait_for(lambda: (s := client.get("statefulsets", "db", namespace)
                               .get("status", {})).get("readyReplicas") == 3 and s, TIMEOUT,
                      "status.readyReplicas 3")
    old = status["currentRevision"]
    assert status["updateRevision"] == old and status["currentReplicas"] == 3
    assert set(revisions(client, namespace).values()) == {old}
    ep = wait_for(lambda: endpoints_summary(client, namespace, "db"), TIMEOUT, "db Endpoints")
    assert ep["ready"] == ["db-0", "db-1", "db-2"]  # the headless Service names each pod
    hostnames = {a.get("hostname") for s in client.get("endpoints", "db", namespace)["subsets"]
                 for a in s["addresses"]}
    assert hostnames == {"db-0", "db-1", "db-2"}

    client.patch("statefulsets", "db", {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "busybox:2"}]}}}}, namespace)
    for i in (2, 1, 0):  # RollingUpdate: reverse ordinal order, each Ready before the next
        name = f"db-{i}"
        wait_for(lambda n=name: revisions(client, namespace).get(n, old) != old, TIMEOUT,
                 f"{name} at the new revision")
        holds(lambda k=i: all(rev == old for n, rev in revisions(client, namespace).items()
                              if int(n.rsplit("-", 1)[1]) < k), QUIET,
              f"the pods below {name} untouched while it is not ready")
        assert live_pods(client, namespace)[name]["spec"]["containers"][0]["image"] == \
            "busybox:2"
        mark_ready(client, namespace, name)
    wait_for(lambda: (s := client.get("statefulsets", "db", namespace)["status"])
             ["currentRevision"] == s["updateRevision"] != old and s["updatedReplicas"] == 3,
             TIMEOUT, "the rollout complete in status")

    for name in live_pods(client, namespace):  # bound: deletions are graceful
        client.bind(name, "node-1", namespace)
    client.patch("statefulsets", "db", {"spec": {"replicas": 1}}, namespace)
    for name in ("db-2", "db-1"):  # scale down in reverse order, one at a time
        wait_for(lambda n=name: n not in live_pods(client, namespace), TIMEOUT,
                 f"{name} terminating")
        holds(lambda n=name: set(live_pods(client, namespace)) ==
              {f"db-{j}" for j in range(int(n.rsplit("-", 1)[1]))}, QUIET,
              f"nothing else deleted while {name} terminates")
        client.delete("pods", name, namespace, grace_period_seconds=0)  # the agent's word
    wait_for(lambda: [p["metadata"]["name"] for p in client.list("pods", namespace)["items"]]
             == ["db-0"] and client.get("statefulsets", "db", namespace)["status"]
             ["replicas"] == 1, TIMEOUT, "one pod left and counted")
