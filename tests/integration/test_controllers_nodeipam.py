"""Node IPAM for real: the controller-manager with --allocate-node-cidrs, etcd and an apiserver.

No agent runs: the tests create Node objects as an agent registers them. Each
test has an etcd and apiserver of its own (Nodes are cluster-scoped, and a
controller-manager would hand CIDRs to every Node it sees).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object
from cli.cluster.processes import (
    Apiserver,
    Etcd,
    Process,
    start_controller_manager,
    wait_for,
)

TIMEOUT = 30.0
LAB_FLAGS = ["--allocate-node-cidrs", "--cluster-cidr", "172.30.128.0/17",
             "--node-cidr-mask-size", "24", "--service-cluster-ip-range", "172.30.255.0/24"]


@pytest.fixture
def cluster(fresh_apiserver: tuple[Etcd, Apiserver], tmp_path: Path
            ) -> Iterator[tuple[Client, Callable[..., Process]]]:
    """A client, and a way to start controller-managers (all stopped afterwards)."""
    _, apiserver = fresh_apiserver
    kubeconfig = apiserver.component_kubeconfig(tmp_path / "kubeconfig", "controller-manager")
    started: list[Process] = []

    def start(*flags: str) -> Process:
        log_path = tmp_path / f"controller-manager-{len(started)}.log"
        proc = start_controller_manager(kubeconfig, log_path, "--controllers", "nodeipam",
                                        *flags, timeout=TIMEOUT)
        started.append(proc)
        return proc

    with apiserver.client() as client:
        try:
            yield client, start
        finally:
            for proc in started:
                proc.stop()


def make_node(client: Client, name: str, cidr: str = "") -> Object:
    spec = {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {}
    return client.create("nodes", {"metadata": {"name": name}, "spec": spec})


def pod_cidr_of(client: Client, name: str) -> str:
    return str((client.get("nodes", name).get("spec") or {}).get("podCIDR") or "")


def wait_cidr(client: Client, name: str, proc: Process) -> str:
    return wait_for(lambda: pod_cidr_of(client, name), TIMEOUT,
                    f"a podCIDR on {name}\n{proc.log_tail()}")


def test_nodes_get_distinct_cidrs_and_keep_them(
        cluster: tuple[Client, Callable[..., Process]]) -> None:
    client, start = cluster
    make_node(client, "held", "172.30.128.0/24")  # set before the controller starts
    make_node(client, "early")
    proc = start(*LAB_FLAGS)
    assert wait_cidr(client, "early", proc) == "172.30.129.0/24"
    make_node(client, "late")
    assert wait_cidr(client, "late", proc) == "172.30.130.0/24"
    spec = client.get("nodes", "late")["spec"]
    assert spec["podCIDRs"] == ["172.30.130.0/24"]

    with pytest.raises(errors.Invalid, match='may not change podCIDR except from "" to valid'):
        client.patch("nodes", "late", {"spec": {"podCIDR": "172.30.131.0/24"}})
    assert pod_cidr_of(client, "late") == "172.30.130.0/24"
    # Status heartbeats (the agent's patches) never disturb the allocation.
    client.patch("nodes", "late", {"status": {"conditions": []}}, subresource="status")
    assert client.get("nodes", "late")["spec"]["podCIDRs"] == ["172.30.130.0/24"]


def test_a_full_range_waits_with_an_event_and_gets_a_freed_cidr(
        cluster: tuple[Client, Callable[..., Process]]) -> None:
    client, start = cluster
    # Two /24s, one of them the service range: one Node's worth of pod addresses.
    flags = ["--allocate-node-cidrs", "--cluster-cidr", "172.30.128.0/23",
             "--service-cluster-ip-range", "172.30.129.0/24"]
    proc = start(*flags)
    make_node(client, "first")
    assert wait_cidr(client, "first", proc) == "172.30.128.0/24"
    make_node(client, "second")

    def cidr_not_available() -> list[Object]:
        return [e for e in client.list("events", "default")["items"]
                if e["reason"] == "CIDRNotAvailable"
                and e["involvedObject"]["name"] == "second"]
    (event,) = wait_for(cidr_not_available, TIMEOUT, f"a CIDRNotAvailable event\n"
                                                     f"{proc.log_tail()}")
    assert event["involvedObject"]["kind"] == "Node"
    assert event["message"] == "Node second status is now: CIDRNotAvailable"
    assert pod_cidr_of(client, "second") == ""

    # A restarted controller-manager counts what Nodes hold before handing out anything.
    proc.kill()
    proc = start(*flags)
    make_node(client, "third")
    wait_for(lambda: "decision=requeue" in proc.log_path.read_text(), TIMEOUT,
             f"the restarted controller to find the range full\n{proc.log_tail()}")
    assert pod_cidr_of(client, "second") == pod_cidr_of(client, "third") == ""

    client.delete("nodes", "first")
    freed = wait_for(lambda: pod_cidr_of(client, "second") or pod_cidr_of(client, "third"),
                     TIMEOUT, f"the freed CIDR handed out again\n{proc.log_tail()}")
    assert freed == "172.30.128.0/24"
    assert sorted([pod_cidr_of(client, "second"), pod_cidr_of(client, "third")]) == [
        "", "172.30.128.0/24"]
