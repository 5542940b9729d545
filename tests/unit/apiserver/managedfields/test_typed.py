"""The schema-driven walks: field sets, comparison, merge and removal by the models."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.managedfields import typed
from apiserver.managedfields.fieldset import FieldSet

POD = typed.root_type("Pod")
DEPLOYMENT = typed.root_type("Deployment")


def pod(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
            "spec": {"containers": [{"name": "web", "image": "nginx",
                                     "ports": [{"containerPort": 80}],
                                     "args": ["-v"]}], **spec}}


def test_field_set_follows_list_and_map_types() -> None:
    got = typed.field_set(pod(nodeSelector={"disk": "ssd"}, tolerations=[{"key": "k"}],
                              securityContext={}), POD).to_fields()
    assert got["f:metadata"] == {"f:name": {}, "f:labels": {"f:app": {}},
                                 "f:finalizers": {'v:"a"': {}, 'v:"b"': {}}}
    web = got["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert web == {".": {}, "f:name": {}, "f:image": {}, "f:args": {}, "f:ports": {
        # a key the item leaves out takes its schema default (a port's protocol)
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}
    assert got["f:spec"]["f:nodeSelector"] == {}  # +mapType=atomic: one leaf
    assert got["f:spec"]["f:tolerations"] == {}  # atomic list
    assert got["f:spec"]["f:securityContext"] == {}  # an empty struct is a member


def test_atomic_structs_and_untyped_values() -> None:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"selector": {"matchLabels": {"app": "web"}},
                    "template": {"spec": {"containers": []}}},
           "extra": {"a": {"b": 1}, "c": [1, 2]}}
    got = typed.field_set(obj, DEPLOYMENT).to_fields()
    assert got["f:spec"]["f:selector"] == {}  # LabelSelector is +structType=atomic
    assert got["f:extra"] == {".": {}, "f:a": {".": {}, "f:b": {}}, "f:c": {}}  # deduced


def test_an_applied_configuration_may_not_repeat_a_key() -> None:
    twice = pod()
    twice["spec"]["containers"].append({"name": "web", "image": "x"})
    item = ("f:spec", "f:containers", 'k:{"name":"web"}')
    owned = typed.field_set(twice, POD)
    assert owned.has(item) and not owned.has((*item, "f:image"))  # owned whole
    with pytest.raises(ValueError, match="duplicate entries"):
        typed.field_set(twice, POD, strict=True)


def test_compare_reports_added_modified_removed() -> None:
    old, new = pod(), pod(hostname="h")
    new["spec"]["containers"][0]["image"] = "nginx:2"
    new["metadata"]["labels"] = {"tier": "x"}
    new["spec"]["containers"][0]["args"] = ["-q"]
    diff = typed.compare(old, new, POD)
    assert diff.added == FieldSet.of(("f:metadata", "f:labels", "f:tier"), ("f:spec", "f:hostname"))
    web = ("f:spec", "f:containers", 'k:{"name":"web"}')
    assert diff.modified == FieldSet.of((*web, "f:image"), (*web, "f:args"))
    assert diff.removed == FieldSet.of(("f:metadata", "f:labels", "f:app"))


def test_merge_keys_lists_and_replaces_atomic_values() -> None:
    live = pod()
    live["spec"]["containers"].append({"name": "side", "image": "busybox"})
    config = {"metadata": {"labels": {"tier": "x"}, "finalizers": ["c"]},
              "spec": {"containers": [{"name": "web", "image": "nginx:2", "args": ["-q"]}],
                       "hostname": None}}
    got = typed.merge(live, config, POD)
    assert [c["name"] for c in got["spec"]["containers"]] == ["web", "side"]
    web = got["spec"]["containers"][0]
    assert web["image"] == "nginx:2" and web["args"] == ["-q"] and web["ports"]
    assert got["metadata"]["labels"] == {"app": "web", "tier": "x"}
    assert got["metadata"]["finalizers"] == ["a", "b", "c"]
    assert live == pod() | {"spec": live["spec"]}  # the input is untouched
    assert live["spec"]["containers"][0]["image"] == "nginx"


def test_remove_takes_subtrees_and_empty_parents_along() -> None:
    obj = pod()
    gone = FieldSet.of(("f:metadata", "f:labels", "f:app"),
                       ("f:spec", "f:containers", 'k:{"name":"web"}', "f:ports"))
    got = typed.remove(obj, gone, POD)
    assert "labels" not in got["metadata"]
    assert "ports" not in got["spec"]["containers"][0]
    assert obj == pod()
