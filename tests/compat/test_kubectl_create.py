"""kubectl's object makers against Schooner: the `create` generators, `create -f`, `run` and
`expose`, each checked by what kubectl prints and by the object the apiserver then holds.

The generators send protobuf bodies (client-go's typed clients); `create -f`, `run` and
`expose` send JSON. Images are local only: `schooner/web-example:1` (a tag other than
`latest`, so its pull policy defaults to IfNotPresent and nothing is pulled) for
Deployments, `schooner/busybox:latest` with `--image-pull-policy=IfNotPresent` for `run`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import uuid
from pathlib import Path

import docker
import pytest

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import wait_for
from tests.compat.conftest import IMAGE, Cluster, Kubectl

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WEB_IMAGE = "schooner/web-example:1"


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()


def _web_image_or_skip() -> None:
    engine = docker.from_env()
    try:
        engine.images.get(WEB_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{WEB_IMAGE} is missing: make images")
    finally:
        engine.close()


def _running_pods(client: Client, namespace: str, selector: str, count: int) -> list[str]:
    pods = client.list("pods", namespace, label_selector=selector)["items"]
    running = [p["metadata"]["name"] for p in pods
               if (p.get("status") or {}).get("phase") == "Running"]
    return running if len(running) == count else []


@pytest.mark.compat("kubectl create namespace")
def test_create_namespace(kubectl: Kubectl, cluster: Cluster) -> None:
    name = f"c-ns-{uuid.uuid4().hex[:8]}"
    try:
        assert kubectl("create", "namespace", name, namespaced=False).stdout == \
            f"namespace/{name} created\n"
        ns = cluster.client.get("namespaces", name)
        assert ns["status"]["phase"] == "Active"
        again = kubectl("create", "namespace", name, namespaced=False, ok=False)
        assert again.code == 1
        assert again.stderr.strip() == \
            f'Error from server (AlreadyExists): namespaces "{name}" already exists'
    finally:
        with contextlib.suppress(errors.NotFound):
            cluster.client.delete("namespaces", name)


@pytest.mark.compat("kubectl create configmap")
def test_create_configmap_from_literal_file_and_env_file(
        kubectl: Kubectl, cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    (tmp_path / "app.conf").write_text("port=8080\n")
    (tmp_path / "app.env").write_text("# a comment\nMODE=prod\nLEVEL=debug\n")
    assert kubectl("create", "configmap", "lit", "--from-literal=a=1",
                   "--from-literal=b=two").stdout == "configmap/lit created\n"
    assert kubectl("create", "configmap", "files", f"--from-file={tmp_path / 'app.conf'}",
                   f"--from-file=renamed={tmp_path / 'app.conf'}").stdout == \
        "configmap/files created\n"
    assert kubectl("create", "configmap", "envs",
                   f"--from-env-file={tmp_path / 'app.env'}").stdout == \
        "configmap/envs created\n"
    get = cluster.client.get
    assert get("configmaps", "lit", namespace)["data"] == {"a": "1", "b": "two"}
    assert get("configmaps", "files", namespace)["data"] == {"app.conf": "port=8080\n",
                                                              "renamed": "port=8080\n"}
    assert get("configmaps", "envs", namespace)["data"] == {"MODE": "prod", "LEVEL": "debug"}
    bad = kubectl("create", "configmap", "Bad_Name", "--from-literal=a=1", ok=False)
    assert bad.code == 1 and "is invalid" in bad.stderr and "metadata.name" in bad.stderr


@pytest.mark.compat("kubectl create secret generic")
def test_create_secret_generic(kubectl: Kubectl, cluster: Cluster, namespace: str,
                               tmp_path: Path) -> None:
    (tmp_path / "key.bin").write_bytes(b"\x00\x01secret\xff")
    assert kubectl("create", "secret", "generic", "creds", "--from-literal=user=admin",
                   f"--from-file=key={tmp_path / 'key.bin'}").stdout == "secret/creds created\n"
    secret = cluster.client.get("secrets", "creds", namespace)
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"user": _b64("admin"), "key": _b64(b"\x00\x01secret\xff")}
    assert kubectl("create", "secret", "generic", "basic", "--type=kubernetes.io/basic-auth",
                   "--from-literal=username=bob").stdout == "secret/basic created\n"
    refused = kubectl("create", "secret", "generic", "nobody", "--type=kubernetes.io/basic-auth",
                      "--from-literal=user=bob", ok=False)
    assert refused.stderr.strip() == (
        'error: failed to create secret Secret "nobody" is invalid: '
        "[data[username]: Required value, data[password]: Required value]")


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key, made with `cryptography`, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "compat.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.compat("kubectl create secret tls")
def test_create_secret_tls(kubectl: Kubectl, cluster: Cluster, namespace: str,
                           tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    assert kubectl("create", "secret", "tls", "web-tls", f"--cert={cert}",
                   f"--key={key}").stdout == "secret/web-tls created\n"
    secret = cluster.client.get("secrets", "web-tls", namespace)
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["data"] == {"tls.crt": _b64(cert.read_bytes()),
                              "tls.key": _b64(key.read_bytes())}


@pytest.mark.compat("kubectl create secret docker-registry")
def test_create_secret_docker_registry(kubectl: Kubectl, cluster: Cluster,
                                       namespace: str) -> None:
    assert kubectl("create", "secret", "docker-registry", "pull",
                   "--docker-server=registry.example", "--docker-username=bob",
                   "--docker-password=pw", "--docker-email=bob@example").stdout == \
        "secret/pull created\n"
    secret = cluster.client.get("secrets", "pull", namespace)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert config == {"auths": {"registry.example": {
        "username": "bob", "password": "pw", "email": "bob@example", "auth": _b64("bob:pw")}}}


@pytest.mark.compat("kubectl create deployment")
def test_create_deployment_runs_its_replicas(kubectl: Kubectl, cluster: Cluster,
                                             namespace: str) -> None:
    _web_image_or_skip()
    assert kubectl("create", "deployment", "web", f"--image={WEB_IMAGE}", "--replicas=2",
                   "--port=8080").stdout == "deployment.apps/web created\n"
    deploy = cluster.client.get("deployments", "web", namespace)
    assert deploy["spec"]["replicas"] == 2
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "web-example" and container["image"] == WEB_IMAGE
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert container["imagePullPolicy"] == "IfNotPresent"
    wait_for(lambda: _running_pods(cluster.client, namespace, "app=web", 2), 120,
             "two running pods of deployment web")
    bad = kubectl("create", "deployment", "bad", f"--image={WEB_IMAGE}", "--replicas=-1",
                  ok=False)
    assert bad.stderr.strip() == (
        'error: failed to create deployment: Deployment.apps "bad" is invalid: '
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0")


@pytest.mark.compat("kubectl create service clusterip", "kubectl create service nodeport",
                    "kubectl create service loadbalancer", "kubectl create service externalname")
def test_create_service_of_each_type(kubectl: Kubectl, cluster: Cluster,
                                     namespace: str) -> None:
    assert kubectl("create", "service", "clusterip", "ci", "--tcp=80:8080").stdout == \
        "service/ci created\n"
    assert kubectl("create", "service", "nodeport", "np", "--tcp=80:8080",
                   "--node-port=32123").stdout == "service/np created\n"
    assert kubectl("create", "service", "loadbalancer", "lb", "--tcp=443:8443").stdout == \
        "service/lb created\n"
    assert kubectl("create", "service", "externalname", "ext",
                   "--external-name=db.example.com").stdout == "service/ext created\n"
    get = cluster.client.get
    ci = get("services", "ci", namespace)["spec"]
    assert ci["type"] == "ClusterIP" and ci["clusterIP"] and ci["selector"] == {"app": "ci"}
    assert ci["ports"] == [{"name": "80-8080", "port": 80, "protocol": "TCP",
                            "targetPort": 8080}]
    np = get("services", "np", namespace)["spec"]
    assert np["type"] == "NodePort" and np["ports"][0]["nodePort"] == 32123
    lb = get("services", "lb", namespace)["spec"]
    assert lb["type"] == "LoadBalancer" and 30000 <= lb["ports"][0]["nodePort"] <= 32767
    ext = get("services", "ext", namespace)["spec"]
    assert ext["type"] == "ExternalName" and ext["externalName"] == "db.example.com"
    assert "clusterIP" not in ext
    taken = kubectl("create", "service", "nodeport", "np2", "--tcp=80:8080",
                    "--node-port=32123", ok=False)
    assert taken.code == 1 and "32123" in taken.stderr and "already allocated" in taken.stderr


@pytest.mark.compat("kubectl create priorityclass")
def test_create_priorityclass(kubectl: Kubectl, cluster: Cluster) -> None:
    name = f"c-pc-{uuid.uuid4().hex[:8]}"
    try:
        assert kubectl("create", "priorityclass", name, "--value=1000", "--description=batch",
                       "--preemption-policy=Never", namespaced=False).stdout == \
            f"priorityclass.scheduling.k8s.io/{name} created\n"
        pc = cluster.client.get("priorityclasses", name)
        assert (pc["value"], pc["description"], pc["preemptionPolicy"]) == \
            (1000, "batch", "Never")
        assert pc.get("globalDefault") in (None, False)
    finally:
        with contextlib.suppress(errors.NotFound):
            cluster.client.delete("priorityclasses", name)


@pytest.mark.compat("kubectl create -f")
def test_create_from_file(kubectl: Kubectl, cluster: Cluster, namespace: str,
                          tmp_path: Path) -> None:
    manifest = tmp_path / "objects.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\ndata: {k: v}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: two}\nstringData: {pw: s3cret}\n")
    assert kubectl("create", "-f", str(manifest)).stdout == \
        "configmap/one created\nsecret/two created\n"
    assert cluster.client.get("configmaps", "one", namespace)["data"] == {"k": "v"}
    assert cluster.client.get("secrets", "two", namespace)["data"] == {"pw": _b64("s3cret")}
    again = kubectl("create", "-f", str(manifest), ok=False)
    assert again.code == 1
    assert again.stderr.splitlines() == [
        f'Error from server (AlreadyExists): error when creating "{manifest}": '
        'configmaps "one" already exists',
        f'Error from server (AlreadyExists): error when creating "{manifest}": '
        'secrets "two" already exists']


# Generators whose kinds Schooner does not serve yet: kubectl's own one-line error, a 404
# from the apiserver (never a 500).
MISSING_KINDS = [
    (["create", "job", "j", "--image=x"], "/apis/batch/v1/namespaces/{ns}/jobs"),
    (["create", "cronjob", "cj", "--image=x", "--schedule=* * * * *"],
     "/apis/batch/v1/namespaces/{ns}/cronjobs"),
    (["create", "ingress", "ing", "--rule=a.example/=svc:80"],
     "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses"),
    (["create", "quota", "q", "--hard=pods=2"], "/api/v1/namespaces/{ns}/resourcequotas"),
    (["create", "poddisruptionbudget", "pdb", "--selector=app=x", "--min-available=1"],
     "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets"),
    (["create", "role", "r", "--verb=get", "--resource=pods"],
     "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles"),
    (["create", "rolebinding", "rb", "--role=r", "--user=u"],
     "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings"),
    (["create", "clusterrole", "cr", "--verb=get", "--resource=pods"],
     "/apis/rbac.authorization.k8s.io/v1/clusterroles"),
    (["create", "clusterrolebinding", "crb", "--clusterrole=cr", "--user=u"],
     "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"),
]


@pytest.mark.compat("kubectl create job", "kubectl create cronjob", "kubectl create ingress",
                    "kubectl create quota", "kubectl create poddisruptionbudget",
                    "kubectl create role", "kubectl create rolebinding",
                    "kubectl create clusterrole", "kubectl create clusterrolebinding")
def test_generators_of_kinds_not_served_fail_cleanly(kubectl: Kubectl, namespace: str) -> None:
    for args, path in MISSING_KINDS:
        result = kubectl(*args, ok=False)
        assert result.code == 1, args
        (line,) = result.stderr.splitlines()
        assert line.endswith("the server could not find the requested resource "
                             f"({path.format(ns=namespace)})"), line
        assert "500" not in line and "InternalError" not in line


@pytest.mark.compat("kubectl run")
def test_run_a_pod_with_env_labels_port_and_command(kubectl: Kubectl, cluster: Cluster,
                                                    namespace: str) -> None:
    assert kubectl("run", "hello", f"--image={IMAGE}", "--image-pull-policy=IfNotPresent",
                   "--env=GREETING=hi", "--env=WHO=schooner", "--labels=app=hello,tier=demo",
                   "--port=8080", "--restart=Never", "--command", "--",
                   "sh", "-c", "echo $GREETING $WHO; sleep 3600").stdout == \
        "pod/hello created\n"
    pod = cluster.client.get("pods", "hello", namespace)
    assert pod["metadata"]["labels"] == {"app": "hello", "tier": "demo"}
    assert pod["spec"]["restartPolicy"] == "Never"
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["sh", "-c", "echo $GREETING $WHO; sleep 3600"]
    assert container["env"] == [{"name": "GREETING", "value": "hi"},
                                {"name": "WHO", "value": "schooner"}]
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert container["imagePullPolicy"] == "IfNotPresent"
    wait_for(lambda: _running_pods(cluster.client, namespace, "app=hello", 1), 90,
             "pod hello Running")
    wait_for(lambda: kubectl("logs", "hello").stdout == "hi schooner\n", 30,
             "the pod's command to print its environment")
    again = kubectl("run", "hello", f"--image={IMAGE}", ok=False)
    assert again.stderr.strip() == 'Error from server (AlreadyExists): pods "hello" already exists'


@pytest.mark.compat("kubectl expose deployment", "kubectl expose pod", "kubectl expose service")
def test_expose_deployment_pod_and_service(kubectl: Kubectl, cluster: Cluster,
                                           namespace: str) -> None:
    _web_image_or_skip()
    kubectl("create", "deployment", "web", f"--image={WEB_IMAGE}", "--replicas=0",
            "--port=8080")
    kubectl("run", "solo", f"--image={IMAGE}", "--image-pull-policy=IfNotPresent",
            "--labels=app=solo", "--port=8080", "--restart=Never", "--command", "--",
            "sleep", "3600")
    assert kubectl("expose", "deployment", "web", "--port=80", "--target-port=8080",
                   "--name=web-svc").stdout == "service/web-svc exposed\n"
    assert kubectl("expose", "pod", "solo", "--port=81", "--target-port=8080",
                   "--type=NodePort").stdout == "service/solo exposed\n"
    assert kubectl("expose", "service", "web-svc", "--port=82", "--target-port=8080",
                   "--name=web-lb", "--type=LoadBalancer").stdout == "service/web-lb exposed\n"
    assert kubectl("expose", "deployment", "web").stdout == "service/web exposed\n"
    get = cluster.client.get
    svc = get("services", "web-svc", namespace)["spec"]
    assert svc["selector"] == {"app": "web"} and svc["type"] == "ClusterIP"
    assert svc["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 8080}]
    solo = get("services", "solo", namespace)["spec"]
    assert solo["selector"] == {"app": "solo"} and solo["type"] == "NodePort"
    assert solo["ports"][0]["port"] == 81 and solo["ports"][0]["nodePort"] >= 30000
    lb = get("services", "web-lb", namespace)["spec"]
    assert lb["selector"] == {"app": "web"} and lb["type"] == "LoadBalancer"
    assert lb["ports"][0]["port"] == 82
    plain = get("services", "web", namespace)["spec"]  # the port comes from the template
    assert plain["ports"] == [{"port": 8080, "protocol": "TCP", "targetPort": 8080}]
    # The pod's Service finds it: its Endpoints list the pod once it runs.
    wait_for(lambda: _endpoint_ips(cluster.client, namespace, "solo"), 90,
             "service solo's endpoints")


def _endpoint_ips(client: Client, namespace: str, name: str) -> list[str]:
    try:
        endpoints = client.get("endpoints", name, namespace)
    except errors.NotFound:
        return []
    return [a["ip"] for s in endpoints.get("subsets") or [] for a in s.get("addresses") or []]
