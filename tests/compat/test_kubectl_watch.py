"""kubectl get -w: the rows it prints while objects change, with --watch-only and
--output-watch-events, and a watch bounded by --request-timeout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.cluster.processes import wait_for
from tests.compat.conftest import ROOT_CA, Cluster, Kubectl
from tests.compat.readkit import (
    gone,
    kubectl_stream,
    make,
    pod,
    wait_pod_ready,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WATCHING = "watch=true 200 OK"


def configmap(name: str) -> dict[str, object]:
    return {"metadata": {"name": name}, "data": {"k": "v"}}


@pytest.mark.compat("kubectl get -w", "kubectl get -w --output-watch-events")
def test_watch_prints_a_pod_through_its_life(cluster: Cluster, namespace: str,
                                             tmp_path: Path) -> None:
    make(cluster, namespace, "configmaps", configmap("before"))
    with (kubectl_stream(cluster, namespace, tmp_path / "a", "get", "pods", "-w") as rows,
          kubectl_stream(cluster, namespace, tmp_path / "b", "get", "pods", "-w",
                         "--output-watch-events") as events):
        rows.wait_stderr(WATCHING)
        events.wait_stderr(WATCHING)
        make(cluster, namespace, "pods", pod("p"))
        wait_pod_ready(cluster, namespace, "p")
        cluster.client.delete("pods", "p", namespace)
        wait_for(lambda: gone(cluster, "pods", "p", namespace), 90, "pod p gone")
        printed = events.wait_until(lambda lines: any(ln.startswith("DELETED") for ln in lines),
                                    "the DELETED event")
        plain = rows.wait_until(lambda lines: len(lines) >= len(printed) - 1,
                                "as many rows as events")
    assert printed[0].split() == ["EVENT", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    seen = [line.split()[:4] for line in printed[1:]]
    assert seen[0] == ["ADDED", "p", "0/1", "Pending"]
    assert ["MODIFIED", "p", "1/1", "Running"] in seen
    assert seen[-1][0] == "DELETED" and seen[-1][3] == "Terminating"
    assert [s[0] for s in seen[1:-1]] == ["MODIFIED"] * (len(seen) - 2)
    assert ["MODIFIED", "p", "1/1", "Terminating"] in seen
    # Without --output-watch-events: the same rows, no EVENT column, one header (no
    # pod existed when the watch began, so kubectl printed the header with the first row).
    assert plain[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [line.split()[:3] for line in plain[1:]] == [s[1:4] for s in seen[:len(plain) - 1]]


@pytest.mark.compat("kubectl get -w --watch-only", "kubectl get -w --request-timeout")
def test_watch_only_prints_changes_and_a_request_timeout_ends_it(
        kubectl: Kubectl, cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    make(cluster, namespace, "configmaps", configmap("before"))
    with (kubectl_stream(cluster, namespace, tmp_path / "a", "get", "cm", "--watch-only",
                         "-o", "name") as only,
          kubectl_stream(cluster, namespace, tmp_path / "b", "get", "cm", "--watch-only",
                         "--output-watch-events", "-o", "json") as as_json):
        only.wait_stderr(WATCHING)
        as_json.wait_stderr(WATCHING)
        make(cluster, namespace, "configmaps", configmap("after"))
        cluster.client.patch("configmaps", "before", {"data": {"k": "w"}}, namespace)
        cluster.client.delete("configmaps", "after", namespace)
        lines = only.wait_lines(3)
        events = as_json.wait_lines(3)  # kubectl prints each watch event on one line
    assert lines == ["configmap/after", "configmap/before", "configmap/after"]
    decoded = [json.loads(line) for line in events]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in decoded] == [
        ("ADDED", "after"), ("MODIFIED", "before"), ("DELETED", "after")]
    assert decoded[1]["object"]["data"] == {"k": "w"}
    bounded = kubectl("get", "cm", "-w", "--request-timeout=3s", timeout=60)
    assert bounded.code == 0
    assert [line.split()[:2] for line in bounded.stdout.splitlines()] == [
        ["NAME", "DATA"], ["before", "1"], [ROOT_CA, "1"]]
