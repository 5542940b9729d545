"""A node that runs for months, for real: execs that hang are killed, output is capped.

On the real Docker engine: an exec probe whose command never ends (timeoutSeconds
1, every second) leaves no processes behind in the container, where each run used
to leave one more; the API's exec keeps at most `EXEC_OUTPUT_LIMIT` bytes of a
command's output, and a caller that hangs up takes its command with it; a
flood of made-up tokens is mostly answered 429 without asking the apiserver.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from agent.runtime.container import EXEC_OUTPUT_LIMIT
from agent.server.auth import LOOKUP_BURST, LOOKUP_QPS
from apimachinery.meta import Object
from cli.cluster.processes import wait_for

if TYPE_CHECKING:
    from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
IMAGE = "schooner/busybox:latest"


def box(name: str, script: str, **extra: Any) -> Object:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "Never",
            "command": ["sh", "-c", script], **extra}


def container_of(agent: AgentNode, pod: Object) -> Any:
    cid = pod["status"]["containerStatuses"][0]["containerID"].removeprefix("docker://")
    return agent.docker.containers.get(cid)


def processes(container: Any, word: str) -> int:
    """How many processes in the container run a command line holding `word`."""
    code, out = container.exec_run(["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' ' "
                                                "| tr -s ' ' ; echo"])
    assert code == 0, out
    return int(out.decode().count(word))


def running(pod: Object) -> bool:
    statuses = pod["status"].get("containerStatuses") or []
    return bool(statuses) and "running" in statuses[0].get("state", {})


def test_a_timed_out_exec_probe_is_killed_not_abandoned(agent: AgentNode) -> None:
    """Each run starts `sleep 4242` (and a child) and outlives its 1 s timeout; after
    six runs at most the current run's processes are there."""
    probe = {"exec": {"command": ["sh", "-c", "echo run >> /tmp/runs; sleep 4242 & "
                                              "sleep 4243"]},
             "periodSeconds": 1, "timeoutSeconds": 1, "failureThreshold": 1000}
    agent.create_pod("hang", [box("app", "exec sleep 3600", readinessProbe=probe)])
    pod = agent.wait_pod("hang", running, "Running")
    container = container_of(agent, pod)

    def runs() -> int:
        _, out = container.exec_run(["sh", "-c", "cat /tmp/runs 2>/dev/null | wc -l"])
        return int(out.decode().strip() or 0)
    wait_for(lambda: runs() >= 6, 25, "six probe runs")
    left = processes(container, "sleep 4242") + processes(container, "sleep 4243")
    assert left <= 2, f"{left} processes of timed-out probes left running"
    assert not agent.pod("hang")["status"]["containerStatuses"][0]["ready"]


def test_api_exec_output_is_capped_and_a_gone_caller_kills_its_command(
        agent: AgentNode) -> None:
    agent.create_pod("talk", [box("app", "exec sleep 3600")])
    pod = agent.wait_pod("talk", running, "Running")
    path = f"/exec/{agent.namespace}/talk/app"
    with agent.http() as http:
        # 3 MiB of output: the answer keeps the first EXEC_OUTPUT_LIMIT bytes
        flood = http.post(path, json={"command": ["sh", "-c", "yes 0123456789abcde | head "
                                                  "-c 3145728; echo done >&2"]}).json()
        assert flood["exitCode"] == 0 and len(flood["output"]) == EXEC_OUTPUT_LIMIT
        assert flood["output"].startswith("0123456789abcde\n")
    container = container_of(agent, pod)
    with agent.http() as http, pytest.raises(httpx.ReadTimeout):
        http.post(path, json={"command": ["sleep", "4244"]}, timeout=2)
    wait_for(lambda: processes(container, "sleep 4244") == 0, 10,
             "the exec of the caller that hung up killed")


def test_a_flood_of_made_up_tokens_is_throttled_before_the_apiserver(
        agent: AgentNode) -> None:
    """300 requests, each with a new token: at most the burst plus `LOOKUP_QPS` a second
    are asked of the apiserver (the 401s); the rest are 429s; the admin still gets in."""
    agent.create_pod("quiet", [box("app", "echo hello; exec sleep 3600")])
    agent.wait_pod("quiet", running, "Running")
    path = f"/containerLogs/{agent.namespace}/quiet/app"
    started = time.monotonic()
    codes: list[int] = []
    with httpx.Client(base_url=agent.url, timeout=10) as http:
        for i in range(300):
            codes.append(http.get(path, headers={"Authorization": f"Bearer fake-{i}"})
                         .status_code)
    elapsed = time.monotonic() - started
    asked = codes.count(401)
    assert set(codes) <= {401, 429}, codes
    assert asked <= LOOKUP_BURST + LOOKUP_QPS * elapsed + 1, (asked, elapsed)
    assert codes.count(429) >= 300 - asked
    print(f"flood: 300 requests in {elapsed:.1f}s, {asked} asked, {codes.count(429)} x 429")
    with agent.http() as http:  # (the output may reach Docker's log a moment after the start)
        wait_for(lambda: http.get(path).text == "hello\n", 10, "the admin reads the log")
