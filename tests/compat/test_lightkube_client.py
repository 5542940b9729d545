"""A second Python client built another way: lightkube (its own httpx-based transport
and its own models), for get, list, create, patch, watch and delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.compat.conftest import ROOT_CA, Cluster
from tests.compat.officialobjects import deployment

lightkube = pytest.importorskip("lightkube")
pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
def light(cluster: Cluster) -> Iterator[Any]:
    from lightkube import Client, KubeConfig

    client = Client(config=KubeConfig.from_file(cluster.kubeconfig), trust_env=False)
    try:
        yield client
    finally:
        client.close()


@pytest.mark.compat("lightkube get, list, create, patch, delete")
def test_lightkube_crud(light: Any, namespace: str) -> None:
    from lightkube import ApiError
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.apps_v1 import Deployment
    from lightkube.resources.core_v1 import ConfigMap, Node
    from lightkube.types import PatchType

    made = light.create(ConfigMap(metadata=ObjectMeta(name="cm", labels={"tier": "x"}),
                                  data={"k": "v"}), namespace=namespace)
    assert made.metadata.uid and made.data == {"k": "v"}
    assert light.get(ConfigMap, "cm", namespace=namespace).metadata.uid == made.metadata.uid
    assert [c.metadata.name for c in light.list(ConfigMap, namespace=namespace,
                                                labels={"tier": "x"})] == ["cm"]
    patched = light.patch(ConfigMap, "cm", {"data": {"k": None, "n": "1"}},
                          namespace=namespace, patch_type=PatchType.MERGE)
    assert patched.data == {"n": "1"}
    assert light.patch(ConfigMap, "cm", [{"op": "add", "path": "/data/j", "value": "2"}],
                       namespace=namespace, patch_type=PatchType.JSON).data == {"n": "1", "j": "2"}

    light.create(Deployment.from_dict(deployment("web")), namespace=namespace)
    scaled = light.patch(Deployment.Scale, "web", {"spec": {"replicas": 2}}, namespace=namespace)
    assert scaled.spec.replicas == 2
    assert light.get(Deployment, "web", namespace=namespace).spec.replicas == 2
    assert any(n.status.nodeInfo.kubeletVersion for n in light.list(Node))

    # chunk_size pages through the list with limit and continue
    for i in range(5):
        light.create(ConfigMap(metadata=ObjectMeta(name=f"page{i}")), namespace=namespace)
    assert len(list(light.list(ConfigMap, namespace=namespace, chunk_size=2))) == 7  # + ROOT_CA

    light.delete(ConfigMap, "cm", namespace=namespace)
    with pytest.raises(ApiError) as failed:
        light.get(ConfigMap, "cm", namespace=namespace)
    assert failed.value.status.code == 404 and failed.value.status.reason == "NotFound"


@pytest.mark.compat("lightkube watch")
def test_lightkube_watch(light: Any, namespace: str) -> None:
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import ConfigMap

    listed = light.list(ConfigMap, namespace=namespace)
    assert [c.metadata.name for c in listed] == [ROOT_CA]
    start = listed.resourceVersion  # known once the list has been read
    light.create(ConfigMap(metadata=ObjectMeta(name="cm"), data={"k": "1"}), namespace=namespace)
    light.patch(ConfigMap, "cm", {"data": {"k": "2"}}, namespace=namespace)
    light.delete(ConfigMap, "cm", namespace=namespace)
    events = []
    for kind, obj in light.watch(ConfigMap, namespace=namespace, resource_version=start,
                                 server_timeout=5):
        events.append((kind, obj.metadata.name, obj.data["k"]))
        if kind == "DELETED":
            break
    assert events == [("ADDED", "cm", "1"), ("MODIFIED", "cm", "2"), ("DELETED", "cm", "2")]
