"""A StatefulSet pod on a lost node is not started twice: its replacement waits.

The controller-manager runs against this module's own apiserver with a short
PodGC quarantine. No agent runs, so a pod bound to node `ghost` stays
Terminating once deleted, exactly as on a node whose agent is gone. The
replacement `db-0` appears only after the Node is deleted (and the quarantine
has passed), when PodGC force-deletes the old pod.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import (
    Apiserver,
    Process,
    own_control_plane,
    start_controller_manager,
    wait_for,
)
from tests.integration.test_controllers_network import holds, set_pod_status

NS = "default"
QUARANTINE = 3


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    with own_control_plane(tmp_path_factory.mktemp("stsloss")) as server:
        yield server


@pytest.fixture
def manager(apiserver: Apiserver, tmp_path: Path) -> Iterator[Process]:
    proc = start_controller_manager(apiserver.component_kubeconfig(
        tmp_path / "kubeconfig", "controller-manager"),
                                    tmp_path / "controller-manager.log",
                                    "--orphan-pod-quarantine", f"{QUARANTINE}s")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def client(apiserver: Apiserver) -> Iterator[Client]:
    with apiserver.client() as c:
        yield c


def db_pod(client: Client) -> dict | None:
    try:
        return client.get("pods", "db-0", NS)
    except errors.NotFound:
        return None


def test_replacement_waits_until_the_node_is_deleted(manager: Process, client: Client) -> None:
    client.create("nodes", {"metadata": {"name": "ghost"}})
    client.create("statefulsets", {"metadata": {"name": "db"}, "spec": {
        "serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [
            {"name": "db", "image": "schooner/busybox:latest"}]}}}}, NS)
    try:
        old = wait_for(lambda: db_pod(client), 30, "db-0 created")
        client.bind("db-0", "ghost", NS)
        set_pod_status(client, NS, "db-0", ip="10.244.9.9")
        client.delete("pods", "db-0", NS)  # an eviction: graceful, the agent never answers
        uid = old["metadata"]["uid"]
        holds(lambda: (db_pod(client) or {}).get("metadata", {}).get("uid") == uid,
              QUARANTINE + 2, "the old db-0 to stay (Terminating) while its node exists")
        assert db_pod(client)["metadata"].get("deletionTimestamp")

        client.delete("nodes", "ghost")  # the operator: that host is gone
        new = wait_for(lambda: (p := db_pod(client)) and p["metadata"]["uid"] != uid and p,
                       QUARANTINE + 30, "a new db-0 once the node is deleted")
        assert not new["metadata"].get("deletionTimestamp")
    finally:
        client.delete("statefulsets", "db", NS)
        with contextlib.suppress(errors.NotFound):
            client.delete("nodes", "ghost")
