"""The Node authorizer and NodeRestriction on the session apiserver (`Node,RBAC`): a node's
client certificate reads only its own pods' Secrets and ConfigMaps and writes only its own
Node, Lease and pods' status, refused in Kubernetes' words otherwise."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apimachinery.usercert import make_client_cert
from cli.cluster.processes import Apiserver, wait_for

pytestmark = pytest.mark.integration

LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _as_node(server: Apiserver, workdir: Path, node: str) -> httpx.Client:
    """An HTTPS client presenting `system:node:<node>` (group system:nodes), no token."""
    cert, key = make_client_cert(server.ca_pem, server.ca_key_pem, f"system:node:{node}",
                                 ["system:nodes"])
    (workdir / f"{node}.crt").write_bytes(cert)
    (workdir / f"{node}.key").write_bytes(key)
    context = ssl.create_default_context(cadata=server.ca_pem.decode())
    context.load_cert_chain(str(workdir / f"{node}.crt"), str(workdir / f"{node}.key"))
    return httpx.Client(base_url=server.url, verify=context, timeout=10, trust_env=False)


def _pod(name: str, node: str, secret: str, configmap: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {
        "nodeName": node, "serviceAccountName": "default",
        "volumes": [{"name": "s", "secret": {"secretName": secret}}],
        "containers": [{"name": "c", "image": "busybox", "envFrom": [
            {"configMapRef": {"name": configmap}}]}]}}


@pytest.fixture(scope="module")
def cluster(apiserver: Apiserver, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[str, str, str, httpx.Client, httpx.Client]]:
    """A namespace with one pod on each of two nodes (each with its Secret and ConfigMap),
    and the two nodes' clients; the nodes registered themselves (tainted, unschedulable,
    so no other test's scheduler uses them)."""
    suffix = uuid.uuid4().hex[:6]
    ns, n1, n2 = f"nodeauthz-{suffix}", f"na1-{suffix}", f"na2-{suffix}"
    workdir = tmp_path_factory.mktemp("nodeauthz")
    with apiserver.http() as admin:
        admin.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).raise_for_status()
        admin.post(f"/api/v1/namespaces/{ns}/serviceaccounts",
                   json={"metadata": {"name": "default"}})  # 409 if a controller made it
        for node in (n1, n2):
            admin.post(f"/api/v1/namespaces/{ns}/secrets", json={
                "metadata": {"name": f"s-{node}"}, "stringData": {"k": node}}
                       ).raise_for_status()
            admin.post(f"/api/v1/namespaces/{ns}/configmaps", json={
                "metadata": {"name": f"cm-{node}"}, "data": {"k": node}}).raise_for_status()
        one, two = _as_node(apiserver, workdir, n1), _as_node(apiserver, workdir, n2)
        for node, http in ((n1, one), (n2, two)):
            http.post("/api/v1/nodes", json={
                "metadata": {"name": node}, "spec": {"unschedulable": True, "taints": [
                    {"key": "nodeauthz-test", "effect": "NoSchedule"}]}}).raise_for_status()
            admin.post(f"/api/v1/namespaces/{ns}/pods",
                       json=_pod(f"p-{node}", node, f"s-{node}", f"cm-{node}")
                       ).raise_for_status()
        try:
            yield ns, n1, n2, one, two
        finally:
            for node, http in ((n1, one), (n2, two)):
                http.delete(f"/api/v1/nodes/{node}")
                http.close()
            admin.delete(f"/api/v1/namespaces/{ns}")


def _can_read(http: httpx.Client, path: str) -> bool:
    return http.get(path).status_code == 200


def test_a_node_reads_its_own_pods_secret_and_configmap_only(cluster: Any) -> None:
    ns, n1, n2, one, _ = cluster
    base = f"/api/v1/namespaces/{ns}"
    # the graph follows the watch cache: the pods were created a moment ago
    wait_for(lambda: _can_read(one, f"{base}/secrets/s-{n1}"), 10, "n1 reads its Secret")
    assert one.get(f"{base}/configmaps/cm-{n1}").json()["data"] == {"k": n1}
    assert _can_read(one, f"{base}/serviceaccounts/default")
    wait_for(lambda: _can_read(cluster[4], f"{base}/secrets/s-{n2}"), 10, "n2 reads its own")
    refused = one.get(f"{base}/secrets/s-{n2}")
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        f'secrets "s-{n2}" is forbidden: User "system:node:{n1}" cannot get resource '
        f'"secrets" in API group "" in the namespace "{ns}": no relationship found between '
        f"node '{n1}' and this object")
    assert one.get(f"{base}/configmaps/cm-{n2}").status_code == 403
    listed = one.get(f"{base}/secrets")
    assert listed.status_code == 403 and listed.json()["message"].endswith(
        ": No Object name found")
    assert one.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200  # system:node's rules


def test_a_node_writes_only_its_own_node_and_lease(cluster: Any) -> None:
    _, n1, n2, one, _ = cluster
    own = one.patch(f"/api/v1/nodes/{n1}", headers=MERGE,
                    json={"metadata": {"labels": {"topology.kubernetes.io/zone": "a"}}})
    assert own.status_code == 200, own.text
    assert one.patch(f"/api/v1/nodes/{n1}/status", headers=MERGE, json={"status": {
        "conditions": [{"type": "Ready", "status": "False", "reason": "Test"}]}}
                     ).status_code == 200
    other = one.patch(f"/api/v1/nodes/{n2}", headers=MERGE,
                      json={"metadata": {"labels": {"x": "y"}}})
    assert other.status_code == 403
    assert other.json()["message"] == (
        f'nodes "{n2}" is forbidden: node "{n1}" is not allowed to modify node "{n2}"')
    assert one.delete(f"/api/v1/nodes/{n2}").status_code == 403
    taints = one.patch(f"/api/v1/nodes/{n1}", headers=MERGE, json={"spec": {"taints": None}})
    assert taints.status_code == 403
    assert taints.json()["message"].endswith(f'node "{n1}" is not allowed to modify taints')
    lease = {"metadata": {"name": n1}, "spec": {"holderIdentity": n1,
                                                "leaseDurationSeconds": 40}}
    assert one.post(LEASES, json=lease).status_code == 201
    got = one.get(f"{LEASES}/{n1}").json()
    assert one.put(f"{LEASES}/{n1}", json=got).status_code == 200
    theirs = one.post(LEASES, json={**lease, "metadata": {"name": n2}})
    assert theirs.status_code == 403
    assert theirs.json()["message"] == (
        f'leases.coordination.k8s.io "{n2}" is forbidden: can only access node lease with '
        "the same name as the requesting node")
    put = one.put(f"{LEASES}/{n2}", json={**lease, "metadata": {"name": n2}})
    assert put.status_code == 403
    assert put.json()["message"].endswith(
        ": can only access node lease with the same name as the requesting node")
    assert one.delete(f"{LEASES}/{n1}").status_code == 200


def test_a_node_updates_status_and_deletes_only_its_own_pods(cluster: Any,
                                                              apiserver: Apiserver) -> None:
    ns, n1, n2, one, _ = cluster
    base = f"/api/v1/namespaces/{ns}/pods"
    status = {"status": {"phase": "Running"}}
    mine = one.patch(f"{base}/p-{n1}/status", headers=MERGE, json=status)
    assert mine.status_code == 200, mine.text
    assert mine.json()["status"]["phase"] == "Running"
    theirs = one.patch(f"{base}/p-{n2}/status", headers=MERGE, json=status)
    assert theirs.status_code == 403
    assert theirs.json()["message"] == (
        f'pods "p-{n2}" is forbidden: node "{n1}" can only update pod status for pods with '
        "spec.nodeName set to itself")
    assert one.patch(f"{base}/p-{n2}", headers=MERGE,
                     json={"metadata": {"labels": {"a": "b"}}}).status_code == 403
    evict = one.post(f"{base}/p-{n2}/eviction", json={
        "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": f"p-{n2}"}})
    assert evict.status_code == 403
    assert evict.json()["message"].endswith(
        f"node {n1} can only evict pods with spec.nodeName set to itself")
    gone = one.delete(f"{base}/p-{n2}")
    assert gone.status_code == 403
    assert gone.json()["message"].endswith(
        f'node "{n1}" can only delete pods with spec.nodeName set to itself')
    create = one.post(base, json=_pod("sneaky", n1, f"s-{n2}", f"cm-{n2}"))
    assert create.status_code == 403
    assert create.json()["message"] == (
        'pods "sneaky" is forbidden: pod does not have "kubernetes.io/config.mirror" '
        f'annotation, node "{n1}" can only create mirror pods')
    # n1 deletes its own pod; the pod is gone from the graph and its Secret with it
    assert one.delete(f"{base}/p-{n1}", params={"gracePeriodSeconds": "0"}).status_code == 200
    wait_for(lambda: one.get(f"/api/v1/namespaces/{ns}/secrets/s-{n1}").status_code == 403,
             10, "n1 loses its Secret once its pod is gone")
