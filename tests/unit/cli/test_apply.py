"""`cli.apply`: the create / configured / unchanged decisions, against a recording fake client."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.resources import ResourceInfo, by_kind
from cli.apply import (
    LAST_APPLIED,
    apply_one,
    last_applied_configuration,
    object_ref,
    plan_apply,
    with_namespace,
)
from cli.manifests import ManifestError, parse_manifests

DEPLOYMENTS = by_kind("apps/v1", "Deployment")
NODES = by_kind("v1", "Node")


def deployment(replicas: int = 2, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web", "namespace": "default"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx"}]}}}}


class FakeClient:
    """Records get/create/patch calls; holds at most one live object; nothing else is allowed."""

    def __init__(self, live: dict[str, Any] | None = None) -> None:
        self.live = live
        self.calls: list[tuple[Any, ...]] = []

    def get(self, resource: ResourceInfo, name: str, namespace: str | None = None) -> Any:
        self.calls.append(("get", resource.plural, name, namespace))
        if self.live is None:
            raise errors.not_found(resource.group_resource, name)
        return copy.deepcopy(self.live)

    def create(self, resource: ResourceInfo, obj: dict[str, Any],
               namespace: str | None = None) -> Any:
        self.calls.append(("create", resource.plural, namespace, copy.deepcopy(obj)))
        return served(obj)

    def patch(self, resource: ResourceInfo, name: str, patch: Any,
              namespace: str | None = None, *, patch_type: str = "merge") -> Any:
        self.calls.append(("patch", resource.plural, name, namespace, patch_type, patch))
        return copy.deepcopy(self.live)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"apply must not call client.{name}")


def served(obj: dict[str, Any]) -> dict[str, Any]:
    """What the apiserver would hold after storing `obj`: defaults, metadata and status added."""
    live = copy.deepcopy(obj)
    live["metadata"].update(uid="u-1", resourceVersion="7", generation=1,
                            creationTimestamp="2026-01-01T00:00:00Z")
    live["spec"]["strategy"] = {"type": "RollingUpdate"}
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"
    live["status"] = {"replicas": 2, "readyReplicas": 2}
    return live


def test_create_when_absent_with_last_applied_annotation() -> None:
    client = FakeClient()
    result = apply_one(client, DEPLOYMENTS, deployment())
    assert str(result) == "deployment.apps/web created"
    assert [c[0] for c in client.calls] == ["get", "create"]
    assert client.calls[0] == ("get", "deployments", "web", "default")
    sent = client.calls[1][3]
    assert client.calls[1][2] == "default"
    annotation = sent["metadata"]["annotations"][LAST_APPLIED]
    assert annotation == json.dumps(deployment(), sort_keys=True, separators=(",", ":"))
    assert LAST_APPLIED not in annotation


def test_unchanged_when_manifest_matches_what_was_applied() -> None:
    first = FakeClient()
    apply_one(first, DEPLOYMENTS, deployment())
    client = FakeClient(live=served(first.calls[1][3]))
    result = apply_one(client, DEPLOYMENTS, deployment())
    assert str(result) == "deployment.apps/web unchanged"
    assert result.warning is None
    assert [c[0] for c in client.calls] == ["get"]


def test_configured_sends_the_three_way_merge_patch() -> None:
    first = FakeClient()
    apply_one(first, DEPLOYMENTS, deployment(replicas=2, tier="web"))
    client = FakeClient(live=served(first.calls[1][3]))
    result = apply_one(client, DEPLOYMENTS, deployment(replicas=3))
    assert str(result) == "deployment.apps/web configured"
    assert client.calls[1] == ("patch", "deployments", "web", "default", "merge", {
        "metadata": {"annotations": {LAST_APPLIED: last_applied_configuration(deployment(3))},
                     "labels": None},
        "spec": {"replicas": 3},
    })


def test_live_object_without_annotation_is_configured_with_a_warning() -> None:
    client = FakeClient(live=served(deployment()))
    result = apply_one(client, DEPLOYMENTS, deployment())
    assert result.action == "configured"
    assert result.warning is not None and LAST_APPLIED in result.warning
    patch = client.calls[1][5]
    assert patch["metadata"] == {"annotations": {
        LAST_APPLIED: last_applied_configuration(deployment())}}
    # Without a last-applied, lists are compared with the live ones (which carry
    # server defaults), so the manifest's list is sent whole.
    assert patch["spec"] == {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx"}]}}}


def test_plan_apply_is_pure() -> None:
    manifest = deployment()
    before = copy.deepcopy(manifest)
    plan = plan_apply(manifest, None)
    assert plan.action == "create" and manifest == before
    assert LAST_APPLIED in plan.body["metadata"]["annotations"]


def test_last_applied_drops_its_own_annotation_but_keeps_others() -> None:
    obj = deployment()
    obj["metadata"]["annotations"] = {LAST_APPLIED: "old", "team": "a"}
    value = json.loads(last_applied_configuration(obj))
    assert value["metadata"]["annotations"] == {"team": "a"}
    obj["metadata"]["annotations"] = {LAST_APPLIED: "old"}
    assert "annotations" not in json.loads(last_applied_configuration(obj))["metadata"]


def _manifest(text: str) -> Any:
    return parse_manifests(text, "m.yaml")[0]


def test_namespace_defaults_and_explicit_mismatch() -> None:
    m = _manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    assert with_namespace(m, "team", explicit=False)["metadata"]["namespace"] == "team"
    assert "namespace" not in m.obj["metadata"]
    own = _manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n")
    assert with_namespace(own, "default", explicit=False)["metadata"]["namespace"] == "a"
    with pytest.raises(ManifestError, match="does not match the namespace"):
        with_namespace(own, "b", explicit=True)
    node = _manifest("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n")
    assert "namespace" not in with_namespace(node, "team", explicit=True)["metadata"]


def test_cluster_scoped_objects_are_fetched_without_namespace() -> None:
    client = FakeClient()
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
    client.create = lambda resource, obj, namespace=None: (  # type: ignore[method-assign]
        client.calls.append(("create", namespace)) or obj)
    assert str(apply_one(client, NODES, node)) == "node/n1 created"
    assert client.calls == [("get", "nodes", "n1", None), ("create", None)]


def test_object_ref() -> None:
    assert object_ref(DEPLOYMENTS, "web") == "deployment.apps/web"
    assert object_ref(by_kind("v1", "Service"), "web") == "service/web"


def test_server_errors_propagate() -> None:
    client = FakeClient()

    def refuse(resource: ResourceInfo, obj: Any, namespace: str | None = None) -> Any:
        raise errors.not_found("namespaces", "nope")

    client.create = refuse  # type: ignore[method-assign]
    with pytest.raises(errors.NotFound, match='namespaces "nope" not found'):
        apply_one(client, DEPLOYMENTS, deployment())
