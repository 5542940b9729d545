"""Scale: list cost, watch fan-out, API latency under load, scheduler throughput, footprint.

Run from the repository root::

    .venv/bin/python bench/scale.py [--list-counts 1000,10000,50000] [--watchers 1000]
                                    [--nodes 100,1000,5000] [--pods 10000]
                                    [--write docs/benchmarks.md]

Every phase starts an etcd and apiserver of its own (cli/cluster/processes), bounds its
load in count and time and stops what it started by PID. The scheduler phase also runs
the real scheduler and controller-manager and one hollow-node process (`python -m agent
--hollow N`): N Nodes that register, renew their Leases and report their pods Running
without containers, so the control plane sees a cluster of N nodes on one machine.

* **list cost**: p50/p99 of listing 1,000 / 10,000 / 50,000 pods of one namespace, whole
  and in pages of 500 (client-go's pager), with the time the concurrent creates took;
* **watch fan-out**: W watchers on one namespace's pods, paced creates carrying their
  client-side send time; the delay from send to arrival at every watcher;
* **API latency under load** (Kubernetes' API call latency SLI): a probe client's
  mutating calls, single-object GETs, namespace- and cluster-scoped LISTs while the
  scheduler run churns;
* **scheduler throughput**: Deployments of `--pods` replicas in all; pods bound per second
  over time (from a watch) and the time from the first create to all Running;
* **footprint**: RSS and CPU seconds of every control-plane process idle and under load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import ssl
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from apimachinery.client import AsyncClient  # noqa: E402
from bench import plots  # noqa: E402
from bench.api import Latencies, RawWatch, closed_loop, deliveries, pod  # noqa: E402
from bench.footprint import Sampler, Usage  # noqa: E402
from bench.machine import Stamp, stamp  # noqa: E402
from bench.report import write_section  # noqa: E402
from cli.cluster.processes import Apiserver, Etcd, Process  # noqa: E402

TASKS_PER_CLIENT = 4  # httpx spends more CPU than the server with more per pool
SENT = "bench.schooner.io/sent"  # the annotation with the client's send time
TARGETS = {"bound_per_s": 300.0, "all_running_s": 60.0, "mutating_p99": 0.100,
           "list_10k": 1.0, "idle_rss_mb": 300.0}
IMG = ROOT / "docs" / "img"


# -- the control plane of a phase -------------------------------------------------------

@contextlib.asynccontextmanager
async def control_plane(workdir: Path) -> AsyncIterator[tuple[Etcd, Apiserver]]:
    """An etcd and an apiserver of this phase's own, stopped by PID afterwards."""
    etcd = Etcd(workdir / "etcd")
    api = Apiserver(workdir / "apiserver", etcd.url,
                    extra_args=["--watcher-queue-size", "8192"])
    try:
        await asyncio.to_thread(etcd.start)
        await asyncio.to_thread(api.start)
        yield etcd, api
    finally:
        api.stop()
        etcd.stop()


@contextlib.asynccontextmanager
async def clients(api: Apiserver, concurrency: int, timeout: float = 60.0,
                  ) -> AsyncIterator[list[AsyncClient]]:
    """Enough AsyncClients for `concurrency` tasks at TASKS_PER_CLIENT each."""
    made = [AsyncClient(api.url, token=api.token, ca_data=api.ca_pem, timeout=timeout)
            for _ in range(math.ceil(concurrency / TASKS_PER_CLIENT))]
    try:
        yield made
    finally:
        for c in made:
            await c.aclose()


def ms(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


# -- list cost --------------------------------------------------------------------------

@dataclass
class ListPoint:
    count: int
    seed_rate: float  # creates per second while seeding up to `count`
    full: Latencies
    paged: Latencies


async def create_pods(api: Apiserver, namespace: str, start: int, stop: int,
                      concurrency: int = 64) -> Latencies:
    """Pods `start`..`stop`-1 created by `concurrency` tasks over several pools."""
    async with clients(api, concurrency) as pool:
        return await closed_loop(
            stop - start, concurrency, pool,
            lambda c, i: c.create("pods", pod(f"p-{start + i:06d}", namespace), namespace))


async def timed_lists(client: AsyncClient, namespace: str, want: int, runs: int,
                      ) -> tuple[Latencies, Latencies]:
    """`runs` whole lists and `runs` paged ones (limit=500), each checked for `want` pods."""
    full, paged = Latencies(), Latencies()
    for _ in range(runs):
        start = time.perf_counter()
        items = (await client.list("pods", namespace))["items"]
        full.samples.append(time.perf_counter() - start)
        start = time.perf_counter()
        pages, _ = await client.list_all("pods", namespace, page_size=500)
        paged.samples.append(time.perf_counter() - start)
        if len(items) != want or len(pages) != want:
            raise AssertionError(f"listed {len(items)} / {len(pages)} pods, not {want}")
    return full, paged


async def list_cost(api: Apiserver, counts: list[int], runs: int,
                    namespace: str = "scale-list") -> list[ListPoint]:
    """Seed up to each count in turn and time the lists there."""
    points, have = [], 0
    async with AsyncClient(api.url, token=api.token, ca_data=api.ca_pem,
                           timeout=300) as client:
        await client.create("namespaces", {"metadata": {"name": namespace}})
        for count in sorted(counts):
            seeded = await create_pods(api, namespace, have, count)
            if seeded.errors:
                raise RuntimeError(f"{seeded.errors} creates failed: {seeded.first_error}")
            have = count
            full, paged = await timed_lists(client, namespace, count, runs)
            points.append(ListPoint(count, seeded.rate, full, paged))
            print(f"  list {count}: seeded {seeded.rate:.0f}/s, whole p50 "
                  f"{ms(full.p(50))}, paged p50 {ms(paged.p(50))}", file=sys.stderr, flush=True)
    return points


# -- watch fan-out ----------------------------------------------------------------------

@dataclass
class WatchResult:
    watchers: int
    writes: int
    rate: float
    connect_s: float
    delays: Latencies
    missing: int


def marked_pod(name: str, namespace: str) -> dict[str, Any]:
    """A pod whose annotation carries the client's send time (perf_counter of this process)."""
    obj = pod(name, namespace)
    obj["metadata"]["annotations"][SENT] = f"{time.perf_counter():.6f}"
    return obj


async def watch_fanout(api: Apiserver, watchers: int, rate: float, seconds: float,
                       namespace: str = "scale-watch") -> WatchResult:
    """`watchers` raw TLS watch streams, then `rate` creates a second for `seconds`."""
    ctx = ssl.create_default_context(cadata=api.ca_pem.decode())
    streams = [RawWatch() for _ in range(watchers)]
    writes: dict[str, tuple[float, float]] = {}
    count = max(1, round(rate * seconds))
    async with AsyncClient(api.url, token=api.token, ca_data=api.ca_pem) as writer:
        await writer.create("namespaces", {"metadata": {"name": namespace}})
        rv = (await writer.list("pods", namespace))["metadata"]["resourceVersion"]
        target = f"/api/v1/namespaces/{namespace}/pods?" + urlencode(
            {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "900"})
        gate = asyncio.Semaphore(32)  # TLS handshakes in flight while connecting
        opened: list[asyncio.StreamReader] = []

        async def connect(stream: RawWatch) -> None:
            async with gate:
                opened.append(reader := await stream.open(api.url, target, api.token, ctx))
            await stream.read(reader)

        async def write(i: int, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            obj = marked_pod(f"w-{i:05d}", namespace)
            sent = float(obj["metadata"]["annotations"][SENT])
            made = await writer.create("pods", obj, namespace)
            writes[made["metadata"]["resourceVersion"]] = (sent, time.perf_counter())

        start = time.perf_counter()
        tasks = [asyncio.create_task(connect(s)) for s in streams]
        try:
            while len(opened) < watchers:
                if ended := [t for t in tasks if t.done()]:
                    raise RuntimeError(f"a watch ended while connecting: {ended[0]!r}")
                await asyncio.sleep(0.05)
            connect_s = time.perf_counter() - start
            t0 = time.perf_counter() + 0.2
            await asyncio.gather(*(write(i, t0 + i / rate) for i in range(count)))
            drain_until = time.perf_counter() + 60
            while (min(s.events for s in streams) < len(writes)
                   and time.perf_counter() < drain_until):
                await asyncio.sleep(0.02)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(s.close() for s in streams))
    _, from_send, missing = deliveries(streams, writes)
    return WatchResult(watchers, count, rate, connect_s, from_send, missing)


# -- API call latency SLI ---------------------------------------------------------------

SLI_KINDS = ("mutating", "get", "list namespace", "list cluster")


async def probe(api: Apiserver, until: asyncio.Event, namespace: str = "scale-probe",
                pause: float = 0.1) -> dict[str, Latencies]:
    """One call after another of each kind until `until` is set.

    Mutating: create, update, merge patch and delete of a pod no scheduler owns
    (`schedulerName: none`), so the probe adds no work for the load to do.
    Cluster-scoped LIST: one page (limit=500) of pods in every namespace, as a
    paginating client asks; namespace-scoped LIST: the probe's own namespace.
    """
    found = {kind: Latencies() for kind in SLI_KINDS}
    async with AsyncClient(api.url, token=api.token, ca_data=api.ca_pem) as c:
        with contextlib.suppress(Exception):
            await c.create("namespaces", {"metadata": {"name": namespace}})
        i = 0
        while not until.is_set():
            obj = pod(f"probe-{i}", namespace)
            obj["spec"]["schedulerName"] = "none"
            del obj["metadata"]["ownerReferences"]  # else the GC deletes it: no such owner
            calls: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
                ("mutating", lambda o=obj: c.create("pods", o, namespace)),
                ("get", lambda n=f"probe-{i}": c.get("pods", n, namespace)),
                ("mutating", lambda n=f"probe-{i}": c.patch(
                    "pods", n, {"metadata": {"labels": {"probe": "patched"}}}, namespace)),
                ("list namespace", lambda: c.list("pods", namespace)),
                ("list cluster", lambda: c.list("pods", None, limit=500)),
                ("mutating", lambda n=f"probe-{i}": c.delete("pods", n, namespace,
                                                            grace_period_seconds=0)),
            ]
            for kind, call in calls:
                start = time.perf_counter()
                try:
                    await call()
                except Exception as exc:
                    found[kind].fail(exc)
                    continue
                found[kind].samples.append(time.perf_counter() - start)
            i += 1
            await asyncio.sleep(pause)
    return found


# -- scheduler throughput ---------------------------------------------------------------

@dataclass
class SchedResult:
    nodes: int
    pods: int
    bound_at: list[float]  # seconds after the first create, one per pod bound
    running_at: list[float]
    create_s: float  # the Deployments' creation
    register_s: float  # hollow nodes to Ready
    idle: dict[str, Usage] = field(default_factory=dict)
    idle_s: float = 0.0
    load: dict[str, Usage] = field(default_factory=dict)
    load_s: float = 0.0
    sli: dict[str, Latencies] = field(default_factory=dict)
    error: str = ""

    @property
    def all_running_s(self) -> float:
        return max(self.running_at) if len(self.running_at) == self.pods else math.nan

    @property
    def mean_bound_per_s(self) -> float:
        if len(self.bound_at) < 2:
            return math.nan
        return len(self.bound_at) / max(self.bound_at)

    def per_second(self, times: list[float]) -> tuple[list[float], list[float]]:
        if not times:
            return [], []
        buckets = [0] * (int(max(times)) + 1)
        for t in times:
            buckets[int(t)] += 1
        return [float(s) for s in range(len(buckets))], [float(b) for b in buckets]


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "terminationGracePeriodSeconds": 0,
                         "containers": [{"name": "app", "image": "schooner/busybox:latest",
                                         "resources": {"requests": {"cpu": "1m",
                                                                    "memory": "1Mi"}}}]}}}}


async def follow_pods(client: AsyncClient, namespace: str, t0: list[float],
                      result: SchedResult, done: asyncio.Event) -> None:
    """From a watch on pods: when each was bound (nodeName set) and when Running."""
    bound: set[str] = set()
    running: set[str] = set()
    rv = (await client.list("pods", namespace, limit=1))["metadata"]["resourceVersion"]
    async with contextlib.aclosing(client.watch("pods", namespace, resource_version=rv,
                                                timeout_seconds=900)) as events:
        async for ev in events:
            if ev.type not in ("ADDED", "MODIFIED"):
                continue
            name, now = ev.object["metadata"]["name"], time.perf_counter()
            if ev.object["spec"].get("nodeName") and name not in bound:
                bound.add(name)
                result.bound_at.append(now - t0[0])
            if (ev.object.get("status") or {}).get("phase") == "Running" and name not in running:
                running.add(name)
                result.running_at.append(now - t0[0])
                if len(running) >= result.pods:
                    done.set()
                    return


@contextlib.asynccontextmanager
async def profiled(pids: dict[str, int], nodes: int, seconds: int = 20) -> AsyncIterator[None]:
    """py-spy on each named process for the first `seconds` of the load (SVG flame graphs
    in docs/img); nothing when py-spy is not installed."""
    spy = Path(sys.executable).parent / "py-spy"
    procs = [await asyncio.create_subprocess_exec(
        str(spy), "record", "-o", str(IMG / f"scale-{name}-{nodes}-nodes.svg"), "--pid",
        str(pid), "-d", str(seconds), "-r", "50", stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL) for name, pid in pids.items() if spy.exists()]
    try:
        yield
    finally:
        for p in procs:
            try:
                await asyncio.wait_for(p.wait(), seconds + 30)
            except TimeoutError:
                p.kill()
                await p.wait()


def start_scheduler(kubeconfig: Path, workdir: Path) -> Process:
    proc = Process("scheduler", [sys.executable, "-m", "scheduler", "--kubeconfig",
                                 str(kubeconfig), "--secure-port", "0"],
                   workdir / "scheduler.log")
    proc.start()
    return proc


async def scheduler_run(api: Apiserver, etcd: Etcd, workdir: Path, nodes: int, pods: int,
                        *, deployments: int = 10, idle_seconds: float = 10.0,
                        settle_seconds: float = 3.0, start_delay: str = "1s",
                        timeout: float = 300.0, profile: tuple[str, ...] = (),
                        ) -> SchedResult:
    """Hollow nodes, the real scheduler and controller-manager; Deployments of `pods` pods."""
    from bench.hollow import NODE_MONITOR_GRACE, start_hollow, wait_nodes_ready
    from cli.cluster.processes import start_controller_manager

    kubeconfig = api.kubeconfig(workdir / "kubeconfig")
    result = SchedResult(nodes, pods, [], [], 0.0, 0.0)
    procs: list[Process] = []
    try:
        procs.append(await asyncio.to_thread(start_controller_manager, kubeconfig,
                                             workdir / "controller-manager.log",
                                             *NODE_MONITOR_GRACE))
        procs.append(start_scheduler(kubeconfig, workdir))
        started = time.perf_counter()
        procs.append(hollow := start_hollow(kubeconfig, workdir, nodes, start_delay=start_delay))
        async with AsyncClient(api.url, token=api.token, ca_data=api.ca_pem,
                               timeout=120) as client:
            await wait_nodes_ready(hollow, client, nodes, timeout=max(120.0, nodes / 10))
            result.register_s = time.perf_counter() - started
            pids = {"etcd": etcd.process.pid, "apiserver": api.process.pid,
                    **{p.name: p.pid for p in procs}}
            await asyncio.sleep(settle_seconds)  # let registration's writes settle
            async with Sampler(pids) as idle:
                await asyncio.sleep(idle_seconds)
            result.idle, result.idle_s = idle.usage, idle.seconds
            await client.create("namespaces", {"metadata": {"name": "scale"}})
            per = [pods // deployments + (1 if i < pods % deployments else 0)
                   for i in range(deployments)]
            t0, done, stop_probe = [0.0], asyncio.Event(), asyncio.Event()
            follower = asyncio.create_task(follow_pods(client, "scale", t0, result, done))
            await asyncio.sleep(0.5)  # the watch is open
            probing = asyncio.create_task(probe(api, stop_probe))
            async with Sampler(pids) as load, profiled(
                    {k: v for k, v in pids.items() if k in profile}, nodes):
                t0[0] = time.perf_counter()
                for i, n in enumerate(per):
                    if n:
                        await client.create("deployments", deployment(f"d{i}", n), "scale")
                result.create_s = time.perf_counter() - t0[0]
                try:
                    await asyncio.wait_for(done.wait(), timeout)
                except TimeoutError:
                    result.error = (f"timed out after {timeout:.0f} s: {len(result.bound_at)} "
                                    f"bound, {len(result.running_at)} Running")
            stop_probe.set()
            result.sli = await probing
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            result.load, result.load_s = load.usage, load.seconds
    finally:
        for p in reversed(procs):
            p.stop()
    return result


# -- report -----------------------------------------------------------------------------

def render_list(points: list[ListPoint], runs: int, st: Stamp, img_dir: Path = IMG,
                ) -> list[str]:
    out = ["### List cost", "",
           f"Pods of ~1.9 KB as stored in one namespace; {runs} runs of each; the client "
           "decodes every page (as kubectl does). Seeding: 64 concurrent creates.", "",
           "| pods | whole p50 | whole p99 | pages of 500 p50 | pages of 500 p99 | "
           "seeding rate | target (10,000 ≤ 1 s) |", "|---:|---:|---:|---:|---:|---:|---|"]
    for p in points:
        target = ""
        if p.count == 10_000:
            target = verdict(max(p.full.p(50), p.paged.p(50)) <= TARGETS["list_10k"])
        out.append(f"| {p.count:,} | {ms(p.full.p(50))} | {ms(p.full.p(99))} | "
                   f"{ms(p.paged.p(50))} | {ms(p.paged.p(99))} | {p.seed_rate:.0f}/s | "
                   f"{target} |")
    if points:
        img = plots.lines(img_dir / "scale-list.png", "List latency vs pods in the namespace",
                          "pods", "seconds", {
                              "whole p50": ([p.count for p in points],
                                            [p.full.p(50) for p in points]),
                              "whole p99": ([p.count for p in points],
                                            [p.full.p(99) for p in points]),
                              "pages of 500 p50": ([p.count for p in points],
                                                   [p.paged.p(50) for p in points]),
                              "pages of 500 p99": ([p.count for p in points],
                                                   [p.paged.p(99) for p in points])},
                          st.caption(), log_x=True, target=TARGETS["list_10k"])
        out += ["", f"![list latency](img/{img.name})"]
    return out


def render_watch(w: WatchResult, st: Stamp, img_dir: Path = IMG) -> list[str]:
    d = w.delays
    finite = [x for x in d.samples if not math.isinf(x)]
    img = plots.histogram(img_dir / "scale-watch.png",
                          f"Watch delivery delay, {w.watchers} watchers, {w.rate:g} writes/s",
                          "seconds from the write's send to arrival", finite, st.caption(),
                          marks={"p50": d.p(50), "p99": d.p(99)} if finite else None)
    return ["### Watch fan-out", "",
            f"{w.watchers:,} watchers (bare TLS streams) on one namespace's pods; {w.writes} "
            f"creates at {w.rate:g}/s, each carrying its send time in the `{SENT}` "
            f"annotation; opening the watchers took {w.connect_s:.1f} s.", "",
            "| deliveries | missing | p50 | p99 | max |", "|---:|---:|---:|---:|---:|",
            f"| {len(d.samples):,} | {w.missing} | {ms(d.p(50))} | {ms(d.p(99))} | "
            f"{ms(max(d.samples) if d.samples else math.nan)} |", "",
            f"![watch delay](img/{img.name})"]


def render_sched(results: list[SchedResult], st: Stamp, img_dir: Path = IMG,
                 ) -> list[str]:
    out = ["### Scheduler throughput (hollow nodes)", "",
           "Real scheduler and controller-manager; one hollow-node process runs every Node "
           "(registration, Leases, pod status Running, no containers). Pods come from 10 "
           "Deployments; bound and Running times are from a watch on pods, from the first "
           "Deployment create.", "",
           "| nodes | pods | nodes Ready after | pods bound/s (mean) | peak bound/s | "
           "all Running after | ≥ 300/s at 1,000 nodes | all Running < 60 s |",
           "|---:|---:|---:|---:|---:|---:|---|---|"]
    series = {}
    for r in sorted(results, key=lambda r: r.nodes):
        xs, ys = r.per_second(r.bound_at)
        series[f"{r.nodes} nodes"] = (xs, ys)
        rate_ok = verdict(r.mean_bound_per_s >= TARGETS["bound_per_s"]) if r.nodes == 1000 \
            else ""
        run_ok = verdict(r.all_running_s < TARGETS["all_running_s"]) if r.pods >= 10_000 \
            else ""
        running = ("—" if math.isnan(r.all_running_s) else f"{r.all_running_s:.1f} s")
        out.append(f"| {r.nodes:,} | {r.pods:,} | {r.register_s:.1f} s | "
                   f"{r.mean_bound_per_s:.0f} | {max(ys) if ys else 0:.0f} | {running} | "
                   f"{rate_ok} | {run_ok} |")
        if r.error:
            out.append(f"| | | {' '.join(r.error.split())[:300]} | | | | | |")
    if series:
        img = plots.lines(img_dir / "scale-bound.png", "Pods bound per second", "seconds since the "
                          "first create", "pods bound in that second", series, st.caption())
        out += ["", f"![bound per second](img/{img.name})"]
    return out


def render_sli(r: SchedResult) -> list[str]:
    out = [f"### API call latency under load ({r.nodes:,} nodes, {r.pods:,} pods)", "",
           "A probe client, one call after another, while the scheduler run above churns "
           "(Kubernetes' SLI: single-object mutating calls and GETs, namespace- and "
           "cluster-scoped LISTs). Mutating = create, merge patch, delete of a pod no "
           "scheduler owns; cluster-scoped LIST = one page (limit=500) of pods in every "
           "namespace.", "",
           "| calls | n | p50 | p99 | errors | target |", "|---|---:|---:|---:|---:|---|"]
    for kind in SLI_KINDS:
        lat = r.sli.get(kind, Latencies())
        target = (f"p99 ≤ 100 ms: {verdict(lat.p(99) <= TARGETS['mutating_p99'])}"
                  if kind == "mutating" else "")
        out.append(f"| {kind} | {len(lat.samples)} | {ms(lat.p(50))} | {ms(lat.p(99))} | "
                   f"{lat.errors} | {target} |")
    return out


def render_footprint(r: SchedResult) -> list[str]:
    out = [f"### Footprint ({r.nodes:,} hollow nodes)", "",
           f"From /proc/PID: RSS (mean over the window; peak under load) and CPU seconds; "
           f"idle = {r.idle_s:.0f} s after the nodes are Ready, before any pod; under load = "
           f"the scheduler run ({r.load_s:.0f} s).", "",
           "| process | idle RSS | idle CPU (% of a core) | load RSS peak | load CPU s | "
           "load CPU (% of a core) |", "|---|---:|---:|---:|---:|---:|"]
    control = 0.0
    for name, idle in r.idle.items():
        load = r.load.get(name, Usage())
        if name != "hollow":
            control += idle.rss_mean
        out.append(f"| {name} | {idle.rss_mean / 2**20:.0f} MB | "
                   f"{100 * idle.cpu / max(r.idle_s, 1e-9):.0f}% | "
                   f"{load.rss_peak / 2**20:.0f} MB | {load.cpu:.1f} | "
                   f"{100 * load.cpu / max(r.load_s, 1e-9):.0f}% |")
    out += ["", f"Control plane (etcd, apiserver, scheduler, controller-manager) idle RSS: "
            f"{control / 2**20:.0f} MB — target ≤ 300 MB: "
            f"{verdict(control / 2**20 <= TARGETS['idle_rss_mb'])}."]
    return out


# -- main -------------------------------------------------------------------------------

def counts(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--list-counts", type=counts, default=[1000, 10_000, 50_000],
                   help="pod counts to list at, comma-separated (cap the largest here)")
    p.add_argument("--list-runs", type=int, default=5)
    p.add_argument("--watchers", type=int, default=1000)
    p.add_argument("--watch-rate", type=float, default=10.0, help="creates per second")
    p.add_argument("--watch-seconds", type=float, default=10.0)
    p.add_argument("--nodes", type=counts, default=[100, 1000, 5000],
                   help="hollow node counts, comma-separated (empty: skip the scheduler run)")
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--sched-timeout", type=float, default=300,
                   help="seconds each scheduler run may take from the first create")
    p.add_argument("--profile", default="",
                   help="processes to py-spy in the scheduler run, e.g. scheduler,apiserver")
    p.add_argument("--deadline", type=float, default=3600,
                   help="seconds: no further scheduler run starts after this")
    p.add_argument("--phases", default="list,watch,sched",
                   help="which phases to run, comma-separated")
    p.add_argument("--workdir", type=Path, help="keep logs here (default: a temp dir)")
    p.add_argument("--write", type=Path, help="write the section into this markdown file")
    return p.parse_args(argv)


Sections = dict[str, tuple[str, list[str]]]  # name -> (title, lines)


async def run(args: argparse.Namespace, workdir: Path, st: Stamp) -> Sections:
    """Each phase's own section of the report, so phases can be rerun one by one."""
    phases, out = set(args.phases.split(",")), {}
    head = [st.markdown()]
    if "list" in phases or "watch" in phases:
        async with control_plane(workdir / "lists") as (_, api):
            if "watch" in phases:
                w = await watch_fanout(api, args.watchers, args.watch_rate, args.watch_seconds)
                print(f"  watch: p50 {ms(w.delays.p(50))} p99 {ms(w.delays.p(99))}",
                      file=sys.stderr, flush=True)
                out["scale-watch"] = ("Scale: watch fan-out (bench/scale.py)",
                                      head + render_watch(w, st)[2:])
            if "list" in phases:
                points = await list_cost(api, args.list_counts, args.list_runs)
                out["scale-list"] = ("Scale: list cost (bench/scale.py)",
                                     head + render_list(points, args.list_runs, st)[2:])
    if "sched" in phases and args.nodes:
        results, deadline = [], time.monotonic() + args.deadline
        for n in args.nodes:
            if time.monotonic() > deadline:
                print(f"  sched {n} nodes: skipped, past --deadline", file=sys.stderr)
                continue
            try:
                async with control_plane(workdir / f"sched-{n}") as (etcd, api):
                    r = await scheduler_run(
                        api, etcd, workdir / f"sched-{n}", n, args.pods,
                        timeout=args.sched_timeout,
                        profile=tuple(filter(None, args.profile.split(","))))
            except Exception as exc:  # one failed count must not lose the others' figures
                r = SchedResult(n, args.pods, [], [], 0.0, 0.0,
                                error=f"failed: {type(exc).__name__}: {exc}"[:300])
            print(f"  sched {n} nodes: {r.mean_bound_per_s:.0f}/s, all Running "
                  f"{r.all_running_s:.1f} s {r.error}", file=sys.stderr, flush=True)
            results.append(r)
        main_run = next((r for r in results if r.nodes == 1000), results[-1])
        out["scale-sched"] = ("Scale: scheduler throughput, API latency under load, footprint "
                              "(bench/scale.py)",
                              head + render_sched(results, st)[2:] + ["", *render_sli(main_run),
                                                                       "",
                                                                       *render_footprint(main_run)])
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = ".venv/bin/python bench/scale.py " + " ".join(sys.argv[1:] if argv is None
                                                             else argv)
    st = stamp(command.strip())
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="scale-")))
        workdir.mkdir(parents=True, exist_ok=True)
        sections = asyncio.run(run(args, workdir, st))
    for name, (title, lines) in sections.items():
        text = "\n".join(lines) + "\n"
        print(f"## {title}\n\n{text}")
        if args.write:
            write_section(args.write, name, title, text)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
