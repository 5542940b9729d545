"""Schooner's pod benchmark (issue 3): pod start through the whole stack against `docker run`.

Run from the repository root::

    .venv/bin/python bench/pods.py [--quick] [--write docs/benchmarks.md]

It starts a whole cluster of its own through the real launcher
(`cli.cluster.throwaway`: etcd, apiserver, controller-manager, scheduler and one
agent on free 127.0.0.1 ports, its own node name and Docker network) and measures, in
one run and side by side with the Docker engine it drives:

1. one pod at a time (50; --quick: 10): create -> the watch sees it Running with its
   container running, then delete (grace 0) and wait until it and its containers are
   gone; each pod alternates with a `docker run -d` on the pod network (returned, then
   `docker inspect` says State.Running), removed with `docker rm -f`;
2. 20 pods created at once, and 20 concurrent `docker run -d`;
3. a 50-replica Deployment (--quick: 10) from create to availableReplicas == 50, then
   its delete until every pod and container is gone; and 50 concurrent `docker run -d`.

Pods are observed through one watch on pods (and one on deployments) opened before the
first create and kept open (re-opened from the last resourceVersion if it ends), so
every event after each create is seen and no watch is opened inside a measurement.
`docker events` gives the engine's own nanosecond timestamps of every container's
create, start and destroy; with the watch's times they break a pod start into stages.

What bounds each figure: the CPU of every cluster process, dockerd and containerd
(read from /proc/<pid>/stat; dockerd and containerd are only read, never signalled),
accumulated around each measured operation, so interleaved Schooner and Docker work
are charged apart. Load is bounded: fixed counts, a timeout per pod and per phase, a
global deadline, 127.0.0.1 and the cluster's own Docker network only. Every pod,
container and network made is removed, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from apimachinery.meta import Object

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `bench` lives at the repo root
    sys.path.insert(0, str(ROOT))

from apimachinery import errors  # noqa: E402
from apimachinery.client import AsyncClient  # noqa: E402
from bench.api import background_load, cpu_seconds, machine_busy, percentile  # noqa: E402
from bench.report import write_section  # noqa: E402
from cli.cluster.throwaway import local_cluster  # noqa: E402

IMAGE = "schooner/busybox:latest"
NAMESPACE = "default"
DEPLOYMENT = "bench-deploy"
TARGET_RATIO, TARGET_P99 = 1.5, 1.0
POD_TIMEOUT = 30.0  # one pod's start, or its removal
PHASE_TIMEOUTS = {"serial": 150.0, "burst": 60.0, "deployment": 120.0}
CLEANUP_RESERVE = 30.0  # seconds of the deadline kept for removing what a phase left
# time.monotonic() of a wall-clock instant (docker events carry wall-clock nanoseconds)
CLOCK_OFFSET = time.time() - time.monotonic()



@dataclass(frozen=True)
class Scale:
    serial: int = 50
    burst: int = 20
    replicas: int = 50

    def quick(self) -> Scale:
        return Scale(serial=self.serial // 5, burst=self.burst, replicas=self.replicas // 5)


# -- what was seen: the watch, docker events ---------------------------------------------

@dataclass
class Engine:
    """One pod's (or one baseline container's) container events, as dockerd timed them."""

    first: dict[str, float] = field(default_factory=dict)  # "app.start" -> monotonic time
    created: int = 0
    destroyed: int = 0
    last_destroy: float = math.nan


@dataclass
class PodTimes:
    """What the bench did to one pod and when its watch saw each step (monotonic seconds)."""

    name: str
    uid: str = ""
    app: str = ""
    sent: float = math.nan  # create call sent
    created: float = math.nan  # create response
    added: float = math.nan  # watch: ADDED
    bound: float = math.nan  # watch: spec.nodeName set
    running: float = math.nan  # watch: phase Running, containerStatuses[0] running
    delete_sent: float = math.nan
    deleted: float = math.nan  # watch: DELETED
    obj: Object = field(default_factory=dict)  # the last state seen, for its own timestamps


def pod_running(pod: Object) -> bool:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    return (status.get("phase") == "Running" and bool(statuses)
            and "running" in (statuses[0].get("state") or {}))


class Tracker:
    """Pods, deployments and containers as the watches and `docker events` report them."""

    def __init__(self, node: str, run_label: str) -> None:
        self.node, self.run_label = node, run_label
        self.pods: dict[str, PodTimes] = {}
        self.engine: dict[str, Engine] = {}  # pod uid (or baseline container id) -> events
        self.available: dict[str, list[tuple[float, int]]] = {}
        self.cond = asyncio.Condition()

    def pod(self, name: str) -> PodTimes:
        return self.pods.setdefault(name, PodTimes(name))

    def on_pod(self, kind: str, obj: Object, t: float) -> None:
        meta = obj.get("metadata") or {}
        p = self.pod(str(meta.get("name")))
        if p.uid and p.uid != meta.get("uid"):
            return  # an older pod of the same name
        p.uid, p.app = str(meta.get("uid") or ""), (meta.get("labels") or {}).get("app", "")
        if math.isnan(p.added):
            p.added = t
        if kind == "DELETED":
            p.deleted = t if math.isnan(p.deleted) else p.deleted
            return
        p.obj = obj
        if (obj.get("spec") or {}).get("nodeName") and math.isnan(p.bound):
            p.bound = t
        if pod_running(obj) and math.isnan(p.running):
            p.running = t

    def on_deployment(self, kind: str, obj: Object, t: float) -> None:
        name = str((obj.get("metadata") or {}).get("name"))
        avail = int((obj.get("status") or {}).get("availableReplicas") or 0)
        seen = self.available.setdefault(name, [])
        if not seen or seen[-1][1] != avail:
            seen.append((t, avail))

    def on_engine(self, ev: Object) -> None:
        actor = ev.get("Actor") or {}
        attrs = actor.get("Attributes") or {}
        action = str(ev.get("Action") or ev.get("status") or "")
        t = int(ev.get("timeNano") or 0) / 1e9 - CLOCK_OFFSET
        if attrs.get("schooner.node") == self.node:
            key = attrs.get("schooner.pod.uid", "")
            role = "sandbox" if attrs.get("schooner.sandbox") == "true" else "app"
        elif attrs.get("schooner.bench.run") == self.run_label:
            key, role = str(actor.get("ID") or ""), "app"
        else:
            return
        rec = self.engine.setdefault(key, Engine())
        rec.first.setdefault(f"{role}.{action}", t)
        if action == "create":
            rec.created += 1
        elif action == "destroy":
            rec.destroyed += 1
            rec.last_destroy = t

    def gone(self, p: PodTimes) -> bool:
        """Deleted from the API and every container it had removed from the engine."""
        rec = self.engine.get(p.uid)
        return not math.isnan(p.deleted) and (rec is None or rec.destroyed >= rec.created)

    def gone_at(self, p: PodTimes) -> float:
        rec = self.engine.get(p.uid)
        return max(p.deleted, rec.last_destroy) if rec and rec.destroyed else p.deleted

    def available_at(self, name: str, replicas: int) -> float:
        return next((t for t, n in self.available.get(name, []) if n >= replicas), math.nan)

    async def changed(self) -> None:
        async with self.cond:
            self.cond.notify_all()

    async def until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        try:
            async with asyncio.timeout(timeout):
                async with self.cond:
                    await self.cond.wait_for(check)
        except TimeoutError:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s") from None


async def watch_forever(client: AsyncClient, resource: str, tracker: Tracker,
                        handle: Callable[[str, Object, float], None],
                        ready: asyncio.Event) -> None:
    """One watch, re-opened from the last resourceVersion (or a relist) when it ends."""
    rv = ""
    while True:
        try:
            if not rv:
                listed = await client.list(resource, NAMESPACE)
                for item in listed["items"]:
                    handle("ADDED", item, time.monotonic())
                rv = listed["metadata"]["resourceVersion"]
                ready.set()
            async with contextlib.aclosing(client.watch(
                    resource, NAMESPACE, resource_version=rv, allow_bookmarks=True,
                    timeout_seconds=600)) as events:
                async for ev in events:
                    t = time.monotonic()
                    if ev.type == "ERROR":
                        rv = ""  # 410 Gone: relist
                        break
                    rv = str((ev.object.get("metadata") or {}).get("resourceVersion") or rv)
                    if ev.type != "BOOKMARK":
                        handle(ev.type, ev.object, t)
                        await tracker.changed()
        except errors.Gone:
            rv = ""
        except errors.APIError:
            await asyncio.sleep(0.2)


async def engine_events(tracker: Tracker, ready: asyncio.Event) -> None:
    """`docker events` for container create/start/destroy, for as long as the bench runs."""
    proc = await asyncio.create_subprocess_exec(
        "docker", "events", "--format", "{{json .}}", "--filter", "type=container",
        *[a for e in ("create", "start", "destroy") for a in ("--filter", f"event={e}")],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    ready.set()
    try:
        assert proc.stdout is not None
        async for line in proc.stdout:
            with contextlib.suppress(ValueError):
                tracker.on_engine(orjson.loads(line))
                await tracker.changed()
    finally:
        if proc.returncode is None:
            proc.terminate()  # our own child, by its pid
            await proc.wait()


# -- what each phase cost: CPU per process from /proc -----------------------------------

def engine_pid(name: str) -> int | None:
    """The oldest process of that name (the host's, not a Docker-in-Docker node's)."""
    out = subprocess.run(["pidof", name], capture_output=True, text=True, check=False).stdout
    pids = [int(p) for p in out.split()]

    def started(pid: int) -> int:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    with contextlib.suppress(OSError, ValueError):
        return min(pids, key=started) if pids else None
    return None


COMPONENTS = ("apiserver", "etcd", "scheduler", "controller-manager", "agent")
# Per-container processes of the engine (comm is cut to 15 characters): a shim and, with
# the fuse-overlayfs storage driver, a FUSE daemon per container; runc while it runs.
MACHINERY = ("containerd-shim", "fuse-overlayfs", "runc")


def machinery_cpu() -> dict[int, float]:
    """CPU seconds of every per-container engine process alive now, by pid."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if (entry / "comm").read_text().strip() in MACHINERY:
                found[int(entry.name)] = cpu_seconds(int(entry.name))
    return found


@dataclass
class Cost:
    """CPU seconds per process accumulated over the measured operations of one bucket."""

    wall: float = 0.0
    pods: int = 0
    cpu: dict[str, float] = field(default_factory=dict)

    def percent(self, name: str) -> float:
        return 100 * self.cpu.get(name, math.nan) / self.wall if self.wall else math.nan

    def per_pod(self, name: str) -> float:
        return self.cpu.get(name, math.nan) / self.pods if self.pods else math.nan


class Observer:
    """Reads the CPU of the cluster's processes, dockerd, containerd, the bench, the rest."""

    def __init__(self, home: Path) -> None:
        self.pids: dict[str, int | None] = {}
        for comp in COMPONENTS:
            with contextlib.suppress(OSError, ValueError):
                self.pids[comp] = int((home / "run" / f"{comp}.pid").read_text().split()[0])
        self.pids["dockerd"] = engine_pid("dockerd")
        self.pids["containerd"] = engine_pid("containerd")
        self.costs: dict[str, Cost] = {}

    def snapshot(self) -> tuple[dict[str, float], dict[int, float]]:
        snap = {"wall": time.monotonic(), "machine": machine_busy(),
                "bench": cpu_seconds(None)}
        t = os.times()
        snap["docker CLI"] = t.children_user + t.children_system
        for name, pid in self.pids.items():
            try:
                snap[name] = cpu_seconds(pid) if pid else math.nan
            except (OSError, ValueError, IndexError):
                snap[name] = math.nan
        return snap, machinery_cpu()

    @contextlib.contextmanager
    def charge(self, bucket: str, pods: int = 1) -> Iterator[None]:
        """Add the CPU used while the block runs to `bucket` (blocks may interleave buckets)."""
        before, shims_before = self.snapshot()
        try:
            yield
        finally:
            after, shims = self.snapshot()
            # a process born during the block counts from 0; one that died is lost
            after["shims"] = sum(cpu - shims_before.get(pid, 0.0) for pid, cpu in shims.items())
            before["shims"] = 0.0
            cost = self.costs.setdefault(bucket, Cost())
            cost.wall += after["wall"] - before["wall"]
            cost.pods += pods
            for name in after:
                if name != "wall":
                    cost.cpu[name] = cost.cpu.get(name, 0.0) + after[name] - before[name]
            known = sum(v for k, v in cost.cpu.items()
                        if k != "machine" and k != "other" and not math.isnan(v))
            cost.cpu["other"] = cost.cpu["machine"] - known


# -- the load: pods, deployments, docker run -----------------------------------------------

def pod_manifest(name: str) -> Object:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {
        "app": "bench-pod"}}, "spec": pod_spec()}


def pod_spec() -> Object:
    return {"terminationGracePeriodSeconds": 0, "containers": [{
        "name": "main", "image": IMAGE, "imagePullPolicy": "IfNotPresent",
        "command": ["sleep", "3600"]}]}


def deployment_manifest(replicas: int) -> Object:
    labels = {"app": DEPLOYMENT}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": DEPLOYMENT},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": pod_spec()}}}


@dataclass
class DockerRun:
    cid: str = ""
    sent: float = math.nan  # `docker run -d` started
    returned: float = math.nan  # it exited: the container was started
    confirmed: float = math.nan  # `docker inspect` said State.Running true
    rm_sent: float = math.nan  # `docker rm -f` started
    removed: float = math.nan  # `docker rm -f` returned


async def run(*argv: str, timeout: float = POD_TIMEOUT) -> str:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()  # our own child, by its pid
        await proc.wait()
        raise
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(argv[:3])}: {err.decode(errors='replace').strip()}")
    return out.decode().strip()


def latest(values: Iterator[float]) -> float:
    """The last of several times, or nan when any is missing."""
    vals = list(values)
    return math.nan if not vals or any(math.isnan(v) for v in vals) else max(vals)


@dataclass
class Phase:
    """Everything one phase measured."""

    pods: list[PodTimes] = field(default_factory=list)
    docker: list[DockerRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: dict[str, float] = field(default_factory=dict)  # named milestones, seconds


class Bench:
    def __init__(self, client: AsyncClient, tracker: Tracker, observer: Observer,
                 network: str, scale: Scale, deadline: float) -> None:
        self.client, self.tracker, self.obs = client, tracker, observer
        self.network, self.scale, self.deadline = network, scale, deadline
        self.phases: dict[str, Phase] = {}
        self.skipped: dict[str, str] = {}
        self.warmup: tuple[float, float] = (math.nan, math.nan)

    # -- one Schooner pod, one docker container --

    async def create(self, name: str) -> PodTimes:
        p = self.tracker.pod(name)
        p.sent = time.monotonic()
        obj = await self.client.create("pods", pod_manifest(name), NAMESPACE)
        p.created, p.uid = time.monotonic(), obj["metadata"]["uid"]
        return p

    async def delete(self, pods: list[PodTimes], timeout: float) -> None:
        async def one(p: PodTimes) -> None:
            p.delete_sent = time.monotonic()
            with contextlib.suppress(errors.NotFound):
                await self.client.delete("pods", p.name, NAMESPACE, grace_period_seconds=0)
        await asyncio.gather(*(one(p) for p in pods))
        await self.tracker.until(lambda: all(self.tracker.gone(p) for p in pods), timeout,
                                 f"{len(pods)} pods and their containers gone")

    async def docker_run(self) -> DockerRun:
        d = DockerRun(sent=time.monotonic())
        d.cid = await run("docker", "run", "-d", "--rm", "--network", self.network,
                          "--label", "schooner.bench=1", "--label",
                          f"schooner.bench.run={self.tracker.run_label}",
                          IMAGE, "sleep", "3600")
        d.returned = time.monotonic()
        state = await run("docker", "inspect", "-f", "{{.State.Running}}", d.cid)
        if state != "true":
            raise RuntimeError(f"container {d.cid[:12]} not running after docker run: {state}")
        d.confirmed = time.monotonic()
        return d

    async def docker_rm(self, runs: list[DockerRun]) -> None:
        ids = [d.cid for d in runs if d.cid]
        for d in runs:
            d.rm_sent = time.monotonic()
        if ids:
            await run("docker", "rm", "-f", *ids, timeout=POD_TIMEOUT * 2)
        for d in runs:
            d.removed = time.monotonic()

    # -- phases --

    async def run(self) -> None:
        await self.warm_up()
        for name, body in (("serial", self.serial), ("burst", self.burst),
                           ("deployment", self.deployment)):
            left = self.deadline - time.monotonic() - CLEANUP_RESERVE
            if left < 20:
                self.skipped[name] = f"skipped: {left + CLEANUP_RESERVE:.0f} s left of the deadline"
                continue
            phase = self.phases[name] = Phase()
            start = time.monotonic()
            try:
                async with asyncio.timeout(min(PHASE_TIMEOUTS[name], left)):
                    await body(phase)
            except (TimeoutError, RuntimeError, errors.APIError) as exc:
                phase.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            phase.wall["phase"] = time.monotonic() - start
            print(f"  {name}: {phase.wall['phase']:.1f} s, {len(phase.errors)} errors",
                  file=sys.stderr)
            await self.clean_up()

    async def warm_up(self) -> None:
        """One pod and one container first, not counted: thread pools, caches, connections."""
        p = await self.create("warmup")
        await self.tracker.until(lambda: not math.isnan(p.running), 60, "warm-up pod Running")
        await self.delete([p], POD_TIMEOUT)
        d = await self.docker_run()
        await self.docker_rm([d])
        self.warmup = (p.running - p.sent, d.returned - d.sent)

    async def serial(self, phase: Phase) -> None:
        for i in range(self.scale.serial):
            p = self.tracker.pod(f"serial-{i}")
            phase.pods.append(p)
            try:
                with self.obs.charge("serial: Schooner pod start"):
                    await self.create(p.name)
                    await self.tracker.until(lambda p=p: not math.isnan(p.running),
                                             POD_TIMEOUT, f"pod {p.name} Running")
            except TimeoutError as exc:
                phase.errors.append(str(exc))
            with self.obs.charge("serial: Schooner pod delete"):
                await self.delete([p], POD_TIMEOUT)
            d = DockerRun()
            try:
                with self.obs.charge("serial: docker run -d"):
                    d = await self.docker_run()
            except (TimeoutError, RuntimeError) as exc:
                phase.errors.append(f"docker run: {exc}")
            phase.docker.append(d)
            with self.obs.charge("serial: docker rm -f"):
                await self.docker_rm([d])

    async def burst(self, phase: Phase) -> None:
        n = self.scale.burst
        phase.pods = [self.tracker.pod(f"burst-{i}") for i in range(n)]
        with self.obs.charge(f"burst: {n} Schooner pods start", n):
            t0 = time.monotonic()
            await asyncio.gather(*(self.create(p.name) for p in phase.pods))
            await self.tracker.until(lambda: all(not math.isnan(p.running)
                                                 for p in phase.pods),
                                     POD_TIMEOUT, f"{n} pods Running")
            phase.wall["schooner start"] = time.monotonic() - t0
        with self.obs.charge(f"burst: {n} Schooner pods delete", n):
            t0 = time.monotonic()
            await self.delete(phase.pods, POD_TIMEOUT)
            phase.wall["schooner delete"] = time.monotonic() - t0
        with self.obs.charge(f"burst: {n} docker run -d", n):
            t0 = time.monotonic()
            runs = await asyncio.gather(*(self.docker_run() for _ in range(n)),
                                        return_exceptions=True)
            phase.wall["docker start"] = time.monotonic() - t0
        phase.docker = [r for r in runs if isinstance(r, DockerRun)]
        phase.errors += [f"docker run: {r}" for r in runs if isinstance(r, BaseException)]
        with self.obs.charge(f"burst: {n} docker rm -f (one command)", n):
            t0 = time.monotonic()
            await self.docker_rm(phase.docker)
            phase.wall["docker delete"] = time.monotonic() - t0

    async def deployment(self, phase: Phase) -> None:
        n = self.scale.replicas

        def mine() -> list[PodTimes]:
            return [p for p in self.tracker.pods.values() if p.app == DEPLOYMENT]
        with self.obs.charge(f"deployment: {n} replicas to available", n):
            t0 = time.monotonic()
            await self.client.create("deployments", deployment_manifest(n), NAMESPACE)
            phase.wall["created"] = time.monotonic() - t0
            await self.tracker.until(
                lambda: not math.isnan(self.tracker.available_at(DEPLOYMENT, n)),
                PHASE_TIMEOUTS["deployment"], f"deployment availableReplicas == {n}")
            phase.wall["available"] = self.tracker.available_at(DEPLOYMENT, n) - t0
        phase.pods = mine()
        for label, attr in (("all pods created", "added"), ("all pods bound", "bound"),
                            ("all pods Running", "running")):
            phase.wall[label] = latest(getattr(p, attr) for p in phase.pods) - t0
        with self.obs.charge(f"deployment: {n} replicas delete", n):
            t0 = time.monotonic()
            await self.client.delete("deployments", DEPLOYMENT, NAMESPACE,
                                     propagation_policy="Background")
            await self.tracker.until(lambda: all(not math.isnan(p.deleted) for p in mine()),
                                     PHASE_TIMEOUTS["deployment"], "deployment's pods deleted")
            phase.wall["pods deleted from the API"] = latest(p.deleted for p in mine()) - t0
            await self.tracker.until(lambda: all(self.tracker.gone(p) for p in mine()),
                                     PHASE_TIMEOUTS["deployment"], "deployment's containers gone")
            phase.wall["containers removed"] = latest(self.tracker.gone_at(p)
                                                      for p in mine()) - t0
        with self.obs.charge(f"deployment: {n} concurrent docker run -d", n):
            t0 = time.monotonic()
            runs = await asyncio.gather(*(self.docker_run() for _ in range(n)),
                                        return_exceptions=True)
            phase.wall["docker start"] = time.monotonic() - t0
        phase.docker = [r for r in runs if isinstance(r, DockerRun)]
        phase.errors += [f"docker run: {r}" for r in runs if isinstance(r, BaseException)]
        with self.obs.charge(f"deployment: {n} docker rm -f (one command)", n):
            t0 = time.monotonic()
            await self.docker_rm(phase.docker)
            phase.wall["docker delete"] = time.monotonic() - t0

    async def clean_up(self) -> None:
        """Whatever a failed phase left: the deployment, pods, baseline containers."""
        with contextlib.suppress(errors.APIError):
            await self.client.delete("deployments", DEPLOYMENT, NAMESPACE,
                                     propagation_policy="Background")
        left = [p for p in self.tracker.pods.values()
                if p.uid and math.isnan(p.deleted)]
        if left:
            with contextlib.suppress(TimeoutError, errors.APIError):
                await self.delete(left, POD_TIMEOUT)
        remove_baseline(self.tracker.run_label)


def remove_baseline(run_label: str) -> None:
    """Every baseline container of this run, whatever state the run ended in."""
    label = f"label=schooner.bench.run={run_label}"
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", label], capture_output=True,
                         text=True, check=False).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, check=False)


async def drive(kubeconfig: Path, home: Path, tag: str, scale: Scale, deadline: float,
                out: dict[str, Any]) -> None:
    """The whole measured run; `out` gets the bench and tracker first, so a failure keeps
    what was measured before it."""
    node, network = f"node-{tag}", f"schooner-{tag}"
    tracker = out["tracker"] = Tracker(node, tag)
    client = AsyncClient.from_kubeconfig(str(kubeconfig))
    watch_client = AsyncClient.from_kubeconfig(str(kubeconfig))
    ready = [asyncio.Event() for _ in range(3)]
    tasks = [asyncio.create_task(engine_events(tracker, ready[0])),
             asyncio.create_task(watch_forever(watch_client, "pods", tracker,
                                               tracker.on_pod, ready[1])),
             asyncio.create_task(watch_forever(watch_client, "deployments", tracker,
                                               tracker.on_deployment, ready[2]))]
    bench = out["bench"] = Bench(client, tracker, Observer(home), network, scale, deadline)
    try:
        async with asyncio.timeout(30):
            await asyncio.gather(*(e.wait() for e in ready))
            await node_ready(client, node)
        await bench.run()
    finally:
        try:
            async with asyncio.timeout(CLEANUP_RESERVE):
                await bench.clean_up()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await client.aclose()
            await watch_client.aclose()


async def node_ready(client: AsyncClient, node: str) -> None:
    """Setup only (not measured): the agent's Node reports Ready before the first pod."""
    while True:
        with contextlib.suppress(errors.NotFound):
            conds = (await client.get("nodes", node)).get("status", {}).get("conditions") or []
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                return
        await asyncio.sleep(0.2)


# -- report -----------------------------------------------------------------------------------

def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    return f"{seconds * 1000:.0f}"


def secs(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds:.2f}"


def spread(values: list[float]) -> tuple[float, float, float]:
    vals = [v for v in values if not math.isnan(v)]
    return percentile(vals, 50), percentile(vals, 99), max(vals) if vals else math.nan


def ratio(a: float, b: float) -> str:
    return "—" if math.isnan(a) or math.isnan(b) or not b else f"{a / b:.2f}"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def start_latencies(phase: Phase) -> tuple[list[float], list[float], list[float]]:
    """Schooner create -> Running, docker run returned, docker inspect confirmed (seconds)."""
    return ([p.running - p.sent for p in phase.pods if not math.isnan(p.running)],
            [d.returned - d.sent for d in phase.docker if not math.isnan(d.returned)],
            [d.confirmed - d.sent for d in phase.docker if not math.isnan(d.confirmed)])


def stage_values(p: PodTimes, engine: Engine | None) -> dict[str, float]:
    e = engine.first if engine else {}
    get = e.get
    nan = math.nan
    return {
        "create call (sent -> response)": p.created - p.sent,
        "sent -> watch sees spec.nodeName (scheduler)": p.bound - p.sent,
        "bound -> sandbox container created (agent picks the pod up)":
            get("sandbox.create", nan) - p.bound,
        "sandbox created -> started (engine)":
            get("sandbox.start", nan) - get("sandbox.create", nan),
        "sandbox started -> app container created (agent)":
            get("app.create", nan) - get("sandbox.start", nan),
        "app created -> started (engine)": get("app.start", nan) - get("app.create", nan),
        "app started -> watch sees Running (agent status write, watch)":
            p.running - get("app.start", nan),
        "total: sent -> watch sees Running": p.running - p.sent,
    }


def breakdown(phases: dict[str, Phase], tracker: Tracker) -> list[str]:
    names = [n for n in ("serial", "burst", "deployment") if phases.get(n) and phases[n].pods]
    if not names:
        return []
    out = ["### Where a pod's start goes (watch times and dockerd's event times, ms)", "",
           "The bench's watch gives when it saw each step; `docker events` gives dockerd's "
           "own nanosecond times of each container's create and start (same host clock). "
           "For the Deployment, 'sent' is the pod's ADDED event (the controller creates it).",
           "", "| stage | " + " | ".join(f"{n} p50 | {n} p99" for n in names) + " |",
           "|---|" + "---:|---:|" * len(names)]
    per_phase = []
    for n in names:
        rows: dict[str, list[float]] = {}
        for p in phases[n].pods:
            q = p if n != "deployment" else PodTimes(p.name, sent=p.added, created=p.added,
                                                     bound=p.bound, running=p.running)
            for k, v in stage_values(q, tracker.engine.get(p.uid)).items():
                rows.setdefault(k, []).append(v)
        for d in phases[n].docker:
            for k, v in docker_stages(d, tracker.engine.get(d.cid)).items():
                rows.setdefault(k, []).append(v)
        per_phase.append(rows)
    for stage in per_phase[0]:
        if stage.startswith("docker run: sent"):
            out.append("| *baseline: `docker run -d`* |" + " |" * (2 * len(names)))
        cells = []
        for rows in per_phase:
            p50, p99, _ = spread(rows.get(stage, []))
            cells += [ms(p50), ms(p99)]
        out.append(f"| {stage} | " + " | ".join(cells) + " |")
    return out


def docker_stages(d: DockerRun, engine: Engine | None) -> dict[str, float]:
    e = engine.first if engine else {}
    nan = math.nan
    return {
        "docker run: sent -> container created (CLI start, API call, create)":
            e.get("app.create", nan) - d.sent,
        "docker run: created -> started (engine)":
            e.get("app.start", nan) - e.get("app.create", nan),
        "docker run: started -> CLI exited": d.returned - e.get("app.start", nan),
        "docker run: total": d.returned - d.sent,
    }


def parse_time(value: Any) -> float:
    if not value:
        return math.nan
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def own_timestamps(phase: Phase) -> list[str]:
    """The pod's own timestamps: whole seconds, so only a coarse check of the watch times."""
    diffs: dict[str, list[float]] = {}
    for p in phase.pods:
        meta, status = p.obj.get("metadata") or {}, p.obj.get("status") or {}
        created = parse_time(meta.get("creationTimestamp"))
        sched = parse_time(next((c.get("lastTransitionTime") for c in status.get(
            "conditions") or [] if c.get("type") == "PodScheduled"), None))
        started = parse_time(status.get("startTime"))
        cs = (status.get("containerStatuses") or [{}])[0]
        running = parse_time(((cs.get("state") or {}).get("running") or {}).get("startedAt"))
        for label, v in (("PodScheduled - creationTimestamp", sched - created),
                         ("startTime - PodScheduled", started - sched),
                         ("startedAt - startTime", running - started),
                         ("startedAt - creationTimestamp", running - created)):
            diffs.setdefault(label, []).append(v)
    cells = []
    for label, vals in diffs.items():
        p50, _, top = spread(vals)
        cells.append(f"{label} p50 {p50:.0f} s, max {top:.0f} s")
    return ["Pods' own timestamps (one-at-a-time phase; second resolution, so each difference "
            "is only good to ±1 s): " + "; ".join(cells) + "."] if cells else []


def latency_table(phases: dict[str, Phase], scale: Scale) -> list[str]:
    out = ["### Pod start latency", "",
           "Schooner: from the create call to the watch seeing phase Running with "
           "containerStatuses[0].state.running (the scheduler in the path, a sandbox and an app "
           "container per pod). Docker: `docker run -d --rm --network schooner-<tag> "
           "--label schooner.bench=1 schooner/busybox:latest sleep 3600` from its start to its "
           "exit (it exits after the container started), and to `docker inspect` returning "
           "State.Running=true. Nearest-rank percentiles: with 50 samples p99 is the slowest.",
           "", "| phase | measured | n | errors | p50 ms | p99 ms | max ms "
           "| p50 / docker run p50 |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, title in (("serial", f"one at a time ({scale.serial}, interleaved)"),
                        ("burst", f"{scale.burst} at once")):
        phase = phases.get(name)
        if not phase:
            continue
        sch, run_, insp = start_latencies(phase)
        errs = len(phase.errors)
        base = spread(run_)[0]
        for label, vals in (("Schooner pod", sch), ("docker run -d", run_),
                            ("docker run -d + inspect Running", insp)):
            p50, p99, top = spread(vals)
            out.append(f"| {title} | {label} | {len(vals)} | {errs if label[0] == 'S' else ''} "
                       f"| {ms(p50)} | {ms(p99)} | {ms(top)} | {ratio(p50, base)} |")
    return out


def targets(phases: dict[str, Phase]) -> list[str]:
    phase = phases.get("serial")
    if not phase:
        return []
    sch, run_, _ = start_latencies(phase)
    s50, s99, _ = spread(sch)
    d50 = spread(run_)[0]
    r = s50 / d50 if d50 else math.nan
    return ["### Targets (one at a time)", "", "| target | value | |", "|---|---:|---|",
            f"| Schooner p50 within {TARGET_RATIO}x docker run p50 | {r:.2f}x "
            f"({ms(s50)} / {ms(d50)} ms) "
            f"| {verdict(None if math.isnan(r) else r <= TARGET_RATIO)} |",
            f"| Schooner p99 under {TARGET_P99:.0f} s | {ms(s99)} ms "
            f"| {verdict(None if math.isnan(s99) else s99 < TARGET_P99)} |"]


def deletes(phases: dict[str, Phase], tracker: Tracker) -> list[str]:
    out = ["### Removal", "", "Schooner: delete with gracePeriodSeconds=0 (the pod leaves the "
           "API at once) until the agent has removed its containers (dockerd's destroy events). "
           "Docker: `docker rm -f`.", "", "| phase | measured | p50 ms | p99 ms |",
           "|---|---|---:|---:|"]
    phase = phases.get("serial")
    if phase:
        for label, vals in (
                ("Schooner: delete -> watch sees DELETED",
                 [p.deleted - p.delete_sent for p in phase.pods]),
                ("Schooner: delete -> containers removed",
                 [tracker.gone_at(p) - p.delete_sent for p in phase.pods]),
                ("docker rm -f", [d.removed - d.rm_sent for d in phase.docker])):
            p50, p99, _ = spread(vals)
            out.append(f"| one at a time | {label} | {ms(p50)} | {ms(p99)} |")
    return out if phase else []


def burst_and_deployment(phases: dict[str, Phase], scale: Scale) -> list[str]:
    out = ["### Wall times", "", "| phase | measured | seconds | / docker |", "|---|---|---:|---:|"]
    burst = phases.get("burst")
    if burst and burst.wall:
        w = burst.wall
        out += [f"| {scale.burst} at once | Schooner: creates sent -> all Running "
                f"| {secs(w.get('schooner start', math.nan))} "
                f"| {ratio(w.get('schooner start', math.nan), w.get('docker start', math.nan))} |",
                f"| {scale.burst} at once | {scale.burst} concurrent docker run -d "
                f"| {secs(w.get('docker start', math.nan))} | |",
                f"| {scale.burst} at once | Schooner: delete all -> containers removed "
                f"| {secs(w.get('schooner delete', math.nan))} | |",
                f"| {scale.burst} at once | one docker rm -f of all | "
                f"{secs(w.get('docker delete', math.nan))} | |"]
    dep = phases.get("deployment")
    if dep and dep.wall:
        w, n = dep.wall, scale.replicas
        docker = w.get("docker start", math.nan)
        for key, label in (("created", "Deployment create call returned"),
                           ("all pods created", f"all {n} pods created (ADDED seen)"),
                           ("all pods bound", f"all {n} pods bound"),
                           ("all pods Running", f"all {n} pods Running"),
                           ("available", f"**availableReplicas == {n}**")):
            v = w.get(key, math.nan)
            out.append(f"| Deployment of {n} | {label} | {secs(v)} | "
                       f"{ratio(v, docker) if key == 'available' else ''} |")
        out += [f"| Deployment of {n} | {n} concurrent docker run -d | {secs(docker)} | |",
                f"| Deployment of {n} | delete -> all pods deleted from the API "
                f"| {secs(w.get('pods deleted from the API', math.nan))} | |",
                f"| Deployment of {n} | delete -> all their containers removed "
                f"| {secs(w.get('containers removed', math.nan))} | |",
                f"| Deployment of {n} | one docker rm -f of {n} containers "
                f"| {secs(w.get('docker delete', math.nan))} | |"]
        lat = [p.running - p.added for p in dep.pods]
        p50, p99, _ = spread(lat)
        out += ["", f"Deployment pods, each from its ADDED event to Running: p50 {ms(p50)} ms, "
                f"p99 {ms(p99)} ms."]
    return out


PROCS = ("apiserver", "etcd", "scheduler", "controller-manager", "agent", "dockerd",
         "containerd", "shims", "bench", "docker CLI", "other")


def cost_table(obs: Observer, cores: int) -> list[str]:
    out = ["### CPU of each measured step", "",
           f"% of one core over the step's wall time (the machine has {cores}), summed over its "
           "repetitions; *shims* is the per-container containerd-shim, fuse-overlayfs and runc "
           "processes alive at the step's end (those that exited during it are lost); *docker "
           "CLI* is the bench's `docker run/inspect/rm` processes; *other* is everything else "
           "on the machine (other users' work included). The last columns are CPU ms per pod.",
           "",
           "| step | wall s | " + " | ".join(PROCS) + " | machine | agent ms/pod | "
           "dockerd ms/pod | apiserver ms/pod |",
           "|---|---:|" + "---:|" * (len(PROCS) + 4)]
    for name, c in obs.costs.items():
        cells = [f"{c.percent(p):.0f}%" if not math.isnan(c.percent(p)) else "—" for p in PROCS]
        out.append(f"| {name} | {c.wall:.1f} | " + " | ".join(cells)
                   + f" | {c.percent('machine'):.0f}% | {ms(c.per_pod('agent'))} | "
                   f"{ms(c.per_pod('dockerd'))} | {ms(c.per_pod('apiserver'))} |")
    return out


def engine_share(phase: Phase, tracker: Tracker) -> str:
    """How much of a pod start is dockerd starting its two containers, against docker run."""
    inside, own = [], []
    for p in phase.pods:
        e = tracker.engine.get(p.uid)
        if not e:
            continue
        f = e.first
        spent = (f.get("sandbox.start", math.nan) - f.get("sandbox.create", math.nan)
                 + f.get("app.start", math.nan) - f.get("app.create", math.nan))
        start = p.sent if not math.isnan(p.sent) else p.added
        inside.append(spent)
        own.append(p.running - start - spent)
    one = [e.first.get("app.start", math.nan) - e.first.get("app.create", math.nan)
           for d in phase.docker if (e := tracker.engine.get(d.cid))]
    if not inside:
        return ""
    return (f"per pod at p50, {ms(spread(inside)[0])} ms lies between the engine's create "
            "and start events of the sandbox and of the app container (dockerd, containerd, "
            f"runc, fuse-overlayfs, the kernel; docker run's one container: "
            f"{ms(spread(one)[0])} ms) and {ms(spread(own)[0])} ms outside them (API, "
            "scheduler, agent, watch)")


def bounds(bench: Bench, tracker: Tracker, cores: int) -> list[str]:
    """One line per measured step: the busiest processes, the machine, the longest stage."""
    out = ["### What bounds each figure", ""]
    stages: dict[str, list[tuple[str, float]]] = {}
    shares: dict[str, str] = {}
    for name in ("serial", "burst", "deployment"):
        phase = bench.phases.get(name)
        if phase and phase.pods:
            shares[name] = engine_share(phase, tracker)
            rows: dict[str, list[float]] = {}
            for p in phase.pods:
                for k, v in stage_values(p, tracker.engine.get(p.uid)).items():
                    rows.setdefault(k, []).append(v)
            stages[name] = sorted(((k, spread(v)[0]) for k, v in rows.items()
                                   if not k.startswith("total")), key=lambda kv: -kv[1])
    for name, c in bench.obs.costs.items():
        busiest = sorted(((p, c.percent(p)) for p in PROCS if p != "other"
                          and not math.isnan(c.percent(p))), key=lambda kv: -kv[1])[:3]
        machine = c.percent("machine")
        text = (f"- **{name}** ({c.wall:.1f} s over {c.pods} pods/containers): busiest "
                + ", ".join(f"{p} {v:.0f}%" for p, v in busiest)
                + f" of one core; the machine {machine:.0f}% of {cores * 100}%")
        if machine >= 0.85 * cores * 100:
            text += " — CPU-saturated, so every figure here includes waiting for a core"
        key = name.split(":")[0]
        if ("start" in name and "docker" not in name) or "available" in name:
            top = stages.get(key, [])[:2] if key != "deployment" else []
            if top:
                text += ("; longest stages at p50: "
                         + ", ".join(f"{k} {ms(v)} ms" for k, v in top))
            if shares.get(key):
                text += "; " + shares[key]
        out.append(text + ".")
    return out


def machine_facts() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)

    def out(*argv: str) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            return subprocess.run(argv, capture_output=True, text=True, timeout=15,
                                  check=False).stdout.strip()
        return "?"
    return {
        "cores": str(os.cpu_count()), "cpu": model.group(1).strip() if model else "?",
        "memory": f"{int(mem.group(1)) / 2**20:.1f} GiB" if mem else "?",
        "python": platform.python_version(), "kernel": platform.release(),
        "docker": out("docker", "version", "--format", "{{.Server.Version}}"),
        "storage": out("docker", "info", "--format", "{{.Driver}}, cgroup {{.CgroupDriver}}"),
        "commit": out("git", "-C", str(ROOT), "describe", "--always", "--dirty"),
        "background": f"{background_load():.0f}%",
    }


def render(bench: Bench | None, tracker: Tracker | None, m: dict[str, str], command: str,
           scale: Scale, failure: str) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cores = int(m["cores"]) if m["cores"].isdigit() else 1
    out = [f"Command: `{command}` — {date} — commit `{m['commit']}`", "",
           f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory']}, Linux {m['kernel']}, "
           f"Python {m['python']}, Docker Engine {m['docker']} ({m['storage']}). Other work on "
           f"the machine used {m['background']} of one core just before the run. The whole "
           "cluster (etcd, apiserver, controller-manager, scheduler, agent), dockerd and the "
           "bench share the machine."]
    if bench and tracker:
        w = bench.warmup
        out += ["", f"A warm-up pod ({ms(w[0])} ms) and container ({ms(w[1])} ms) ran first "
                "and are not counted.", "", *latency_table(bench.phases, scale), "",
                *targets(bench.phases), "", *burst_and_deployment(bench.phases, scale), "",
                *deletes(bench.phases, tracker), "", *breakdown(bench.phases, tracker), ""]
        serial = bench.phases.get("serial")
        if serial:
            out += [*own_timestamps(serial), ""]
        out += [*cost_table(bench.obs, cores), "", *bounds(bench, tracker, cores)]
        problems = {f"{n}": "; ".join(p.errors[:3]) for n, p in bench.phases.items()
                    if p.errors}
        problems.update(bench.skipped)
        if problems:
            out += ["", "### Errors and skipped phases", ""]
            out += [f"- {n}: {why}" for n, why in problems.items()]
    if failure:
        out += ["", f"**The run failed:** {failure}"]
    return "\n".join(out) + "\n"


# -- entry point -----------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="10 pods one at a time and a 10-replica Deployment (20 at once stays)")
    p.add_argument("--write", type=Path, metavar="PATH",
                   help="replace the bench:pods section of this markdown file")
    p.add_argument("--deadline", type=float, default=300.0,
                   help="seconds the whole run may take before phases are cut or skipped")
    p.add_argument("--cidr", default="172.28.240.0/24", help="the bench cluster's pod CIDR")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    deadline = started + args.deadline
    scale = Scale().quick() if args.quick else Scale()
    exe = sys.executable
    if exe.startswith(str(ROOT)):
        exe = os.path.relpath(exe, ROOT)
    command = shlex.join([exe, "bench/pods.py", *(sys.argv[1:] if argv is None else argv)])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks run
    facts = machine_facts()
    tag = f"bench{os.getpid()}"
    results: dict[str, Any] = {}
    failure = ""
    with tempfile.TemporaryDirectory(prefix="schooner-bench-pods-") as tmp:
        home = Path(tmp) / "cluster"
        try:
            print(f"starting cluster {tag} ({args.cidr})...", file=sys.stderr)
            with local_cluster(home, tag, args.cidr) as (_, kubeconfig):
                print(f"cluster up in {time.monotonic() - started:.0f} s; phases:",
                      file=sys.stderr)
                asyncio.run(drive(kubeconfig, home, tag, scale, deadline, results))
        except Exception as exc:
            failure = f"{type(exc).__name__}: {exc}"[:400]
            log = home / "logs"
            for comp in ("agent", "scheduler", "controller-manager"):
                with contextlib.suppress(OSError):
                    tail = (log / f"{comp}.log").read_text().splitlines()[-15:]
                    print(f"--- {comp} log:\n" + "\n".join(tail), file=sys.stderr)
        finally:
            remove_baseline(tag)
    bench, tracker = results.get("bench"), results.get("tracker")
    section = render(bench, tracker, facts, command, scale, failure)
    print("\n" + section)
    print(f"total {time.monotonic() - started:.0f} s", file=sys.stderr)
    if args.write:
        write_section(args.write, "pods", "Pods (bench/pods.py)", section)
        print(f"wrote {args.write}", file=sys.stderr)
    failed = failure or (bench and any(p.errors for p in bench.phases.values()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
