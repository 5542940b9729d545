"""The agent for real: a real agent process, a real apiserver and etcd, the real Docker engine.

Pods are bound by setting spec.nodeName directly (no scheduler needed). Each
test has a node, network and namespace of its own (see conftest.py), and the
fixture removes every container, volume and network it made.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from agent.nodestatus.lease import LEASE_DURATION_SECONDS
from agent.podsync.volumes import filesystem_of, memory_dir
from apimachinery import errors
from apimachinery.meta import Object
from cli.cluster.processes import wait_for

if TYPE_CHECKING:
    from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
IMAGE = "schooner/busybox:latest"
HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


def box(name: str, command: list[str], **extra: Any) -> Object:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "Never", "command": command,
            **extra}


def sh(name: str, script: str, **extra: Any) -> Object:
    return box(name, ["sh", "-c", script], **extra)


def status_of(pod: Object, container: str = "") -> Object:
    statuses = pod["status"].get("containerStatuses") or []
    return next((s for s in statuses if not container or s["name"] == container), {})


def running(pod: Object) -> bool:
    cs = status_of(pod)
    return pod["status"].get("phase") == "Running" and "running" in cs.get("state", {}) \
        and bool(cs.get("ready"))


def waiting_reason(pod: Object) -> str:
    return ((status_of(pod).get("state") or {}).get("waiting") or {}).get("reason", "")


def gone(agent: AgentNode, name: str) -> bool:
    try:
        agent.pod(name)
    except errors.NotFound:
        return True
    return False


def stays(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Fail as soon as `condition` turns false within `seconds` (the opposite of wait_for)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert condition(), f"no longer true: {what}"
        time.sleep(0.2)


def test_node_registration_and_lease(agent: AgentNode) -> None:
    node = agent.client.get("nodes", agent.name)
    status = node["status"]
    assert status["capacity"]["pods"] == "110"
    assert status["capacity"]["memory"].endswith("Ki")
    assert status["allocatable"]["cpu"] == status["capacity"]["cpu"]
    assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == agent.port
    info = status["nodeInfo"]
    assert info["kubeletVersion"] == "v1.32.0-schooner"
    assert info["containerRuntimeVersion"].startswith("docker://")
    assert info["operatingSystem"] == "linux" and info["kernelVersion"]
    kinds = {c["type"]: (c["status"], c.get("reason")) for c in status["conditions"]}
    assert kinds["Ready"] == ("True", "KubeletReady")
    assert kinds["MemoryPressure"][0] == kinds["DiskPressure"][0] == "False"
    lease = wait_for(lambda: agent.client.get("leases", agent.name, "kube-node-lease"), 15,
                     "the node's lease")
    assert lease["spec"]["holderIdentity"] == agent.name
    assert lease["spec"]["leaseDurationSeconds"] == LEASE_DURATION_SECONDS == 20
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", lease["spec"]["renewTime"])


def test_pod_serves_http_and_a_killed_container_restarts(agent: AgentNode) -> None:
    started = time.monotonic()
    pod = agent.create_pod("web", [box("web", HTTPD)])
    pod = agent.wait_pod("web", running, "Running")
    took = time.monotonic() - started
    ip = pod["status"]["podIP"]
    assert pod["status"]["podIPs"] == [{"ip": ip}]
    assert pod["status"]["hostIP"] == "127.0.0.1"
    assert ip.startswith(agent.subnet.rsplit(".", 1)[0] + ".")
    assert "schooner busybox" in httpx.get(f"http://{ip}:8080/", timeout=5).text
    first = status_of(pod)
    assert first["restartCount"] == 0 and first["imageID"].startswith("sha256:")
    assert {c["type"] for c in pod["status"]["conditions"]} >= {"Ready", "PodScheduled"}

    agent.docker.containers.get(first["containerID"].removeprefix("docker://")).kill()
    pod = agent.wait_pod("web", lambda p: running(p) and status_of(p)["restartCount"] == 1,
                         "restarted once")
    again = status_of(pod)
    assert again["containerID"] != first["containerID"]
    assert again["lastState"]["terminated"]["exitCode"] == 137
    assert pod["status"]["podIP"] == ip  # same sandbox, same IP
    assert httpx.get(f"http://{ip}:8080/", timeout=5).status_code == 200
    print(f"pod create -> Running: {took:.2f}s")


def test_crash_loop_backs_off_exponentially(agent: AgentNode) -> None:
    pod = agent.create_pod("crash", [sh("crash", "exit 1")], restartPolicy="OnFailure")
    uid = pod["metadata"]["uid"]
    messages: set[str] = set()
    restarts_at: dict[int, float] = {}

    def observe(p: Object) -> bool:
        cs = status_of(p)
        restarts_at.setdefault(cs.get("restartCount", 0), time.monotonic())
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff":
            messages.add(waiting["message"])
        return cs.get("restartCount", 0) >= 4
    pod = agent.wait_pod("crash", observe, "restartCount 4", timeout=40)
    pattern = (r"back-off (\d+)s restarting failed container=crash "
               rf"pod=crash_{agent.namespace}\({uid}\)")
    delays = sorted({int(m.group(1)) for m in map(re.compile(pattern).fullmatch, messages) if m})
    assert len(delays) >= 2 and delays[-1] >= 2, messages
    assert restarts_at[4] - restarts_at[3] > restarts_at[2] - restarts_at[1] + 1
    assert pod["status"]["phase"] == "Running"  # OnFailure with a failure: restarting
    last = status_of(pod)["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (1, "Error")
    events = agent.client.list("events", agent.namespace)["items"]
    assert any(e["reason"] == "BackOff" and e["involvedObject"]["fieldPath"] ==
               "spec.containers{crash}" and e["source"]["component"] == "kubelet"
               for e in events)


def test_running_containers_are_adopted_after_restart_and_orphans_removed(
        agent: AgentNode) -> None:
    agent.create_pod("keep", [box("keep", HTTPD)])
    pod = agent.wait_pod("keep", running, "Running")
    app = status_of(pod)["containerID"].removeprefix("docker://")
    agent.docker.containers.get(app).kill()
    pod = agent.wait_pod("keep", lambda p: running(p) and status_of(p)["restartCount"] == 1,
                         "restarted once")
    uid = pod["metadata"]["uid"]
    before = sorted(c.id for c in agent.containers(uid, sandbox=None) if c.status == "running")
    orphan = agent.create_pod("orphan", [box("orphan", ["sleep", "3600"])])
    agent.wait_pod("orphan", running, "Running")

    agent.process.stop()  # SIGTERM: containers keep running
    assert all(c.status == "running" for c in agent.containers(uid, sandbox=None)
               if c.id in before)
    agent.start()
    agent.process.kill()  # kill -9, and a pod deleted while the agent is down
    agent.client.delete("pods", "orphan", agent.namespace, grace_period_seconds=0)
    agent.start()

    def same() -> bool:
        now = sorted(c.id for c in agent.containers(uid, sandbox=None) if c.status == "running")
        p = agent.pod("keep")
        return now == before and status_of(p)["restartCount"] == 1 and running(p)
    wait_for(lambda: not agent.containers(orphan["metadata"]["uid"], sandbox=None), 20,
             "the orphan's containers removed")
    stays(same, 6, "the same containers, restartCount 1, Running")


def test_delete_removes_containers_volumes_and_the_pod(agent: AgentNode) -> None:
    agent.client.create("configmaps", {"metadata": {"name": "files"}, "data": {"a": "1"}},
                        agent.namespace)
    volumes = [{"name": "scratch", "emptyDir": {}},
               {"name": "files", "configMap": {"name": "files"}}]
    mounts = [{"name": "scratch", "mountPath": "/scratch"},
              {"name": "files", "mountPath": "/files"}]
    pod = agent.create_pod("doomed", [box("doomed", ["sleep", "3600"], volumeMounts=mounts)],
                           volumes=volumes)
    uid = pod["metadata"]["uid"]
    agent.wait_pod("doomed", running, "Running")
    assert agent.docker.volumes.get(f"schooner-{uid}-scratch")
    assert (agent.root_dir / "pods" / uid / "volumes" / "files" / "a").read_text() == "1"
    network = agent.docker.networks.get(agent.network)
    assert len(network.attrs["Containers"]) == 1  # the sandbox

    agent.client.delete("pods", "doomed", agent.namespace)
    wait_for(lambda: gone(agent, "doomed"), 20, "the pod object deleted")
    assert agent.containers(uid, sandbox=None) == []
    assert agent.docker.volumes.list(filters={"label": f"schooner.pod.uid={uid}"}) == []
    network.reload()
    assert network.attrs["Containers"] == {}
    assert not (agent.root_dir / "pods" / uid).exists()


def test_missing_images_wait_while_other_pods_run(agent: AgentNode) -> None:
    agent.create_pod("never", [{"name": "c", "image": "schooner/absent:1",
                                "imagePullPolicy": "Never"}])
    agent.create_pod("pull", [{"name": "c", "image": "schooner/absent:1",
                               "imagePullPolicy": "IfNotPresent"}])
    agent.create_pod("fine", [box("fine", ["sleep", "3600"])])
    agent.wait_pod("fine", running, "Running")
    pod = agent.wait_pod("never", lambda p: waiting_reason(p) == "ErrImageNeverPull",
                         "ErrImageNeverPull")
    assert "pull policy of Never" in status_of(pod)["state"]["waiting"]["message"]
    assert pod["status"]["phase"] == "Pending" and "imageID" in status_of(pod)
    agent.wait_pod("pull", lambda p: waiting_reason(p) in ("ErrImagePull", "ImagePullBackOff"),
                   "ErrImagePull")
    agent.wait_pod("pull", lambda p: waiting_reason(p) == "ImagePullBackOff", "ImagePullBackOff")
    assert running(agent.pod("fine"))


def test_configmap_and_secret_reach_the_container(agent: AgentNode) -> None:
    ns = agent.namespace
    agent.client.create("configmaps", {"metadata": {"name": "cfg"},
                                       "data": {"key": "from-configmap", "other": "x"}}, ns)
    secret = base64.b64encode(b"s3cret").decode()
    agent.client.create("secrets", {"metadata": {"name": "sec"},
                                    "data": {"password": secret}}, ns)
    env = [{"name": "KEY", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "key"}}},
           {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}},
           {"name": "ME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
           {"name": "GREETING", "value": "hello $(ME)"}]
    volumes = [{"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 0o400,
                                             "items": [{"key": "key", "path": "renamed"}]}},
               {"name": "sec", "secret": {"secretName": "sec"}}]
    mounts = [{"name": "cfg", "mountPath": "/etc/cfg"},
              {"name": "sec", "mountPath": "/etc/sec"}]
    script = ("echo KEY=$KEY; echo PASS=$PASS; echo CM=$CM_other; echo $GREETING; "
              "echo FILE=$(cat /etc/cfg/renamed); echo SECRET=$(cat /etc/sec/password); "
              "sleep 3600")
    agent.create_pod("cfg", [sh("app", script, env=env, volumeMounts=mounts,
                                envFrom=[{"prefix": "CM_", "configMapRef": {"name": "cfg"}}])],
                     volumes=volumes)
    agent.wait_pod("cfg", running, "Running")
    path = f"/containerLogs/{ns}/cfg/app"
    with agent.http() as http:
        text = wait_for(lambda: (t := http.get(path).text) and "SECRET=" in t and t, 10,
                        "the container's output")
        assert http.get(path, params={"tailLines": "1"}).text == "SECRET=s3cret\n"
        stamped = http.get(path, params={"timestamps": "true", "tailLines": "1"}).text
        assert re.match(r"\d{4}-\d\d-\d\dT\S+ SECRET=s3cret", stamped)
        with http.stream("GET", path, params={"follow": "true"}) as stream:
            assert next(stream.iter_lines()) == "KEY=from-configmap"  # then hang up
        result = http.post(f"/exec/{ns}/cfg/app",
                           json={"command": ["stat", "-c", "%a", "/etc/cfg/renamed"]}).json()
        assert result == {"exitCode": 0, "output": "400\n"}
        assert http.post(f"/exec/{ns}/cfg/app", json={"command": ["false"]}).json()[
            "exitCode"] == 1
        assert http.get(f"/containerLogs/{ns}/nope/app").status_code == 404
    for line in ("KEY=from-configmap", "PASS=s3cret", "CM=x", "hello cfg",
                 "FILE=from-configmap"):
        assert line in text.splitlines(), text
    assert_secret_only_in_memory(agent, "cfg", "/etc/sec", b"s3cret")
    with agent.http(token=None) as anonymous, agent.http(token="wrong") as wrong:
        assert anonymous.get(path).status_code == 401
        assert wrong.get(path).status_code == 401
        assert anonymous.get("/healthz").text == "ok"


def assert_secret_only_in_memory(agent: AgentNode, pod: str, mount_path: str,
                                 secret: bytes) -> None:
    """The secret volume is a folder on tmpfs, and no file under the agent's root dir (its
    disk) holds the secret's bytes; with the pod gone, the memory copy goes too."""
    uid = agent.pod(pod)["metadata"]["uid"]
    container = agent.containers(uid)[0]
    source = next(m["Source"] for m in container.attrs["Mounts"]
                  if m["Destination"] == mount_path)
    assert source.startswith(str(memory_dir(agent.root_dir)))
    assert filesystem_of(Path(source)) == "tmpfs"
    on_disk = [p for p in agent.root_dir.rglob("*")
               if p.is_file() and secret in p.read_bytes()]
    assert on_disk == []
    agent.client.delete("pods", pod, agent.namespace)
    wait_for(lambda: gone(agent, pod), 30, "the pod object deleted")
    assert not (memory_dir(agent.root_dir) / "pods" / uid).exists()


def test_graceful_deletion_sigterm_then_sigkill_after_grace(agent: AgentNode) -> None:
    agent.create_pod("polite", [sh("c", 'trap "exit 0" TERM; while true; do sleep 1; done')],
                     terminationGracePeriodSeconds=30)
    agent.create_pod("stubborn", [sh("c", 'trap "" TERM; while true; do sleep 1; done')],
                     terminationGracePeriodSeconds=4)
    agent.wait_pod("polite", running, "Running")
    agent.wait_pod("stubborn", running, "Running")
    started = time.monotonic()
    agent.client.delete("pods", "polite", agent.namespace)
    agent.client.delete("pods", "stubborn", agent.namespace)
    wait_for(lambda: gone(agent, "polite"), 10, "the SIGTERM-trapping pod gone")
    polite = time.monotonic() - started
    assert not gone(agent, "stubborn")
    wait_for(lambda: gone(agent, "stubborn"), 20, "the SIGTERM-ignoring pod gone")
    stubborn = time.monotonic() - started
    assert polite < 4 and 3.8 <= stubborn < 12, (polite, stubborn)


def test_completed_failed_and_bad_command_pods(agent: AgentNode) -> None:
    agent.create_pod("done", [sh("c", "exit 0")], restartPolicy="Never")
    agent.create_pod("fail", [sh("c", "exit 3")], restartPolicy="Never")
    agent.create_pod("badcmd", [box("c", ["/no/such/binary"])], restartPolicy="Never")
    done = agent.wait_pod("done", lambda p: p["status"]["phase"] == "Succeeded", "Succeeded")
    term = status_of(done)["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")
    assert {c["type"]: c.get("reason") for c in done["status"]["conditions"]}[
        "Ready"] == "PodCompleted"
    fail = agent.wait_pod("fail", lambda p: p["status"]["phase"] == "Failed", "Failed")
    assert status_of(fail)["state"]["terminated"]["reason"] == "Error"
    bad = agent.wait_pod("badcmd", lambda p: p["status"]["phase"] == "Failed", "Failed")
    assert status_of(bad)["state"]["terminated"]["exitCode"] == 127
    uid = done["metadata"]["uid"]
    wait_for(lambda: all(c.status != "running" for c in agent.containers(uid, sandbox=True)),
             10, "the finished pod's sandbox stopped")
    assert [c.status for c in agent.containers(uid)] == ["exited"]  # kept for its logs
