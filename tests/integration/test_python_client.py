"""The official `kubernetes` Python client against Schooner (list, watch, scale by SMP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.cluster.processes import Apiserver
from tests.integration.sample_objects import deployment

kubernetes = pytest.importorskip("kubernetes")
pytestmark = pytest.mark.integration


def test_official_client_lists_watches_and_scales(apiserver: Apiserver, tmp_path: Path,
                                                  namespace: str) -> None:
    from kubernetes import client, config, watch

    api_client = config.new_client_from_config(str(apiserver.kubeconfig(tmp_path / "kc")))
    try:
        core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "cm"},
                                                      "data": {"a": "b"}})
        apps.create_namespaced_deployment(namespace, deployment("py"))
        names = [cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items]
        assert names == ["cm"]
        deploy = apps.read_namespaced_deployment("py", namespace)
        assert deploy.spec.replicas == 2 and deploy.metadata.generation == 1

        apps.patch_namespaced_deployment_scale("py", namespace, {"spec": {"replicas": 4}})
        assert apps.read_namespaced_deployment("py", namespace).spec.replicas == 4

        events = []
        for event in watch.Watch().stream(core.list_namespaced_config_map, namespace,
                                          timeout_seconds=2):
            events.append((event["type"], event["object"].metadata.name))
        assert events == [("ADDED", "cm")]
    finally:
        api_client.close()



def test_official_client_unknown_fields_are_dropped(apiserver: Apiserver, tmp_path: Path,
                                                    namespace: str) -> None:
    """The typed API refuses unknown fields itself (its pydantic models); the dynamic client
    sends dicts as they are, and the apiserver drops what the kind does not declare, or
    refuses it when the client asks for Strict."""
    from kubernetes import config, dynamic
    from kubernetes.client.exceptions import ApiException

    api_client = config.new_client_from_config(str(apiserver.kubeconfig(tmp_path / "kc")))
    try:
        configmaps = dynamic.DynamicClient(api_client).resources.get(
            api_version="v1", kind="ConfigMap")
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "loose", "foo": 1},
                "data": {"a": "b"}, "bar": 2}
        configmaps.create(body=body, namespace=namespace)
        stored = configmaps.get(name="loose", namespace=namespace).to_dict()
        assert "bar" not in stored and "foo" not in stored["metadata"]
        assert stored["data"] == {"a": "b"}

        with pytest.raises(ApiException) as failed:
            configmaps.create(body={**body, "metadata": {"name": "strict", "foo": 1}},
                              namespace=namespace,
                              query_params=[("fieldValidation", "Strict")])
        assert failed.value.status == 400
        assert json.loads(failed.value.body)["message"].endswith(
            'strict decoding error: unknown field "metadata.foo", unknown field "bar"')
    finally:
        api_client.close()
