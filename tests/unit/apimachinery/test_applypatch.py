"""The three-way merge patch `schooner apply` sends (kubectl's client-side apply)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apimachinery.applypatch import three_way_merge_patch
from apiserver.patch import apply_merge_patch


def manifest(image: str = "nginx:1.25", replicas: int = 3,
             labels: dict[str, str] | None = None) -> dict[str, Any]:
    """What the user wrote."""
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": labels if labels is not None else {"app": "web"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [
            {"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}}},
    }


def live(applied: dict[str, Any]) -> dict[str, Any]:
    """What the server holds after creating `applied`: metadata, defaults and status added."""
    obj = copy.deepcopy(applied)
    obj["metadata"].update(uid="u-1", resourceVersion="7")
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    for container in obj["spec"]["template"]["spec"]["containers"]:
        container["imagePullPolicy"] = "IfNotPresent"
        for port in container.get("ports", []):
            port["protocol"] = "TCP"
    obj["status"] = {"replicas": applied["spec"]["replicas"]}
    return obj


def test_unchanged_manifest_gives_empty_patch_despite_server_defaults() -> None:
    assert three_way_merge_patch(manifest(), manifest(), live(manifest())) == {}


def test_replicas_only_change() -> None:
    got = three_way_merge_patch(manifest(), manifest(replicas=5), live(manifest()))
    assert got == {"spec": {"replicas": 5}}


def test_image_change_sends_the_whole_containers_list_from_the_manifest() -> None:
    got = three_way_merge_patch(manifest(), manifest(image="nginx:1.26"), live(manifest()))
    assert got == {"spec": {"template": {"spec": {
        "containers": manifest(image="nginx:1.26")["spec"]["template"]["spec"]["containers"]}}}}


def test_label_removed_from_the_manifest_becomes_null() -> None:
    original = manifest(labels={"app": "web", "tier": "front"})
    got = three_way_merge_patch(original, manifest(), live(original))
    assert got == {"metadata": {"labels": {"tier": None}}}


def test_whole_map_removed_from_the_manifest_becomes_null() -> None:
    original = manifest()
    original["spec"]["strategy"] = {"type": "Recreate"}
    got = three_way_merge_patch(original, manifest(), live(original))
    assert got == {"spec": {"strategy": None}}


def test_fields_other_writers_set_are_left_alone() -> None:
    current = live(manifest())
    current["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    current["spec"]["paused"] = False
    assert three_way_merge_patch(manifest(), manifest(), current) == {}


@pytest.mark.parametrize(("original", "modified", "current", "want"), [
    # No last-applied annotation: compare against the live object only.
    (None, {"a": 1, "m": {"x": 1}}, {"a": 1, "m": {"x": 1}, "s": 2}, {}),
    (None, {"a": 1, "m": {"x": 2}}, {"a": 1, "m": {"x": 1, "y": 1}}, {"m": {"x": 2}}),
    # A key new to the manifest: included only if the live value differs.
    ({}, {"a": 1}, {"a": 1}, {}),
    ({}, {"a": 1}, {"a": 2}, {"a": 1}),
    ({}, {"a": [1]}, {"a": [1, 2]}, {"a": [1]}),
    # A map the live object lacks (or has as a non-map) is sent whole.
    ({}, {"m": {"x": {"y": 1}}}, {}, {"m": {"x": {"y": 1}}}),
    ({}, {"m": {"x": 1}}, {"m": "scalar"}, {"m": {"x": 1}}),
    # Lists and scalars the original has are compared against the original.
    ({"l": [{"n": 1}]}, {"l": [{"n": 1}]}, {"l": [{"n": 1, "default": True}]}, {}),
    ({"l": [{"n": 1}]}, {"l": [{"n": 2}]}, {"l": [{"n": 1, "default": True}]},
     {"l": [{"n": 2}]}),
    ({"r": 3}, {"r": 3}, {"r": 5}, {}),
    # JSON types: true is not 1, 1 is 1.0.
    ({"b": 1}, {"b": True}, {"b": 1}, {"b": True}),
    ({"l": [1]}, {"l": [True]}, {"l": [1]}, {"l": [True]}),
    ({"f": 1}, {"f": 1.0}, {"f": 1}, {}),
    # Deletions recurse through maps, even where the live object lost the key.
    ({"m": {"x": 1, "y": {"z": 1}}}, {"m": {"x": 1, "y": {}}}, {"m": {"x": 1, "y": {"z": 1}}},
     {"m": {"y": {"z": None}}}),
    ({"gone": 1}, {}, {}, {"gone": None}),
    # An explicit null for a key nobody has is no change.
    ({}, {"n": None}, {}, {}),
    ({}, {"n": None}, {"n": 1}, {"n": None}),
])
def test_three_way_table(original: dict[str, Any] | None, modified: dict[str, Any],
                         current: dict[str, Any], want: dict[str, Any]) -> None:
    assert three_way_merge_patch(original, modified, current) == want


def test_inputs_are_not_mutated_nor_aliased_by_the_patch() -> None:
    original, modified, current = manifest(), manifest(image="x:2"), live(manifest())
    before = copy.deepcopy((original, modified, current))
    got = three_way_merge_patch(original, modified, current)
    got["spec"]["template"]["spec"]["containers"][0]["image"] = "mutated"
    assert (original, modified, current) == before


@pytest.mark.parametrize("modified", [
    manifest(image="nginx:1.26"),
    manifest(replicas=1, labels={"app": "web", "new": "x"}),
    manifest(labels={}),
])
def test_patch_applied_as_merge_patch_yields_the_manifest_plus_server_fields(
        modified: dict[str, Any]) -> None:
    original = manifest(labels={"app": "web", "tier": "front"})
    current = live(original)
    got = apply_merge_patch(current, three_way_merge_patch(original, modified, current))
    assert got["metadata"]["labels"] == modified["metadata"]["labels"]
    assert got["spec"]["replicas"] == modified["spec"]["replicas"]
    assert got["metadata"]["uid"] == "u-1"
    assert got["status"] == current["status"]
    image = got["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == modified["spec"]["template"]["spec"]["containers"][0]["image"]
