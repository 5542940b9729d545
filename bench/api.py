"""Schooner's API benchmark (issue 2): a real etcd and apiserver, measured side by side.

Run from the repository root::

    .venv/bin/python bench/api.py [--quick] [--profile] [--etcd-tls] [--write docs/benchmarks.md]

It starts its own etcd and apiserver (`cli.cluster.processes`, in a temporary
directory, on free 127.0.0.1 ports; with --etcd-tls etcd is private as `schooner up`
runs it, TLS with client certificates) and measures, in order:

1. raw etcd puts through etcd's v3 JSON gateway at concurrency 1, 16 and 64: the
   baseline the apiserver's figures are divided by, so that runs on different
   machines compare;
2. create, get and a small namespace list at concurrency 1, 16 and 64 (closed loop);
3. paced creates, open loop: 200/s for 10 s, latency counted from each request's
   scheduled time, so a stall is not hidden by the requests it delays;
4. watch fan-out: 500 watchers on pods, then 100 creates 20 ms apart; the delay
   from each write's response to its arrival at every watcher;
5. a namespace of 10,000 pods listed in pages of 500 and whole.

Every phase records the CPU that the apiserver, etcd, this client and everything
else on the machine used (from /proc), and etcd's WAL fsyncs; with --profile,
py-spy samples the apiserver during each phase. Together they say what bounds
each figure. Load is bounded: fixed counts, a timeout per phase, a global
deadline, 127.0.0.1 only; the processes are always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import math
import os
import platform
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
import uvloop

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `bench` lives at the repo root
    sys.path.insert(0, str(ROOT))

from apimachinery.client import AsyncClient  # noqa: E402
from bench.report import write_section  # noqa: E402
from cli.cluster.components import find_etcd  # noqa: E402
from cli.cluster.processes import Apiserver, Etcd  # noqa: E402

LEVELS = (1, 16, 64)
# httpx's pool costs CPU per queued request and connection: with 64 requests in one
# pool the client, not the server, is what is measured. Four per client avoids that.
TASKS_PER_CLIENT = 4
TARGETS = {"paced_p99": 0.050, "list": 1.0, "watch_p99": 0.200}

C = TypeVar("C")


@dataclass(frozen=True)
class Scale:
    """Counts of one run; --quick divides them by 10."""

    ops: int = 500
    paced_rate: float = 200.0
    paced_count: int = 2000
    list_pods: int = 10_000
    list_runs: int = 5
    watchers: int = 500
    watch_writes: int = 100
    write_interval: float = 0.020
    small_list_pods: int = 10

    def quick(self) -> Scale:
        return Scale(self.ops // 10, self.paced_rate, self.paced_count // 10,
                     self.list_pods // 10, self.list_runs, self.watchers // 10,
                     self.watch_writes // 10, self.write_interval, self.small_list_pods)


# -- load generators --------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; `inf` entries stand for results that never arrived."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@dataclass
class Latencies:
    """Latencies in seconds of one measured run, its wall time and its failures."""

    samples: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: int = 0
    first_error: str = ""

    def fail(self, exc: BaseException) -> None:
        self.errors += 1
        self.first_error = self.first_error or f"{type(exc).__name__}: {exc}"[:200]

    @property
    def rate(self) -> float:
        return len(self.samples) / self.wall if self.wall else math.nan

    def p(self, q: float) -> float:
        return percentile(self.samples, q)


async def closed_loop(count: int, concurrency: int, clients: Sequence[C],
                      op: Callable[[C, int], Awaitable[Any]]) -> Latencies:
    """`count` ops by `concurrency` tasks, each starting its next op when the last returns."""
    result, numbers = Latencies(), iter(range(count))

    async def worker(client: C) -> None:
        for i in numbers:  # one iterator shared by all tasks: each op runs once
            start = time.perf_counter()
            try:
                await op(client, i)
            except Exception as exc:
                result.fail(exc)
                continue
            result.samples.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(worker(clients[w % len(clients)]) for w in range(concurrency)))
    result.wall = time.perf_counter() - started
    return result


async def open_loop(count: int, rate: float, clients: Sequence[C],
                    op: Callable[[C, int], Awaitable[Any]]) -> tuple[Latencies, float]:
    """`count` ops due at fixed times, `rate` a second; latency counts from the due time.

    At most TASKS_PER_CLIENT requests are in flight per client; an op due while
    all are busy waits, and that wait is part of its latency. Returns the
    latencies and the scheduler's largest lag (a busy client shows up there).
    """
    result, lag = Latencies(), 0.0
    slots: asyncio.Queue[C] = asyncio.Queue()
    for client in clients:
        for _ in range(TASKS_PER_CLIENT):
            slots.put_nowait(client)
    t0 = time.perf_counter() + 0.05

    async def one(i: int, due: float) -> None:
        client = await slots.get()
        try:
            await op(client, i)
        except Exception as exc:
            result.fail(exc)
            return
        finally:
            slots.put_nowait(client)
        result.samples.append(time.perf_counter() - due)

    tasks = []
    for i in range(count):
        due = t0 + i / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        lag = max(lag, time.perf_counter() - due)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    result.wall = time.perf_counter() - t0
    return result, lag


def pod(name: str, namespace: str) -> dict[str, Any]:
    """A pod as a Deployment's ReplicaSet would create it (~1.5 KB of JSON)."""
    probe = {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
             "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 1,
             "failureThreshold": 3}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": namespace,
            "labels": {"app": "web", "tier": "frontend", "pod-template-hash": "5d8f7c9b6d"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f7c9b6d",
                "uid": "6f1c1a9e-3b7d-4c61-9a55-2f0d8e4b7a10", "controller": True,
                "blockOwnerDeletion": True}],
        },
        "spec": {
            "containers": [{
                "name": "web", "image": "registry.local:5000/shop/web:1.4.2",
                "imagePullPolicy": "IfNotPresent",
                "args": ["--port=8080", "--log-format=json"],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "LOG_LEVEL", "value": "info"},
                        {"name": "DATABASE_HOST", "value": "db.default.svc.cluster.local"},
                        {"name": "CACHE_URL", "value": "redis://cache.default:6379/0"},
                        {"name": "FEATURE_FLAGS", "value": "checkout-v2,search-suggest"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                              "limits": {"cpu": "500m", "memory": "256Mi"}},
                "readinessProbe": probe, "livenessProbe": {**probe, "periodSeconds": 20},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/web",
                                  "readOnly": True}],
            }],
            "volumes": [{"name": "config", "configMap": {"name": "web-config"}}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "nodeSelector": {"kubernetes.io/os": "linux"},
        },
    }


# -- watch streams over bare TLS connections --------------------------------------------

EVENT_MARK = b'{"type":'  # how every watch event line starts (orjson keeps key order)


class RawWatch:
    """One watch read over a bare TLS connection, its bytes timestamped and parsed later.

    httpx's per-chunk cost matched the apiserver's per-event cost, so with
    500 streams the client took a whole core of a 2-core machine; a bare
    uvloop stream keeps the measurement on the server.
    """

    def __init__(self) -> None:
        self.pieces: list[tuple[float, bytes]] = []
        self.events = 0
        self._tail = b""
        self.writer: asyncio.StreamWriter | None = None

    async def open(self, url: str, target: str, token: str, ctx: ssl.SSLContext,
                   ) -> asyncio.StreamReader:
        parts = urlsplit(url)
        reader, self.writer = await asyncio.open_connection(parts.hostname, parts.port,
                                                            ssl=ctx)
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                          f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
                          .encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") or b"chunked" not in head.lower():
            raise RuntimeError(f"watch refused: {head[:200]!r}")
        return reader

    async def read(self, reader: asyncio.StreamReader) -> None:
        while data := await reader.read(65536):
            self.pieces.append((time.perf_counter(), data))
            self.events += (self._tail + data).count(EVENT_MARK)  # a mark split over reads
            self._tail = data[-(len(EVENT_MARK) - 1):]

    async def close(self, timeout: float = 5.0) -> None:
        """Close and wait for it: a TLS close is done only when the socket is, and a
        loop that ends first leaves the socket open (a ResourceWarning at collection)."""
        if self.writer is None:
            return
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), timeout)
        except (TimeoutError, OSError, ssl.SSLError):
            self.writer.transport.abort()

    def arrivals(self) -> dict[str, float]:
        """resourceVersion -> arrival time of each event (chunked coding undone here)."""
        seen: dict[str, float] = {}
        buf, text = b"", b""
        for at, data in self.pieces:
            buf += data
            while (end := buf.find(b"\r\n")) >= 0:
                size = int(buf[:end].split(b";")[0], 16)
                if size == 0 or len(buf) < end + 4 + size:
                    break
                text += buf[end + 2:end + 2 + size]
                buf = buf[end + 4 + size:]
            *lines, text = text.split(b"\n")
            for line in lines:
                if line.strip():
                    event = orjson.loads(line)
                    seen.setdefault(event["object"]["metadata"]["resourceVersion"], at)
        return seen


def deliveries(streams: list[RawWatch], writes: dict[str, tuple[float, float]],
               ) -> tuple[Latencies, Latencies, int]:
    """Delay of each write at each watcher, from its response and from its send.

    A (watcher, write) pair never delivered counts as an infinite delay.
    """
    from_response, from_send, missing = Latencies(), Latencies(), 0
    for stream in streams:
        seen = stream.arrivals()
        for rv, (sent, answered) in writes.items():
            at = seen.get(rv, math.inf)
            missing += math.isinf(at)
            from_response.samples.append(at - answered)
            from_send.samples.append(at - sent)
    return from_response, from_send, missing


# -- what bounds a figure: CPU per process, etcd fsyncs, py-spy -------------------------

def cpu_seconds(pid: int | None) -> float:
    """User+system CPU of a process (all its threads); this process when `pid` is None."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core, every process), /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def etcd_fsyncs(etcd: Etcd) -> tuple[float, float]:
    """(seconds, count) of etcd's WAL fsyncs so far, from its /metrics."""
    with etcd.http() as http:
        text = http.get("/metrics").text
    found = dict(re.findall(r"^etcd_disk_wal_fsync_duration_seconds_(sum|count) (\S+)$",
                            text, re.M))
    return float(found.get("sum", 0)), float(found.get("count", 0))


@dataclass
class Usage:
    """What one phase cost: wall time, % of one core per process, CPU per op, fsyncs."""

    wall: float
    ops: int
    apiserver: float
    etcd: float
    client: float
    others: float  # every other process on the machine, py-spy included
    fsyncs: int
    fsync_mean: float

    def per_op(self, percent: float) -> float:
        """CPU seconds per op of a process that used `percent` of one core."""
        return percent / 100 * self.wall / self.ops if self.ops else math.nan


@dataclass
class Profile:
    """A py-spy profile of the apiserver during one phase, by area and by function."""

    samples: int
    areas: list[tuple[str, float]]
    functions: list[tuple[str, float]]


# Leaves of a thread waiting, not working: left out of the shares.
IDLE_LEAVES = ("epoll_wait", "epoll_pwait", "poll (", "pthread_cond", "futex", "select (")
# The leaf-most frame (native frames included) that matches names a sample's area.
AREAS = (
    ("garbage collector", ("gc_collect",)),
    ("JSON (orjson)", ("orjson",)),
    ("TLS", ("ssl.py", "libssl", "libcrypto", "_ssl.")),
    ("etcd client (aetcd/grpc)", ("aetcd/", "grpc/", "cygrpc", "protobuf", "upb")),
    ("validation+defaults", ("apiserver/validation", "apiserver/defaults",
                             "apiserver/strategies", "apimachinery/quantity")),
    ("deepcopy", ("copy.py",)),
    ("watch fan-out", ("apiserver/watch",)),
    ("storage codec", ("apiserver/storage.py",)),
    ("metrics", ("prometheus_client/",)),
    ("HTTP (uvicorn/starlette/fastapi)", ("uvicorn/", "starlette/", "fastapi/", "h11/",
                                          "httptools", "anyio/", "pydantic",
                                          "opentelemetry")),
    ("event loop and socket I/O (uvloop)", ("asyncio/", "uvloop", "loop.c", "_asynciomodule",
                                     "uv_", "Runner.run")),
    ("apiserver handlers", ("apiserver/",)),
)


def summarize_profile(raw: str) -> Profile | None:
    """py-spy's raw stacks: share of busy samples per area and per leaf Python function."""
    areas: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count, frames = int(count_text), stack.split(";")
        if any(mark in frames[-1] for mark in IDLE_LEAVES):
            continue
        python = [f for f in frames if ".py)" in f]
        leaves[python[-1] if python else frames[-1]] += count
        areas[next((area for frame in reversed(frames) for area, marks in AREAS
                    if any(m in frame for m in marks)), "other")] += count
    total = sum(areas.values())
    if not total:
        return None
    return Profile(total, [(a, n / total) for a, n in areas.most_common(5)],
                   [(f, n / total) for f, n in leaves.most_common(4)])


class Observer:
    """Measures each phase's cost; with a py-spy binary, profiles the apiserver during it."""

    def __init__(self, apiserver_pid: int, etcd: Etcd,
                 workdir: Path, pyspy: str | None) -> None:
        self.pids = {"apiserver": apiserver_pid, "etcd": etcd.process.pid}
        self.etcd, self.workdir, self.pyspy = etcd, workdir, pyspy
        self.usage: dict[str, Usage] = {}
        self.profiles: dict[str, Profile] = {}

    @contextlib.contextmanager
    def phase(self, name: str, ops: int, profile: bool = True) -> Iterator[None]:
        spy, out = self._start_pyspy(name) if profile else (None, self.workdir)
        fsync_before = etcd_fsyncs(self.etcd)  # before the CPU snapshots: it costs some
        before = {k: cpu_seconds(p) for k, p in self.pids.items()}
        client_before, busy_before = cpu_seconds(None), machine_busy()
        started = time.perf_counter()
        try:
            yield
        finally:
            wall = time.perf_counter() - started
            after = {k: cpu_seconds(p) for k, p in self.pids.items()}
            ours = [100 * (after[k] - before[k]) / wall for k in ("apiserver", "etcd")]
            ours.append(100 * (cpu_seconds(None) - client_before) / wall)
            others = 100 * (machine_busy() - busy_before) / wall - sum(ours)
            self._stop_pyspy(name, spy, out)
            fs_sum, fs_count = (a - b for a, b in zip(etcd_fsyncs(self.etcd),
                                                     fsync_before, strict=True))
            self.usage[name] = Usage(wall, ops, *ours, max(0.0, others), int(fs_count),
                                     fs_sum / fs_count if fs_count else math.nan)

    def _start_pyspy(self, name: str) -> tuple[subprocess.Popen[bytes] | None, Path]:
        out = self.workdir / f"profile-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.txt"
        if not self.pyspy:
            return None, out
        # --native shows what Python frames hide (the garbage collector, orjson, TLS,
        # gRPC) but pauses the apiserver for each sample: a modest rate keeps that small.
        spy = subprocess.Popen(
            [self.pyspy, "record", "--pid", str(self.pids["apiserver"]), "--rate", "50",
             "--native", "--nolineno", "--format", "raw", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        time.sleep(0.3)  # let it attach before the load starts
        return spy, out

    def _stop_pyspy(self, name: str, spy: subprocess.Popen[bytes] | None, out: Path) -> None:
        if spy is None:
            return
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            spy.wait(20)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(5)
        if out.exists() and (profile := summarize_profile(out.read_text(errors="replace"))):
            self.profiles[name] = profile


# -- the benchmark ----------------------------------------------------------------------

@dataclass
class Results:
    """Everything one run measured, for the summary and the markdown section."""

    command: str
    scale: Scale
    machine: dict[str, str] = field(default_factory=dict)
    pod_bytes: tuple[int, int] = (0, 0)  # as sent, as returned by the apiserver
    closed: dict[tuple[str, int], Latencies] = field(default_factory=dict)
    paced: Latencies | None = None
    paced_lag: float = 0.0
    seed: Latencies | None = None
    full_list: Latencies | None = None
    paged_list: Latencies | None = None
    list_bytes: int = 0
    watch: Latencies | None = None  # delays from each write's response
    watch_from_send: Latencies | None = None
    watch_missing: int = 0
    watch_connect: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)


class Bench:
    """Runs the phases against one etcd + apiserver within a global deadline."""

    def __init__(self, api: Apiserver, etcd: Etcd, observer: Observer, results: Results,
                 deadline: float) -> None:
        self.api, self.etcd, self.observer, self.r = api, etcd, observer, results
        self.scale, self.deadline = results.scale, deadline

    async def phase(self, name: str, timeout: float, body: Callable[[], Awaitable[Any]],
                    ) -> None:
        """Run one phase within its timeout and the global deadline; record a failure."""
        budget = min(timeout, self.deadline - time.monotonic())
        if budget < 1:
            self.r.failures[name] = "skipped: global deadline reached"
            return
        print(f"  {name} ...", file=sys.stderr, flush=True)
        try:
            async with asyncio.timeout(budget):
                await body()
        except TimeoutError:
            self.r.failures[name] = f"timed out after {budget:.0f}s"
        except Exception as exc:
            self.r.failures[name] = f"{type(exc).__name__}: {exc}"[:300]

    @contextlib.asynccontextmanager
    async def clients(self, concurrency: int) -> Any:
        """Enough AsyncClients for `concurrency` tasks at TASKS_PER_CLIENT each."""
        clients = [self.api.async_client()
                   for _ in range(math.ceil(concurrency / TASKS_PER_CLIENT))]
        try:
            yield clients
        finally:
            for c in clients:
                await c.aclose()

    async def run(self) -> None:
        async with self.api.async_client() as client:
            for ns in ("bench", "bench-small", "bench-paced", "bench-watch", "bench-list"):
                await client.create("namespaces", {"metadata": {"name": ns}})
            created = await client.create("pods", pod("size-probe", "bench"))
            self.r.pod_bytes = (len(orjson.dumps(pod("size-probe", "bench"))),
                                len(orjson.dumps(created)))
            for i in range(self.scale.small_list_pods):
                await client.create("pods", pod(f"small-{i}", "bench-small"))
        for level in LEVELS:
            await self.phase(f"etcd put c={level}", 60, lambda c=level: self.etcd_put(c))
        for verb in ("create", "get", "list"):
            for level in LEVELS:
                await self.phase(f"{verb} c={level}", 90,
                                 lambda v=verb, c=level: self.closed(v, c))
        await self.phase("paced create", self.scale.paced_count / self.scale.paced_rate + 60,
                         self.paced)
        await self.phase("watch fan-out", 120, self.watch_fanout)
        await self.phase("seed 10k pods", 180, self.seed)
        if self.r.seed is not None:
            await self.phase("list 10k", 90, self.big_lists)

    async def etcd_put(self, level: int) -> None:
        """Raw puts of a pod-sized value through etcd's v3 JSON gateway (plain HTTP, or TLS
        with the apiserver's client certificate under --etcd-tls)."""
        value = base64.b64encode(orjson.dumps(pod("raw", "bench"))).decode()

        async def put(http: httpx.AsyncClient, i: int) -> None:
            key = base64.b64encode(f"/bench-raw/c{level}/{i}".encode()).decode()
            (await http.post("/v3/kv/put", json={"key": key, "value": value})
             ).raise_for_status()

        https = [httpx.AsyncClient(base_url=self.etcd.url, timeout=30,
                                   verify=self.etcd.ssl_context())
                 for _ in range(math.ceil(level / TASKS_PER_CLIENT))]
        try:
            await closed_loop(level, level, https, put)  # open every connection first
            with self.observer.phase(f"etcd put c={level}", self.scale.ops, profile=False):
                self.r.closed[("etcd put", level)] = await closed_loop(
                    self.scale.ops, level, https, put)
        finally:
            for h in https:
                await h.aclose()

    async def closed(self, verb: str, level: int) -> None:
        ops: dict[str, Callable[[AsyncClient, int], Awaitable[Any]]] = {
            "create": lambda c, i: c.create("pods", pod(f"c{level}-{i}", "bench")),
            "get": lambda c, i: c.get("pods", f"c{level}-{i % self.scale.ops}", "bench"),
            "list": lambda c, i: c.list("pods", "bench-small"),
        }
        async with self.clients(level) as clients:
            await closed_loop(level, level, clients,  # open every connection first
                              lambda c, i: c.get("pods", "size-probe", "bench"))
            with self.observer.phase(f"{verb} c={level}", self.scale.ops):
                self.r.closed[(verb, level)] = await closed_loop(self.scale.ops, level,
                                                                 clients, ops[verb])

    async def paced(self) -> None:
        async with self.clients(64) as clients:
            await closed_loop(64, 64, clients, lambda c, i: c.list("pods", "bench-paced"))
            with self.observer.phase("paced create", self.scale.paced_count):
                self.r.paced, self.r.paced_lag = await open_loop(
                    self.scale.paced_count, self.scale.paced_rate, clients,
                    lambda c, i: c.create("pods", pod(f"paced-{i}", "bench-paced")))

    async def seed(self) -> None:
        async with self.clients(64) as clients:
            with self.observer.phase("seed 10k pods c=64", self.scale.list_pods):
                self.r.seed = await closed_loop(
                    self.scale.list_pods, 64, clients,
                    lambda c, i: c.create("pods", pod(f"p-{i:05d}", "bench-list")))

    async def big_lists(self) -> None:
        """Pages of 500 (client-go's pager) and one unpaginated list, `list_runs` times each."""
        want = len(self.r.seed.samples) if self.r.seed else 0
        self.r.paged_list, self.r.full_list = paged, full = Latencies(), Latencies()
        async with self.api.async_client() as client:
            await client.list("pods", "bench-small")  # open the connection
            with self.observer.phase("list 10k in pages", self.scale.list_runs):
                for _ in range(self.scale.list_runs):
                    start = time.perf_counter()
                    items, _ = await client.list_all("pods", "bench-list", page_size=500)
                    paged.samples.append(time.perf_counter() - start)
                    if len(items) != want:
                        raise AssertionError(f"paged list: {len(items)} pods, not {want}")
            with self.observer.phase("list 10k whole", self.scale.list_runs):
                for _ in range(self.scale.list_runs):
                    start = time.perf_counter()
                    try:
                        resp = await client.request("GET", "/api/v1/namespaces/bench-list/pods")
                        count = len(orjson.loads(resp.content)["items"])
                    except Exception as exc:
                        full.fail(exc)
                        continue
                    full.samples.append(time.perf_counter() - start)
                    self.r.list_bytes = len(resp.content)
                    if count != want:
                        raise AssertionError(f"whole list: {count} pods, not {want}")

    # -- watch fan-out ------------------------------------------------------------------

    async def registered_watchers(self, http: httpx.AsyncClient) -> int:
        text = (await http.get("/metrics")).text
        found = re.search(r'^apiserver_registered_watchers\{resource="pods"\} (\S+)$', text,
                          re.M)
        return int(float(found.group(1))) if found else 0

    async def watch_fanout(self) -> None:
        """N watchers, then paced creates; the delay of each event at each watcher."""
        n, ns = self.scale.watchers, "bench-watch"
        ctx = ssl.create_default_context(cadata=self.api.ca_pem.decode())
        streams = [RawWatch() for _ in range(n)]
        writes: dict[str, tuple[float, float]] = {}
        async with self.api.async_client() as writer, httpx.AsyncClient(
                base_url=self.api.url, verify=ctx, timeout=10,
                headers={"Authorization": f"Bearer {self.api.token}"}) as metrics:
            rv = (await writer.list("pods", ns))["metadata"]["resourceVersion"]
            target = f"/api/v1/namespaces/{ns}/pods?" + urlencode(
                {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "600"})
            base = await self.registered_watchers(metrics)
            gate = asyncio.Semaphore(64)  # TLS handshakes in flight while connecting

            async def watch(stream: RawWatch) -> None:
                async with gate:
                    reader = await stream.open(self.api.url, target, self.api.token, ctx)
                await stream.read(reader)

            async def write(i: int, due: float) -> None:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                sent = time.perf_counter()
                obj = await writer.create("pods", pod(f"w-{i}", ns))
                writes[obj["metadata"]["resourceVersion"]] = (sent, time.perf_counter())

            start = time.perf_counter()
            tasks = [asyncio.create_task(watch(s)) for s in streams]
            try:
                while await self.registered_watchers(metrics) < base + n:
                    if ended := [t for t in tasks if t.done()]:
                        raise RuntimeError(f"a watch ended while connecting: {ended[0]!r}")
                    await asyncio.sleep(0.1)
                self.r.watch_connect = time.perf_counter() - start
                await writer.list("pods", ns)  # open the writer's connection
                with self.observer.phase("watch fan-out", n * self.scale.watch_writes):
                    t0 = time.perf_counter() + 0.1
                    await asyncio.gather(*(write(i, t0 + i * self.scale.write_interval)
                                           for i in range(self.scale.watch_writes)))
                    drain_until = time.perf_counter() + 30
                    while (min(s.events for s in streams) < len(writes)
                           and time.perf_counter() < drain_until):
                        await asyncio.sleep(0.01)
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await asyncio.gather(*(s.close() for s in streams))
        self.r.watch, self.r.watch_from_send, self.r.watch_missing = deliveries(streams,
                                                                                writes)


# -- machine and report -----------------------------------------------------------------

def background_load(seconds: float = 2.0) -> float:
    """% of one core other work kept busy before the run: a shared machine shows here."""
    before = machine_busy()
    time.sleep(seconds)
    return 100 * (machine_busy() - before) / seconds


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    etcd = subprocess.run([find_etcd(), "--version"], capture_output=True, text=True,
                          timeout=10).stdout.splitlines()
    git = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                         capture_output=True, text=True, timeout=10).stdout.strip()
    return {
        "cores": str(os.cpu_count()), "cpu": model.group(1).strip() if model else "?",
        "memory": f"{int(mem.group(1)) / 2**20:.1f} GiB" if mem else "?",
        "python": platform.python_version(),
        "etcd": etcd[0].split(":", 1)[-1].strip() if etcd else "?",
        "commit": git or "?", "background": f"{background_load():.0f}%",
    }


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    return "never" if math.isinf(seconds) else f"{seconds * 1000:.1f}"


def verdict(value: float, target: float) -> str:
    return "—" if math.isnan(value) else ("met" if value <= target else "**missed**")


def render(r: Results, obs: Observer, date: str) -> str:
    """The markdown section: figures, targets, cost per phase and what bounds each figure."""
    m = r.machine
    out = [
        f"Command: `{r.command}` — {date} — commit `{m.get('commit', '?')}`",
        "",
        f"Machine: {m.get('cores')} cores ({m.get('cpu')}), {m.get('memory')}, "
        f"Python {m.get('python')}, etcd {m.get('etcd')}. Other work on the machine used "
        f"{m.get('background')} of one core just before the run. etcd ("
        f"{'TLS with client certificates' if obs.etcd.client_tls else 'plain HTTP'}), the "
        "apiserver (TLS, one uvicorn process) and the benchmark client (one uvloop process) "
        f"share the machine. Pod: {r.pod_bytes[0]} bytes of JSON as sent, "
        f"{r.pod_bytes[1]} as stored.",
        "", *render_requests(r), "", *render_targets(r), "", *render_costs(obs, m),
        "", "### What bounds it", "", *bounds(r, obs),
    ]
    if r.failures:
        out += ["", "### Not measured", ""]
        out += [f"- {name}: {why}" for name, why in r.failures.items()]
    return "\n".join(out) + "\n"


def render_requests(r: Results) -> list[str]:
    out = ["### Requests (closed loop)", "",
           f"{TASKS_PER_CLIENT} concurrent requests per client connection pool. The ratio "
           "divides each p50 by raw etcd put's p50 at the same concurrency.", "",
           "| op | concurrency | ops | ops/s | p50 ms | p99 ms | errors | p50 / etcd put p50 |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for (verb, level), lat in r.closed.items():
        base = r.closed.get(("etcd put", level))
        ratio = lat.p(50) / base.p(50) if base and base.samples and lat.samples else math.nan
        label = {"etcd put": "etcd put (raw, JSON gateway)",
                 "list": f"list ({r.scale.small_list_pods} pods)"}.get(verb, verb)
        out.append(f"| {label} | {level} | {len(lat.samples)} | {lat.rate:.0f} | "
                   f"{ms(lat.p(50))} | {ms(lat.p(99))} | {lat.errors} | "
                   f"{'—' if math.isnan(ratio) else f'{ratio:.1f}'} |")
    return out


def render_targets(r: Results) -> list[str]:
    s = r.scale
    out = ["### Targets", "", "| figure | p50 | p99 | max | target | |",
           "|---|---:|---:|---:|---|---|"]

    def row(label: str, lat: Latencies, target: str, check: str) -> None:
        out.append(f"| {label} | {ms(lat.p(50))} ms | {ms(lat.p(99))} ms | {ms(lat.p(100))} ms"
                   f" | {target} | {check} |")

    if r.paced:
        row(f"paced create, {s.paced_rate:.0f}/s for {s.paced_count / s.paced_rate:.0f} s "
            f"({len(r.paced.samples)} ok, {r.paced.errors} errors; scheduler lag max "
            f"{ms(r.paced_lag)} ms)", r.paced, "p99 ≤ 50 ms",
            verdict(r.paced.p(99), TARGETS["paced_p99"]))
    if r.watch and r.watch_from_send:
        row(f"watch delivery after the write's response, {s.watchers} watchers, "
            f"{len(r.watch.samples) // max(1, s.watchers)} events each "
            f"({r.watch_missing} missing)", r.watch, "p99 ≤ 200 ms",
            verdict(r.watch.p(99), TARGETS["watch_p99"]))
        row("… the same, from the write's send", r.watch_from_send, "", "")
    for label, lat in ((f"list {s.list_pods:,} pods in pages of 500 (list_all)",
                        r.paged_list),
                       (f"list {s.list_pods:,} pods unpaginated"
                        + (f" ({r.list_bytes / 2**20:.1f} MiB)" if r.list_bytes else ""),
                        r.full_list)):
        if lat is None:
            continue
        if lat.samples:
            row(f"{label}, {len(lat.samples)} runs", lat, "p50 ≤ 1 s",
                verdict(lat.p(50), TARGETS["list"]))
        else:
            out.append(f"| {label}: **failed** ({lat.first_error}) | | | | p50 ≤ 1 s | "
                       "**missed** |")
    if r.seed:
        row(f"(seeding: {len(r.seed.samples):,} creates at concurrency 64, "
            f"{r.seed.rate:.0f}/s, {r.seed.errors} errors)", r.seed, "", "")
    if r.watch_connect:
        out.append(f"| (opening {s.watchers} watches took {r.watch_connect:.1f} s) | | | | | |")
    return out


def render_costs(obs: Observer, m: dict[str, str]) -> list[str]:
    out = ["### Cost of each phase", "",
           f"CPU as % of one core (the machine has {m.get('cores')}) and per op; etcd WAL "
           "fsyncs from etcd's /metrics. *Other processes* is everything else on the "
           "machine (py-spy included when profiling).", "",
           "| phase | wall s | apiserver | etcd | client | other processes "
           "| apiserver CPU/op | client CPU/op | fsyncs | fsync mean ms |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, u in obs.usage.items():
        out.append(f"| {name} | {u.wall:.1f} | {u.apiserver:.0f}% | {u.etcd:.0f}% | "
                   f"{u.client:.0f}% | {u.others:.0f}% | {cpu_per_op(u.per_op(u.apiserver))}"
                   f" | {cpu_per_op(u.per_op(u.client))} | {u.fsyncs} | "
                   f"{ms(u.fsync_mean)} |")
    return out


def cpu_per_op(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    return f"{seconds * 1e3:.1f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def bottleneck(u: Usage, cores: int, fallback: bool) -> str:
    """Which resource limits a phase, read off its CPU figures ('' if none and not `fallback`)."""
    if u.apiserver >= 85:
        return ("The apiserver is CPU-bound: its one Python event loop is saturated and "
                "requests queue in it.")
    if u.apiserver + u.etcd + u.client + u.others >= 85 * cores:
        return (f"The machine's {cores} cores are saturated (other processes took "
                f"{u.others:.0f}% of one core), so the figure is inflated by contention.")
    if u.client >= 85:
        return "The benchmark client is CPU-bound: the figure is a lower bound."
    if not fallback:
        return ""
    return ("No process is saturated: the time goes to round trips between the processes "
            "(and, for writes, etcd's fsync), not to a CPU ceiling.")


def bounds(r: Results, obs: Observer) -> list[str]:
    """One note per phase, computed from its measured cost and (with --profile) its profile."""
    cores, s, u = int(r.machine.get("cores") or 1), r.scale, obs.usage

    def note(key: str, title: str, text: str, fallback: bool = True) -> str:
        x = u[key]
        out = (f"- **{title}** ({key}, {x.wall:.1f} s): apiserver {x.apiserver:.0f}% of one "
               f"core, etcd {x.etcd:.0f}%, client {x.client:.0f}%, other processes "
               f"{x.others:.0f}%. {text}")
        if not key.startswith("etcd") and (why := bottleneck(x, cores, fallback)):
            out += " " + why
        if profile := obs.profiles.get(key):
            areas = ", ".join(f"{a} {share:.0%}" for a, share in profile.areas)
            funcs = "; ".join(f"`{f}` {share:.0%}" for f, share in profile.functions[:3])
            out += (f" py-spy ({profile.samples} busy samples of the apiserver): {areas}; "
                    f"hottest Python frames {funcs}.")
        return out

    notes = []
    for verb, title in (("create", "Create"), ("get", "Get"), ("list", "Small list")):
        key, lat = f"{verb} c=64", r.closed.get((verb, 64))
        if key in u and lat:
            per = u[key].per_op(u[key].apiserver)
            notes.append(note(key, title, (
                f"The apiserver spends {cpu_per_op(per)} of CPU per {verb} and the client "
                f"{cpu_per_op(u[key].per_op(u[key].client))}, so one core caps the apiserver "
                f"near {1 / per:,.0f}/s; this run reached {lat.rate:.0f}/s.")))
    if "paced create" in u:
        x = u["paced create"]
        busy = x.apiserver + x.etcd + x.client + x.others
        text = (f"At {s.paced_rate:.0f}/s the apiserver needs "
                f"{100 * s.paced_rate * x.per_op(x.apiserver):.0f}% of one core "
                f"({cpu_per_op(x.per_op(x.apiserver))} per create), the client "
                f"{100 * s.paced_rate * x.per_op(x.client):.0f}% and etcd {x.etcd:.0f}%; with "
                f"the other processes the machine was {busy / cores:.0f}% busy, so requests "
                "queue for a CPU as well as for etcd's fsync")
        if r.paced and r.paced.samples:
            text += f": p99 is {r.paced.p(99) / r.paced.p(50):.1f} times p50"
        text += "."
        notes.append(note("paced create", "Paced create", text, fallback=False))
    if "watch fan-out" in u:
        x = u["watch fan-out"]
        per, offered = x.per_op(x.apiserver), s.watchers / s.write_interval
        text = (f"Every write goes to {s.watchers} watchers: one write every "
                f"{s.write_interval * 1000:.0f} ms is {offered:,.0f} deliveries/s at "
                f"{cpu_per_op(per)} of apiserver CPU each, {100 * offered * per:.0f}% of one "
                "core.")
        if offered * per > 1:
            text += (" That is more than one core: events queue in the apiserver's single "
                     "event loop whatever else runs on the machine, and the delay grows "
                     "through the burst.")
        notes.append(note("watch fan-out", "Watch fan-out", text, fallback=offered * per <= 1))
    if "list 10k in pages" in u and r.paged_list and r.paged_list.samples:
        x = u["list 10k in pages"]
        api_cpu, client_cpu = x.per_op(x.apiserver), x.per_op(x.client)
        text = (f"Pages are fetched one after another, so the two ends work in turn: per full "
                f"list the apiserver spends {cpu_per_op(api_cpu)} of CPU and the client "
                f"{cpu_per_op(client_cpu)}, against a p50 of {ms(r.paged_list.p(50))} ms.")
        if r.full_list and not r.full_list.samples:
            text += f" The unpaginated list fails: {r.full_list.first_error}."
        notes.append(note("list 10k in pages", f"{s.list_pods:,}-pod list", text,
                          fallback=False))
    if "etcd put c=64" in u:
        x = u["etcd put c=64"]
        notes.append(note("etcd put c=64", "Raw etcd put", (
            f"etcd's WAL fsync averaged {ms(x.fsync_mean)} ms and it made {x.fsyncs} fsyncs "
            f"for {x.ops} puts: concurrent puts share an fsync.")))
    if not obs.profiles:
        notes.append("- (run with --profile for py-spy's breakdown of the apiserver's time)")
    return notes


# -- entry point ------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="divide every count by 10")
    p.add_argument("--write", type=Path, metavar="PATH",
                   help="replace the bench:api section of this markdown file")
    p.add_argument("--profile", action="store_true",
                   help="sample the apiserver with py-spy during each phase")
    p.add_argument("--workdir", type=Path, metavar="DIR",
                   help="keep logs and profiles here instead of in a temporary directory")
    p.add_argument("--etcd-tls", action="store_true",
                   help="etcd private, as `schooner up` and the lab run it: TLS with client "
                        "certificates, the apiserver given its own")
    p.add_argument("--deadline", type=float, default=300.0,
                   help="seconds the whole run may take before phases are skipped")
    return p.parse_args(argv)


def pyspy_binary() -> str | None:
    sibling = Path(sys.executable).parent / "py-spy"
    return str(sibling) if sibling.exists() else shutil.which("py-spy")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scale = Scale().quick() if args.quick else Scale()
    exe = sys.executable
    if exe.startswith(str(ROOT)):
        exe = os.path.relpath(exe, ROOT)
    command = shlex.join([exe, "bench/api.py", *(sys.argv[1:] if argv is None else argv)])
    pyspy = pyspy_binary() if args.profile else None
    if args.profile and not pyspy:
        print("py-spy not found: running without a profile", file=sys.stderr)
    deadline = time.monotonic() + args.deadline
    results = Results(command, scale, machine())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below runs
    with tempfile.TemporaryDirectory(prefix="schooner-bench-") as tmp:
        work = args.workdir or Path(tmp)
        etcd = Etcd(work / "etcd", tls=args.etcd_tls)
        api = Apiserver(work / "apiserver", etcd.url, etcd_tls=etcd.client_tls)
        try:
            etcd.start()
            api.start()
            observer = Observer(api.process.pid, etcd, work, pyspy)
            print(f"etcd {etcd.url}, apiserver {api.url}; phases:", file=sys.stderr)
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(Bench(api, etcd, observer, results, deadline).run())
        except BaseException:
            print(f"apiserver log:\n{api.process.log_tail(40)}", file=sys.stderr)
            raise
        finally:
            api.stop()
            etcd.stop()
    section = render(results, observer, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print("\n" + section)
    if args.write:
        write_section(args.write, "api", "API (bench/api.py)", section)
        print(f"wrote {args.write}", file=sys.stderr)
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
