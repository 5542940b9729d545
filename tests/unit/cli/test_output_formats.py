"""Client-side output of `schooner get`: kubectl's table, name, JSON and YAML formats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from apimachinery.resources import ResourceInfo, by_plural
from cli.output_formats import (
    TablePrinter,
    format_watch_row,
    layout_from_table,
    render_json,
    render_names,
    render_table,
    render_yaml,
    tabwrite,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
PODS, DEPLOYMENTS, NODES = by_plural("pods"), by_plural("deployments"), by_plural("nodes")


def ts(ago: timedelta) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(name: str, *, namespace: str = "default", ready: bool = True,
        labels: dict[str, str] | None = None, waiting: str = "") -> dict[str, Any]:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {},
                         "creationTimestamp": ts(timedelta(minutes=5))},
            "spec": {"nodeName": "node-1", "containers": [{"name": "web", "image": "nginx"}]},
            "status": {"phase": "Running", "podIP": "10.244.1.7",
                       "containerStatuses": [{"name": "web", "ready": ready, "restartCount": 0,
                                              "state": state}]}}


def test_tabwrite_aligns_column_blocks_like_go() -> None:
    lines = ["Name:\tweb", "Namespace:\tdefault", "Containers:", "  web:\t", "    Image:\tnginx"]
    assert tabwrite(lines) == (
        "Name:       web\n"
        "Namespace:  default\n"
        "Containers:\n"
        "  web:      \n"
        "    Image:  nginx\n")


def test_tabwrite_minwidth_and_remembered_widths() -> None:
    assert tabwrite(["a\tb", "cc\td"], minwidth=6, padding=3) == "a     b\ncc    d\n"
    widths: dict[int, int] = {}
    assert tabwrite(["long-name\tx"], padding=3, remembered=widths) == "long-name   x\n"
    assert tabwrite(["s\ty"], padding=3, remembered=widths) == "s           y\n"
    assert widths == {0: 12}


def test_pods_table_matches_kubectl() -> None:
    pods = [pod("web-7d4b9c-x2x9k"), pod("api-0", ready=False, waiting="CrashLoopBackOff")]
    assert render_table(PODS, pods, NOW) == (
        "NAME               READY   STATUS             RESTARTS   AGE\n"
        "web-7d4b9c-x2x9k   1/1     Running            0          5m\n"
        "api-0              0/1     CrashLoopBackOff   0          5m\n")


def test_wide_all_namespaces_and_labels() -> None:
    text = render_table(PODS, [pod("web", namespace="shop", labels={"tier": "fe", "app": "web"})],
                        NOW, wide=True, all_namespaces=True, show_labels=True)
    assert text.splitlines() == [
        "NAMESPACE   NAME   READY   STATUS    RESTARTS   AGE   IP           NODE     "
        "NOMINATED NODE   READINESS GATES   LABELS",
        "shop        web    1/1     Running   0          5m    10.244.1.7   node-1   "
        "<none>           <none>            app=web,tier=fe"]
    no_labels = render_table(PODS, [pod("web")], NOW, show_labels=True)
    assert no_labels.splitlines()[1].endswith("5m    <none>")


def test_cluster_scoped_kinds_get_no_namespace_column() -> None:
    node = {"metadata": {"name": "node-1", "creationTimestamp": ts(timedelta(days=2))},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"kubeletVersion": "v1.32.0"}}}
    assert render_table(NODES, [node], NOW, all_namespaces=True) == (
        "NAME     STATUS   ROLES    AGE   VERSION\n"
        "node-1   Ready    <none>   2d    v1.32.0\n")


def test_headers_are_upper_cased_names_and_integers_print_plainly() -> None:
    deploy = {"metadata": {"name": "web", "creationTimestamp": ts(timedelta(hours=3))},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
              "status": {"readyReplicas": 2, "updatedReplicas": 1, "availableReplicas": 2}}
    assert render_table(DEPLOYMENTS, [deploy], NOW) == (
        "NAME   READY   UP-TO-DATE   AVAILABLE   AGE\n"
        "web    2/3     1            2           3h\n")
    assert render_table(DEPLOYMENTS, [deploy], NOW, no_headers=True) == (
        "web   2/3   1     2     3h\n")


def test_empty_list_renders_nothing() -> None:
    assert render_table(PODS, [], NOW) == ""


def test_cells_are_cut_at_the_first_line_break() -> None:
    event = {"metadata": {"name": "e"}, "type": "Warning", "reason": "Failed",
             "involvedObject": {"kind": "Pod", "name": "web"},
             "lastTimestamp": ts(timedelta(seconds=3)), "message": "first line\nsecond line"}
    assert render_table(by_plural("events"), [event], NOW).splitlines()[1] == \
        "3s          Warning   Failed   pod/web   first line..."


def test_watch_printer_prints_the_header_once_and_keeps_widths() -> None:
    printer = TablePrinter(PODS)
    assert printer.render([], NOW) == ""
    first = printer.render([pod("a-much-longer-pod-name")], NOW)
    assert first.splitlines()[0].startswith("NAME                     READY")
    later = printer.render([pod("b")], NOW)
    assert later == "b                        1/1     Running   0          5m\n"


def test_format_watch_row_is_aligned_with_its_own_header() -> None:
    obj = pod("web")
    row = format_watch_row(PODS, obj, NOW)
    header_and_row = format_watch_row(PODS, obj, NOW, with_header=True)
    assert header_and_row == "NAME   READY   STATUS    RESTARTS   AGE\n" + row
    assert row == "web    1/1     Running   0          5m\n"


def test_render_names() -> None:
    assert render_names(DEPLOYMENTS, [{"metadata": {"name": "web"}},
                                      {"metadata": {"name": "api"}}]) == \
        "deployment.apps/web\ndeployment.apps/api\n"
    assert render_names(PODS, [{"metadata": {"name": "web"}}]) == "pod/web\n"


def test_render_json_single_object_and_list() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
           "data": {"greeting": "héllo"}}
    text = render_json(obj)
    assert text.startswith('{\n    "apiVersion": "v1",\n    "kind": "ConfigMap",')
    assert text.endswith("}\n")
    assert '"héllo"' in text
    assert json.loads(text) == obj
    listed = json.loads(render_json([obj, obj]))
    assert listed == {"apiVersion": "v1", "items": [obj, obj], "kind": "List",
                      "metadata": {"resourceVersion": ""}}


def test_render_yaml_block_style_in_object_order_without_aliases() -> None:
    shared = {"app": "web"}
    obj = {"kind": "Deployment", "apiVersion": "apps/v1",
           "metadata": {"name": "web", "labels": shared},
           "spec": {"selector": {"matchLabels": shared},
                    "template": {"spec": {"containers": [{"name": "web", "args": ["-v"]}]}}},
           "data": {"nginx.conf": "server {\n  listen 80;\n}\n"}}
    text = render_yaml(obj)
    assert text.startswith("kind: Deployment\napiVersion: apps/v1\nmetadata:\n")
    assert "&" not in text and "*" not in text
    assert "      containers:\n      - name: web\n        args:\n        - -v\n" in text
    assert "  nginx.conf: |\n    server {\n      listen 80;\n    }\n" in text
    assert yaml.safe_load(text) == obj
    assert yaml.safe_load(render_yaml([obj]))["kind"] == "List"


def test_a_servers_table_gives_the_columns_of_a_kind_the_cli_does_not_know() -> None:
    table = {"kind": "Table", "columnDefinitions": [
        {"name": "Name", "type": "string", "priority": 0},
        {"name": "Value", "type": "integer", "priority": 0},
        {"name": "Description", "type": "string", "priority": 1}],
        "rows": [{"cells": ["high", 1000, "for the few"],
                  "object": {"metadata": {"name": "high", "uid": "u1"}}}]}
    resource = ResourceInfo("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False)
    printer = TablePrinter(resource, layout=layout_from_table(table), wide=False,
                           all_namespaces=False, show_labels=False, no_headers=False)
    known = {"metadata": {"name": "high", "uid": "u1"}}
    later = {"metadata": {"name": "low", "uid": "u2"}}  # not in the Table: its name only
    text = printer.render([known, later], datetime.now(UTC))
    assert text.splitlines() == ["NAME   VALUE", "high   1000", "low    "]
