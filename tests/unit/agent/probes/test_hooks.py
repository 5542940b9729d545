"""Lifecycle hooks and the kill path on fakes: what runs, in which order, with what grace.

`HookRunner` against a fake exec and an httpx MockTransport; `ContainerTermination`
and `PodSyncer` against the fake runtime, on a FakeClock that a test steps, so
grace periods and sleep hooks take no real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.podsync.backoff import Backoff
from agent.podsync.images import ImageManager
from agent.podsync.pod_sync import PodSyncer
from agent.podsync.runspec import container_spec
from agent.podsync.termination import ContainerTermination
from agent.probes.hooks import HookResult, HookRunner
from agent.runtime.container import EXEC_OUTPUT_LIMIT, ContainerRuntimeError
from apimachinery.clock import FakeClock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object
from tests.unit.agent.fakes import FakeClient, FakeRuntime
from tests.unit.agent.helpers import NOW, UID, make_pod

WHO = 'for Container "a" in Pod "p_ns(uid-1)"'


class HookRuntime(FakeRuntime):
    """The fake runtime plus `exec`: each command's (exit code, output) is set by the test."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.results: dict[str, tuple[int, str] | Exception] = {}

    async def exec(self, container_id: str, command: list[str], *,
                   timeout: float | None = None,
                   max_output: int = EXEC_OUTPUT_LIMIT) -> tuple[int, str]:
        name = self.containers[container_id].name if container_id in self.containers \
            else container_id
        self.calls.append(("exec", f"{name}:{' '.join(command)}"))
        result = self.results.get(" ".join(command), (0, ""))
        if isinstance(result, Exception):
            raise result
        return result


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(body())


async def until_sleepers(clock: FakeClock, count: int) -> None:
    """Yield until `count` callers sleep on the clock (the code under test is waiting);
    after 1000 bare yields, real milliseconds too, for work handed to threads."""
    for i in range(3000):
        if clock.sleepers >= count:
            return
        await asyncio.sleep(0 if i < 1000 else 0.001)
    raise AssertionError(f"expected {count} sleepers on the clock, have {clock.sleepers}")


def pod_with(**lifecycle: Object) -> Object:
    pod = make_pod("a")
    container = pod["spec"]["containers"][0]
    container["lifecycle"] = lifecycle
    container["ports"] = [{"name": "http", "containerPort": 8080}]
    return pod


def exec_hook(script: str) -> Object:
    return {"exec": {"command": ["sh", "-c", script]}}


def sleep_hook(seconds: int) -> Object:
    return {"sleep": {"seconds": seconds}}


def events(recorder: EventRecorder) -> list[tuple[str, str]]:
    queue: asyncio.Queue[Any] = recorder._queue
    pending = [queue.get_nowait().event for _ in range(queue.qsize())]
    return [(e["reason"], e["message"]) for e in pending]


# -- HookRunner -------------------------------------------------------------------------

def hook_runner(handler: Callable[[httpx.Request], httpx.Response] | None = None
                ) -> tuple[HookRunner, HookRuntime, list[httpx.Request]]:
    clock = FakeClock(wall=NOW)
    runtime = HookRuntime(clock)
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request) if handler else httpx.Response(200)
    return HookRunner(runtime, clock, httpx.MockTransport(respond)), runtime, seen


def run_hook(runner: HookRunner, handler: Object, pod_ip: str = "10.0.0.7") -> HookResult:
    pod = pod_with()

    async def body() -> HookResult:
        return await runner.run(pod, pod["spec"]["containers"][0], "cid", pod_ip, handler)
    return asyncio.run(body())


def test_an_exec_hook_passes_on_exit_0_and_fails_with_the_kubelets_message() -> None:
    runner, runtime, _ = hook_runner()
    runtime.results["sh -c exit 3"] = (3, "bad\n")
    assert run_hook(runner, exec_hook("true")) == HookResult(True)
    failed = run_hook(runner, exec_hook("exit 3"))
    assert failed == HookResult(False, f"Exec lifecycle hook ([sh -c exit 3]) {WHO} failed - "
                                       "error: command 'sh -c exit 3' exited with 3, "
                                       'message: "bad\\n"')
    assert runtime.calls == [("exec", "cid:sh -c true"), ("exec", "cid:sh -c exit 3")]


def test_an_exec_hook_the_runtime_cannot_run_fails() -> None:
    runner, runtime, _ = hook_runner()
    runtime.results["sh -c true"] = ContainerRuntimeError("container is not running")
    result = run_hook(runner, exec_hook("true"))
    assert not result.ok and "error: container is not running" in result.message


def test_an_http_hook_gets_the_pod_ip_at_the_named_port_with_its_headers() -> None:
    runner, _, seen = hook_runner(lambda request: httpx.Response(500))
    handler = {"httpGet": {"path": "/hook?x=1", "port": "http", "scheme": "HTTP",
                           "httpHeaders": [{"name": "X-Hook", "value": "prestop"}]}}
    assert run_hook(runner, handler).ok  # the kubelet never looks at the status code
    request = seen[0]
    assert str(request.url) == "http://10.0.0.7:8080/hook?x=1"
    assert request.headers["X-Hook"] == "prestop"
    assert request.headers["User-Agent"] == "kube-lifecycle/schooner"


def test_an_http_hook_with_a_host_a_port_number_and_https() -> None:
    runner, _, seen = hook_runner()
    handler = {"httpGet": {"host": "192.0.2.1", "port": 8443, "scheme": "HTTPS",
                           "path": "/x", "httpHeaders": [{"name": "User-Agent",
                                                          "value": "mine"}]}}
    assert run_hook(runner, handler).ok
    assert str(seen[0].url) == "https://192.0.2.1:8443/x"
    assert seen[0].headers["User-Agent"] == "mine"


def test_an_http_hook_fails_when_the_request_does() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)
    runner, _, _ = hook_runner(refuse)
    result = run_hook(runner, {"httpGet": {"path": "/hook", "port": 8080}})
    assert result == HookResult(False, f"HTTP lifecycle hook (/hook) {WHO} failed - error: "
                                       'Get "http://10.0.0.7:8080/hook": connection refused')


@pytest.mark.parametrize(("handler", "pod_ip", "says"), [
    ({"httpGet": {"path": "/", "port": "nope"}}, "10.0.0.7", "port nope not found"),
    ({"httpGet": {"path": "/", "port": 80}}, "", "failed to find networking container"),
    ({"tcpSocket": {"port": 80}}, "10.0.0.7", "Cannot run handler: invalid handler"),
])
def test_hooks_that_cannot_run_fail(handler: Object, pod_ip: str, says: str) -> None:
    runner, _, seen = hook_runner()
    result = run_hook(runner, handler, pod_ip)
    assert not result.ok and says in result.message, result
    assert seen == []


def test_a_sleep_hook_waits_on_the_clock() -> None:
    clock = FakeClock(wall=NOW)
    runner = HookRunner(HookRuntime(clock), clock)
    pod = pod_with()

    async def body() -> None:
        task = asyncio.create_task(runner.run(pod, pod["spec"]["containers"][0], "cid",
                                              "10.0.0.7", sleep_hook(5)))
        await until_sleepers(clock, 1)
        clock.step(4)
        await asyncio.sleep(0)
        assert not task.done()
        clock.step(1)
        assert await task == HookResult(True)
    run(body)


# -- ContainerTermination ---------------------------------------------------------------

class Kill:
    """A ContainerTermination over the fake runtime, with container `a` running as c1."""

    def __init__(self) -> None:
        self.clock = FakeClock(wall=NOW)
        self.runtime = HookRuntime(self.clock)
        self.recorder = EventRecorder(FakeClient(), "kubelet", self.clock)  # type: ignore[arg-type]
        self.termination = ContainerTermination(
            self.runtime, self.recorder, HookRunner(self.runtime, self.clock), self.clock)

    async def start(self, pod: Object | None, grace: int) -> asyncio.Task[None]:
        template = pod or make_pod("a")
        cid = await self.runtime.run_container(container_spec(
            template, template["spec"]["containers"][0], sandbox_id="sb", env={}, mounts=(),
            restart_count=0))
        self.runtime.calls.clear()
        return asyncio.create_task(self.termination.kill_container(
            pod, "a", cid, grace, pod_ip="10.0.0.7", why="test"))


def test_pre_stop_runs_before_the_stop_which_gets_the_whole_grace() -> None:
    kill = Kill()

    async def body() -> None:
        await (await kill.start(pod_with(preStop=exec_hook("echo bye")), 30))
    run(body)
    assert kill.runtime.actions() == [("exec", "a:sh -c echo bye"), ("stop", "a/30")]
    assert events(kill.recorder) == [("Killing", "Stopping container a")]


def test_the_pre_stop_hook_takes_its_time_out_of_the_grace_period() -> None:
    kill = Kill()

    async def body() -> None:
        task = await kill.start(pod_with(preStop=sleep_hook(3)), 10)
        await until_sleepers(kill.clock, 2)  # the hook's sleep and the grace's timer
        kill.clock.step(3)
        await task
    run(body)
    assert kill.runtime.actions() == [("stop", "a/7")]


def test_a_pre_stop_hook_is_abandoned_when_the_grace_runs_out_then_2s_remain() -> None:
    kill = Kill()

    async def body() -> None:
        task = await kill.start(pod_with(preStop=sleep_hook(60)), 5)
        await until_sleepers(kill.clock, 2)
        kill.clock.step(5)
        await task
        assert kill.clock.sleepers == 0  # the hook's sleep was cancelled, not left behind
    run(body)
    assert kill.runtime.actions() == [("stop", "a/2")]


def test_a_failed_pre_stop_hook_is_a_warning_and_the_kill_goes_on() -> None:
    kill = Kill()
    kill.runtime.results["sh -c exit 1"] = (1, "")

    async def body() -> None:
        await (await kill.start(pod_with(preStop=exec_hook("exit 1")), 30))
    run(body)
    assert kill.runtime.actions() == [("exec", "a:sh -c exit 1"), ("stop", "a/30")]
    reasons = [reason for reason, _ in events(kill.recorder)]
    assert reasons == ["Killing", "FailedPreStopHook"]


def test_without_a_pod_spec_there_is_no_hook_and_no_event() -> None:
    kill = Kill()

    async def body() -> None:
        await (await kill.start(None, 2))
    run(body)
    assert kill.runtime.actions() == [("stop", "a/2")]
    assert events(kill.recorder) == []


# -- PodSyncer: hooks in the start and the kill paths ------------------------------------

class World:
    def __init__(self, tmp_path: Path, pod: Object) -> None:
        self.clock = FakeClock(wall=NOW)
        self.runtime = HookRuntime(self.clock)
        self.client = FakeClient()
        self.pod: Object | None = pod
        self.recorder = EventRecorder(self.client, "kubelet", self.clock)  # type: ignore[arg-type]
        images = ImageManager(self.runtime, self.recorder, Backoff(self.clock), self.clock)
        self.syncer = PodSyncer(
            client=self.client, runtime=self.runtime, recorder=self.recorder,  # type: ignore[arg-type]
            images=images, backoff=Backoff(self.clock, base=10, maximum=300), clock=self.clock,
            pod_by_uid=lambda uid: self.pod if self.pod and uid == UID else None,
            node_ip="192.0.2.10", root_dir=tmp_path, sandbox_image="schooner/busybox:latest")

    def delete(self) -> None:
        assert self.pod is not None
        meta = {**self.pod["metadata"], "deletionTimestamp": "2024-01-01T12:00:30Z",
                "deletionGracePeriodSeconds": 30}
        self.pod = {**self.pod, "metadata": meta}
        self.syncer.remember(self.pod)  # as the informer's update handler does


def test_post_start_runs_after_the_start_and_before_the_status_says_running(
        tmp_path: Path) -> None:
    world = World(tmp_path, pod_with(postStart=exec_hook("touch /ready")))
    written_before_hook: list[int] = []
    original = world.runtime.exec

    async def exec_and_look(container_id: str, command: list[str],
                            **limits: Any) -> tuple[int, str]:
        written_before_hook.append(len(world.client.statuses()))
        return await original(container_id, command, **limits)
    world.runtime.exec = exec_and_look  # type: ignore[method-assign]
    run(lambda: world.syncer.sync(UID))
    assert [a[0] for a in world.runtime.actions()] == ["run", "run", "exec"]
    assert written_before_hook == [0]  # no status went out while the hook ran
    state = world.client.statuses()[-1]["containerStatuses"][0]["state"]
    assert "running" in state
    assert [r for r, _ in events(world.recorder)] == ["Pulled", "Created", "Started"]


def test_a_failed_post_start_kills_the_container_which_then_restarts(tmp_path: Path) -> None:
    world = World(tmp_path, pod_with(postStart=exec_hook("exit 2"),
                                     preStop=exec_hook("echo bye")))
    world.runtime.results["sh -c exit 2"] = (2, "no")

    async def body() -> None:
        await world.syncer.sync(UID)
        cs = world.client.statuses()[-1]["containerStatuses"][0]
        assert cs["state"]["waiting"]["reason"] == "PostStartHookError"
        assert "exited with 2" in cs["state"]["waiting"]["message"]
        assert cs["lastState"]["terminated"]["exitCode"] == 143
        world.clock.step(1)
        await world.syncer.sync(UID)  # the first restart comes at once, as after a crash
    run(body)
    assert world.runtime.actions() == [
        ("run", "schooner_POD_p_ns_uid-1_0"), ("run", "schooner_a_p_ns_uid-1_0"),
        ("exec", "a:sh -c exit 2"), ("exec", "a:sh -c echo bye"), ("stop", "a/30"),
        ("run", "schooner_a_p_ns_uid-1_1"), ("exec", "a:sh -c exit 2"),
        ("exec", "a:sh -c echo bye"), ("stop", "a/30")]
    reasons = [(r, m) for r, m in events(world.recorder) if r not in ("Pulled", "Created",
                                                                      "Started")]
    assert reasons[:2] == [
        ("FailedPostStartHook", f"Exec lifecycle hook ([sh -c exit 2]) {WHO} failed - error: "
                                "command 'sh -c exit 2' exited with 2, message: \"no\""),
        ("Killing", "FailedPostStartHook")]


def test_a_deletion_interrupts_a_post_start_hook_and_the_kill_follows(tmp_path: Path) -> None:
    pod = pod_with(postStart=sleep_hook(3600), preStop=exec_hook("echo bye"))
    pod["spec"]["containers"].append({**pod["spec"]["containers"][0], "name": "b",
                                      "lifecycle": {}})
    world = World(tmp_path, pod)

    async def body() -> None:
        first = asyncio.create_task(world.syncer.sync(UID))
        await until_sleepers(world.clock, 1)  # in the postStart hook
        world.delete()
        await first
        assert [a[1] for a in world.runtime.actions()] == [
            "schooner_POD_p_ns_uid-1_0", "schooner_a_p_ns_uid-1_0"]  # b is not started
        world.runtime.calls.clear()
        assert (await world.syncer.sync(UID)).finished
    run(body)
    assert world.runtime.actions() == [("exec", "a:sh -c echo bye"), ("stop", "a/30"),
                                       ("remove", "a"), ("remove", "POD"),
                                       ("remove-volumes", UID)]
    assert "FailedPostStartHook" not in [r for r, _ in events(world.recorder)]


def test_a_deleted_pod_runs_each_pre_stop_then_stops_it(tmp_path: Path) -> None:
    pod = pod_with(preStop={"httpGet": {"path": "/drain", "port": "http"}})
    pod["spec"]["containers"].append({**pod["spec"]["containers"][0], "name": "b",
                                      "lifecycle": {"preStop": exec_hook("echo b")}})
    world = World(tmp_path, pod)
    seen: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)
    world.syncer.termination.hooks = HookRunner(world.runtime, world.clock,
                                                httpx.MockTransport(respond))

    async def body() -> None:
        await world.syncer.sync(UID)
        world.runtime.calls.clear()
        world.delete()
        assert (await world.syncer.sync(UID)).finished
    run(body)
    assert seen == ["http://10.0.0.7:8080/drain"]  # the sandbox's IP
    actions = world.runtime.actions()
    assert actions.index(("exec", "b:sh -c echo b")) < actions.index(("stop", "b/30"))
    assert {("stop", "a/30"), ("stop", "b/30")} <= set(actions)
