"""A node that runs for months, for real: execs that hang are killed, output is capped.

On the real Docker engine: an exec probe whose command never ends (timeoutSeconds
1, every second) leaves no processes behind in the container, where each run used
to leave one more; the API's exec keeps at most `EXEC_OUTPUT_LIMIT` bytes of a
command's output, and a caller that hangs up takes its command with it; a
flood of made-up tokens is mostly answered 429 without asking the apiserver;
logs rotate and can still be read and followed; the image GC removes only images
nothing uses or names.
"""

from __future__ import annotations

import contextlib
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker.errors
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
    with httpx.Client(base_url=agent.url, timeout=10, verify=agent.ssl()) as http:
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


# 1500 numbered lines at about 500 a second (a json-file line is ~100 bytes: a 16 KiB
# file rotates every ~0.3 s), once /tmp/go exists. A follower must keep up within
# `max-file` rotations: lines it falls further behind on are gone, by design.
LINES = 1500
WRITE_LINES = ("while [ ! -e /tmp/go ]; do sleep 0.1; done; i=0; while [ $i -lt 1500 ]; do "
               "echo \"line $i ..............................\"; i=$((i+1)); "
               "[ $((i % 50)) = 0 ] && sleep 0.1; done; exec sleep 3600")


def numbers(text: str) -> list[int]:
    return [int(line.split()[1]) for line in text.splitlines() if line.startswith("line ")]


def test_container_logs_rotate_and_logs_read_across_the_files(
        agent_factory: Callable[..., AgentNode]) -> None:
    """16 KiB files, 3 kept: 1500 lines (~140 KiB of json-file) leave at most 3 files
    of about 16 KiB; a follower that started before them sees every line once, in
    order, across the ~9 rotations (Docker 20.10 alone repeats lines at each), and a
    plain read returns the newest lines, contiguous, from more than one file."""
    agent = agent_factory("--container-log-max-size", "16Ki", "--container-log-max-files", "3")
    agent.create_pod("chatty", [box("app", WRITE_LINES)])
    pod = agent.wait_pod("chatty", running, "Running")
    container = container_of(agent, pod)
    assert container.attrs["HostConfig"]["LogConfig"] == {
        "Type": "json-file", "Config": {"max-size": "16384", "max-file": "3"}}
    path = f"/containerLogs/{agent.namespace}/chatty/app"
    seen: list[int] = []
    with agent.http() as http, http.stream("GET", path, params={"follow": "true"}) as stream:
        container.exec_run(["touch", "/tmp/go"])
        for line in stream.iter_lines():
            seen += numbers(line)
            if seen and seen[-1] == LINES - 1:
                break
    jumps = [(a, b) for a, b in itertools.pairwise(seen) if b != a + 1]
    assert seen == list(range(LINES)), f"follow: {len(seen)} read, jumps {jumps[:20]}"
    log_path = Path(container.attrs["LogPath"])
    files = sorted(log_path.parent.glob(log_path.name + "*"))
    assert 1 < len(files) <= 3, files
    # Docker rotates once a write has taken a file past max-size: one message over at most
    assert all(f.stat().st_size <= 16 * 1024 + 200 for f in files), [
        f.stat().st_size for f in files]
    with agent.http() as http:
        kept = numbers(http.get(path).text)
        assert kept == list(range(kept[0], LINES)) and kept[0] > 0  # the oldest rotated away
        per_file = 16 * 1024 // len(log_path.read_text().splitlines()[0])
        assert len(kept) > per_file + 1, (len(kept), per_file)  # read from several files
        assert numbers(http.get(path, params={"tailLines": "5"}).text) == list(
            range(LINES - 5, LINES))
        assert len(http.get(path, params={"limitBytes": "100"}).content) == 100


def throwaway_image(client: Any, repo: str, tag: str, label: str) -> str:
    """A small image of our own: busybox plus one file, labelled for this test only."""
    made = client.containers.create(IMAGE, ["sh", "-c", f"echo {tag} > /made"])
    try:
        made.start()
        made.wait(timeout=30)
        image = made.commit(repository=repo, tag=tag, changes=[f"LABEL {label}"])
    finally:
        made.remove(force=True)
    return str(image.id)


@pytest.fixture
def gc_label(docker_client: Any) -> Iterator[str]:
    """This test's image label; its images are removed after the agent's containers
    (this fixture is set up before the agent's, so torn down after it)."""
    label = f"schooner.e2e-gc={uuid.uuid4().hex[:8]}"
    yield label
    for image in docker_client.images.list(filters={"label": label}):
        with contextlib.suppress(docker.errors.APIError):
            docker_client.images.remove(image.id, force=True)


def test_image_gc_removes_only_images_nothing_uses_or_names(
        gc_label: str, agent_factory: Callable[..., AgentNode], docker_client: Any) -> None:
    """Thresholds at 1% (this disk is over it), a pass a second, 5 s minimum age (the
    pods are made meanwhile): the unused image goes; the image a running container
    uses and the one a pod names (whose container cannot be created: its ConfigMap is
    missing) stay. Only images with this test's label are candidates
    (`--image-gc-only-label`): the host's images are never touched."""
    label, repo = gc_label, f"schooner-e2e-gc-{gc_label.rpartition('=')[2]}"
    ids = {tag: throwaway_image(docker_client, repo, tag, label)
           for tag in ("unused", "running", "named")}
    agent = agent_factory("--image-gc-high-threshold", "1", "--image-gc-low-threshold", "1",
                          "--minimum-image-gc-age", "5s", "--image-gc-period", "1s",
                          "--image-gc-only-label", label)
    agent.create_pod("runs", [{"name": "app", "image": f"{repo}:running",
                               "imagePullPolicy": "Never", "command": ["sleep", "3600"]}])
    agent.create_pod("names", [{  # never starts: its ConfigMap is missing
        "name": "app", "image": f"{repo}:named", "imagePullPolicy": "Never",
        "command": ["sleep", "3600"], "envFrom": [{"configMapRef": {"name": "absent"}}]}])
    agent.wait_pod("runs", running, "Running")
    agent.wait_pod("names", lambda p: "CreateContainerConfigError" in str(
        p["status"].get("containerStatuses")), "waiting for its ConfigMap")

    def present() -> set[str]:
        found = {i.id for i in docker_client.images.list(filters={"label": label})}
        return {tag for tag, image_id in ids.items() if image_id in found}
    try:
        # (a removal sizes images with Docker's df: 12 s on this busy engine)
        wait_for(lambda: present() == {"running", "named"}, 90, "only the unused image removed")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; present: {sorted(present())}\n"
                             f"{agent.process.log_tail()}") from None
    events = [e for e in agent.client.list("events", "default")["items"]
              if e["reason"] == "FreeDiskSpaceFailed"
              and e["involvedObject"]["name"] == agent.name]
    assert events, "1% cannot be reached by removing one small image: the node says so"
    assert events[0]["message"].startswith("Failed to garbage collect required amount")


def test_disk_pressure_evicts_pods_in_the_kubelets_order(agent_factory: Callable[..., AgentNode],
                                                         gc_label: str) -> None:
    """`nodefs.available<99%` is met on any real disk: the node reports DiskPressure and
    evicts its pods one a pass, the BestEffort pod writing 8 MB before the pod within
    its ephemeral-storage request; each ends Failed, reason Evicted, with the kubelet's
    message, and its containers stop; a pod that comes later is refused without
    running, as the kubelet's admission refuses it. (The image reclaim that comes first is limited
    to this test's label: it must not touch the host's images.)"""
    agent = agent_factory("--eviction-hard", "nodefs.available<99%",
                          "--eviction-monitoring-interval", "2s",
                          "--image-gc-only-label", gc_label)
    agent.create_pod("heavy", [box("app", "dd if=/dev/zero of=/fill bs=1M count=8; "
                                          "exec sleep 3600")])
    agent.create_pod("light", [box("app", "exec sleep 3600", resources={
        "requests": {"ephemeral-storage": "1Gi"}})])

    def evicted(p: Object) -> bool:
        return p["status"].get("phase") == "Failed" and p["status"].get("reason") == "Evicted"
    heavy = agent.wait_pod("heavy", evicted, "evicted", 30)
    light = agent.wait_pod("light", evicted, "evicted", 30)
    assert heavy["status"]["message"].startswith(
        "The node was low on resource: ephemeral-storage. Threshold quantity: 99%, available: ")
    node = agent.client.get("nodes", agent.name)
    pressure = next(c for c in node["status"]["conditions"] if c["type"] == "DiskPressure")
    assert (pressure["status"], pressure["reason"]) == ("True", "KubeletHasDiskPressure")
    events = sorted((e["firstTimestamp"], e["involvedObject"]["name"])
                    for e in agent.client.list("events", agent.namespace)["items"]
                    if e["reason"] == "Evicted")
    assert [name for _, name in events] == ["heavy", "light"], events
    for pod in (heavy, light):
        wait_for(lambda p=pod: not any(c.status == "running" for c in agent.containers(
            p["metadata"]["uid"])), 20, f"{pod['metadata']['name']}'s containers stopped")
    late = agent.create_pod("late", [box("app", "exec sleep 3600")])  # the kubelet's admission
    refused = agent.wait_pod("late", evicted, "refused", 20)
    assert refused["status"]["message"] == "The node had condition: [DiskPressure]. "
    assert agent.containers(late["metadata"]["uid"], sandbox=None) == []  # never ran
