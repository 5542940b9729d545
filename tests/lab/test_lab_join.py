"""Hosts join the lab as real hosts join a cluster: with a bootstrap token and the CA's hash
(`schooner join`), getting their certificates by CertificateSigningRequest; a wrong token
or CA hash is refused with one line; a node holds no cluster secret.

The lab's own nodes joined this way when the session's cluster started; here one more
host joins with a token made for it, and a node tries `schooner join` with a wrong token
and a wrong hash.
"""

from __future__ import annotations

from datetime import timedelta

from apimachinery import bootstraptoken as bt
from apimachinery import csr
from apimachinery.client import Client
from cli.cluster.processes import wait_for
from cli.join.tokens import create_token
from lab.readiness import wait_for_nodes
from lab.testing import SchoonerCluster


def _signed(client: Client, token_id: str) -> bool:
    info = client.get("configmaps", bt.CLUSTER_INFO, bt.CLUSTER_INFO_NAMESPACE)
    return bt.JWS_PREFIX + token_id in (info.get("data") or {})


def test_a_fresh_host_joins_with_a_token(cluster: SchoonerCluster, client: Client) -> None:
    token = create_token(client, ttl=timedelta(hours=1), description="test_lab_join")
    wait_for(lambda: _signed(client, token.id), 30, "cluster-info signed with the new token")
    try:
        cluster.add_node("joiner", token.token)
        wait_for_nodes(client, ["joiner"], 120)
        mine = [c for c in client.list("certificatesigningrequests")["items"]
                if (c["spec"].get("username") in (f"system:bootstrap:{token.id}",
                                                  "system:node:joiner"))]
        signers = sorted((c["spec"]["signerName"], c["spec"]["username"]) for c in mine
                         if c.get("status", {}).get("certificate"))
        assert signers == [(csr.KUBE_APISERVER_CLIENT_KUBELET, f"system:bootstrap:{token.id}"),
                           (csr.KUBELET_SERVING, "system:node:joiner")]
    finally:
        cluster.remove_node("joiner")
        client.delete("secrets", bt.secret_name(token.id), namespace=bt.NAMESPACE)


def _join(cluster: SchoonerCluster, token: str, ca_hash: str) -> tuple[int, str]:
    return cluster.node_exec("node1", "schooner", "join", "apiserver1:6443", "--token", token,
                             "--discovery-token-ca-cert-hash", ca_hash,
                             "--home", "/tmp/join-attempt", "--node-name", "intruder")


def test_a_wrong_token_or_ca_hash_is_refused(cluster: SchoonerCluster, client: Client) -> None:
    token = cluster.join.token
    token_id = token.split(".")[0]
    code, out = _join(cluster, f"{token_id}.{'0' * 16}", cluster.join.ca_cert_hash)
    assert code == 1 and out.strip().splitlines() == [
        "error: failed to verify JWS signature of received cluster info object, can't trust "
        "this API Server"], out
    code, out = _join(cluster, token, "sha256:" + "0" * 64)
    assert code == 1 and len(out.strip().splitlines()) == 1, out
    assert "cluster CA found in cluster-info ConfigMap is not trusted" in out
    code, out = _join(cluster, bt.new_token(), cluster.join.ca_cert_hash)
    assert code == 1 and "is invalid for this cluster or it has expired" in out, out
    assert client.list("nodes", field_selector="metadata.name=intruder")["items"] == []
