"""The apiserver or etcd away longer than the grace period, then back: no pod evicted.

A real etcd, apiserver and controller-manager with three hollow nodes
(`python -m agent --hollow 3`) renewing their Leases every second. Grace
periods are short so the test is quick: `--node-monitor-grace-period 8s`,
`--node-monitor-period 1s`, and the apiserver's DefaultTolerationSeconds at 1 s,
so any NoExecute taint on a node would evict its pods almost at once. Then the
apiserver is killed (and the controller-manager restarted, as a leader that
lost its Lease is) or etcd stopped, for `OUTAGE` seconds (1.5 grace periods),
and started again, the agents frozen meanwhile and thawed only half a grace period
after: the controller-manager could see no Lease change, which
is the control plane's fault, so it judges nothing; after the outage every node gets
a full grace period to renew before it is judged, and nothing of the hollow nodes' is
evicted, deleted or restarted. Meanwhile a dead node added after the outage
(`ghost`) is judged and its pod evicted: eviction works in this configuration. Every
process is stopped by PID.

`SCHOONER_OUTAGE_SECONDS=60 SCHOONER_OUTAGE_GRACE=15` runs the issue's 60-second
version with Schooner's default grace period.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apimachinery.client import Client
from apimachinery.meta import Object
from cli.cluster.processes import (
    Apiserver,
    Etcd,
    Process,
    start_controller_manager,
    wait_for,
)
from tests.integration.test_hollow_nodes import ready, start_until

pytestmark = [pytest.mark.chaos, pytest.mark.long]  # `make chaos`, not `make test`

PREFIX = "outage-"
NODES, PODS_PER_NODE = 3, 2
GRACE = float(os.environ.get("SCHOONER_OUTAGE_GRACE", "8"))
OUTAGE = float(os.environ.get("SCHOONER_OUTAGE_SECONDS", str(1.5 * GRACE)))
NO_EXECUTE_KEYS = {"node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"}





class Plane:
    """This module's etcd, apiserver, controller-manager and hollow nodes."""

    def __init__(self, workdir: Path) -> None:
        self.etcd = Etcd(workdir / "etcd")
        self.apiserver = Apiserver(workdir / "apiserver", self.etcd.url, extra_args=[
            "--default-not-ready-toleration-seconds", "1",
            "--default-unreachable-toleration-seconds", "1"])
        self.workdir = workdir
        self.procs: list[Process] = []

    def start(self) -> None:
        self.etcd.start()
        self.apiserver.start()
        kubeconfig = self.apiserver.kubeconfig(self.workdir / "kubeconfig")
        self.start_manager()
        self.hollow = start_until(Process("hollow", [
            sys.executable, "-m", "agent", "--hollow", str(NODES), "--hollow-name-prefix",
            PREFIX, "--hollow-start-delay", "100ms", "--hollow-lease-renew-interval", "1s",
            "--kubeconfig", str(kubeconfig)], self.workdir / "hollow.log"),
            f"hollow nodes ready nodes={NODES}", 30)
        self.procs.append(self.hollow)

    def start_manager(self) -> None:
        self.manager = start_controller_manager(
            self.apiserver.component_kubeconfig(self.workdir / "cm.kubeconfig",
                                                "controller-manager"),
            self.workdir / "controller-manager.log",
            "--node-monitor-grace-period", f"{GRACE:g}s", "--node-monitor-period", "1s")
        self.procs.insert(0, self.manager)

    def stop_manager(self) -> None:
        """A leader controller-manager that cannot renew its Lease exits (and is started
        again), in Kubernetes and in the lab."""
        self.manager.stop()
        self.procs.remove(self.manager)

    def outage(self, down: Callable[[], None], up: Callable[[], None]) -> None:
        """`down()`, wait OUTAGE, `up()`. The agents are frozen (SIGSTOP) meanwhile and
        thawed half a grace period after `up()`, as agents in back-off get through late:
        judged by their Leases' own timestamps, every node would look dead then."""
        self.hollow_signal(signal.SIGSTOP)
        try:
            down()
            time.sleep(OUTAGE)
            up()
            time.sleep(GRACE / 2)
        finally:
            self.hollow_signal(signal.SIGCONT)

    def hollow_signal(self, sig: signal.Signals) -> None:
        os.kill(self.hollow.pid, sig)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.apiserver.stop()
        self.etcd.stop()

    def manager_log(self) -> str:
        return self.manager.log_path.read_text(errors="replace")


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[Plane]:
    plane = Plane(tmp_path)
    try:
        plane.start()
        yield plane
    finally:
        plane.stop()


def pod(name: str, node: str, app: str = "outage") -> Object:
    return {"metadata": {"name": name, "labels": {"app": app}}, "spec": {
        "nodeName": node, "containers": [{"name": "main", "image": "schooner/busybox:latest"}]}}


def running_pods(client: Client) -> dict[str, Object]:
    """The hollow nodes' pods, Running and Ready, keyed by name."""
    for n in range(NODES):
        for i in range(PODS_PER_NODE):
            client.create("pods", pod(f"p{n}-{i}", f"{PREFIX}{n}"), "default")
    wanted = NODES * PODS_PER_NODE

    def all_ready() -> dict[str, Object] | None:
        items = client.list("pods", "default", label_selector="app=outage")["items"]
        good = {p["metadata"]["name"]: p for p in items if ready(p)}
        return good if len(good) == wanted else None

    return wait_for(all_ready, 30, f"{wanted} pods Running and Ready", 0.3)


def add_ghost(client: Client) -> None:
    """The control: a node whose Lease never moves, with a pod, to be evicted."""
    client.create("nodes", {"metadata": {"name": "ghost"}})
    client.create("leases", {"metadata": {"name": "ghost"}, "spec": {
        "holderIdentity": "ghost", "leaseDurationSeconds": 40,
        "renewTime": "2026-01-01T00:00:00.000000Z"}}, "kube-node-lease")
    client.create("pods", pod("ghost-pod", "ghost", app="ghost"), "default")


def ghost_evicted(client: Client) -> bool:
    return bool(client.get("pods", "ghost-pod", "default")["metadata"].get("deletionTimestamp"))


def check_untouched(client: Client, before: dict[str, Object]) -> list[str]:
    """What went wrong since `before`: pods gone, deleted, restarted; NoExecute taints."""
    problems: list[str] = []
    items = {p["metadata"]["name"]: p for p in
             client.list("pods", "default", label_selector="app=outage")["items"]}
    for name, old in before.items():
        now = items.get(name)
        if now is None or now["metadata"]["uid"] != old["metadata"]["uid"]:
            problems.append(f"{name} deleted")
        elif now["metadata"].get("deletionTimestamp"):
            problems.append(f"{name} evicted")
        elif [c.get("restartCount") for c in now["status"].get("containerStatuses") or []] != \
                [c.get("restartCount") for c in old["status"].get("containerStatuses") or []]:
            problems.append(f"{name} restarted")
    for node in client.list("nodes")["items"]:
        if not node["metadata"]["name"].startswith(PREFIX):
            continue
        keys = {t["key"] for t in node["spec"].get("taints") or []} & NO_EXECUTE_KEYS
        if keys:
            problems.append(f"{node['metadata']['name']} tainted {sorted(keys)}")
    return problems


def watch_after_outage(plane: Plane, client: Client, before: dict[str, Object]) -> None:
    """For 1.5 grace periods after the outage: nothing of the hollow nodes' evicted,
    deleted, restarted; meanwhile a dead node added after the outage is judged and its
    pod evicted (so this configuration does evict, and 0 is a measurement)."""
    add_ghost(client)
    deadline = time.monotonic() + 1.5 * GRACE
    while time.monotonic() < deadline:
        problems = check_untouched(client, before)
        assert not problems, f"{problems}\n{plane.manager.log_tail(40)}"
        time.sleep(0.5)
    assert ghost_evicted(client), plane.manager.log_tail(40)
    items = client.list("pods", "default", label_selector="app=outage")["items"]
    assert all(ready(p) for p in items) and len(items) == len(before)
    nodes = [n for n in client.list("nodes")["items"]
             if n["metadata"]["name"].startswith(PREFIX)]
    assert all(next(c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready")
               == "True" for n in nodes)


def test_an_apiserver_outage_evicts_nothing(plane: Plane) -> None:
    with plane.apiserver.client() as client:
        before = running_pods(client)
    def down() -> None:
        plane.apiserver.process.kill()
        plane.stop_manager()

    def up() -> None:
        plane.apiserver.start()
        plane.start_manager()  # it finds every Lease as old as the outage

    plane.outage(down, up)
    with plane.apiserver.client() as client:
        watch_after_outage(plane, client, before)
    assert "decision=evict pod=default/p" not in plane.manager_log()


def test_an_etcd_outage_evicts_nothing(plane: Plane) -> None:
    with plane.apiserver.client() as client:
        before = running_pods(client)
    plane.outage(plane.etcd.stop, plane.etcd.start)
    with plane.apiserver.client() as client:
        wait_for(lambda: client.list("pods", "default")["items"] is not None, 30,
                 "the apiserver answering again from etcd", 0.5)
        watch_after_outage(plane, client, before)
    log = plane.manager_log()
    assert "decision=control-plane-away" in log and "decision=control-plane-back" in log, \
        plane.manager.log_tail(40)
    assert "decision=evict pod=default/p" not in log
