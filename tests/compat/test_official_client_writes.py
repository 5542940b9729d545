"""The official Python client's writes beyond create and replace: the three patch types,
the status and scale subresources, delete options, delete_collection and dry runs."""

from __future__ import annotations

from typing import Any

import pytest

from cli.cluster.processes import wait_for
from tests.compat.conftest import Cluster
from tests.compat.officialobjects import (
    deployment,
    gone,
    pod,
    retry_on_conflict,
    status_of,
    workload_spec,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
def core(official: Any, cluster: Cluster) -> Any:
    from kubernetes import client

    return client.CoreV1Api(official)


@pytest.fixture
def apps(official: Any, cluster: Cluster) -> Any:
    from kubernetes import client

    return client.AppsV1Api(official)


@pytest.mark.compat("patch_* with a dict: strategic merge patch")
def test_a_dict_patch_merges_lists_by_their_keys(apps: Any, namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, deployment("web"))
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "env": [{"name": "A", "value": "1"}]}]}}}}
    patched = apps.patch_namespaced_deployment("web", namespace, patch)
    container = patched.spec.template.spec.containers[0]
    assert container.image == "schooner/busybox:latest" and container.command
    assert [(e.name, e.value) for e in container.env] == [("A", "1")]
    assert patched.metadata.generation == 2

    delete = {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "env": [{"name": "A", "$patch": "delete"}]}]}}}}
    patched = apps.patch_namespaced_deployment("web", namespace, delete)
    assert not patched.spec.template.spec.containers[0].env
    assert patched.spec.template.spec.containers[0].image == "schooner/busybox:latest"


@pytest.mark.compat("patch_* with _content_type application/merge-patch+json")
def test_a_merge_patch_replaces_lists_and_deletes_by_null(core: Any, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {
        "name": "cm", "labels": {"a": "1", "b": "2"}, "finalizers": ["x/y", "x/z"]},
        "data": {"k": "v", "gone": "soon"}})
    patched = core.patch_namespaced_config_map(
        "cm", namespace, {"metadata": {"labels": {"a": None}, "finalizers": ["x/z"]},
                          "data": {"gone": None, "new": "n"}},
        _content_type="application/merge-patch+json")
    assert patched.metadata.labels == {"b": "2"} and patched.metadata.finalizers == ["x/z"]
    assert patched.data == {"k": "v", "new": "n"}
    core.patch_namespaced_config_map("cm", namespace, {"metadata": {"finalizers": None}},
                                     _content_type="application/merge-patch+json")


@pytest.mark.compat("patch_* with a list body: JSON patch")
def test_a_list_body_is_a_json_patch(core: Any, apps: Any, namespace: str) -> None:
    from kubernetes.client.exceptions import ApiException

    apps.create_namespaced_deployment(namespace, deployment("web"))
    patched = apps.patch_namespaced_deployment("web", namespace, [
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "add", "path": "/metadata/labels", "value": {"tier": "front"}},
        {"op": "add", "path": "/spec/template/spec/containers/0/env",
         "value": [{"name": "B", "value": "2"}]}])
    assert patched.spec.replicas == 2 and patched.metadata.labels == {"tier": "front"}
    assert patched.spec.template.spec.containers[0].env[0].name == "B"

    with pytest.raises(ApiException) as failed:
        apps.patch_namespaced_deployment("web", namespace, [
            {"op": "test", "path": "/spec/replicas", "value": 7},
            {"op": "replace", "path": "/spec/replicas", "value": 9}])
    assert failed.value.status == 422, failed.value.body
    status = status_of(failed.value)
    assert status["reason"] == "Invalid"
    assert status["message"].startswith(  # Kubernetes' words, then which operation
        "the server rejected our request due to an error in our request: "
        "json patch operation 0 (test /spec/replicas) failed"), status
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 2


@pytest.mark.compat("status subresource: read, patch, replace *_status")
def test_the_status_subresource_writes_status_only(core: Any, namespace: str) -> None:
    core.create_namespaced_service(namespace, {"metadata": {"name": "lb"}, "spec": {
        "type": "LoadBalancer", "selector": {"app": "x"}, "ports": [{"port": 80}]}})
    read = core.read_namespaced_service_status("lb", namespace)
    assert read.spec.type == "LoadBalancer"

    patched = core.patch_namespaced_service_status("lb", namespace, {
        "spec": {"type": "ClusterIP"},
        "status": {"loadBalancer": {"ingress": [{"ip": "172.28.99.1"}]}}})
    assert patched.status.load_balancer.ingress[0].ip == "172.28.99.1"
    assert patched.spec.type == "LoadBalancer"  # a status write leaves the spec alone

    patched.status.load_balancer.ingress[0].ip = "172.28.99.2"
    patched.spec.ports[0].port = 81
    replaced = core.replace_namespaced_service_status("lb", namespace, patched)
    assert replaced.status.load_balancer.ingress[0].ip == "172.28.99.2"
    assert replaced.spec.ports[0].port == 80

    merged = core.patch_namespaced_service_status(
        "lb", namespace, {"status": {"loadBalancer": {"ingress": None}}},
        _content_type="application/merge-patch+json")
    assert merged.status.load_balancer.ingress is None
    stored = core.read_namespaced_service("lb", namespace)
    assert stored.status.load_balancer.ingress is None and stored.spec.ports[0].port == 80


@pytest.mark.compat("scale subresource: read, patch, replace *_scale")
def test_the_scale_subresource_of_each_workload(apps: Any, namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, deployment("web"))
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.kind == "Scale" and scale.api_version == "autoscaling/v1"
    assert scale.spec.replicas == 1
    patched = apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 2}})
    assert patched.spec.replicas == 2
    patched = apps.patch_namespaced_deployment_scale(
        "web", namespace, {"spec": {"replicas": 3}}, _content_type="application/merge-patch+json")
    assert patched.spec.replicas == 3
    patched.spec.replicas = 0
    patched.metadata.resource_version = None  # no precondition: the last write wins
    assert apps.replace_namespaced_deployment_scale("web", namespace, patched).spec.replicas == 0
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 0

    apps.create_namespaced_replica_set(namespace, {"metadata": {"name": "rs"},
                                                   "spec": workload_spec("rs", 0)})
    apps.patch_namespaced_replica_set_scale("rs", namespace, [
        {"op": "replace", "path": "/spec/replicas", "value": 1}])
    apps.create_namespaced_stateful_set(namespace, {"metadata": {"name": "db"}, "spec": {
        **workload_spec("db", 0), "serviceName": "db"}})

    def scale_db() -> Any:
        sts = apps.read_namespaced_stateful_set_scale("db", namespace)
        sts.spec.replicas = 1
        return apps.replace_namespaced_stateful_set_scale("db", namespace, sts)

    retry_on_conflict(scale_db)

    def scaled() -> Any:
        rs = apps.read_namespaced_replica_set_scale("rs", namespace)
        db = apps.read_namespaced_stateful_set_scale("db", namespace)
        return rs.status.replicas == 1 and db.status.replicas == 1 and (rs, db)

    rs, db = wait_for(scaled, 120, "rs and db at one replica")
    assert rs.status.selector == "app=rs" and db.status.selector == "app=db"


def _workload(apps: Any, core: Any, namespace: str, name: str) -> tuple[Any, list[Any]]:
    """A one-replica Deployment, once its ReplicaSet and pod exist."""
    made = apps.create_namespaced_deployment(namespace, deployment(name))

    def owned() -> Any:
        rss = apps.list_namespaced_replica_set(namespace, label_selector=f"app={name}").items
        pods = core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
        return len(rss) == 1 and len(pods) == 1 and rss

    return made, wait_for(owned, 120, f"{name}'s ReplicaSet and pod")


@pytest.mark.compat("delete with propagation_policy Foreground, Background, Orphan")
def test_propagation_policies_on_a_deployment(apps: Any, core: Any, namespace: str) -> None:
    from kubernetes import client

    for name in ("fg", "bg", "orphan"):
        _workload(apps, core, namespace, name)

    apps.delete_namespaced_deployment(
        "fg", namespace, body=client.V1DeleteOptions(propagation_policy="Foreground"))
    waiting = apps.read_namespaced_deployment("fg", namespace)
    assert waiting.metadata.deletion_timestamp is not None
    assert "foregroundDeletion" in waiting.metadata.finalizers
    gone(lambda: apps.read_namespaced_deployment("fg", namespace))
    assert apps.list_namespaced_replica_set(namespace, label_selector="app=fg").items == []

    apps.delete_namespaced_deployment("bg", namespace, propagation_policy="Background")
    gone(lambda: apps.read_namespaced_deployment("bg", namespace))
    wait_for(lambda: not apps.list_namespaced_replica_set(namespace, label_selector="app=bg")
             .items, 90, "bg's ReplicaSet collected")

    apps.delete_namespaced_deployment(
        "orphan", namespace, body=client.V1DeleteOptions(propagation_policy="Orphan"))
    gone(lambda: apps.read_namespaced_deployment("orphan", namespace))
    rss = apps.list_namespaced_replica_set(namespace, label_selector="app=orphan").items
    assert len(rss) == 1 and not rss[0].metadata.owner_references
    assert len(core.list_namespaced_pod(namespace, label_selector="app=orphan").items) == 1


@pytest.mark.compat("delete with grace_period_seconds")
def test_grace_period_on_delete(core: Any, namespace: str) -> None:
    core.create_namespaced_pod(namespace, pod("slow", terminationGracePeriodSeconds=30))
    wait_for(lambda: core.read_namespaced_pod("slow", namespace).status.phase == "Running",
             120, "slow running")
    deleted = core.delete_namespaced_pod("slow", namespace, grace_period_seconds=2)
    assert deleted.metadata.deletion_grace_period_seconds == 2
    assert deleted.metadata.deletion_timestamp is not None
    gone(lambda: core.read_namespaced_pod("slow", namespace), timeout=60)

    core.create_namespaced_pod(namespace, pod("now"))
    core.delete_namespaced_pod("now", namespace, grace_period_seconds=0)
    gone(lambda: core.read_namespaced_pod("now", namespace), timeout=60)


@pytest.mark.compat("delete with preconditions (uid, resourceVersion)")
def test_delete_preconditions(core: Any, namespace: str) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    made = core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    uid, version = made.metadata.uid, made.metadata.resource_version
    wrong = "6c6f6e67-0000-0000-0000-000000000000"
    for pre, why in ((client.V1Preconditions(uid=wrong),
                      f"UID in precondition: {wrong}, UID in object meta: {uid}"),
                     (client.V1Preconditions(resource_version="1"),
                      f"ResourceVersion in precondition: 1, ResourceVersion in object meta: "
                      f"{version}")):
        with pytest.raises(ApiException) as failed:
            core.delete_namespaced_config_map("cm", namespace,
                                              body=client.V1DeleteOptions(preconditions=pre))
        assert failed.value.status == 409
        assert status_of(failed.value)["reason"] == "Conflict"
        assert status_of(failed.value)["message"] == \
            f'Operation cannot be fulfilled on configmaps "cm": Precondition failed: {why}'
    core.delete_namespaced_config_map("cm", namespace, body=client.V1DeleteOptions(
        preconditions=client.V1Preconditions(uid=made.metadata.uid,
                                             resource_version=made.metadata.resource_version)))
    gone(lambda: core.read_namespaced_config_map("cm", namespace))


@pytest.mark.compat("delete_collection_* with a label selector")
def test_delete_collection_by_label(core: Any, namespace: str) -> None:
    for i, tier in enumerate(("a", "a", "b")):
        core.create_namespaced_config_map(namespace, {"metadata": {
            "name": f"cm{i}", "labels": {"tier": tier}}})
    core.delete_collection_namespaced_config_map(namespace, label_selector="tier=a")
    names = [c.metadata.name for c in core.list_namespaced_config_map(namespace).items]
    assert "cm2" in names and "cm0" not in names and "cm1" not in names


@pytest.mark.compat("dry_run=\"All\" on create, patch, replace, delete")
def test_dry_run_stores_nothing(core: Any, apps: Any, namespace: str) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    would = apps.create_namespaced_deployment(namespace, deployment("web"), dry_run="All")
    assert would.metadata.name == "web" and would.spec.strategy.type == "RollingUpdate"
    with pytest.raises(ApiException) as failed:
        apps.read_namespaced_deployment("web", namespace)
    assert failed.value.status == 404

    made = apps.create_namespaced_deployment(namespace, deployment("web"))
    patched = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3}},
                                               dry_run="All")
    assert patched.spec.replicas == 3
    current = apps.read_namespaced_deployment("web", namespace)
    current.spec.replicas = 4
    current.metadata.resource_version = None  # the controller writes status meanwhile
    assert apps.replace_namespaced_deployment("web", namespace, current,
                                              dry_run="All").spec.replicas == 4
    apps.delete_namespaced_deployment("web", namespace, dry_run="All")
    apps.delete_namespaced_deployment("web", namespace,  # in the body, as V1DeleteOptions
                                      body=client.V1DeleteOptions(dry_run=["All"]))
    stored = apps.read_namespaced_deployment("web", namespace)
    assert stored.spec.replicas == 1 and stored.metadata.deletion_timestamp is None
    assert stored.metadata.generation == 1 and stored.metadata.uid == made.metadata.uid

    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"}})
    core.delete_collection_namespaced_config_map(namespace, dry_run="All")
    core.delete_collection_namespaced_config_map(
        namespace, body=client.V1DeleteOptions(dry_run=["All"]))
    core.read_namespaced_config_map("cm", namespace)


@pytest.mark.compat("create_namespaced_pod_eviction")
def test_eviction_deletes_the_pod_gracefully(core: Any, namespace: str) -> None:
    from kubernetes import client

    core.create_namespaced_pod(namespace, pod("evicted"))
    wait_for(lambda: core.read_namespaced_pod("evicted", namespace).status.phase == "Running",
             120, "evicted running")
    answer = core.create_namespaced_pod_eviction("evicted", namespace, client.V1Eviction(
        metadata=client.V1ObjectMeta(name="evicted", namespace=namespace),
        delete_options=client.V1DeleteOptions(grace_period_seconds=1)))
    assert answer.kind == "Status"  # Kubernetes answers a Success Status; the model keeps kind
    gone(lambda: core.read_namespaced_pod("evicted", namespace), timeout=60)
    reasons = [e.reason for e in core.list_namespaced_event(
        namespace, field_selector="involvedObject.kind=Pod,involvedObject.name=evicted").items]
    assert "Killing" in reasons


@pytest.mark.compat("patch_* with _content_type application/apply-patch+yaml")
def test_typed_server_side_apply_upserts(apps: Any, namespace: str) -> None:
    """Creates, then updates (owners and conflicts: test_server_side_apply.py)."""
    body = deployment("web")
    made = apps.patch_namespaced_deployment("web", namespace, body, field_manager="compat",
                                            _content_type="application/apply-patch+yaml")
    assert made.metadata.uid and made.spec.replicas == 1
    body["spec"]["replicas"] = 2
    applied = apps.patch_namespaced_deployment("web", namespace, body, field_manager="compat",
                                               _content_type="application/apply-patch+yaml")
    assert applied.metadata.uid == made.metadata.uid and applied.spec.replicas == 2
