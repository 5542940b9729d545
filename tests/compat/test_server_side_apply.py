"""Server-side apply with field ownership, from kubectl and two Python clients built apart.

Two managers apply the same Deployment: the second one's different `replicas` is a
409 Conflict kubectl prints as Kubernetes' (`Apply failed with 1 conflict: conflict
with "alice": .spec.replicas` and its advice), `--force-conflicts` takes the field,
and a field the first manager stops applying goes unless someone else owns it.
kubectl's first server-side apply of an object it applied client-side takes over
its fields without a conflict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.cluster.processes import wait_for
from tests.compat.conftest import Cluster, Kubectl

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def _deployment(replicas: int | None = 2, labels: dict[str, str] | None = None,
                image: str = "schooner/busybox:latest") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web"}
    if labels:
        meta["labels"] = labels
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "web", "image": image, "command": ["sleep", "3600"]}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def _write(tmp_path: Path, obj: dict[str, Any]) -> str:
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump(obj))
    return str(path)


def _managed(kubectl: Kubectl) -> dict[str, dict[str, Any]]:
    """managedFields by manager, as `kubectl get --show-managed-fields -o json` shows them."""
    got = json.loads(kubectl("get", "deploy", "web", "-o", "json",
                             "--show-managed-fields").stdout)
    return {e["manager"]: e for e in got["metadata"].get("managedFields") or []}


@pytest.mark.compat("kubectl apply --server-side", "kubectl get --show-managed-fields")
def test_kubectl_server_side_apply_owners_conflicts_force_and_removal(
        kubectl: Kubectl, cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    first = _deployment(replicas=2, labels={"tier": "front"})
    out = kubectl("apply", "--server-side", "--field-manager=alice", "-f",
                  _write(tmp_path, first)).out
    assert "deployment.apps/web serverside-applied" in out

    refused = kubectl("apply", "--server-side", "--field-manager=bob", "-f",
                      _write(tmp_path, _deployment(replicas=3)), ok=False)
    assert refused.code != 0
    assert 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas' in refused.out
    assert "--force-conflicts" in refused.out
    assert cluster.client.get("deployments", "web", namespace)["spec"]["replicas"] == 2

    kubectl("apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f",
            _write(tmp_path, _deployment(replicas=3)))
    owners = _managed(kubectl)
    assert owners["bob"]["operation"] == "Apply"
    assert owners["bob"]["fieldsType"] == "FieldsV1"
    assert owners["bob"]["fieldsV1"]["f:spec"]["f:replicas"] == {}
    assert "f:replicas" not in owners["alice"]["fieldsV1"]["f:spec"]
    assert owners["alice"]["fieldsV1"]["f:metadata"]["f:labels"] == {"f:tier": {}}

    # alice stops applying her label (nobody else owns it: it goes) and replicas (bob
    # owns them now: they stay).
    kubectl("apply", "--server-side", "--field-manager=alice", "-f",
            _write(tmp_path, _deployment(replicas=None)))
    live = cluster.client.get("deployments", "web", namespace)
    assert "tier" not in (live["metadata"].get("labels") or {})
    assert live["spec"]["replicas"] == 3

    # The deployment controller's status writes are its own Update entry, named after
    # its program (the client's User-Agent), through the status subresource.
    def controller_entry() -> bool:
        return any(e.get("manager") == "controllers" and e.get("subresource") == "status"
                   for e in cluster.client.get("deployments", "web", namespace)["metadata"]
                   .get("managedFields") or [])
    wait_for(controller_entry, timeout=30, what="the deployment controller's status entry")

    shown = kubectl("get", "deploy", "web", "-o", "yaml", "--show-managed-fields").stdout
    assert "managedFields:" in shown and "manager: alice" in shown
    assert "f:replicas: {}" in shown
    assert "managedFields" not in kubectl("get", "deploy", "web", "-o", "yaml").stdout


@pytest.mark.compat("kubectl apply --server-side after client-side apply")
def test_kubectl_upgrades_a_client_side_applied_object(kubectl: Kubectl, cluster: Cluster,
                                                       namespace: str, tmp_path: Path) -> None:
    manifest = _deployment(replicas=2, labels={"tier": "front"})
    kubectl("apply", "-f", _write(tmp_path, manifest))
    assert _managed(kubectl)["kubectl-client-side-apply"]["operation"] == "Update"

    manifest["spec"]["replicas"] = 4
    del manifest["metadata"]["labels"]
    kubectl("apply", "--server-side", "-f", _write(tmp_path, manifest))
    owners = _managed(kubectl)
    assert "kubectl-client-side-apply" not in owners
    assert owners["kubectl"]["operation"] == "Apply"
    live = cluster.client.get("deployments", "web", namespace)
    assert live["spec"]["replicas"] == 4
    assert "tier" not in (live["metadata"].get("labels") or {})  # applied, then dropped
    last = json.loads(live["metadata"]["annotations"][
        "kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["replicas"] == 4  # kept current for a later client-side apply


@pytest.mark.compat("patch_* with _content_type application/apply-patch+yaml")
def test_typed_server_side_apply_owners_and_conflicts(official: Any, namespace: str) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    apps = client.AppsV1Api(official)
    apply = "application/apply-patch+yaml"
    made = apps.patch_namespaced_deployment("web", namespace, _deployment(replicas=1),
                                            field_manager="one", _content_type=apply)
    assert made.spec.replicas == 1
    assert [(e.manager, e.operation) for e in made.metadata.managed_fields] == [
        ("one", "Apply")]

    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("web", namespace, _deployment(replicas=5),
                                         field_manager="two", _content_type=apply)
    status = json.loads(caught.value.body)
    assert caught.value.status == 409 and status["reason"] == "Conflict"
    assert status["details"]["causes"] == [{
        "reason": "FieldManagerConflict", "message": 'conflict with "one"',
        "field": ".spec.replicas"}]

    forced = apps.patch_namespaced_deployment("web", namespace, _deployment(replicas=5),
                                              field_manager="two", force=True,
                                              _content_type=apply)
    assert forced.spec.replicas == 5

    # Through /status an apply writes status only and is recorded with its subresource.
    status_body = {**_deployment(replicas=99), "status": {"observedGeneration": 42}}
    written = apps.patch_namespaced_deployment_status("web", namespace, status_body,
                                                      field_manager="statuser", force=True,
                                                      _content_type=apply)
    assert written.spec.replicas == 5 and written.status.observed_generation == 42
    entry = next(e for e in written.metadata.managed_fields if e.manager == "statuser")
    assert (entry.operation, entry.subresource) == ("Apply", "status")
    assert entry.fields_v1 == {"f:status": {"f:observedGeneration": {}}}

    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("web", namespace, _deployment(),
                                         _content_type=apply)
    assert caught.value.status == 422
    assert "fieldManager: Required value: is required for apply patch" in \
        json.loads(caught.value.body)["message"]


@pytest.mark.compat("lightkube apply (server-side)")
def test_lightkube_server_side_apply(cluster: Cluster, namespace: str) -> None:
    lightkube = pytest.importorskip("lightkube")
    from lightkube.generic_resource import create_namespaced_resource

    configmap = create_namespaced_resource("", "v1", "ConfigMap", "configmaps")
    light = lightkube.Client(config=lightkube.KubeConfig.from_file(cluster.kubeconfig),
                             trust_env=False)
    try:
        def cm(data: dict[str, str]) -> Any:
            return configmap({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "cm", "namespace": namespace},
                              "data": data})

        made = light.apply(cm({"a": "1", "b": "2"}), field_manager="light")
        assert made["data"] == {"a": "1", "b": "2"}
        with pytest.raises(lightkube.ApiError) as caught:
            light.apply(cm({"a": "9"}), field_manager="other")
        assert caught.value.status.code == 409
        taken = light.apply(cm({"a": "9"}), field_manager="other", force=True)
        assert taken["data"] == {"a": "9", "b": "2"}
        light.apply(cm({"b": "2"}), field_manager="light")  # gives up a: other owns it
        assert light.get(configmap, "cm", namespace=namespace)["data"] == {"a": "9", "b": "2"}
        light.apply(cm({}), field_manager="light")  # gives up b: nobody else owns it
        assert light.get(configmap, "cm", namespace=namespace)["data"] == {"a": "9"}
    finally:
        light.close()
