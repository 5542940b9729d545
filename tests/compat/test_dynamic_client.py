"""The official client's `kubernetes.dynamic.DynamicClient`: it knows no kind, reads what
the server serves from discovery, and drives every call from that."""

from __future__ import annotations

from typing import Any

import pytest

from cli.cluster.processes import wait_for
from tests.compat.conftest import ROOT_CA, Cluster
from tests.compat.officialobjects import deployment, gone, status_of

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
def dynamic(official: Any, cluster: Cluster, tmp_path: Any) -> Any:
    from kubernetes.dynamic import DynamicClient

    # Its discovery cache is a file; a fresh one per test, so nothing stale is read.
    return DynamicClient(official, cache_file=str(tmp_path / "discovery.json"))


@pytest.mark.compat("DynamicClient resources.get from discovery")
def test_discovery_finds_every_kind(dynamic: Any) -> None:
    for api_version, kind, plural, namespaced in [
            ("v1", "Pod", "pods", True), ("v1", "Node", "nodes", False),
            ("v1", "Namespace", "namespaces", False),
            ("apps/v1", "Deployment", "deployments", True),
            ("coordination.k8s.io/v1", "Lease", "leases", True),
            ("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", False)]:
        resource = dynamic.resources.get(api_version=api_version, kind=kind)
        assert (resource.name, resource.namespaced) == (plural, namespaced)
        assert "watch" in resource.verbs and "deletecollection" in resource.verbs
    deployments = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.short_names == ["deploy"]
    assert {"scale", "status"} <= set(deployments.subresources)
    assert deployments.subresources["scale"].kind == "Scale"
    assert dynamic.resources.get(short_names=["svc"]).kind == "Service"


@pytest.mark.compat("DynamicClient create, get, list, patch, replace, delete")
def test_dynamic_crud(dynamic: Any, namespace: str) -> None:
    from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

    deployments = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    made = deployments.create(body=deployment("web"), namespace=namespace)
    assert made.metadata.uid and made.spec.template.spec.containers[0].name == "main"
    assert deployments.get(name="web", namespace=namespace).metadata.uid == made.metadata.uid
    listed = deployments.get(namespace=namespace, label_selector="!nope")
    assert listed.kind == "DeploymentList" and [i.metadata.name for i in listed.items] == ["web"]

    patched = deployments.patch(name="web", namespace=namespace, body={
        "spec": {"template": {"spec": {"containers": [{"name": "main", "env": [
            {"name": "A", "value": "1"}]}]}}}})
    assert patched.spec.template.spec.containers[0].image == "schooner/busybox:latest"
    merged = deployments.patch(name="web", namespace=namespace,
                               body={"metadata": {"labels": {"x": "y"}}},
                               content_type="application/merge-patch+json")
    assert merged.to_dict()["metadata"]["labels"] == {"x": "y"}
    jsonpatched = deployments.patch(name="web", namespace=namespace, body=[
        {"op": "replace", "path": "/spec/replicas", "value": 2}],
        content_type="application/json-patch+json")
    assert jsonpatched.spec.replicas == 2

    body = deployments.get(name="web", namespace=namespace).to_dict()
    body["metadata"]["labels"] = {"replaced": "yes"}
    body["metadata"]["resourceVersion"] = "1"
    with pytest.raises(ConflictError) as failed:
        deployments.replace(body=body, namespace=namespace)
    assert failed.value.status == 409 and status_of(failed.value)["reason"] == "Conflict"
    del body["metadata"]["resourceVersion"]
    replaced = deployments.replace(body=body, namespace=namespace)
    assert replaced.to_dict()["metadata"]["labels"] == {"replaced": "yes"}

    deployments.delete(name="web", namespace=namespace, propagation_policy="Foreground")
    gone(lambda: deployments.get(name="web", namespace=namespace))
    replicasets = dynamic.resources.get(api_version="apps/v1", kind="ReplicaSet")
    assert replicasets.get(namespace=namespace, label_selector="app=web").items == []
    with pytest.raises(NotFoundError) as missing:
        deployments.get(name="web", namespace=namespace)
    assert status_of(missing.value)["reason"] == "NotFound"


@pytest.mark.compat("DynamicClient status and scale subresources")
def test_dynamic_subresources(dynamic: Any, namespace: str) -> None:
    deployments = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    deployments.create(body=deployment("web"), namespace=namespace)
    scale = deployments.subresources["scale"]
    assert scale.get(name="web", namespace=namespace).spec.replicas == 1
    scaled = scale.patch(name="web", namespace=namespace, body={"spec": {"replicas": 2}},
                         content_type="application/merge-patch+json")
    assert scaled.kind == "Scale" and scaled.spec.replicas == 2
    ready = wait_for(lambda: (s := deployments.subresources["status"].get(
        name="web", namespace=namespace)).status.readyReplicas == 2 and s, 120, "two ready")
    assert ready.spec.replicas == 2 and ready.status.observedGeneration == 2


@pytest.mark.compat("DynamicClient watch")
def test_dynamic_watch(dynamic: Any, namespace: str) -> None:
    configmaps = dynamic.resources.get(api_version="v1", kind="ConfigMap")
    start = configmaps.get(namespace=namespace).metadata.resourceVersion
    configmaps.create(body={"metadata": {"name": "cm"}, "data": {"k": "1"}}, namespace=namespace)
    configmaps.patch(name="cm", namespace=namespace, body={"data": {"k": "2"}})
    configmaps.delete(name="cm", namespace=namespace)
    events = [(e["type"], e["object"].metadata.name, e["object"].data.k)
              for e in configmaps.watch(namespace=namespace, resource_version=start, timeout=2)]
    assert events == [("ADDED", "cm", "1"), ("MODIFIED", "cm", "2"), ("DELETED", "cm", "2")]


@pytest.mark.compat("DynamicClient delete by label_selector")
def test_dynamic_delete_collection(dynamic: Any, namespace: str) -> None:
    configmaps = dynamic.resources.get(api_version="v1", kind="ConfigMap")
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        configmaps.create(body={"metadata": {"name": name, "labels": {"tier": tier}}},
                          namespace=namespace)
    configmaps.delete(namespace=namespace, label_selector="tier=x")
    assert [i.metadata.name for i in configmaps.get(namespace=namespace).items] == \
        ["c", ROOT_CA]


@pytest.mark.compat("DynamicClient server_side_apply")
def test_server_side_apply_upserts_with_owners(dynamic: Any, namespace: str) -> None:
    """Server-side apply creates and updates, records the manager in managedFields, and
    removes a key the manager stopped applying."""
    configmaps = dynamic.resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
            "data": {"a": "1"}}
    made = configmaps.server_side_apply(body=body, namespace=namespace, field_manager="one")
    assert made.data.a == "1"
    body["data"] = {"a": "2", "b": "3"}
    applied = configmaps.server_side_apply(body=body, namespace=namespace, field_manager="one")
    assert applied.to_dict()["data"] == {"a": "2", "b": "3"}
    assert applied.metadata.uid == made.metadata.uid
    entry = applied.to_dict()["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"]) == ("one", "Apply")
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    body["data"] = {"b": "3"}
    pruned = configmaps.server_side_apply(body=body, namespace=namespace, field_manager="one")
    assert pruned.to_dict()["data"] == {"b": "3"}


@pytest.mark.compat("DynamicClient watch with send_initial_events")
def test_watch_list_ends_initial_events_with_a_bookmark(dynamic: Any, namespace: str) -> None:
    from kubernetes import watch
    from kubernetes.dynamic.exceptions import DynamicApiError

    configmaps = dynamic.resources.get(api_version="v1", kind="ConfigMap")
    for name in ("a", "b"):
        configmaps.create(body={"metadata": {"name": name}}, namespace=namespace)
    watcher = watch.Watch()
    seen: list[tuple[str, str]] = []
    for event in configmaps.watch(namespace=namespace, send_initial_events=True,
                                  resource_version_match="NotOlderThan",
                                  allow_watch_bookmarks=True, timeout=30, watcher=watcher):
        meta = event["raw_object"]["metadata"]
        seen.append((event["type"], meta.get("name") or meta["annotations"][
            "k8s.io/initial-events-end"]))
        if event["type"] == "BOOKMARK":
            watcher.stop()
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", ROOT_CA), ("BOOKMARK", "true")]

    with pytest.raises(DynamicApiError) as failed:
        list(configmaps.watch(namespace=namespace, send_initial_events=True, timeout=2))
    assert failed.value.status == 422


@pytest.mark.compat("DynamicClient delete with orphan_dependents")
def test_orphan_dependents_leaves_the_replicaset(dynamic: Any, namespace: str) -> None:
    deployments = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    replicasets = dynamic.resources.get(api_version="apps/v1", kind="ReplicaSet")
    deployments.create(body=deployment("web"), namespace=namespace)
    wait_for(lambda: replicasets.get(namespace=namespace, label_selector="app=web").items,
             120, "web's ReplicaSet")
    deployments.delete(name="web", namespace=namespace, orphan_dependents=True)
    gone(lambda: deployments.get(name="web", namespace=namespace))
    [left] = replicasets.get(namespace=namespace, label_selector="app=web").items
    assert not left.metadata.ownerReferences
