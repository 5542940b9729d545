"""Service accounts for pods, end to end: a real apiserver with the ServiceAccount
admission and RBAC, a real controller-manager (the `default` ServiceAccounts and
`kube-root-ca.crt`), a real agent on Docker.

A pod gets its account's token, the cluster CA and its namespace under
/var/run/secrets/kubernetes.io/serviceaccount; the token is a JWT bound to the pod that
the apiserver takes with exactly the account's RBAC rights; the kubernetes Service's
variables (and, with enableServiceLinks, the namespace's) are in its environment; a pod
or account with automountServiceAccountToken false mounts nothing. The long test waits
for the agent to renew a 10-minute token and for the first token to expire.

These run on an apiserver of their own (its own etcd): the session's runs without the
ServiceAccount admission, as Kubernetes' integration framework does.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import docker
import httpx
import pytest

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object
from cli.cluster.processes import Apiserver, Etcd, start_controller_manager, wait_for
from tests.e2e.conftest import IMAGE, AgentNode

pytestmark = pytest.mark.e2e
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
SLEEPER = [{"name": "app", "image": IMAGE, "imagePullPolicy": "Never",
            "command": ["sleep", "3600"]}]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory,
            docker_client: docker.DockerClient) -> Iterator[tuple[Apiserver, AgentNode]]:
    """etcd, an apiserver with ServiceAccount admission and RBAC, a controller-manager
    running the two controllers pods need, and one agent."""
    work = tmp_path_factory.mktemp("pod-sa")
    etcd = Etcd(work / "etcd")
    server = Apiserver(work / "apiserver", etcd.url, service_accounts=True,
                       extra_args=["--authorization-mode", "Node,RBAC"])
    manager = node = None
    client = None
    try:
        etcd.start()
        server.start()
        kubeconfig = server.kubeconfig(work / "admin.kubeconfig")
        manager = start_controller_manager(
            kubeconfig, work / "controller-manager.log",
            "--controllers", "serviceaccount,root-ca-cert-publisher",
            "--root-ca-file", str(work / "apiserver" / "ca.crt"))
        client = server.client()
        node = AgentNode(server, client, docker_client, work / "agent", [])
        client.create("namespaces", {"metadata": {"name": node.namespace}})
        node.start()
        wait_for(lambda: _exists(client, "serviceaccounts", "default", node.namespace)
                 and _exists(client, "configmaps", "kube-root-ca.crt", node.namespace), 20,
                 f"default ServiceAccount and kube-root-ca.crt\n{manager.log_tail()}")
        yield server, node
    finally:
        if node is not None:
            node.cleanup()
        if client is not None:
            client.close()
        if manager is not None:
            manager.stop()
        server.stop()
        etcd.stop()


def _exists(client: Client, resource: str, name: str, namespace: str) -> bool:
    try:
        client.get(resource, name, namespace)
        return True
    except errors.NotFound:
        return False


def running(node: AgentNode, name: str) -> Object:
    return node.wait_pod(name, lambda p: p["status"].get("phase") == "Running", "Running")


def read(node: AgentNode, pod: Object, path: str) -> str:
    [container] = node.containers(pod["metadata"]["uid"])
    result = container.exec_run(["cat", path])
    assert result.exit_code == 0, result.output
    return str(result.output.decode())


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def api(server: Apiserver, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, verify=server._ssl(), timeout=10,
                        headers={"Authorization": f"Bearer {token}"})


def grant_pod_reading(client: Client, namespace: str, account: str) -> None:
    client.create("serviceaccounts", {"metadata": {"name": account, "namespace": namespace}})
    client.create("roles", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                            "metadata": {"name": "pod-reader", "namespace": namespace},
                            "rules": [{"apiGroups": [""], "resources": ["pods"],
                                       "verbs": ["get", "list"]}]})
    client.create("rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "pod-reader", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                    "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]})


def test_a_pod_gets_its_token_ca_namespace_and_exactly_its_rights(
        cluster: tuple[Apiserver, AgentNode]) -> None:
    server, node = cluster
    ns = node.namespace
    grant_pod_reading(node.client, ns, "reader")
    node.client.create("services", {"metadata": {"name": "my-db", "namespace": ns},
                                    "spec": {"ports": [{"port": 5432, "name": "pg"}]}})
    created = node.create_pod("reader", SLEEPER, serviceAccountName="reader")
    [volume] = created["spec"]["volumes"]
    assert volume["name"].startswith("kube-api-access-")
    pod = running(node, "reader")
    token = read(node, pod, f"{SA_DIR}/token")
    assert read(node, pod, f"{SA_DIR}/ca.crt") == server.ca_pem.decode()
    assert read(node, pod, f"{SA_DIR}/namespace") == ns
    found = claims(token)
    assert found["sub"] == f"system:serviceaccount:{ns}:reader"
    assert found["kubernetes.io"]["pod"] == {"name": "reader", "uid": pod["metadata"]["uid"]}
    assert found["exp"] - found["iat"] == 3607
    with api(server, token) as http:
        assert http.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200
        denied = http.get(f"/api/v1/namespaces/{ns}/secrets")
        assert denied.status_code == 403, denied.text
        assert f'User "system:serviceaccount:{ns}:reader" cannot list resource "secrets"' \
            in denied.json()["message"]
        assert http.get("/api/v1/namespaces/default/pods").status_code == 403
        assert http.post(f"/api/v1/namespaces/{ns}/pods", json={}).status_code == 403
    [container] = node.containers(pod["metadata"]["uid"])
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
    kubernetes = node.client.get("services", "kubernetes", "default")
    assert env["KUBERNETES_SERVICE_HOST"] == kubernetes["spec"]["clusterIP"]
    assert env["KUBERNETES_SERVICE_PORT"] == str(kubernetes["spec"]["ports"][0]["port"])
    assert env["MY_DB_SERVICE_PORT_PG"] == "5432" and "MY_DB_PORT_5432_TCP_ADDR" in env
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert mounts[SA_DIR]["RW"] is False


def test_automount_false_and_service_links_off(cluster: tuple[Apiserver, AgentNode]) -> None:
    server, node = cluster
    ns = node.namespace
    node.client.create("serviceaccounts", {"metadata": {"name": "quiet", "namespace": ns},
                                           "automountServiceAccountToken": False})
    node.client.create("services", {"metadata": {"name": "web", "namespace": ns},
                                    "spec": {"ports": [{"port": 80}]}})
    by_pod = node.create_pod("no-token", SLEEPER, automountServiceAccountToken=False,
                             enableServiceLinks=False)
    by_account = node.create_pod("quiet", SLEEPER, serviceAccountName="quiet")
    for created in (by_pod, by_account):
        assert "volumes" not in created["spec"]
        pod = running(node, created["metadata"]["name"])
        [container] = node.containers(pod["metadata"]["uid"])
        assert SA_DIR not in {m["Destination"] for m in container.attrs["Mounts"]}
    [container] = node.containers(node.pod("no-token")["metadata"]["uid"])
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
    assert "KUBERNETES_SERVICE_HOST" in env and "WEB_SERVICE_HOST" not in env
    missing = httpx.post(f"{server.url}/api/v1/namespaces/{ns}/pods", verify=server._ssl(),
                         headers={"Authorization": f"Bearer {server.token}"}, json={
                             "metadata": {"name": "ghost"},
                             "spec": {"serviceAccountName": "ghost", "containers": SLEEPER}})
    assert missing.status_code == 403
    assert missing.json()["message"] == (
        f'pods "ghost" is forbidden: error looking up service account {ns}/ghost: '
        'serviceaccount "ghost" not found')


@pytest.mark.long
@pytest.mark.timeout(1000)  # a 10-minute token, renewed at 8, expired at 11
def test_the_agent_renews_a_token_before_it_expires(
        cluster: tuple[Apiserver, AgentNode]) -> None:
    """A 10-minute token (Kubernetes' minimum) is rewritten at about 8 minutes; once the
    first has expired it is refused while the file's token still works."""
    server, node = cluster
    ns = node.namespace
    volume = {"name": "short-token", "projected": {"sources": [{"serviceAccountToken": {
        "path": "token", "expirationSeconds": 600}}]}}
    container = {**SLEEPER[0], "volumeMounts": [{"name": "short-token",
                                                 "mountPath": "/var/run/short"}]}
    pod = running(node, node.create_pod("renewed", [container], volumes=[volume],
                                        automountServiceAccountToken=False)["metadata"]["name"])
    first = read(node, pod, "/var/run/short/token")
    issued = claims(first)["iat"]
    second = wait_for(lambda: (t := read(node, pod, "/var/run/short/token")) != first and t,
                      560, "the token file rewritten before expiry", interval=5)
    renewed_after = time.time() - issued
    assert 470 <= renewed_after < 600, renewed_after
    wait_for(lambda: time.time() > claims(first)["exp"] + 65, 200, "the first token expired",
             interval=5)
    with api(server, first) as http:
        assert http.get(f"/api/v1/namespaces/{ns}/pods").status_code == 401
    current = read(node, pod, "/var/run/short/token")
    assert current in (second, current)
    with api(server, current) as http:  # the default SA has no RBAC rights: 403, not 401
        assert http.get(f"/api/v1/namespaces/{ns}/pods").status_code == 403
