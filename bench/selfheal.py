"""Self-healing and rollouts on the lab: node loss, rolling updates under load, a big rollout.

Run from the repository root (after `make images image-node`)::

    .venv/bin/python bench/selfheal.py [--node-trials 5] [--rollout-trials 3]
                                       [--write docs/benchmarks.md]

One `SchoonerCluster` of 3 Docker-in-Docker nodes (a lab of its own, removed at
the end), with the controller-manager's defaults (node grace 15 s, eviction after
10 s). Three measurements:

* **node loss**: a 6-replica web Deployment behind a NodePort Service; `docker
  kill` of a node that runs some of its pods; the time from the kill to 6 pods
  Running and Ready, none on the dead node; the requests a steady client sent
  through another node's NodePort meanwhile, and how many failed. The node is
  started again and its stale pods finalized before the next trial, which kills
  the other non-entry node.
* **rolling update under load**: the same 6-replica Deployment rolled between
  version 1 and 2 (maxSurge 25%, maxUnavailable 25%) under the steady client:
  failed requests, and the rollout's duration.
* **20-replica rollout**: scaled to 20, rolled between versions: from the image
  change to every replica updated and available with no old pod left.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from apimachinery.meta import Object

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from apimachinery.client import Client  # noqa: E402
from bench.load import SteadyClient  # noqa: E402
from bench.report import write_section  # noqa: E402
from bench.rollouts import rolled_out, set_image  # noqa: E402
from cli.cluster.processes import wait_for  # noqa: E402
from lab.testing import SchoonerCluster  # noqa: E402

NS = "bench"
IMAGE = "schooner/web-example:{}"
ENTRY_NODE = "node1"  # the steady client goes through this node's NodePort


def web(name: str, replicas: int) -> Object:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "terminationGracePeriodSeconds": 10,
                         "containers": [{
                             "name": "web", "image": IMAGE.format(1),
                             "imagePullPolicy": "IfNotPresent",
                             "ports": [{"name": "http", "containerPort": 8080}],
                             "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                                                "periodSeconds": 1, "failureThreshold": 1},
                             "lifecycle": {"preStop": {"exec": {"command": ["sleep", "2"]}}},
                             "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}


def node_port_service(name: str) -> Object:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": "NodePort", "selector": {"app": name},
                     "ports": [{"port": 80, "targetPort": "http"}]}}


def ready_pods(client: Client, name: str) -> list[Object]:
    pods = client.list("pods", NS, label_selector=f"app={name}")["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp") and any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (p.get("status") or {}).get("conditions") or [])]


@dataclass
class Trial:
    seconds: float
    requests: int
    failed: int


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, lab: SchoonerCluster, client: Client) -> None:
        self.lab, self.client = lab, client

    def deploy(self, name: str, replicas: int) -> str:
        """Create it and its NodePort Service; the URL through the entry node, once serving."""
        self.client.create("deployments", web(name, replicas), NS)
        svc = self.client.create("services", node_port_service(name), NS)
        wait_for(lambda: rolled_out(self.client, NS, name, IMAGE.format(1)), 300,
                 f"{name} available", 0.5)
        url = f"http://{self.lab.node_ip(ENTRY_NODE)}:{svc['spec']['ports'][0]['nodePort']}/"
        wait_for(lambda: SteadyClient(url).once().version == "1", 60, f"{url} answers", 0.5)
        return url

    def remove(self, name: str) -> None:
        for resource in ("deployments", "services"):
            with contextlib.suppress(Exception):
                self.client.delete(resource, name, NS)
        wait_for(lambda: not self.client.list("pods", NS, label_selector=f"app={name}")[
            "items"], 180, f"{name} pods gone", 0.5)

    def node_loss(self, trial: int) -> Trial:
        name, victim = f"loss{trial}", ("node2", "node3")[trial % 2]
        url = self.deploy(name, 6)
        on_victim = sum(1 for p in ready_pods(self.client, name)
                        if p["spec"]["nodeName"] == victim)
        if not on_victim:
            raise RuntimeError(f"no pod of {name} on {victim}: cannot measure")
        with SteadyClient(url, max_seconds=180) as load:
            killed = time.monotonic()
            self.lab.kill_node(victim)

            def moved() -> bool:
                pods = ready_pods(self.client, name)
                return len(pods) == 6 and all(p["spec"]["nodeName"] != victim for p in pods)
            wait_for(moved, 180, f"{name}'s pods off {victim}", 0.2)
            seconds = time.monotonic() - killed
        self.lab.start_node(victim)
        self.lab.wait_for_nodes(timeout=180)
        self.remove(name)
        print(f"  node loss {trial}: {victim} ({on_victim} pods) -> {seconds:.1f}s, "
              f"{load.summary()}", flush=True)
        return Trial(seconds, len(load.answers), len(load.failures()))

    def rollout(self, name: str, version: int, url: str | None) -> Trial:
        image = IMAGE.format(version)
        load = SteadyClient(url, max_seconds=300).start() if url else None
        started = time.monotonic()
        set_image(self.client, NS, name, image)
        wait_for(lambda: rolled_out(self.client, NS, name, image), 300,
                 f"{name} rolled out to {image}", 0.2)
        seconds = time.monotonic() - started
        if load is None:
            return Trial(seconds, 0, 0)
        load.stop()
        print(f"  rollout to {version}: {seconds:.1f}s, {load.summary()}", flush=True)
        return Trial(seconds, len(load.answers), len(load.failures()))


def run(lab: SchoonerCluster, args: argparse.Namespace) -> dict[str, list[Trial]]:
    with lab.client() as client:
        client.create("namespaces", {"metadata": {"name": NS}})
        bench = Bench(lab, client)
        results: dict[str, list[Trial]] = {"node": [], "roll6": [], "roll20": []}
        url = bench.deploy("roll", 6)
        for i in range(args.rollout_trials):
            results["roll6"].append(bench.rollout("roll", 2 - i % 2, url))
        client.patch("deployments", "roll", {"spec": {"replicas": 20}}, NS)
        last = 2 - (args.rollout_trials - 1) % 2
        wait_for(lambda: rolled_out(client, NS, "roll", IMAGE.format(last))
                 and len(ready_pods(client, "roll")) == 20, 300, "20 replicas", 0.5)
        for i in range(args.rollout_trials):
            results["roll20"].append(bench.rollout("roll", 1 + (last + i) % 2, None))
            print(f"  20-replica rollout {i}: {results['roll20'][-1].seconds:.1f}s", flush=True)
        bench.remove("roll")
        for trial in range(args.node_trials):
            results["node"].append(bench.node_loss(trial))
        return results


def row(label: str, trials: list[Trial], *, load: bool = True) -> str:
    secs = [t.seconds for t in trials]
    cells = [label, str(len(trials)), f"{statistics.median(secs):.1f} s",
             f"{pct(secs, 0.99):.1f} s", f"{min(secs):.1f}-{max(secs):.1f} s"]
    if load:
        cells.append(f"{sum(t.failed for t in trials)} / {sum(t.requests for t in trials)}")
    else:
        cells.append("-")
    return "| " + " | ".join(cells) + " |"


def report(results: dict[str, list[Trial]], command: str) -> str:
    lines = [
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; lab of 3 nodes; "
        "controller-manager defaults (node grace 15 s, eviction after 10 s).",
        f"Command: `{command}`", "",
        "| what | trials | p50 | p99 | range | failed / requests |",
        "|---|---|---|---|---|---|",
        row("node killed -> its pods Running and Ready elsewhere", results["node"]),
        row("6-replica rolling update under load (25%/25%)", results["roll6"]),
        row("20-replica rollout (25%/25%)", results["roll20"], load=False),
        "",
        "Node loss: a 6-replica Deployment; `docker kill` of a node holding some of its pods; "
        "time until 6 pods are Running and Ready, none on that node; the steady client "
        "(one request after another, new connection each) goes through another node's "
        "NodePort. Rollouts: from the image change until every replica is updated and "
        "available and no old pod is left.",
        "",
        "Where the node-loss time goes: the node's last Lease renewal came 0-5 s before "
        "the kill (renewed every 5 s), Unknown and tainted 15 s after that renewal, pods "
        "evicted 10 s after the taint, then a replacement's start and first readiness "
        "probe. Kubernetes' defaults (40 s grace, 300 s toleration) take over 5 minutes. "
        "A failed request there is one whose connection was open to a pod on the node "
        "when it died; new connections go to live pods (the proxy dials the next "
        "backend when one does not answer, and the dead node's pods leave the "
        "Endpoints when it is marked Unknown).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-trials", type=int, default=5)
    parser.add_argument("--rollout-trials", type=int, default=3)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    command = "python bench/selfheal.py " + " ".join(sys.argv[1:])
    with SchoonerCluster(nodes=3) as lab:
        results = run(lab, args)
    text = report(results, command.strip()) + "\n"
    print(text)
    if args.write:
        write_section(args.write, "selfheal", "Self-healing and rollouts (lab)", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
