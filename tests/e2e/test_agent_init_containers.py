"""Init containers for real: a real agent, apiserver and Docker engine.

An init container fills an emptyDir the app then reads; one that fails once is
restarted (the agent's 1 s back-off) and the app starts only after it succeeded;
a `Never` pod whose init container fails is Failed and its app never runs; an
agent restart does not run a finished init container again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from apimachinery.meta import Object
from cli.cluster.processes import wait_for
from tests.e2e.test_agent import running, sh, stays

if TYPE_CHECKING:
    from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
DATA = [{"name": "data", "emptyDir": {}}]
MOUNT = [{"name": "data", "mountPath": "/data"}]


def init_status(pod: Object, name: str) -> Object:
    return next(s for s in pod["status"].get("initContainerStatuses") or []
                if s["name"] == name)


def condition(pod: Object, kind: str) -> Object:
    return next(c for c in pod["status"]["conditions"] if c["type"] == kind)


def docker_time(agent: AgentNode, container_id: str, key: str) -> datetime:
    """StartedAt or FinishedAt as Docker records it (nanoseconds cut to microseconds)."""
    raw = agent.docker.api.inspect_container(container_id)["State"][key]
    head, _, frac = raw.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def docker_id(status: Object, state: str = "state") -> str:
    if state == "lastState":
        return str(status["lastState"]["terminated"]["containerID"]).removeprefix("docker://")
    return str(status["containerID"]).removeprefix("docker://")


def app_status(pod: Object) -> Any:
    return pod["status"]["containerStatuses"][0]


def test_an_init_container_fills_an_empty_dir_the_app_reads(agent: AgentNode) -> None:
    inits = [sh("fill", "echo filling; echo from-init > /data/page; sleep 1",
                volumeMounts=MOUNT),
             sh("check", "test -s /data/page && echo checked", volumeMounts=MOUNT)]
    agent.create_pod("filled", [sh("app", "cat /data/page; sleep 3600", volumeMounts=MOUNT)],
                     initContainers=inits, volumes=DATA)
    pending = agent.wait_pod("filled", lambda p: p["status"].get("initContainerStatuses"),
                             "initializing")
    assert pending["status"]["phase"] == "Pending"
    assert condition(pending, "Initialized")["reason"] == "ContainersNotInitialized"
    pod = agent.wait_pod("filled", running, "Running")
    assert condition(pod, "Initialized")["status"] == "True"
    fill, check = init_status(pod, "fill"), init_status(pod, "check")
    for status in (fill, check):
        assert status["state"]["terminated"]["reason"] == "Completed"
        assert (status["ready"], status["restartCount"]) == (True, 0)
        assert status["imageID"].startswith("sha256:")
    # in order, each to completion: check started after fill ended, the app after check
    assert docker_time(agent, docker_id(fill), "FinishedAt") <= docker_time(
        agent, docker_id(check), "StartedAt")
    assert docker_time(agent, docker_id(check), "FinishedAt") <= docker_time(
        agent, docker_id(app_status(pod)), "StartedAt")
    ns = agent.namespace
    with agent.http() as http:
        assert wait_for(lambda: http.get(f"/containerLogs/{ns}/filled/app").text, 10,
                        "the app's output") == "from-init\n"
        assert http.get(f"/containerLogs/{ns}/filled/fill").text == "filling\n"
        assert http.get(f"/containerLogs/{ns}/filled/check").text == "checked\n"


def test_a_failing_init_container_is_restarted_and_holds_the_app(agent: AgentNode) -> None:
    script = "if [ -f /data/marker ]; then exit 0; fi; touch /data/marker; exit 1"
    agent.create_pod("retry", [sh("app", "sleep 3600", volumeMounts=MOUNT)],
                     initContainers=[sh("once", script, volumeMounts=MOUNT)], volumes=DATA)
    pod = agent.wait_pod("retry", running, "Running after one retry")
    once = init_status(pod, "once")
    assert once["restartCount"] == 1 and once["state"]["terminated"]["exitCode"] == 0
    assert once["lastState"]["terminated"]["exitCode"] == 1
    assert once["lastState"]["terminated"]["reason"] == "Error"
    assert docker_time(agent, docker_id(once), "FinishedAt") <= docker_time(
        agent, docker_id(app_status(pod)), "StartedAt")
    assert app_status(pod)["restartCount"] == 0


def test_a_never_pod_fails_when_its_init_container_fails(agent: AgentNode) -> None:
    pod = agent.create_pod("broken", [sh("app", "sleep 3600")],
                           initContainers=[sh("fail", "exit 3")], restartPolicy="Never")
    uid = pod["metadata"]["uid"]
    pod = agent.wait_pod("broken", lambda p: p["status"].get("phase") == "Failed", "Failed")
    state = init_status(pod, "fail")["state"]["terminated"]
    assert (state["exitCode"], state["reason"]) == (3, "Error")
    initialized = condition(pod, "Initialized")
    assert (initialized["status"], initialized["message"]) == (
        "False", "containers with incomplete status: [fail]")
    assert app_status(pod)["state"]["waiting"]["reason"] == "PodInitializing"
    # a listing without inspections: the agent removes the dead sandbox meanwhile
    rows = agent.docker.api.containers(all=True, filters={"label": [
        f"schooner.pod.uid={uid}", f"schooner.node={agent.name}"]})
    names = [r["Labels"]["schooner.container.name"] for r in rows
             if r["Labels"].get("schooner.sandbox") != "true"]
    assert names == ["fail"]  # the app never ran, the init container ran once


def test_a_restarted_agent_does_not_run_finished_init_containers_again(
        agent: AgentNode) -> None:
    pod = agent.create_pod("adopted", [sh("app", "sleep 3600")],
                           initContainers=[sh("init", "true")])
    uid = pod["metadata"]["uid"]
    agent.wait_pod("adopted", running, "Running")
    before = sorted(c.id for c in agent.containers(uid))
    agent.process.stop()  # SIGTERM: the containers stay
    agent.start()

    def same() -> bool:
        p = agent.pod("adopted")
        return sorted(c.id for c in agent.containers(uid)) == before and running(p) and \
            init_status(p, "init")["restartCount"] == 0
    stays(same, 5, "the same containers, the init container not run again")
