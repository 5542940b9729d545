"""kubectl's typed `create` commands send Kubernetes protobuf; the apiserver decodes it.

The real kubectl against the real apiserver (skipped without kubectl): each generator
succeeds and the object reads back as written. Beside it, raw protobuf requests with
the Accept header client-go's typed clients send, answered in JSON (protobuf alone is
answered in protobuf: test_api_protobuf_responses.py).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from apimachinery.client import Client
from apiserver import protobuf
from cli.cluster.processes import Apiserver

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.integration
PB = protobuf.MEDIA_TYPE
TYPED_ACCEPT = f"{PB},application/json"


@pytest.fixture
def kubectl(apiserver: Apiserver, tmp_path: Path, namespace: str):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")

    def run(*args: str) -> str:
        assert KUBECTL is not None
        proc = subprocess.run(
            [KUBECTL, "--kubeconfig", str(config), "-n", namespace, *args],
            capture_output=True, text=True, timeout=60,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert proc.returncode == 0, f"kubectl {args}: {proc.stderr}"
        return proc.stdout

    return run


def test_kubectl_create_generators(kubectl, client: Client, namespace: str) -> None:
    suffix = namespace.removeprefix("t-")
    created = f"pb-{suffix}"
    assert f"namespace/{created} created" in kubectl("create", "namespace", created)
    try:
        assert client.get("namespaces", created)["metadata"]["name"] == created

        assert "configmap/settings created" in kubectl(
            "create", "configmap", "settings", "--from-literal=color=blue",
            "--from-literal=size=10")
        cm = json.loads(kubectl("get", "configmap", "settings", "-o", "json"))
        assert cm["data"] == {"color": "blue", "size": "10"}

        assert "secret/creds created" in kubectl(
            "create", "secret", "generic", "creds", "--from-literal=user=admin",
            "--from-literal=password=s3cr\u00e9t")
        secret = json.loads(kubectl("get", "secret", "creds", "-o", "json"))
        assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
            "user": "admin", "password": "s3cr\u00e9t"}
        assert secret["type"] == "Opaque"

        assert "deployment.apps/web created" in kubectl(
            "create", "deployment", "web", "--image=nginx:1.25", "--replicas=2", "--port=80")
        deploy = json.loads(kubectl("get", "deployment", "web", "-o", "json"))
        assert deploy["spec"]["replicas"] == 2
        assert deploy["spec"]["selector"] == {"matchLabels": {"app": "web"}}
        (container,) = deploy["spec"]["template"]["spec"]["containers"]
        assert container["name"] == "nginx" and container["image"] == "nginx:1.25"
        assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
        managers = {e["manager"] for e in deploy["metadata"].get("managedFields", [])}
        assert not managers or "kubectl-create" in managers
    finally:
        client.delete("namespaces", created)


def test_more_typed_generators(kubectl, client: Client, namespace: str) -> None:
    """Services, a docker-registry secret, and zeros that mean something (pointer fields)."""
    assert "service/web created" in kubectl("create", "service", "clusterip", "web",
                                            "--tcp=80:8080")
    assert "service/np created" in kubectl("create", "service", "nodeport", "np",
                                           "--tcp=80:http")
    web = client.get("services", "web", namespace)
    assert [(p["port"], p["targetPort"]) for p in web["spec"]["ports"]] == [(80, 8080)]
    (port,) = client.get("services", "np", namespace)["spec"]["ports"]
    assert port["targetPort"] == "http" and port["nodePort"] > 0

    assert "secret/reg created" in kubectl(
        "create", "secret", "docker-registry", "reg", "--docker-server=r.example",
        "--docker-username=u", "--docker-password=p")
    reg = client.get("secrets", "reg", namespace)
    assert reg["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(base64.b64decode(reg["data"][".dockerconfigjson"]))["auths"]
    assert auths["r.example"]["username"] == "u"

    assert "deployment.apps/idle created" in kubectl(
        "create", "deployment", "idle", "--image=a", "--image=b", "--replicas=0")
    idle = client.get("deployments", "idle", namespace)
    assert idle["spec"]["replicas"] == 0
    assert [c["image"] for c in idle["spec"]["template"]["spec"]["containers"]] == ["a", "b"]

    name = f"zero-{namespace}"
    assert "created" in kubectl("create", "priorityclass", name, "--value=0",
                                "--preemption-policy=Never")
    try:
        pc = client.get("priorityclasses", name)
        assert pc["value"] == 0 and pc["preemptionPolicy"] == "Never"
    finally:
        client.delete("priorityclasses", name)


def _post(apiserver: Apiserver, path: str, body: bytes, accept: str) -> httpx.Response:
    with apiserver.http() as http:
        return http.post(path, content=body, headers={"Content-Type": PB, "Accept": accept})


def test_typed_client_accept_gets_json(apiserver: Apiserver, namespace: str) -> None:
    body = protobuf.encode({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "typed", "creationTimestamp": None},
                            "data": {"k": "v"}})
    resp = _post(apiserver, f"/api/v1/namespaces/{namespace}/configmaps", body, TYPED_ACCEPT)
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["data"] == {"k": "v"}


def test_update_and_delete_with_protobuf_bodies(apiserver: Apiserver, client: Client,
                                                namespace: str) -> None:
    """A typed client's Update sends the object, its Delete the DeleteOptions, in protobuf."""
    from apiserver.protobuf.codec import wrap
    from apiserver.protobuf.wireformat import len_field

    path = f"/api/v1/namespaces/{namespace}/configmaps"
    created = client.create("configmaps", {"metadata": {"name": "cfg"}, "data": {"a": "1"}},
                            namespace=namespace)
    changed = {**created, "apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "2"}}
    headers = {"Content-Type": PB, "Accept": TYPED_ACCEPT}
    with apiserver.http() as http:
        resp = http.put(f"{path}/cfg", content=protobuf.encode(changed), headers=headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"] == {"a": "2"}

        def delete(uid: str) -> httpx.Response:
            options = len_field(2, len_field(1, uid.encode())) + len_field(4, b"Background")
            return http.request("DELETE", f"{path}/cfg", headers=headers,
                                content=wrap("v1", "DeleteOptions", options))

        assert delete("not-the-uid").status_code == 409
        assert delete(created["metadata"]["uid"]).status_code == 200
    items = client.list("configmaps", namespace=namespace)["items"]
    assert "cfg" not in [c["metadata"]["name"] for c in items]
