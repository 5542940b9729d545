"""The official Python client's `watch.Watch().stream` and `read_namespaced_pod_log`."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.cluster.layout import Paths, resolve_ports, saved_ports
from cli.cluster.processes import wait_for
from tests.compat.conftest import Cluster
from tests.compat.officialobjects import pod, status_of

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")


@pytest.fixture
def core(official: Any, cluster: Cluster) -> Any:
    from kubernetes import client

    return client.CoreV1Api(official)


def _stream(core: Any, namespace: str, **kwargs: Any) -> list[tuple[str, str, str]]:
    """(type, name, value of data.k) of each event until the server ends the watch; the
    root-ca-cert-publisher's kube-root-ca.crt, in every namespace as in Kubernetes, left
    out."""
    from kubernetes import watch

    return [(e["type"], e["object"].metadata.name, (e["object"].data or {}).get("k", ""))
            for e in watch.Watch().stream(core.list_namespaced_config_map, namespace,
                                          timeout_seconds=2, **kwargs)
            if e["object"].metadata.name != "kube-root-ca.crt"]


@pytest.mark.compat("watch.Watch().stream: ADDED, MODIFIED, DELETED in order")
def test_watch_events_in_order(core: Any, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}, "data": {"k": "1"}})
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "b"}, "data": {"k": "1"}})
    core.patch_namespaced_config_map("b", namespace, {"data": {"k": "2"}})
    core.delete_namespaced_config_map("b", namespace)

    assert _stream(core, namespace) == [("ADDED", "a", "1")]  # no version: the state now
    assert _stream(core, namespace, resource_version=start) == [
        ("ADDED", "b", "1"), ("MODIFIED", "b", "2"), ("DELETED", "b", "2")]
    assert _stream(core, namespace, resource_version=start,
                   label_selector="missing=yes") == []


@pytest.mark.compat("watch resumes from a resource_version")
def test_watch_resumes_where_it_stopped(core: Any, namespace: str) -> None:
    from kubernetes import watch

    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    for i in range(3):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm{i}"}})
    w = watch.Watch()
    first = []
    for event in w.stream(core.list_namespaced_config_map, namespace,
                          resource_version=start, timeout_seconds=10):
        first.append(event["object"].metadata.name)
        if len(first) == 2:
            w.stop()
    assert first == ["cm0", "cm1"]
    # Watch remembers the last version it saw; a new stream from it goes on from there.
    rest = [e["object"].metadata.name for e in watch.Watch().stream(
        core.list_namespaced_config_map, namespace, resource_version=w.resource_version,
        timeout_seconds=2)]
    assert rest == ["cm2"]


@pytest.mark.compat("watch with allow_watch_bookmarks")
def test_bookmarks_carry_a_resource_version(core: Any, namespace: str) -> None:
    from kubernetes import watch

    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    w = watch.Watch()
    kinds: list[str] = []
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=start,
                          allow_watch_bookmarks=True, timeout_seconds=30):
        kinds.append(event["type"])
        if event["type"] == "BOOKMARK":
            marker = event["raw_object"]
            assert marker["kind"] == "ConfigMap" and marker["apiVersion"] == "v1"
            assert int(marker["metadata"]["resourceVersion"]) >= int(start)
            assert w.resource_version == marker["metadata"]["resourceVersion"]
            w.stop()
    assert kinds[0] == "ADDED" and kinds[-1] == "BOOKMARK"


def _compact(cluster: Cluster) -> None:
    """Compact the cluster's etcd to its current revision (the apiserver does it every
    few minutes in Kubernetes; the throwaway cluster has not yet). etcd is private: the
    request goes over TLS with the apiserver's etcd client certificate from the home."""
    paths = Paths(Path(cluster.kubeconfig).parent)
    port = resolve_ports(saved_ports(paths), {}).etcd
    tls = paths.apiserver_etcd_client
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.load_cert_chain(str(tls.cert), str(tls.key))
    with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context, timeout=10,
                      trust_env=False) as etcd:
        rev = int(etcd.post("/v3/kv/range", json={"key": "AA=="}).json()["header"]["revision"])
        etcd.post("/v3/kv/compaction", json={"revision": rev, "physical": True}
                  ).raise_for_status()


@pytest.mark.compat("watch from an expired resource_version: ApiException 410")
def test_an_expired_version_is_410_gone(core: Any, namespace: str, cluster: Cluster) -> None:
    from kubernetes import watch
    from kubernetes.client.exceptions import ApiException

    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    _compact(cluster)
    with pytest.raises(ApiException) as failed:
        list(watch.Watch().stream(core.list_namespaced_config_map, namespace,
                                  resource_version="2", timeout_seconds=5))
    assert failed.value.status == 410 and failed.value.reason.startswith("Expired: ")
    with pytest.raises(ApiException) as failed:
        core.list_namespaced_config_map(namespace, resource_version="2",
                                        resource_version_match="Exact")
    assert failed.value.status == 410

    # Without timeout_seconds the client retries once itself, then raises the 410.
    with pytest.raises(ApiException) as failed:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, namespace,
                                      resource_version="2", _request_timeout=30):
            pass
    assert failed.value.status == 410


def _running(core: Any, namespace: str, name: str, ready: int = 1) -> Any:
    def started() -> Any:
        p = core.read_namespaced_pod(name, namespace)
        statuses = p.status.container_statuses or []
        return sum(1 for s in statuses if s.state.running) >= ready and p

    return wait_for(started, 120, f"pod {name} running")


TICKS = ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick $i; "
                     "sleep 0.5; done"]


@pytest.mark.compat("read_namespaced_pod_log: tail_lines, timestamps, since_seconds, "
                    "limit_bytes, container")
def test_log_options(core: Any, namespace: str) -> None:
    from kubernetes.client.exceptions import ApiException

    spec = pod("ticker", command=TICKS)
    spec["spec"]["containers"].append({**spec["spec"]["containers"][0], "name": "side",
                                       "command": ["sh", "-c", "echo from the side; "
                                                   "trap 'exit 0' TERM; sleep 3600 & wait"]})
    core.create_namespaced_pod(namespace, spec)
    _running(core, namespace, "ticker", ready=2)

    def log(**kwargs: Any) -> list[str]:
        return str(core.read_namespaced_pod_log("ticker", namespace, container="main",
                                                **kwargs)).splitlines()

    whole = wait_for(lambda: len(lines := log()) >= 8 and lines, 60, "eight ticks")
    assert whole[:3] == ["tick 1", "tick 2", "tick 3"]
    tail = log(tail_lines=2)
    assert len(tail) == 2 and tail[0].startswith("tick ")
    assert int(tail[1].split()[1]) == int(tail[0].split()[1]) + 1
    stamped = log(tail_lines=3, timestamps=True)
    assert len(stamped) == 3 and all(TIMESTAMP.match(line) for line in stamped)
    recent = log(since_seconds=1)
    assert 1 <= len(recent) <= 4 and "tick 1" not in recent
    assert log(limit_bytes=9) == ["tick 1", "ti"]
    with pytest.raises(ApiException) as failed:
        log(tail_lines=-1)
    assert failed.value.status == 422
    assert status_of(failed.value)["details"]["causes"][0]["field"] == "tailLines"
    with pytest.raises(ApiException) as failed:
        log(limit_bytes=0)
    assert failed.value.status == 422
    assert str(core.read_namespaced_pod_log("ticker", namespace, container="side")) == \
        "from the side\n"


@pytest.mark.compat("read_namespaced_pod_log: previous")
def test_previous_container_log(core: Any, namespace: str) -> None:
    from kubernetes.client.exceptions import ApiException

    command = ["sh", "-c", "echo run at $(date +%s%N); sleep 1; exit 3"]
    core.create_namespaced_pod(namespace, pod("restarts", command=command))

    def restarted() -> Any:
        p = core.read_namespaced_pod("restarts", namespace)
        status = (p.status.container_statuses or [None])[0]
        return status and status.restart_count >= 1 and status.state.running and status

    status = wait_for(restarted, 120, "the container restarted")
    assert status.last_state.terminated.exit_code == 3
    previous = str(core.read_namespaced_pod_log("restarts", namespace, previous=True))
    current = str(core.read_namespaced_pod_log("restarts", namespace))
    assert previous.startswith("run at ") and current.startswith("run at ")
    assert previous != current

    core.create_namespaced_pod(namespace, pod("fresh"))
    _running(core, namespace, "fresh")
    with pytest.raises(ApiException) as failed:
        core.read_namespaced_pod_log("fresh", namespace, previous=True)
    assert failed.value.status == 400
    assert status_of(failed.value)["message"] == \
        'previous terminated container "main" in pod "fresh" not found'


@pytest.mark.compat("read_namespaced_pod_log: follow with _preload_content=False")
def test_follow_streams_new_lines(core: Any, namespace: str) -> None:
    core.create_namespaced_pod(namespace, pod("ticker", command=TICKS))
    _running(core, namespace, "ticker")
    response = core.read_namespaced_pod_log("ticker", namespace, follow=True,
                                            _preload_content=False, _request_timeout=60)
    seen: list[str] = []
    try:
        buffered = ""
        for chunk in response.stream(64):
            buffered += chunk.decode()
            *lines, buffered = buffered.split("\n")
            seen += lines
            if len(seen) >= 6:
                break
    finally:
        response.close()
    assert seen[:6] == [f"tick {i}" for i in range(1, 7)]
