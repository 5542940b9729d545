"""The official Python client's lists (selectors, pages, resourceVersion semantics, every
namespace) and the errors it gets back: ApiException with a body that is a v1 Status."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from cli.cluster.processes import wait_for
from tests.compat.conftest import ROOT_CA, Cluster
from tests.compat.officialobjects import pod, status_of

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
def core(official: Any, cluster: Cluster) -> Any:
    from kubernetes import client

    return client.CoreV1Api(official)


def _configmaps(core: Any, namespace: str, count: int, **labels: str) -> list[str]:
    names = [f"cm{i}" for i in range(count)]
    for name in names:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name,
                                                                   "labels": labels}})
    return names


@pytest.mark.compat("list_* with label_selector and field_selector")
def test_selectors(core: Any, namespace: str, cluster: Cluster) -> None:
    for name, tier in (("a", "front"), ("b", "back"), ("c", "cache")):
        core.create_namespaced_config_map(namespace, {"metadata": {
            "name": name, "labels": {"tier": tier} if tier != "cache" else {}}})

    def names(**kwargs: str) -> list[str]:
        return [c.metadata.name for c in core.list_namespaced_config_map(namespace,
                                                                         **kwargs).items]

    assert names(label_selector="tier=front") == ["a"]
    assert names(label_selector="tier in (front,back)") == ["a", "b"]
    assert names(label_selector="tier notin (front)") == ["b", "c", ROOT_CA]  # no tier: not in
    assert names(label_selector="!tier") == ["c", ROOT_CA]
    assert names(label_selector="tier,tier!=back") == ["a"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b") == ["a", "c", ROOT_CA]

    core.create_namespaced_pod(namespace, pod("runner"))
    wait_for(lambda: core.list_namespaced_pod(
        namespace, field_selector=f"status.phase=Running,spec.nodeName={cluster.node}").items,
        120, "runner listed as Running on the node")
    assert core.list_namespaced_pod(namespace, field_selector="spec.nodeName=elsewhere").items == []


@pytest.mark.compat("list_* with limit and _continue")
def test_pages(core: Any, namespace: str) -> None:
    names = [*_configmaps(core, namespace, 5, page="yes"), ROOT_CA]  # cm0..cm4, kube-...
    first = core.list_namespaced_config_map(namespace, limit=2)
    assert [c.metadata.name for c in first.items] == names[:2]
    assert first.metadata._continue and first.metadata.remaining_item_count == 4
    seen, token = [c.metadata.name for c in first.items], first.metadata._continue
    while token:
        page = core.list_namespaced_config_map(namespace, limit=2, _continue=token)
        assert page.metadata.resource_version == first.metadata.resource_version
        seen += [c.metadata.name for c in page.items]
        token = page.metadata._continue
    assert seen == names
    filtered = core.list_namespaced_config_map(namespace, limit=2, label_selector="page=yes")
    assert filtered.metadata._continue and filtered.metadata.remaining_item_count is None

    # A page list is a snapshot: what is created after the first page does not show.
    second = core.list_namespaced_config_map(namespace, limit=3)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "late"}})
    rest = core.list_namespaced_config_map(namespace, limit=3, _continue=second.metadata._continue)
    assert [c.metadata.name for c in rest.items] == names[3:] and not rest.metadata._continue


@pytest.mark.compat("list_* resource_version and resource_version_match")
def test_resource_version_semantics(core: Any, namespace: str) -> None:
    from kubernetes.client.exceptions import ApiException

    core.create_namespaced_config_map(namespace, {"metadata": {"name": "old"}})
    before = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "new"}})

    def names(**kwargs: str) -> list[str]:
        return [c.metadata.name for c in core.list_namespaced_config_map(namespace,
                                                                         **kwargs).items]

    assert names(resource_version="0") == [ROOT_CA, "new", "old"]
    assert names(resource_version=before, resource_version_match="NotOlderThan") == \
        [ROOT_CA, "new", "old"]
    assert names(resource_version=before, resource_version_match="Exact") == [ROOT_CA, "old"]
    with pytest.raises(ApiException) as failed:
        core.list_namespaced_config_map(namespace, resource_version_match="Exact")
    assert failed.value.status == 422
    assert status_of(failed.value)["details"]["causes"][0]["field"] == "resourceVersionMatch"


@pytest.mark.compat("list_*_for_all_namespaces")
def test_lists_across_namespaces(core: Any, official: Any, namespace: str,
                                 cluster: Cluster) -> None:
    from kubernetes import client

    other = f"c-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": other}})
    try:
        tag = {"compat-all": namespace}
        for ns in (namespace, other):
            core.create_namespaced_config_map(ns, {"metadata": {"name": "cm", "labels": tag}})
        listed = core.list_config_map_for_all_namespaces(label_selector=f"compat-all={namespace}")
        assert sorted(c.metadata.namespace for c in listed.items) == sorted([namespace, other])
        pods = core.list_pod_for_all_namespaces(field_selector="metadata.namespace=nowhere")
        assert pods.items == []
        apps = client.AppsV1Api(official)
        assert apps.list_deployment_for_all_namespaces(limit=1).metadata is not None
        leases = client.CoordinationV1Api(official).list_lease_for_all_namespaces()
        assert any(lease.metadata.name == cluster.node for lease in leases.items)
    finally:
        core.delete_namespace(other)


@pytest.mark.compat("ApiException: 404 NotFound, 409 AlreadyExists and Conflict as v1 Status")
def test_not_found_and_conflicts(core: Any, official: Any, namespace: str) -> None:
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as failed:
        core.read_namespaced_config_map("nope", namespace)
    assert (failed.value.status, failed.value.reason) == (404, "Not Found")
    status = official.deserialize(failed.value.body, "V1Status", "application/json")
    assert (status.code, status.reason, status.status) == (404, "NotFound", "Failure")
    assert status.message == 'configmaps "nope" not found'
    assert (status.details.name, status.details.kind) == ("nope", "configmaps")

    made = core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    with pytest.raises(ApiException) as failed:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    assert failed.value.status == 409
    assert status_of(failed.value)["reason"] == "AlreadyExists"
    assert status_of(failed.value)["message"] == 'configmaps "cm" already exists'

    core.patch_namespaced_config_map("cm", namespace, {"data": {"k": "v"}})
    made.data = {"k": "stale"}
    with pytest.raises(ApiException) as failed:
        core.replace_namespaced_config_map("cm", namespace, made)
    assert failed.value.status == 409 and status_of(failed.value)["reason"] == "Conflict"
    assert "the object has been modified" in status_of(failed.value)["message"]


@pytest.mark.compat("ApiException: 422 Invalid with causes naming the field")
def test_invalid_names_the_field(core: Any, official: Any, namespace: str) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as failed:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "Bad_Name"}})
    status = official.deserialize(failed.value.body, "V1Status", "application/json")
    assert (failed.value.status, status.reason) == (422, "Invalid")
    assert status.message.startswith('ConfigMap "Bad_Name" is invalid: metadata.name')
    assert [c.field for c in status.details.causes] == ["metadata.name"]

    with pytest.raises(ApiException) as failed:
        client.AppsV1Api(official).create_namespaced_deployment(namespace, {
            "metadata": {"name": "web"}, "spec": {
                "replicas": -1, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "other"}},
                             "spec": {"containers": [{"name": "main", "image": "x"}]}}}})
    fields = [c["field"] for c in status_of(failed.value)["details"]["causes"]]
    assert "spec.replicas" in fields and "spec.template.metadata.labels" in fields
    assert all(c["reason"].startswith("Field") for c in
               status_of(failed.value)["details"]["causes"])
