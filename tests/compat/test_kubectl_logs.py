"""kubectl logs: one container or all, a previous instance, --since, --tail,
--timestamps, -f, by label and through a Deployment, each against what the pods ran."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cli.cluster.processes import wait_for
from tests.compat.conftest import Cluster, Kubectl
from tests.compat.readkit import (
    container,
    deployment,
    kubectl_stream,
    make,
    pod,
    pods_of,
    wait_available,
    wait_pod_ready,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

IDLE = "trap 'exit 0' TERM; while true; do sleep 1; done"


def shell(script: str, name: str = "main") -> dict[str, object]:
    return container(name, ["sh", "-c", script])


def two_containers(cluster: Cluster, namespace: str) -> None:
    make(cluster, namespace, "pods", pod(
        "two", {"app": "two"},
        shell(f"for i in 1 2 3; do echo a-$i; done; {IDLE}", "a"),
        shell(f"echo b-1; sleep 0.5; echo b-err >&2; {IDLE}", "b")))
    wait_pod_ready(cluster, namespace, "two")


@pytest.mark.compat("kubectl logs -c", "kubectl logs --all-containers", "kubectl logs -l")
def test_one_container_all_containers_and_by_label(kubectl: Kubectl, cluster: Cluster,
                                                   namespace: str) -> None:
    two_containers(cluster, namespace)
    wait_for(lambda: kubectl("logs", "two", "-c", "b").stdout == "b-1\nb-err\n", 60,
             "container b's output")
    assert kubectl("logs", "two", "-c", "a").stdout == "a-1\na-2\na-3\n"
    default = kubectl("logs", "two")
    assert default.stdout == "a-1\na-2\na-3\n"
    assert 'Defaulted container "a" out of: a, b' in default.stderr
    # kubectl walks the containers in Go map order: each one's lines whole, in either order
    a, b = "a-1\na-2\na-3\n", "b-1\nb-err\n"
    assert kubectl("logs", "two", "--all-containers").stdout in (a + b, b + a)
    prefixed = kubectl("logs", "two", "--all-containers", "--prefix").stdout.splitlines()
    assert sorted(prefixed) == [f"[pod/two/a] a-{i}" for i in (1, 2, 3)] + [
        "[pod/two/b] b-1", "[pod/two/b] b-err"]
    labelled = kubectl("logs", "-l", "app=two", "-c", "b", "--prefix").stdout
    assert labelled == "[pod/two/b] b-1\n[pod/two/b] b-err\n"
    bad = kubectl("logs", "two", "-c", "zz", ok=False)
    assert bad.code == 1 and "container zz is not valid for pod two" in bad.stderr


@pytest.mark.compat("kubectl logs --tail", "kubectl logs --timestamps", "kubectl logs --since",
                    "kubectl logs --limit-bytes")
def test_tail_timestamps_and_since(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    two_containers(cluster, namespace)
    wait_for(lambda: kubectl("logs", "two", "-c", "a").stdout == "a-1\na-2\na-3\n", 60,
             "container a's output")
    assert kubectl("logs", "two", "-c", "a", "--tail=2").stdout == "a-2\na-3\n"
    assert kubectl("logs", "two", "-c", "a", "--tail=0").stdout == ""
    assert kubectl("logs", "two", "-c", "a", "--limit-bytes=6").stdout == "a-1\na-"
    stamped = kubectl("logs", "two", "-c", "a", "--timestamps").stdout.splitlines()
    started = cluster.client.get("pods", "two", namespace)["status"]["startTime"]
    for line, n in zip(stamped, (1, 2, 3), strict=True):
        stamp, text = line.split(" ", 1)
        assert text == f"a-{n}"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", stamp)
        when = datetime.fromisoformat(stamp[:26] + "+00:00")
        assert when >= datetime.fromisoformat(started.replace("Z", "+00:00"))
    assert kubectl("logs", "two", "-c", "a", "--since=1h").stdout == "a-1\na-2\na-3\n"
    wait_for(lambda: kubectl("logs", "two", "-c", "a", "--since=2s").stdout == "", 30,
             "--since=2s to leave out lines older than two seconds")
    since_time = kubectl("logs", "two", "-c", "a", f"--since-time={started}").stdout
    assert since_time == "a-1\na-2\na-3\n"


@pytest.mark.compat("kubectl logs --previous")
def test_previous_shows_the_instance_before_a_restart(kubectl: Kubectl, cluster: Cluster,
                                                      namespace: str) -> None:
    body = pod("crash", None, shell(
        "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; "
        f"echo run-$n; if [ $n -eq 1 ]; then exit 1; fi; {IDLE}"))
    body["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    body["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    make(cluster, namespace, "pods", body)

    def restarted_and_running() -> dict[str, object] | None:
        pod_status = cluster.client.get("pods", "crash", namespace).get("status") or {}
        statuses = pod_status.get("containerStatuses") or [{}]
        return statuses[0] if statuses[0].get("restartCount") and statuses[0].get(
            "ready") else None
    # (the first instance is briefly Running, even Ready, before it exits)
    status: dict[str, Any] = wait_for(restarted_and_running, 120, "the second instance ready")
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert kubectl("logs", "crash").stdout == "run-2\n"
    assert kubectl("logs", "crash", "--previous").stdout == "run-1\n"
    assert kubectl("logs", "crash", "-p", "--timestamps").stdout.endswith(" run-1\n")
    fresh = pod("fresh")
    make(cluster, namespace, "pods", fresh)
    wait_pod_ready(cluster, namespace, "fresh")
    none = kubectl("logs", "fresh", "--previous", ok=False)
    assert none.code == 1
    assert none.stderr == ('Error from server (BadRequest): previous terminated container '
                           '"main" in pod "fresh" not found\n')


@pytest.mark.compat("kubectl logs -f")
def test_follow_streams_new_lines_until_the_container_ends(cluster: Cluster, namespace: str,
                                                           tmp_path: Path) -> None:
    make(cluster, namespace, "pods", pod("ticker", None, shell(
        "echo first; for i in $(seq 1 40); do echo tick-$i; sleep 0.5; done"),
        restart="Never"))
    wait_pod_ready(cluster, namespace, "ticker")
    with kubectl_stream(cluster, namespace, tmp_path / "home", "logs", "-f", "ticker") as out:
        out.wait_stderr("follow=true 200 OK")
        phase = cluster.client.get("pods", "ticker", namespace)["status"]["phase"]
        assert phase == "Running", "kubectl must be following a container still printing"
        lines = out.wait_until(lambda got: "tick-40" in got, "the last tick", timeout=120)
        code = out.finish(60)  # the container ended: so did the stream and kubectl
    assert code == 0
    assert lines == ["first", *[f"tick-{i}" for i in range(1, 41)]]


@pytest.mark.compat("kubectl logs deploy/NAME")
def test_logs_through_a_deployment(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    make(cluster, namespace, "deployments", deployment(
        "web", 2, shell(f"echo hello from $(hostname); {IDLE}")))
    wait_available(cluster, namespace, "web")
    names = {p["metadata"]["name"] for p in pods_of(cluster, namespace, "app=web")}
    out = wait_for(lambda: (lambda r: r if r.stdout else None)(kubectl("logs", "deploy/web")),
                   60, "the deployment's pod output")
    chosen = re.search(r"Found 2 pods, using pod/(\S+)", out.stderr)
    assert chosen is not None and chosen.group(1) in names
    assert out.stdout == f"hello from {chosen.group(1)}\n"
    everyone = kubectl("logs", "deploy/web", "--all-pods", "--prefix").stdout.splitlines()
    assert sorted(everyone) == sorted(f"[pod/{n}/main] hello from {n}" for n in names)


@pytest.mark.compat("kubectl logs (not started)")
def test_logs_of_a_pod_that_has_not_started(kubectl: Kubectl, cluster: Cluster,
                                            namespace: str) -> None:
    unpullable = pod("bad", None, container("main"))
    unpullable["spec"]["containers"][0].update(image="schooner/no-such-image:1",
                                               imagePullPolicy="Always")
    make(cluster, namespace, "pods", unpullable)
    stuck = pod("stuck")
    stuck["spec"]["nodeSelector"] = {"no-such": "node"}
    make(cluster, namespace, "pods", stuck)
    wait_for(lambda: ((cluster.client.get("pods", "bad", namespace).get("status") or {})
                      .get("containerStatuses") or [{}])[0].get("state", {}).get(
                          "waiting", {}).get("reason") == "ImagePullBackOff", 120,
             "the image pull backing off")
    refused = kubectl("logs", "bad", ok=False)
    assert refused.code == 1
    assert refused.stderr == ('Error from server (BadRequest): container "main" in pod "bad" '
                              "is waiting to start: trying and failing to pull image\n")
    unscheduled = kubectl("logs", "stuck")
    assert unscheduled.out == ""  # not on a node yet: no log, as Kubernetes answers


@pytest.mark.compat("kubectl logs -c")
def test_logs_of_an_init_container(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    body = pod("init", None, shell(f"echo app-ran; {IDLE}"))
    body["spec"]["initContainers"] = [shell("echo init-ran", "setup")]
    make(cluster, namespace, "pods", body)
    wait_pod_ready(cluster, namespace, "init")
    assert kubectl("logs", "init", "-c", "setup").stdout == "init-ran\n"
    assert wait_for(lambda: kubectl("logs", "init").stdout, 30, "the app's output") == \
        "app-ran\n"
    assert kubectl("get", "pod", "init", "--no-headers").stdout.split()[1:3] == [
        "1/1", "Running"]
