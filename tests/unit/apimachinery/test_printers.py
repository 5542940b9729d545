"""The server-side printers: kubectl's columns and cell text, from wire-format dicts."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apimachinery.printers import (
    age,
    column_definitions,
    format_endpoints,
    format_label_selector,
    human_duration,
    pod_ready,
    pod_restarts,
    pod_status,
    row_cells,
    to_table,
)
from apimachinery.resources import ResourceInfo, by_plural

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def ts(ago: timedelta) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def container_status(name: str, state: dict[str, Any], *, ready: bool = False,
                     restarts: int = 0, last: dict[str, Any] | None = None) -> dict[str, Any]:
    status = {"name": name, "ready": ready, "restartCount": restarts, "image": "nginx:1.27",
              "imageID": "", "state": state}
    if last is not None:
        status["lastState"] = last
    return status


def make_pod(*statuses: dict[str, Any], phase: str = "Running",
             init: Sequence[dict[str, Any]] = (), init_specs: Sequence[dict[str, Any]] = (),
             **extra: Any) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-7d4b9c-x2x9k", "namespace": "default", "uid": "u-1",
                     "creationTimestamp": ts(timedelta(hours=1)), "labels": {"app": "web"}},
        "spec": {"nodeName": "node-1", "initContainers": list(init_specs),
                 "containers": [{"name": s["name"], "image": "nginx:1.27"} for s in statuses]},
        "status": {"phase": phase, "podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}],
                   "initContainerStatuses": list(init), "containerStatuses": list(statuses)},
    }
    for key, value in extra.items():
        pod["status"][key] = value
    return pod


RUNNING = {"running": {"startedAt": ts(timedelta(minutes=59))}}
CRASHLOOP = container_status(
    "web", {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
    restarts=7, last={"terminated": {"exitCode": 1, "reason": "Error",
                                     "finishedAt": ts(timedelta(minutes=5))}})


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (-1, "0s"), (-2, "<invalid>"), (59, "59s"), (119.9, "119s"), (120, "2m"),
    (125, "2m5s"), (599, "9m59s"), (600, "10m"), (10_799, "179m"), (10_800, "3h"),
    (3 * 3600 + 300, "3h5m"), (8 * 3600, "8h"), (47 * 3600 + 59, "47h"), (48 * 3600, "2d"),
    (49 * 3600, "2d1h"), (8 * 86_400, "8d"), (729 * 86_400, "729d"), (730 * 86_400, "2y"),
    (731 * 86_400, "2y1d"), (8 * 365 * 86_400, "8y"),
])
def test_human_duration_matches_kubernetes(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_age_is_time_since_creation_or_unknown() -> None:
    assert age({"metadata": {"creationTimestamp": ts(timedelta(minutes=5))}}, NOW) == "5m"
    assert age({"metadata": {}}, NOW) == "<unknown>"


@pytest.mark.parametrize(("pod", "status"), [
    (make_pod(container_status("web", RUNNING, ready=True)), "Running"),
    (make_pod(CRASHLOOP), "CrashLoopBackOff"),
    (make_pod(container_status("web", {"waiting": {"reason": "ContainerCreating"}}),
              phase="Pending"), "ContainerCreating"),
    (make_pod(container_status("web", {"waiting": {"reason": "ErrImagePull"}}),
              phase="Pending"), "ErrImagePull"),
    (make_pod(container_status("web", {"waiting": {"reason": "ImagePullBackOff"}}),
              phase="Pending"), "ImagePullBackOff"),
    (make_pod(container_status("job", {"terminated": {"exitCode": 0, "reason": "Completed"}}),
              phase="Succeeded"), "Completed"),
    (make_pod(container_status("job", {"terminated": {"exitCode": 2, "reason": "Error"}}),
              phase="Failed"), "Error"),
    (make_pod(container_status("job", {"terminated": {"exitCode": 137}}), phase="Failed"),
     "ExitCode:137"),
    (make_pod(container_status("job", {"terminated": {"exitCode": 143, "signal": 15}}),
              phase="Failed"), "Signal:15"),
    (make_pod(phase="Pending"), "Pending"),
    (make_pod(container_status("web", {"terminated": {"exitCode": 137, "reason": "Evicted"}}),
              phase="Failed", reason="Evicted"), "Evicted"),
])
def test_pod_status_follows_kubectl(pod: dict[str, Any], status: str) -> None:
    assert pod_status(pod) == status


def test_init_containers_report_progress_then_failures() -> None:
    init_specs = [{"name": "migrate", "image": "migrate"}, {"name": "warm", "image": "warm"}]
    done = container_status("migrate", {"terminated": {"exitCode": 0, "reason": "Completed"}})
    waiting = container_status("warm", {"waiting": {"reason": "PodInitializing"}})
    web = container_status("web", {"waiting": {"reason": "PodInitializing"}})
    assert pod_status(make_pod(web, init=[done, waiting], init_specs=init_specs,
                               phase="Pending")) == "Init:1/2"
    crashing = container_status("warm", {"waiting": {"reason": "CrashLoopBackOff"}}, restarts=3)
    pod = make_pod(web, init=[done, crashing], init_specs=init_specs, phase="Pending")
    assert pod_status(pod) == "Init:CrashLoopBackOff"
    assert pod_restarts(pod) == "3"
    failed = container_status("warm", {"terminated": {"exitCode": 1}})
    assert pod_status(make_pod(web, init=[done, failed], init_specs=init_specs,
                               phase="Pending")) == "Init:ExitCode:1"
    killed = container_status("warm", {"terminated": {"exitCode": 137, "signal": 9}})
    assert pod_status(make_pod(web, init=[done, killed], init_specs=init_specs,
                               phase="Pending")) == "Init:Signal:9"


def test_a_sidecar_counts_as_a_container_and_does_not_block_initialization() -> None:
    sidecar_spec = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    sidecar = container_status("proxy", RUNNING, ready=True) | {"started": True}
    pod = make_pod(container_status("web", RUNNING, ready=True), init=[sidecar],
                   init_specs=sidecar_spec)
    assert (pod_status(pod), pod_ready(pod)) == ("Running", "2/2")


def test_deletion_shows_terminating_unless_the_pod_already_finished() -> None:
    pod = make_pod(container_status("web", RUNNING, ready=True))
    pod["metadata"]["deletionTimestamp"] = ts(timedelta(seconds=-30))
    assert pod_status(pod) == "Terminating"
    finished = make_pod(container_status("job", {"terminated": {"exitCode": 0,
                                                                 "reason": "Completed"}}),
                        phase="Succeeded")
    finished["metadata"]["deletionTimestamp"] = ts(timedelta(0))
    assert pod_status(finished) == "Completed"
    lost = make_pod(container_status("web", RUNNING), reason="NodeLost")
    lost["metadata"]["deletionTimestamp"] = ts(timedelta(0))
    assert pod_status(lost) == "Unknown"


def test_completed_container_beside_a_running_one_reads_running_or_not_ready() -> None:
    pod = make_pod(container_status("web", RUNNING, ready=True),
                   container_status("setup", {"terminated": {"exitCode": 0,
                                                             "reason": "Completed"}}))
    assert pod_status(pod) == "NotReady"
    pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    assert pod_status(pod) == "Running"


def test_scheduling_gated_pod() -> None:
    pod = make_pod(phase="Pending", conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}])
    assert pod_status(pod) == "SchedulingGated"


def test_ready_and_restarts_columns() -> None:
    pod = make_pod(container_status("web", RUNNING, ready=True), CRASHLOOP)
    assert pod_ready(pod) == "1/2"
    assert pod_restarts(pod, NOW) == "7 (5m ago)"
    assert pod_restarts(pod) == "7"
    assert pod_restarts(make_pod(container_status("web", RUNNING, ready=True)), NOW) == "0"


def test_pod_columns_and_wide_cells() -> None:
    pods = by_plural("pods")
    columns = column_definitions(pods)
    assert [(c["name"], c["priority"]) for c in columns] == [
        ("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0), ("IP", 1),
        ("Node", 1), ("Nominated Node", 1), ("Readiness Gates", 1)]
    assert columns[0]["format"] == "name"
    assert all(set(c) == {"name", "type", "format", "description", "priority"} for c in columns)
    assert row_cells(pods, make_pod(CRASHLOOP), NOW) == [
        "web-7d4b9c-x2x9k", "0/1", "CrashLoopBackOff", "7 (5m ago)", "60m", "10.244.1.7",
        "node-1", "<none>", "<none>"]


def test_pending_pod_shows_none_for_missing_ip_and_node() -> None:
    pod = make_pod(phase="Pending")
    del pod["spec"]["nodeName"]
    pod["status"].update(podIP="", podIPs=[])
    pod["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"}]
    pod["status"]["conditions"] = [{"type": "example.com/lb", "status": "True"}]
    assert row_cells(by_plural("pods"), pod, NOW)[5:] == ["<none>", "<none>", "<none>", "1/1"]


DEPLOYMENT_MID_ROLLOUT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ts(timedelta(days=3))},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                 {"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "fluent"}]}}},
    "status": {"replicas": 4, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2,
               "unavailableReplicas": 2},
}


def test_deployment_mid_rollout_row() -> None:
    deployments = by_plural("deployments")
    assert [c["name"] for c in column_definitions(deployments) if c["priority"] == 0] == [
        "Name", "Ready", "Up-to-date", "Available", "Age"]
    assert row_cells(deployments, DEPLOYMENT_MID_ROLLOUT, NOW) == [
        "web", "2/3", 1, 2, "3d", "web,log", "nginx:1.27,fluent", "app=web"]


def test_replica_set_and_stateful_set_rows() -> None:
    rs = copy.deepcopy(DEPLOYMENT_MID_ROLLOUT) | {"kind": "ReplicaSet"}
    rs["spec"]["selector"] = {"matchLabels": {"app": "web"}, "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["b", "a"]}]}
    rs["status"] = {"replicas": 3, "readyReplicas": 1}
    columns = column_definitions(by_plural("replicasets"))
    assert [c["type"] for c in columns[1:4]] == ["integer"] * 3
    assert row_cells(by_plural("replicasets"), rs, NOW) == [
        "web", 3, 3, 1, "3d", "web,log", "nginx:1.27,fluent", "app=web,tier in (a,b)"]
    sts = copy.deepcopy(DEPLOYMENT_MID_ROLLOUT) | {"kind": "StatefulSet"}
    assert row_cells(by_plural("statefulsets"), sts, NOW) == [
        "web", "2/3", "3d", "web,log", "nginx:1.27,fluent"]


def test_label_selector_text() -> None:
    assert format_label_selector(None) == "<none>"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchLabels": {"b": "2", "a": "1"}, "matchExpressions": [
        {"key": "c", "operator": "Exists"}, {"key": "0", "operator": "DoesNotExist"}]}) == \
        "!0,a=1,b=2,c"


def service(svc_type: str, ports: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default",
                         "creationTimestamp": ts(timedelta(hours=26))},
            "spec": {"type": svc_type, "clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"],
                     "ports": ports, "selector": {"app": "web"}, **spec}}


def test_service_rows() -> None:
    services = by_plural("services")
    node_port = service("NodePort", [{"port": 80, "targetPort": 8080, "nodePort": 30080,
                                      "protocol": "TCP"},
                                     {"port": 53, "protocol": "UDP"}])
    assert row_cells(services, node_port, NOW) == [
        "web", "NodePort", "10.96.0.12", "<none>", "80:30080/TCP,53/UDP", "26h", "app=web"]
    headless = service("ClusterIP", [], clusterIP="None", clusterIPs=["None"], selector={})
    assert row_cells(services, headless, NOW)[2:] == ["None", "<none>", "<none>", "26h",
                                                       "<none>"]
    pending = service("LoadBalancer", [{"port": 443}])
    assert row_cells(services, pending, NOW)[3:5] == ["<pending>", "443/TCP"]
    exposed = service("LoadBalancer", [{"port": 443}], externalIPs=["192.0.2.9"])
    exposed["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}
    assert row_cells(services, exposed, NOW)[3] == "203.0.113.7,192.0.2.9"
    external = service("ExternalName", [], externalName="db.example.com")
    assert row_cells(services, external, NOW)[3] == "db.example.com"


def test_endpoints_text() -> None:
    assert format_endpoints({"subsets": []}) == "<none>"
    two = {"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                        "ports": [{"port": 80, "protocol": "TCP"}]}]}
    assert format_endpoints(two) == "10.0.0.1:80,10.0.0.2:80"
    five = {"subsets": [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 6)],
                         "ports": [{"port": 80}]}]}
    assert format_endpoints(five) == "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more..."
    headless = {"subsets": [{"addresses": [{"ip": "fd00::1"}]}]}
    assert format_endpoints(headless) == "fd00::1"
    v6 = {"subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"name": "http", "port": 80},
                                                                   {"name": "metrics",
                                                                    "port": 9090}]}]}
    assert format_endpoints(v6) == "[fd00::1]:80,[fd00::1]:9090"
    assert format_endpoints(v6, {"metrics"}) == "[fd00::1]:9090"
    ep = {"metadata": {"name": "web", "creationTimestamp": ts(timedelta(minutes=3))}} | two
    assert row_cells(by_plural("endpoints"), ep, NOW) == ["web", "10.0.0.1:80,10.0.0.2:80", "3m"]


def node(ready: str | None, **spec: Any) -> dict[str, Any]:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-1", "creationTimestamp": ts(timedelta(days=10)),
                         "labels": {"node-role.kubernetes.io/control-plane": "",
                                    "kubernetes.io/role": "edge", "kubernetes.io/os": "linux"}},
            "spec": spec,
            "status": {"conditions": conditions,
                       "addresses": [{"type": "InternalIP", "address": "172.18.0.2"},
                                     {"type": "Hostname", "address": "node-1"}],
                       "nodeInfo": {"kubeletVersion": "v1.32.0-schooner",
                                    "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0",
                                    "containerRuntimeVersion": "docker://27.3.1"}}}


def test_node_rows() -> None:
    nodes = by_plural("nodes")
    assert row_cells(nodes, node("True"), NOW) == [
        "node-1", "Ready", "control-plane,edge", "10d", "v1.32.0-schooner", "172.18.0.2",
        "<none>", "Debian GNU/Linux 12", "6.1.0", "docker://27.3.1"]
    assert row_cells(nodes, node("False", unschedulable=True), NOW)[1] == \
        "NotReady,SchedulingDisabled"
    bare = node(None)
    bare["metadata"]["labels"] = {}
    assert row_cells(nodes, bare, NOW)[1:3] == ["Unknown", "<none>"]


def test_small_kinds() -> None:
    created = {"name": "x", "namespace": "default", "creationTimestamp": ts(timedelta(seconds=42))}
    assert row_cells(by_plural("namespaces"), {"metadata": created,
                                               "status": {"phase": "Active"}}, NOW) == \
        ["x", "Active", "42s"]
    cm = {"metadata": created, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert row_cells(by_plural("configmaps"), cm, NOW) == ["x", 3, "42s"]
    secret = {"metadata": created, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "k": ""}}
    assert row_cells(by_plural("secrets"), secret, NOW) == ["x", "kubernetes.io/tls", 2, "42s"]
    lease = {"metadata": created, "spec": {"holderIdentity": "node-1"}}
    assert row_cells(by_plural("leases"), lease, NOW) == ["x", "node-1", "42s"]
    widget = ResourceInfo("example.com", "v1", "Widget", "widgets", True)
    assert [c["name"] for c in column_definitions(widget)] == ["Name", "Age"]
    assert row_cells(widget, {"metadata": created}, NOW) == ["x", "42s"]


def test_event_row_carries_wide_cells_in_column_order() -> None:
    events = by_plural("events")
    columns = column_definitions(events)
    assert [c["name"] for c in columns if c["priority"] == 0] == [
        "Last Seen", "Type", "Reason", "Object", "Message"]
    event = {"metadata": {"name": "web.17a2"}, "type": "Warning", "reason": "BackOff",
             "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{web}"},
             "source": {"component": "kubelet", "host": "node-1"}, "count": 12,
             "firstTimestamp": ts(timedelta(minutes=30)),
             "lastTimestamp": ts(timedelta(seconds=20)),
             "message": "Back-off restarting failed container\n"}
    assert row_cells(events, event, NOW) == [
        "20s", "Warning", "BackOff", "pod/web", "spec.containers{web}", "kubelet, node-1",
        "Back-off restarting failed container", "30m", 12, "web.17a2"]
    # 59.88s ago: Go truncates, so it reads 59s.
    new_style = {"metadata": {"name": "e"}, "eventTime": "2026-03-01T11:59:00.123456Z",
                 "reportingController": "schooner-scheduler", "involvedObject": {"kind": "Node"}}
    cells = row_cells(events, new_style, NOW)
    assert (cells[0], cells[3], cells[5], cells[8]) == ("59s", "node", "schooner-scheduler", 1)


def test_to_table_is_a_meta_v1_table() -> None:
    pods = by_plural("pods")
    pod = make_pod(container_status("web", RUNNING, ready=True))
    table = to_table(pods, [pod], NOW, resource_version="115")
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "115"}
    assert table["columnDefinitions"] == column_definitions(pods)
    (row,) = table["rows"]
    assert row["cells"][:3] == ["web-7d4b9c-x2x9k", "1/1", "Running"]
    assert row["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": pod["metadata"]}
    row["object"]["metadata"]["labels"]["app"] = "changed"
    assert pod["metadata"]["labels"]["app"] == "web", "the table must not alias the object"


def test_to_table_options() -> None:
    table = to_table(by_plural("pods"), [make_pod()], NOW, continue_token="abc",
                     include_object="None")
    assert table["metadata"] == {"resourceVersion": "", "continue": "abc"}
    assert "object" not in table["rows"][0]
    assert to_table(by_plural("pods"), [], NOW)["rows"] == []


def test_to_table_rows_carry_the_whole_object_when_asked() -> None:
    """`includeObject=Object` (kubectl get --sort-by) puts the object itself in each row."""
    pod = make_pod()
    row = to_table(by_plural("pods"), [pod], NOW, include_object="Object")["rows"][0]
    assert row["object"] == pod
    row["object"]["spec"]["nodeName"] = "elsewhere"
    assert pod["spec"].get("nodeName") != "elsewhere", "the table must not alias the object"
