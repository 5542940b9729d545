"""Kubernetes protobuf on the wire: kubectl's typed clients send it, and a client that
accepts nothing else is answered in it, read here by Google's protobuf runtime."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from apimachinery.kubeconfig import load_kubeconfig
from tests.compat import k8s_proto
from tests.compat.conftest import Cluster, Kubectl

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
PB = "application/vnd.kubernetes.protobuf"


@pytest.fixture
def http(cluster: Cluster) -> Iterator[httpx.Client]:
    """Raw HTTP as the kubeconfig's user, for Accept headers the clients here never send."""
    config = load_kubeconfig(str(cluster.kubeconfig))
    import ssl

    context = ssl.create_default_context(cadata=(config.ca_data or b"").decode())
    with httpx.Client(base_url=config.server, verify=context, timeout=30,
                      headers={"Authorization": f"Bearer {config.token}"}) as client:
        yield client


@pytest.mark.compat("protobuf request bodies (client-go typed clients)")
def test_kubectl_typed_create_sends_protobuf(kubectl: Kubectl) -> None:
    made = kubectl("create", "configmap", "settings", "--from-literal=color=blue",
                   "--from-literal=size=10", "-v=8")
    assert f"Content-Type: {PB}" in made.stderr  # kubectl -v=8 logs its request headers
    assert json.loads(kubectl("get", "configmap", "settings", "-o", "json").stdout)[
        "data"] == {"color": "blue", "size": "10"}
    kubectl("create", "secret", "generic", "creds", "--from-literal=user=admin")
    secret = json.loads(kubectl("get", "secret", "creds", "-o", "json").stdout)
    assert secret["data"] == {"user": "YWRtaW4="}
    kubectl("create", "deployment", "web", "--image=nginx:1.25", "--replicas=0")
    deploy = json.loads(kubectl("get", "deployment", "web", "-o", "json").stdout)
    assert deploy["spec"]["replicas"] == 0
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"


@pytest.mark.compat("protobuf responses")
def test_protobuf_only_client_gets_objects_lists_and_status(
        kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    kubectl("create", "configmap", "a", "--from-literal=z=1", "--from-literal=k=v")
    kubectl("create", "configmap", "b")
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    got = http.get(f"{base}/a", headers={"Accept": PB})
    assert got.status_code == 200 and got.headers["content-type"] == PB
    api_version, kind, raw = k8s_proto.unwrap(got.content)
    assert (api_version, kind) == ("v1", "ConfigMap")
    cm = k8s_proto.parse("ConfigMap", raw)
    as_json = http.get(f"{base}/a").json()
    assert cm.metadata.name == "a" and cm.metadata.namespace == namespace
    assert cm.metadata.uid == as_json["metadata"]["uid"]
    assert k8s_proto.entries(cm.data) == {"k": "v", "z": "1"}
    assert cm.metadata.creationTimestamp.seconds > 1_600_000_000

    listed = http.get(base, headers={"Accept": PB})
    assert listed.status_code == 200
    api_version, kind, raw = k8s_proto.unwrap(listed.content)
    assert kind == "ConfigMapList"
    page = k8s_proto.parse("ConfigMapList", raw)
    assert int(page.metadata.resourceVersion) > 0
    assert sorted(i.metadata.name for i in page.items) >= ["a", "b"]

    missing = http.get(f"{base}/nope", headers={"Accept": PB})
    assert missing.status_code == 404 and missing.headers["content-type"] == PB
    status = k8s_proto.parse("Status", k8s_proto.unwrap(missing.content)[2])
    assert (status.status, status.reason, status.code) == ("Failure", "NotFound", 404)
    assert status.message == 'configmaps "nope" not found'

    # kubectl itself (JSON with protobuf first) is unaffected, and Tables stay JSON
    assert "a " in kubectl("get", "configmaps").stdout
    table = http.get(base, headers={"Accept": f"{PB};as=Table;v=v1;g=meta.k8s.io"})
    assert table.status_code == 406


@pytest.mark.compat("protobuf responses")
def test_every_kind_of_a_running_cluster_lists_in_protobuf(http: httpx.Client) -> None:
    """What the cluster's own components wrote (nodes, pods, leases, events...): each
    kind's list is the encoding of the JSON list at the same revision: no kind holds a
    field protobuf cannot carry any more (nodeInfo, securityContext... are typed)."""
    from apiserver import protobuf
    from apiserver.kinds import registry

    answered = 0
    for kind in registry():
        resource = kind.resource
        if "list" not in resource.verbs:  # a review is only ever created
            continue
        root = "/api/v1" if resource.api_version == "v1" else f"/apis/{resource.api_version}"
        path = f"{root}/{resource.plural}"
        got = http.get(path, headers={"Accept": PB})
        assert got.status_code == 200, got.text
        rv = k8s_proto.parse("ConfigMapList", k8s_proto.unwrap(got.content)[2]
                             ).metadata.resourceVersion  # ListMeta is the same in any list
        same = http.get(path, params={"resourceVersion": rv, "resourceVersionMatch": "Exact"})
        assert got.content == protobuf.encode(same.json()), resource.plural
        answered += 1
    assert answered == len([k for k in registry() if "list" in k.resource.verbs])


@pytest.mark.compat("protobuf responses")
def test_nodes_system_facts_read_by_googles_runtime(http: httpx.Client) -> None:
    """The agent's nodeInfo and daemon endpoint, typed now, as Kubernetes' NodeList."""
    got = http.get("/api/v1/nodes", headers={"Accept": PB})
    assert got.status_code == 200, got.text
    nodes = k8s_proto.parse("NodeList", k8s_proto.unwrap(got.content)[2]).items
    as_json = {n["metadata"]["name"]: n["status"] for n in http.get("/api/v1/nodes").json()[
        "items"]}
    assert len(nodes) == len(as_json) >= 1
    for node in nodes:
        status = as_json[node.metadata.name]
        info = node.status.nodeInfo
        assert info.kubeletVersion == status["nodeInfo"]["kubeletVersion"] != ""
        assert (info.operatingSystem, info.architecture) == (
            status["nodeInfo"]["operatingSystem"], status["nodeInfo"]["architecture"])
        assert node.status.daemonEndpoints.kubeletEndpoint.Port == \
            status["daemonEndpoints"]["kubeletEndpoint"]["Port"] > 0


SECURE = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: secure}
spec:
  replicas: 0
  selector: {matchLabels: {app: secure}}
  template:
    metadata: {labels: {app: secure}}
    spec:
      securityContext: {runAsUser: 0, runAsGroup: 2000}
      containers:
      - {name: c, image: busybox, securityContext: {privileged: false}}
"""


@pytest.mark.compat("protobuf responses")
def test_security_contexts_keep_go_pointers(kubectl: Kubectl, http: httpx.Client,
                                            namespace: str) -> None:
    """`runAsUser: 0` (root) and `privileged: false` are on the wire, as Go writes a
    pointer set to zero; runAsNonRoot, never set, is not, as Go leaves a nil pointer."""
    kubectl("apply", "-f", "-", stdin=SECURE)
    got = http.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/secure",
                   headers={"Accept": PB})
    assert got.status_code == 200, got.text
    spec = k8s_proto.parse("Deployment", k8s_proto.unwrap(got.content)[2]).spec
    assert spec.HasField("replicas") and spec.replicas == 0
    pod = spec.template.spec
    assert pod.securityContext.HasField("runAsUser") and pod.securityContext.runAsUser == 0
    assert pod.securityContext.runAsGroup == 2000  # fsGroup is refused (docs/security.md)
    assert not pod.securityContext.HasField("runAsNonRoot")
    (container,) = pod.containers
    assert container.securityContext.HasField("privileged")
    assert container.securityContext.privileged is False
    assert not container.securityContext.HasField("runAsUser")


@pytest.mark.compat("protobuf responses")
def test_scale_subresource_in_protobuf(kubectl: Kubectl, http: httpx.Client,
                                       namespace: str) -> None:
    """`deployments/scale` as autoscaling/v1 Scale; `replicas: 0` is a Go value int32,
    written even when zero."""
    kubectl("create", "deployment", "web", "--image=nginx:1.25", "--replicas=0")
    got = http.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web/scale",
                   headers={"Accept": PB})
    assert got.status_code == 200, got.text
    api_version, kind, raw = k8s_proto.unwrap(got.content)
    assert (api_version, kind) == ("autoscaling/v1", "Scale")
    scale = k8s_proto.parse("Scale", raw)
    assert scale.metadata.name == "web"
    assert scale.spec.HasField("replicas") and scale.spec.replicas == 0
    assert scale.status.selector == "app=web"


@pytest.mark.compat("protobuf watch")
def test_protobuf_watch_stream(kubectl: Kubectl, http: httpx.Client, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = http.get(base).json()["metadata"]["resourceVersion"]
    frames: list[bytes] = []
    with http.stream("GET", base, params={"watch": "true", "resourceVersion": rv,
                                          "timeoutSeconds": "30"},
                     headers={"Accept": f"{PB};stream=watch"}) as stream:
        assert stream.headers["content-type"] == f"{PB};stream=watch"
        kubectl("create", "configmap", "w", "--from-literal=n=1")
        kubectl("label", "configmap", "w", "x=y")
        kubectl("delete", "configmap", "w")
        buffer = b""
        deadline = time.monotonic() + 30
        for chunk in stream.iter_bytes():
            buffer += chunk
            while len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[:4], "big"):
                size = int.from_bytes(buffer[:4], "big")
                frames.append(buffer[4:4 + size])
                buffer = buffer[4 + size:]
            if len(frames) >= 3 or time.monotonic() > deadline:
                break
    events = [k8s_proto.parse("WatchEvent", f) for f in frames]
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    objects = [k8s_proto.unwrap(e.object.raw) for e in events]
    assert {(v, k) for v, k, _ in objects} == {("v1", "ConfigMap")}
    cms = [k8s_proto.parse("ConfigMap", raw) for _, _, raw in objects]
    assert [c.metadata.name for c in cms] == ["w", "w", "w"]
    assert k8s_proto.entries(cms[1].metadata.labels) == {"x": "y"}
    assert k8s_proto.entries(cms[0].data) == {"n": "1"}
    versions = [int(c.metadata.resourceVersion) for c in cms]
    assert versions == sorted(versions) and versions[0] > int(rv)
