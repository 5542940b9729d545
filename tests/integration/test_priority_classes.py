"""PriorityClass against a real apiserver and etcd: the system classes, Priority admission,
and the same through kubectl and the official Python client."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import Apiserver, Etcd

pytestmark = pytest.mark.integration
PC = "priorityclasses.scheduling.k8s.io"


def pod(name: str, **spec: object) -> dict:
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


@pytest.fixture
def fresh(fresh_apiserver: tuple[Etcd, Apiserver]) -> Iterator[tuple[Client, Apiserver]]:
    """An apiserver of its own: a global default class changes every pod created after it."""
    _, apiserver = fresh_apiserver
    with apiserver.client() as c:
        yield c, apiserver


def test_system_classes_exist_and_cannot_be_deleted(client: Client) -> None:
    node = client.get(PC, "system-node-critical")
    cluster = client.get(PC, "system-cluster-critical")
    assert (node["value"], cluster["value"]) == (2000001000, 2000000000)
    assert node["preemptionPolicy"] == "PreemptLowerPriority"
    with pytest.raises(errors.Forbidden, match="system priority class and cannot be deleted"):
        client.delete(PC, "system-node-critical")


def test_a_pod_gets_its_classs_priority_and_an_unknown_class_is_refused(
        client: Client, namespace: str) -> None:
    client.create(PC, {"metadata": {"name": "high-it"}, "value": 1000})
    try:
        created = client.create("pods", pod("p1", priorityClassName="high-it"), namespace)
        assert created["spec"]["priority"] == 1000
        plain = client.create("pods", pod("p2"), namespace)
        assert plain["spec"]["priority"] == 0
        with pytest.raises(errors.Forbidden, match="no PriorityClass with name nope was found"):
            client.create("pods", pod("p3", priorityClassName="nope"), namespace)
        with pytest.raises(errors.Forbidden, match=r"integer value of priority \(5\)"):
            client.create("pods", pod("p4", priorityClassName="high-it", priority=5), namespace)
    finally:
        client.delete(PC, "high-it")


def test_bad_classes_are_refused_with_the_field(client: Client) -> None:
    with pytest.raises(errors.Invalid, match="value: Forbidden: maximum allowed value"):
        client.create(PC, {"metadata": {"name": "too-high"}, "value": 1_000_000_001})
    with pytest.raises(errors.Invalid, match=r"metadata\.name: Forbidden: priority class names"):
        client.create(PC, {"metadata": {"name": "system-mine"}, "value": 1})
    client.create(PC, {"metadata": {"name": "fixed"}, "value": 7})
    try:
        current = client.get(PC, "fixed")
        with pytest.raises(errors.Invalid, match="value: Forbidden: may not be changed"):
            client.update(PC, {**current, "value": 8})
    finally:
        client.delete(PC, "fixed")


def test_one_global_default_which_pods_without_a_class_get(
        fresh: tuple[Client, Apiserver]) -> None:
    c, _ = fresh
    c.create(PC, {"metadata": {"name": "everyone"}, "value": 300, "globalDefault": True})
    with pytest.raises(errors.Forbidden, match="everyone is already marked as default"):
        c.create(PC, {"metadata": {"name": "second"}, "value": 1, "globalDefault": True})
    created = c.create("pods", pod("p"), "default")
    assert created["spec"]["priorityClassName"] == "everyone"
    assert created["spec"]["priority"] == 300


def test_a_restarted_apiserver_keeps_the_system_classes(
        fresh_apiserver: tuple[Etcd, Apiserver]) -> None:
    _, apiserver = fresh_apiserver
    apiserver.stop()
    apiserver.start()  # finds the classes there: the bootstrap must not fail on them
    with apiserver.client() as c:
        names = {o["metadata"]["name"] for o in c.list(PC)["items"]}
    assert {"system-node-critical", "system-cluster-critical"} <= names


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_lists_and_describes_priority_classes(apiserver: Apiserver,
                                                      tmp_path: Path) -> None:
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")
    out = subprocess.run(["kubectl", "--kubeconfig", str(config), "get", "pc"],
                         capture_output=True, text=True, timeout=60,
                         env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    header, *rows = out.stdout.splitlines()
    assert header.split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert any(r.split()[:3] == ["system-node-critical", "2000001000", "false"] for r in rows)


def test_the_official_python_client_reads_them(apiserver: Apiserver, tmp_path: Path) -> None:
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")
    api = k8s.SchedulingV1Api(k8s_config.new_client_from_config(str(config)))
    classes = {pc.metadata.name: pc.value for pc in api.list_priority_class().items}
    assert classes["system-cluster-critical"] == 2000000000


def test_schooners_cli_finds_the_kind_through_discovery(apiserver: Apiserver,
                                                        tmp_path: Path) -> None:
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")
    schooner = str(Path(sys.executable).parent / "schooner")
    out = subprocess.run([schooner, "--kubeconfig", str(config), "get", "pc"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    header, *rows = out.stdout.splitlines()
    # Columns the CLI does not know itself come from the server's Table, as kubectl's do.
    assert header.split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert any(r.split()[:3] == ["system-cluster-critical", "2000000000", "false"]
               for r in rows)
