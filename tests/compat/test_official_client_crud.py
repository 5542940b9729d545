"""The official `kubernetes` Python client's typed APIs: create, read, list, replace and
delete of every kind Schooner serves, the answers deserialised into the client's models."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.compat.conftest import Cluster
from tests.compat.officialobjects import deployment, gone, pod, workload_spec

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@dataclass
class Kind:
    """How the typed API names one kind: `api.create_namespaced_<stem>` and so on."""

    api: str
    stem: str
    namespaced: bool
    body: dict[str, Any]

    def call(self, apis: dict[str, Any], verb: str, namespace: str, **kwargs: Any) -> Any:
        scope = "namespaced_" if self.namespaced else ""
        method = getattr(apis[self.api], f"{verb}_{scope}{self.stem}")
        return method(namespace=namespace, **kwargs) if self.namespaced else method(**kwargs)


def kinds(name: str, namespace: str) -> list[Kind]:
    """A valid body of each kind, as a user would write it."""
    meta = {"name": name, "labels": {"compat": "crud"}}
    return [
        Kind("core", "namespace", False, {"metadata": meta}),
        Kind("core", "node", False, {"metadata": meta,
                                     "spec": {"unschedulable": True}}),
        Kind("scheduling", "priority_class", False, {"metadata": meta, "value": 1000,
                                                     "description": "compat"}),
        Kind("core", "config_map", True, {"metadata": meta, "data": {"k": "v"}}),
        Kind("core", "secret", True, {"metadata": meta, "type": "Opaque",
                                      "data": {"bin": base64.b64encode(bytes(range(256))).decode()},
                                      "stringData": {"text": "hunter2"}}),
        Kind("core", "service", True, {"metadata": meta, "spec": {
            "selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}),
        # Not the Service's name: the endpoints controller deletes the Endpoints of a
        # deleted Service, as Kubernetes' does.
        Kind("core", "endpoints", True, {"metadata": {**meta, "name": f"{name}-ep"},
                                         "subsets": [{"addresses": [{"ip": "172.28.99.9"}],
                                                      "ports": [{"port": 8080}]}]}),
        Kind("core", "pod", True, {**pod(name), "metadata": {
            **meta, "labels": {"app": name, "compat": "crud"}}}),
        Kind("core", "event", True, {"metadata": meta, "reason": "Compat", "message": "hi",
                                     "type": "Normal", "involvedObject": {
                                         "kind": "Pod", "name": name, "namespace": namespace}}),
        Kind("apps", "deployment", True, {**deployment(name), "metadata": meta}),
        Kind("apps", "replica_set", True, {"metadata": meta,
                                           "spec": workload_spec(f"{name}-rs")}),
        Kind("apps", "stateful_set", True, {"metadata": meta, "spec": {
            **workload_spec(f"{name}-sts"), "serviceName": name}}),
        Kind("coordination", "lease", True, {"metadata": meta, "spec": {
            "holderIdentity": "compat", "leaseDurationSeconds": 15}}),
    ]


@pytest.fixture
def apis(official: Any) -> dict[str, Any]:
    from kubernetes import client

    return {"core": client.CoreV1Api(official), "apps": client.AppsV1Api(official),
            "coordination": client.CoordinationV1Api(official),
            "scheduling": client.SchedulingV1Api(official)}


@pytest.mark.compat("typed create, read, list, replace, delete of every kind")
def test_every_kind_round_trips_through_the_typed_api(apis: dict[str, Any], namespace: str,
                                                      cluster: Cluster) -> None:
    base = f"crud-{uuid.uuid4().hex[:6]}"
    for kind in kinds(base, namespace):
        name = kind.body["metadata"]["name"]
        created = kind.call(apis, "create", namespace, body=kind.body)
        assert created.metadata.name == name and created.metadata.uid, kind.stem
        assert created.metadata.creation_timestamp.tzinfo is not None, kind.stem

        read = kind.call(apis, "read", namespace, name=name)
        assert read.metadata.uid == created.metadata.uid, kind.stem
        listed = kind.call(apis, "list", namespace, label_selector="compat=crud")
        assert name in [item.metadata.name for item in listed.items], kind.stem
        assert listed.metadata.resource_version, kind.stem

        replaced = relabel(apis, kind, namespace, name)
        assert replaced.metadata.labels["changed"] == "yes", kind.stem
        assert int(replaced.metadata.resource_version) > int(read.metadata.resource_version)

        deleted = kind.call(apis, "delete", namespace, name=name)
        _check_delete_answer(kind, deleted, created)
        gone(lambda kind=kind, name=name: kind.call(apis, "read", namespace, name=name))


def _check_delete_answer(kind: Kind, deleted: Any, created: Any) -> None:
    """As Kubernetes: a Pod (graceful) or a Namespace (finalized) still pending comes back
    as the object, a Service always (ReturnDeletedObject), any other kind removed at once
    as a Success Status naming it by resource."""
    if kind.stem in ("pod", "service"):
        assert deleted.metadata.uid == created.metadata.uid, kind.stem
    elif kind.stem == "namespace":
        assert deleted["kind"] == "Namespace" and deleted["status"]["phase"] == "Terminating"
    else:
        assert deleted["kind"] == "Status" and deleted["status"] == "Success", kind.stem
        assert deleted["details"]["uid"] == created.metadata.uid, kind.stem
        assert deleted["details"]["name"] == created.metadata.name, kind.stem


def relabel(apis: dict[str, Any], kind: Kind, namespace: str, name: str) -> Any:
    """Read, change a label, replace; a 409 (a controller wrote in between: a Node's
    lifecycle controller does) means read again, as client-go's RetryOnConflict does."""
    from kubernetes.client.exceptions import ApiException

    for _ in range(5):
        current = kind.call(apis, "read", namespace, name=name)
        current.metadata.labels["changed"] = "yes"
        try:
            return kind.call(apis, "replace", namespace, name=name, body=current)
        except ApiException as exc:
            if exc.status != 409:
                raise
    raise AssertionError(f"{kind.stem} {name}: five conflicts in a row")


@pytest.mark.compat("typed models of served objects deserialise")
def test_models_carry_the_fields_the_server_fills(apis: dict[str, Any], namespace: str,
                                                  cluster: Cluster) -> None:
    """What the controllers, the scheduler and the agent write deserialises too."""
    from cli.cluster.processes import wait_for

    core, apps = apis["core"], apis["apps"]
    secret = core.create_namespaced_secret(namespace, kinds("s", namespace)[4].body)
    assert base64.b64decode(core.read_namespaced_secret("s", namespace).data["bin"]) == \
        bytes(range(256))
    assert base64.b64decode(secret.data["text"]) == b"hunter2" and secret.string_data is None

    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    ready = wait_for(lambda: (d := apps.read_namespaced_deployment("web", namespace))
                     .status.ready_replicas == 2 and d, 120, "deployment web ready")
    assert ready.status.observed_generation == 1 and ready.spec.strategy.type == "RollingUpdate"
    assert {c.type for c in ready.status.conditions} >= {"Available", "Progressing"}
    replicasets = apps.list_namespaced_replica_set(namespace).items
    assert [r.metadata.owner_references[0].uid for r in replicasets] == [ready.metadata.uid]
    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 2
    for p in pods:
        assert p.status.phase == "Running" and p.spec.node_name == cluster.node
        assert p.status.pod_ip and p.status.container_statuses[0].ready
        assert p.status.container_statuses[0].state.running.started_at is not None
    node = core.read_node(cluster.node)
    assert node.status.node_info.kubelet_version and node.status.allocatable["pods"]
    events = core.list_namespaced_event(namespace).items
    assert any(e.involved_object.kind == "Pod" and e.reason == "Scheduled" for e in events)
    service = core.read_namespaced_service("kubernetes", "default")
    assert service.spec.cluster_ip and service.spec.ports[0].name == "https"
    assert service.spec.type == "ClusterIP" and service.spec.ports[0].protocol == "TCP"
