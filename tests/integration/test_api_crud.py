"""CRUD, concurrency, generation, finalizers, selectors and pagination on the real stack."""

from __future__ import annotations

import uuid

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.resources import by_plural
from tests.integration.sample_objects import deployment, every_kind, pod


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.mark.parametrize("plural", [p for p, _ in every_kind("x")])
def test_crud_every_kind(client: Client, namespace: str, plural: str) -> None:
    name = _unique("obj")
    manifest = dict(every_kind(name, namespace))[plural]
    resource = by_plural(plural)
    ns = namespace if resource.namespaced else None

    created = client.create(plural, manifest, ns)
    meta = created["metadata"]
    assert meta["name"] == name and meta["uid"] and meta["creationTimestamp"]
    assert int(meta["resourceVersion"]) > 0
    assert created["kind"] == resource.kind and created["apiVersion"] == resource.api_version

    got = client.get(plural, name, ns)
    assert got["metadata"]["uid"] == meta["uid"]

    listed = client.list(plural, ns)
    assert name in [o["metadata"]["name"] for o in listed["items"]]
    assert int(listed["metadata"]["resourceVersion"]) >= int(meta["resourceVersion"])

    got["metadata"].setdefault("labels", {})["touched"] = "yes"
    updated = client.update(plural, got)
    assert updated["metadata"]["labels"]["touched"] == "yes"
    assert int(updated["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])

    patched = client.patch(plural, name, {"metadata": {"annotations": {"a": "b"}}}, ns)
    assert patched["metadata"]["annotations"] == {"a": "b"}
    assert patched["metadata"]["labels"]["touched"] == "yes"

    if plural == "namespaces":
        return  # namespaces terminate through the namespace controller (issue 3)
    client.delete(plural, name, ns)
    with pytest.raises(errors.NotFound):
        client.get(plural, name, ns)


def test_stale_update_and_duplicate_create_conflict(client: Client, namespace: str) -> None:
    created = client.create("configmaps", {"metadata": {"name": "cm"}, "data": {"a": "1"}},
                            namespace)
    first = dict(created, data={"a": "2"})
    client.update("configmaps", first)
    stale = dict(created, data={"a": "3"})  # still carries the old resourceVersion
    with pytest.raises(errors.Conflict) as exc:
        client.update("configmaps", stale)
    assert "the object has been modified" in str(exc.value)
    with pytest.raises(errors.AlreadyExists):
        client.create("configmaps", {"metadata": {"name": "cm"}}, namespace)
    assert client.get("configmaps", "cm", namespace)["data"] == {"a": "2"}
    with pytest.raises(errors.Conflict):
        client.delete("configmaps", "cm", namespace,
                      preconditions={"resourceVersion": created["metadata"]["resourceVersion"]})


def test_generation_moves_on_spec_changes_only(client: Client, namespace: str) -> None:
    d = client.create("deployments", deployment("gen"), namespace)
    assert d["metadata"]["generation"] == 1
    d = client.patch("deployments", "gen", {"metadata": {"labels": {"x": "y"}}}, namespace)
    assert d["metadata"]["generation"] == 1
    d = client.patch("deployments", "gen", {"spec": {"replicas": 5}}, namespace)
    assert d["metadata"]["generation"] == 2
    d["status"] = {"observedGeneration": 2, "replicas": 5}
    d = client.update_status("deployments", d)
    assert d["metadata"]["generation"] == 2 and d["status"]["replicas"] == 5
    # A spec update cannot write status, and a status update cannot write spec.
    d["status"] = {"replicas": 99}
    d["spec"]["replicas"] = 7
    d = client.update("deployments", d)
    assert d["status"]["replicas"] == 5 and d["spec"]["replicas"] == 7
    d["spec"]["replicas"] = 1
    d["status"]["replicas"] = 6
    d = client.update_status("deployments", d)
    assert d["spec"]["replicas"] == 7 and d["status"]["replicas"] == 6


def test_finalizers_hold_deletion_until_cleared(client: Client, namespace: str) -> None:
    client.create("configmaps", {"metadata": {"name": "fin", "finalizers": ["example.com/x"]}},
                  namespace)
    marked = client.delete("configmaps", "fin", namespace)
    assert marked["metadata"]["deletionTimestamp"]
    still = client.get("configmaps", "fin", namespace)
    assert still["metadata"]["finalizers"] == ["example.com/x"]
    client.patch("configmaps", "fin", {"metadata": {"finalizers": None}}, namespace)
    with pytest.raises(errors.NotFound):
        client.get("configmaps", "fin", namespace)


def test_foreground_and_orphan_policies_become_finalizers(client: Client,
                                                          namespace: str) -> None:
    client.create("deployments", deployment("fg"), namespace)
    marked = client.delete("deployments", "fg", namespace, propagation_policy="Foreground")
    assert "foregroundDeletion" in marked["metadata"]["finalizers"]
    client.create("deployments", deployment("or"), namespace)
    marked = client.delete("deployments", "or", namespace, propagation_policy="Orphan")
    assert "orphan" in marked["metadata"]["finalizers"]


def test_bound_pod_is_deleted_gracefully(client: Client, namespace: str) -> None:
    client.create("pods", pod("p"), namespace)
    client.bind("p", "node-a", namespace)
    bound = client.get("pods", "p", namespace)
    assert bound["spec"]["nodeName"] == "node-a"
    assert {"type": "PodScheduled", "status": "True"}.items() <= \
        bound["status"]["conditions"][0].items()
    with pytest.raises(errors.Conflict):
        client.bind("p", "node-b", namespace)
    marked = client.delete("pods", "p", namespace)
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
    assert client.get("pods", "p", namespace)["metadata"]["deletionTimestamp"]
    client.delete("pods", "p", namespace, grace_period_seconds=0)  # the agent confirms
    with pytest.raises(errors.NotFound):
        client.get("pods", "p", namespace)


def test_generate_name_and_namespace_admission(client: Client, namespace: str) -> None:
    made = client.create("configmaps", {"metadata": {"generateName": "web-"}}, namespace)
    assert made["metadata"]["name"].startswith("web-") and len(made["metadata"]["name"]) == 9
    with pytest.raises(errors.NotFound) as exc:
        client.create("configmaps", {"metadata": {"name": "x"}}, "no-such-namespace")
    assert 'namespaces "no-such-namespace" not found' in str(exc.value)


def test_label_and_field_selectors(client: Client, namespace: str) -> None:
    for name, labels in (("a", {"app": "web", "tier": "front"}),
                         ("b", {"app": "web", "tier": "back"}),
                         ("c", {"app": "db"}), ("d", {})):
        client.create("pods", pod(name, labels), namespace)
    client.bind("b", "node-1", namespace)

    def names(**kw: str) -> list[str]:
        return sorted(o["metadata"]["name"] for o in client.list("pods", namespace, **kw)["items"])

    assert names(label_selector="app=web") == ["a", "b"]
    assert names(label_selector="app!=web") == ["c", "d"]
    assert names(label_selector="tier in (front,back)") == ["a", "b"]
    assert names(label_selector="tier notin (front)") == ["b", "c", "d"]
    assert names(label_selector="tier") == ["a", "b"]
    assert names(label_selector="!tier") == ["c", "d"]
    assert names(field_selector="metadata.name=c") == ["c"]
    assert names(field_selector="spec.nodeName=node-1") == ["b"]
    assert names(field_selector="spec.nodeName=") == ["a", "c", "d"]
    assert names(field_selector="status.phase=Pending", label_selector="app=db") == ["c"]
    with pytest.raises(errors.BadRequest):
        client.list("pods", namespace, field_selector="spec.image=x")
    with pytest.raises(errors.BadRequest):
        client.list("pods", namespace, label_selector="app in (web")
    across = client.list("pods", None, field_selector=f"metadata.namespace={namespace}")
    assert len(across["items"]) == 4


def test_pagination_returns_every_item_once_at_one_revision(client: Client,
                                                            namespace: str) -> None:
    for i in range(23):
        client.create("configmaps", {"metadata": {"name": f"cm-{i:02d}"}}, namespace)
    first = client.list("configmaps", namespace, limit=10)
    seen = [o["metadata"]["name"] for o in first["items"]]
    revision = first["metadata"]["resourceVersion"]
    token = first["metadata"]["continue"]
    client.create("configmaps", {"metadata": {"name": "cm-late"}}, namespace)
    while token:
        page = client.list("configmaps", namespace, limit=10, continue_=token)
        assert page["metadata"]["resourceVersion"] == revision
        seen += [o["metadata"]["name"] for o in page["items"]]
        token = page["metadata"].get("continue")
    assert seen == [f"cm-{i:02d}" for i in range(23)]
    assert len(client.list_all("configmaps", namespace, page_size=7)[0]) == 24


def test_scale_subresource(client: Client, namespace: str) -> None:
    client.create("deployments", deployment("sc", replicas=2), namespace)
    scale = client.get("deployments", "sc", namespace, subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2
    assert scale["status"]["selector"] == "app=sc"
    scaled = client.patch("deployments", "sc", {"spec": {"replicas": 4}}, namespace,
                          subresource="scale")
    assert scaled["spec"]["replicas"] == 4
    assert client.get("deployments", "sc", namespace)["spec"]["replicas"] == 4
    with pytest.raises(errors.Invalid) as exc:
        client.patch("deployments", "sc", {"spec": {"replicas": -1}}, namespace,
                     subresource="scale")
    assert "spec.replicas" in str(exc.value)


def test_delete_collection_by_label(client: Client, namespace: str) -> None:
    for i, app in enumerate(["a", "a", "b"]):
        client.create("configmaps", {"metadata": {"name": f"c{i}", "labels": {"app": app}}},
                      namespace)
    client.delete_collection("configmaps", namespace, label_selector="app=a")
    left = [o["metadata"]["name"] for o in client.list("configmaps", namespace)["items"]]
    assert left == ["c2"]


def test_dry_run_validates_but_stores_nothing(apiserver, namespace: str) -> None:
    with apiserver.http() as http:
        path = f"/api/v1/namespaces/{namespace}/configmaps"
        resp = http.post(path, params={"dryRun": "All"}, json={"metadata": {"name": "dry"}})
        assert resp.status_code == 201 and resp.json()["metadata"]["name"] == "dry"
        assert http.get(f"{path}/dry").status_code == 404
        bad = http.post(path, params={"dryRun": "All"}, json={"metadata": {"name": "Bad_"}})
        assert bad.status_code == 422
        http.post(path, json={"metadata": {"name": "real"}, "data": {"a": "1"}})
        patched = http.patch(f"{path}/real", params={"dryRun": "All"},
                             json={"data": {"a": "2"}},
                             headers={"Content-Type": "application/merge-patch+json"})
        assert patched.json()["data"] == {"a": "2"}
        assert http.delete(f"{path}/real", params={"dryRun": "All"}).status_code == 200
        assert http.get(f"{path}/real").json()["data"] == {"a": "1"}
        assert http.post(path, params={"dryRun": "Some"}, json={}).status_code == 400
