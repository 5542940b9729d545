"""What a write stores, and what it does not, on the real apiserver and etcd: an update
that changes nothing keeps its resourceVersion and sends no watch event, a DELETE whose
body asks for a dry run deletes nothing, a dry-run create has no resourceVersion,
empty ObjectMeta maps are not stored, and ConfigMaps keep no generation."""

from __future__ import annotations

import contextlib

import pytest

from apimachinery import errors
from apimachinery.client import Client


def _configmap(client: Client, namespace: str, name: str, **meta: object) -> dict[str, object]:
    return client.create("configmaps", {"metadata": {"name": name, **meta},
                                        "data": {"a": "1"}}, namespace)


def test_an_update_that_changes_nothing_is_not_written(client: Client, namespace: str) -> None:
    created = _configmap(client, namespace, "same")
    rv = created["metadata"]["resourceVersion"]
    assert client.update("configmaps", created)["metadata"]["resourceVersion"] == rv
    assert client.patch("configmaps", "same", {"data": {"a": "1"}},
                        namespace)["metadata"]["resourceVersion"] == rv
    # kubectl's diff and apply send `annotations: {}` for an object without any.
    assert client.patch("configmaps", "same", {"metadata": {"annotations": {}}}, namespace,
                        patch_type="strategic")["metadata"]["resourceVersion"] == rv
    changed = client.patch("configmaps", "same", {"data": {"a": "2"}}, namespace)
    assert int(changed["metadata"]["resourceVersion"]) > int(rv)
    # Watching from the create, the first event is the real change: the no-ops sent none.
    with contextlib.closing(client.watch("configmaps", namespace, resource_version=rv,
                                         timeout_seconds=30)) as events:
        event = next(events)
    assert event.type == "MODIFIED"
    assert event.object["metadata"]["resourceVersion"] == \
        changed["metadata"]["resourceVersion"]


def test_a_delete_asking_for_a_dry_run_in_its_body_deletes_nothing(
        client: Client, namespace: str) -> None:
    _configmap(client, namespace, "plain")
    _configmap(client, namespace, "held", finalizers=["example.com/hold"])
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    dry = {"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]}
    for name in ("plain", "held"):
        answer = client.request("DELETE", f"{base}/{name}", json=dry).json()
        assert answer["metadata"]["name"] == name
    client.request("DELETE", base, json=dry)  # deletecollection too
    client.request("DELETE", f"/api/v1/namespaces/{namespace}", json=dry)
    assert client.get("configmaps", "plain", namespace)
    assert "deletionTimestamp" not in client.get("configmaps", "held", namespace)["metadata"]
    assert client.get("namespaces", namespace)["status"]["phase"] == "Active"
    with pytest.raises(errors.BadRequest, match="dryRun: unsupported value"):
        client.request("DELETE", f"{base}/plain", json={"dryRun": ["Some"]})
    client.patch("configmaps", "held", {"metadata": {"finalizers": None}}, namespace)


def test_a_dry_run_create_answers_without_a_resource_version(client: Client,
                                                            namespace: str) -> None:
    answer = client.request("POST", f"/api/v1/namespaces/{namespace}/configmaps",
                            params={"dryRun": "All"},
                            json={"metadata": {"name": "dry"}, "data": {"a": "1"}}).json()
    assert answer["metadata"]["uid"] and answer["metadata"]["creationTimestamp"]
    assert "resourceVersion" not in answer["metadata"]
    with pytest.raises(errors.NotFound):
        client.get("configmaps", "dry", namespace)


def test_empty_metadata_maps_are_not_stored(client: Client, namespace: str) -> None:
    created = _configmap(client, namespace, "bare", labels={}, annotations={})
    assert not {"labels", "annotations"} & set(created["metadata"])
    client.patch("configmaps", "bare", {"metadata": {"labels": {"a": "b"}}}, namespace)
    unlabeled = client.patch("configmaps", "bare", {"metadata": {"labels": {"a": None}}},
                             namespace)
    assert "labels" not in unlabeled["metadata"]


def test_configmaps_keep_no_generation(client: Client, namespace: str) -> None:
    created = _configmap(client, namespace, "gen")
    assert "generation" not in created["metadata"]
    changed = client.patch("configmaps", "gen", {"data": {"a": "2"}}, namespace)
    assert "generation" not in changed["metadata"]
