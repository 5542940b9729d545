"""Control-plane faults in the lab (issue 15 items 5 and 10), on the session lab of
3 etcd members and 2 apiservers, every component given both apiservers.

- One apiserver killed (`docker kill`) or frozen (`docker pause`: it accepts
  connections and never answers) for SCHOONER_OUTAGE_SECONDS, longer than the
  controller-manager's 15 s node grace: every node stays Ready (a watch on nodes
  sees no other Ready status) and a Deployment scales up and down meanwhile. The
  apiserver lost is the one the leading controller-manager sends to at the time.
- Both apiservers stopped, or 2 of the 3 etcd members (quorum lost), for
  SCHOONER_OUTAGE_SECONDS, then started: no pod evicted, deleted or restarted
  (uids and restartCounts unchanged), no NoExecute taint, nodes Ready, through
  a node grace after the return.

Neither may make an apiserver answer a 500 (an exception it let through).

Each test starts what it stopped and waits for a healthy lab before it ends.
Figures are printed (`-s`); docs/reliability.md records them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object
from cli.cluster.processes import wait_for
from lab.readiness import wait_for_apiserver
from lab.testing import SchoonerCluster
from lab.topology import APISERVER_PORT
from tests.lab.conftest import deployment, ready_pods
from tests.lab.test_lab_leader_election import service_of, wait_for_holder

# make test: 20 s (past the 15 s node grace); make chaos: the 60 s.
OUTAGE = float(os.environ.get("SCHOONER_OUTAGE_SECONDS", "20"))
NODE_GRACE = 15.0  # the controller-manager's --node-monitor-grace-period (the lab's default)


class Recorder:
    """Follows one resource (list, then watch with bookmarks) in a thread of its own,
    noting every object version as it arrives, with the wall-clock time."""

    def __init__(self, cluster: SchoonerCluster, servers: list[str], resource: str,
                 namespace: str | None = None) -> None:
        self.client = cluster.client(*servers)
        self.resource, self.namespace = resource, namespace
        self.seen: list[tuple[float, Object]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Recorder:
        self._thread.start()
        wait_for(lambda: bool(self.seen), 30, f"a first list of {self.resource}", 0.2)
        return self

    def __exit__(self, *exc_info: object) -> None:
        time.sleep(1)  # what was written just before is delivered
        self._stop.set()
        self._thread.join(timeout=20)
        self.client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                items, rv = self.client.list_all(self.resource, self.namespace)
                self.seen.extend((time.time(), item) for item in items)
                for event in self.client.watch(self.resource, self.namespace,
                                               resource_version=rv, allow_bookmarks=True,
                                               timeout_seconds=10):
                    if event.type in ("ADDED", "MODIFIED"):
                        self.seen.append((time.time(), event.object))
                    if self._stop.is_set():
                        return
            except errors.APIError:  # the apiservers are away: try again shortly
                time.sleep(0.5)


def ready_status(node: Object) -> str:
    return next((c["status"] for c in (node.get("status") or {}).get("conditions") or []
                 if c["type"] == "Ready"), "missing")


def not_ready(nodes: Recorder) -> list[tuple[float, str, str]]:
    """Every version of a node seen with Ready other than True."""
    return [(at, n["metadata"]["name"], ready_status(n)) for at, n in nodes.seen
            if ready_status(n) != "True"]


def epoch(micro_time: str) -> float:
    return datetime.strptime(micro_time, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def renewals(leases: Recorder) -> dict[str, list[float]]:
    """Each Lease's distinct renewTimes (epoch seconds, in order), by namespace/name."""
    times: dict[str, set[float]] = {}
    for _, lease in leases.seen:
        renew = (lease.get("spec") or {}).get("renewTime")
        if renew:
            key = f"{lease['metadata']['namespace']}/{lease['metadata']['name']}"
            times.setdefault(key, set()).add(epoch(renew))
    return {key: sorted(values) for key, values in times.items()}


def longest_gaps(leases: Recorder, since: float, until: float) -> dict[str, float]:
    """Per Lease, the longest time between two renewals around [since, until]: how long
    its holder went without getting a write through."""
    gaps = {}
    for key, times in renewals(leases).items():
        window = [t for t in times if since - 15 <= t <= until + 15]
        steps = [b - a for a, b in itertools.pairwise(window) if b > since]
        if steps:
            gaps[key] = max(steps)
    return gaps


def holders(leases: Recorder, name: str) -> list[str]:
    """The holders a leader Lease had, in order, repeats collapsed."""
    out: list[str] = []
    for _, lease in leases.seen:
        if lease["metadata"]["name"] == name:
            holder = str((lease.get("spec") or {}).get("holderIdentity") or "")
            if not out or out[-1] != holder:
                out.append(holder)
    return out


def scale(client: Client, namespace: str, name: str, replicas: int, timeout: float) -> float:
    """Set a Deployment's replicas; seconds until it has exactly that many, all ready."""
    start = time.monotonic()
    client.patch("deployments", name, {"spec": {"replicas": replicas}}, namespace)

    def done() -> bool:
        d = client.get("deployments", name, namespace)
        status = d.get("status") or {}
        return (status.get("observedGeneration", 0) >= d["metadata"]["generation"]
                and status.get("replicas") == replicas
                and status.get("readyReplicas") == replicas
                and status.get("updatedReplicas") == replicas)
    wait_for(done, timeout, f"{name} at {replicas} ready replicas", 0.25)
    return time.monotonic() - start


def wait_healthy(cluster: SchoonerCluster) -> None:
    """Every apiserver ready again, and every node Ready."""
    for url in cluster.apiserver_urls:
        with cluster.client(url) as one:
            wait_for_apiserver(one, 120)
    cluster.wait_for_nodes(timeout=120)


def apiserver_in_use(cluster: SchoonerCluster, service: str) -> set[str]:
    """The apiservers a lab container has established connections to (its
    /proc/net/tcp): where its clients send now, whatever its kubeconfig said, since a
    client that moved to another apiserver stays there."""
    by_ip = {cluster.node_ip(name): name for name in cluster.config.apiserver_names()}
    code, out = cluster.node_exec(service, "cat", "/proc/net/tcp")
    assert code == 0, out
    used = set()
    for line in out.splitlines()[1:]:
        fields = line.split()
        remote, state = fields[2], fields[3]
        address, port = remote.split(":")
        if state == "01" and int(port, 16) == APISERVER_PORT:
            ip = ".".join(str(b) for b in reversed(bytes.fromhex(address)))
            if ip in by_ip:
                used.add(by_ip[ip])
    return used


def clients_of(cluster: SchoonerCluster, apiserver: str) -> list[str]:
    """The nodes, schedulers and controller-managers connected to `apiserver`."""
    cfg = cluster.config
    services = [*cfg.node_names(), *cfg.scheduler_names(), *cfg.controller_manager_names()]
    return [s for s in services if apiserver in apiserver_in_use(cluster, s)]


def leader_apiserver(cluster: SchoonerCluster, client: Client) -> str:
    """The apiserver the leading controller-manager sends to now: the one it is
    connected to, once idle connections to the other have gone (a connection whose
    apiserver was killed can look established until the pool drops it)."""
    leader = service_of(wait_for_holder(client, "kube-controller-manager", "", 60))

    def one() -> str:
        used = apiserver_in_use(cluster, leader)
        return used.pop() if len(used) == 1 else ""
    return str(wait_for(one, 60, f"{leader} connected to one apiserver", 0.5))


# How to inject a fault into a Docker SDK container, and how to undo it.
FAULTS: dict[str, tuple[Callable[[Any], None], Callable[[Any], None]]] = {
    "kill": (lambda c: c.kill(), lambda c: c.start()),
    "pause": (lambda c: c.pause(), lambda c: c.unpause()),
}


@contextlib.contextmanager
def fault(cluster: SchoonerCluster, services: list[str], how: str) -> Iterator[None]:
    """Inject `how` into the containers of `services`; undo it however the body ends."""
    inject, undo = FAULTS[how]
    containers = [cluster.container(s) for s in services]
    for container in containers:
        inject(container)
    try:
        yield
    finally:
        for container in containers:
            undo(container)


@pytest.mark.parametrize("how", [
    pytest.param("kill", marks=pytest.mark.long), pytest.param("pause", marks=pytest.mark.long)])
def test_one_apiserver_lost_leaves_nodes_ready_and_deployments_scaling(
        cluster: SchoonerCluster, client: Client, namespace: str, how: str) -> None:
    target = leader_apiserver(cluster, client)
    urls = dict(zip(cluster.config.apiserver_names(), cluster.apiserver_urls, strict=True))
    survivor = next(url for name, url in urls.items() if name != target)
    on_target = clients_of(cluster, target)
    with cluster.client(survivor, urls[target]) as api:
        api.create("deployments", deployment("scaled", 2), namespace)
        ready_pods(api, namespace, "scaled", 2)
        with (Recorder(cluster, [survivor], "nodes") as nodes,
              Recorder(cluster, [survivor], "leases") as leases):
            start = time.time()
            with fault(cluster, [target], how):
                up = scale(api, namespace, "scaled", 5, 120)
                down = scale(api, namespace, "scaled", 2, 120)
                time.sleep(max(0.0, OUTAGE - (time.time() - start)))
            end = time.time()
            wait_healthy(cluster)
    crashes = unhandled_errors(cluster, start)
    gaps = longest_gaps(leases, start, end)
    node_gaps = {k: v for k, v in gaps.items() if k.startswith("kube-node-lease/")}
    print(f"\n{how} {target} (the clients of {', '.join(on_target)}) for "
          f"{end - start:.1f}s: scale 2->5 ready in {up:.1f}s, "
          f"5->2 in {down:.1f}s; longest Lease renewal gaps: "
          + ", ".join(f"{k} {v:.1f}s" for k, v in sorted(gaps.items()))
          + f"; leader holders: scheduler {holders(leases, 'kube-scheduler')}, "
          f"controller-manager {holders(leases, 'kube-controller-manager')}; "
          f"not-Ready node versions seen: {len(not_ready(nodes))}; "
          f"unhandled exceptions (500s) in the apiservers: "
          f"{ {name: len(found) for name, found in crashes.items()} }")
    assert not not_ready(nodes), not_ready(nodes)
    assert not any(crashes.values()), crashes
    assert len(node_gaps) == len(cluster.config.node_names()), gaps
    assert max(node_gaps.values()) < NODE_GRACE, node_gaps


def snapshot(client: Client, namespace: str) -> dict[str, tuple[str, int, bool]]:
    """Each pod of the namespace by uid: its node, its restarts, whether it is going."""
    pods = client.list("pods", namespace)["items"]
    return {p["metadata"]["uid"]: (
        p["spec"].get("nodeName", ""),
        sum(c.get("restartCount", 0) for c in (p.get("status") or {}).get(
            "containerStatuses") or []),
        bool(p["metadata"].get("deletionTimestamp"))) for p in pods}


def no_execute_taints(client: Client) -> list[str]:
    return [f"{n['metadata']['name']}:{t['key']}" for n in client.list("nodes")["items"]
            for t in (n.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]


ASGI_ERROR = "Exception in ASGI application"


def unhandled_errors(cluster: SchoonerCluster, since: float) -> dict[str, list[str]]:
    """Per apiserver, the exceptions it let through to its ASGI server (which answers
    500 and logs "Exception in ASGI application" and a traceback) since then: the
    last frames and the exception of each."""
    found = {}
    for name in cluster.config.apiserver_names():
        text = cluster.container(name).logs(since=int(since)).decode(errors="replace")
        found[name] = [_exception_of(chunk) for chunk in text.split(ASGI_ERROR)[1:]]
    return found


def _exception_of(traceback: str) -> str:
    """The exception line of a logged traceback and the frames just above it."""
    lines = traceback.splitlines()[1:]
    for i, line in enumerate(lines):
        if line and not line[0].isspace() and not line.startswith(
                ("Traceback", "During handling", "The above exception", "+", "|")):
            return "\n".join(lines[max(0, i - 6):i + 4])
    return "\n".join(lines[:8])


OUTAGES = {"apiservers": lambda cfg: cfg.apiserver_names(),
           "etcd-quorum": lambda cfg: cfg.etcd_names()[1:]}


@pytest.mark.parametrize("what", [
    pytest.param("apiservers", marks=pytest.mark.long),
    pytest.param("etcd-quorum", marks=pytest.mark.long)])
def test_control_plane_away_evicts_deletes_and_restarts_nothing(
        cluster: SchoonerCluster, client: Client, namespace: str, what: str) -> None:
    client.create("deployments", deployment("steady", 3), namespace)
    ready_pods(client, namespace, "steady", 3)
    before = snapshot(client, namespace)
    began = time.time()
    assert len(before) == 3 and len({node for node, _, _ in before.values()}) >= 2, before
    services = OUTAGES[what](cluster.config)
    with Recorder(cluster, cluster.apiserver_urls, "nodes") as nodes, \
            Recorder(cluster, cluster.apiserver_urls, "leases", "kube-node-lease") as leases:
        for service in services:
            cluster.container(service).stop(timeout=2)
        try:
            time.sleep(OUTAGE)
        finally:
            for service in services:
                cluster.container(service).start()
        back = time.time()
        wait_for_apiserver(client, 120)
        answering = time.time() - back

        def all_renewed() -> bool:
            times = renewals(leases)
            return all(times.get(f"kube-node-lease/{n}", [0])[-1] > back
                       for n in cluster.config.node_names())
        wait_for(all_renewed, 120, "every node Lease renewed after the outage", 0.25)
        renewed = time.time() - back
        # Through a node grace and a monitor pass after the return: nothing judged.
        changes: list[str] = []
        while time.time() < back + NODE_GRACE + 5:
            now = snapshot(client, namespace)
            if now != before:
                changes.append(f"pods {before} -> {now}")
            if taints := no_execute_taints(client):
                changes.append(f"NoExecute taints {taints}")
            time.sleep(1)
        wait_healthy(cluster)
    lost = [seen for seen in not_ready(nodes) if seen[0] > back]
    crashes = unhandled_errors(cluster, began)
    print(f"\n{what} ({', '.join(services)}) away {OUTAGE:.0f}s: apiserver answering "
          f"{answering:.1f}s after the start, every node Lease renewed after "
          f"{renewed:.1f}s; pods evicted/deleted/restarted: {len(changes)}; "
          f"not-Ready node versions seen after the return: {len(lost)}; "
          f"unhandled exceptions (500s) in the apiservers: "
          f"{ {name: len(found) for name, found in crashes.items()} }")
    assert not changes, changes[:3]
    assert not lost, lost
    assert not any(crashes.values()), crashes
