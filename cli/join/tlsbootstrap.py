"""The node's certificates, by CertificateSigningRequest: the kubelet's TLS bootstrap.

With the bootstrap token (user `system:bootstrap:ID`) the host asks for its client
certificate: CN `system:node:NAME`, O `system:nodes`, signer
`kubernetes.io/kube-apiserver-client-kubelet`; the controller-manager approves it
(the token's group holds `certificatesigningrequests/nodeclient`) and signs it.
From then on the host is the node: it registers its Node with its addresses and
asks, as itself, for its agent's serving certificate (`kubernetes.io/kubelet-serving`,
the node's name and address as subjectAltNames), which csrapproving approves because
the names are the Node's own. The keys never leave the host; the token is used for the
first request only and is written nowhere.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from apimachinery import csr, errors
from apimachinery.client import Client
from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.meta import Object
from apimachinery.pki import write_private

from .discovery import Discovered, JoinError

CSRS = "certificatesigningrequests"
APPROVAL_TIMEOUT = 120.0


@dataclass(frozen=True)
class NodeFiles:
    """Where a joined host keeps what `join` gave it (kubeadm's /etc/kubernetes)."""

    home: Path

    @property
    def ca_cert(self) -> Path:
        return self.home / "pki" / "ca.crt"

    @property
    def client_cert(self) -> Path:
        return self.home / "pki" / "node-client.crt"

    @property
    def client_key(self) -> Path:
        return self.home / "pki" / "node-client.key"

    @property
    def serving_cert(self) -> Path:
        return self.home / "pki" / "agent-serving.crt"

    @property
    def serving_key(self) -> Path:
        return self.home / "pki" / "agent-serving.key"

    def joined(self) -> bool:
        """Whether an earlier join left this host its credentials (a restarted host
        keeps them, as a kubelet keeps its certificates)."""
        return all(p.is_file() for p in (self.kubeconfig, self.client_key,
                                         self.serving_cert, self.serving_key))

    @property
    def kubeconfig(self) -> Path:
        """The node's kubeconfig: its client certificate, the agent's and proxy's identity."""
        return self.home / "kubeconfigs" / "node.kubeconfig"


def request_certificate(client: Client, request_pem: bytes, signer: str,
                        usages: tuple[str, ...], timeout: float = APPROVAL_TIMEOUT,
                        sleep: Callable[[float], None] = time.sleep) -> bytes:
    """Post a CSR and wait for its certificate (PEM); JoinError when denied, failed or
    not signed within `timeout`."""
    name = f"node-csr-{secrets.token_hex(6)}"
    try:
        client.create(CSRS, {"apiVersion": "certificates.k8s.io/v1",
                             "kind": "CertificateSigningRequest", "metadata": {"name": name},
                             "spec": {"request": base64.b64encode(request_pem).decode(),
                                      "signerName": signer, "usages": list(usages)}})
    except errors.APIError as exc:
        raise JoinError(f"cannot create a certificate signing request: {exc.message}") from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = client.get(CSRS, name)
        certificate = (current.get("status") or {}).get("certificate")
        if certificate:
            return base64.b64decode(certificate)
        for refusal in ("Denied", "Failed"):
            if csr.condition(current, refusal):
                raise JoinError(f"certificate signing request {name} was {refusal.lower()}: "
                                f"{_message(current, refusal)}")
        sleep(0.5)
    raise JoinError(f"certificate signing request {name} was not approved and signed within "
                    f"{timeout:g}s: is the controller-manager running csrapproving and "
                    "csrsigning (--cluster-signing-cert-file)?")


def _message(obj: Object, kind: str) -> str:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return str(condition.get("message") or condition.get("reason") or "")
    return ""


def client_certificate(cluster: Discovered, token: str, node: str, files: NodeFiles,
                       server: str | None = None) -> None:
    """The node's client certificate, asked for with the bootstrap token; the node's
    kubeconfig written with it, naming `server` (default: cluster-info's, as kubeadm)."""
    key = csr.new_key()
    with Client(cluster.server, token=token, ca_data=cluster.ca_pem) as bootstrap:
        cert = request_certificate(bootstrap, csr.node_client_request(key, node),
                                   csr.KUBE_APISERVER_CLIENT_KUBELET, csr.CLIENT_USAGES)
    files.ca_cert.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    files.ca_cert.write_bytes(cluster.ca_pem)
    files.client_cert.write_bytes(cert)
    write_private(files.client_key, csr.key_pem(key))
    files.kubeconfig.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_kubeconfig(str(files.kubeconfig), server or cluster.server, cluster.ca_pem, None,
                     user=csr.NODE_USER_PREFIX + node, client_cert=cert,
                     client_key=csr.key_pem(key))


def register_node(client: Client, node: str, address: str) -> None:
    """Create the Node with its addresses (the agent fills in the rest when it starts), so
    its serving request names addresses the cluster knows for it."""
    try:
        client.create("nodes", {"apiVersion": "v1", "kind": "Node",
                                "metadata": {"name": node},
                                "status": {"addresses": [
                                    {"type": "InternalIP", "address": address},
                                    {"type": "Hostname", "address": node}]}})
    except errors.AlreadyExists:
        return


def serving_certificate(files: NodeFiles, node: str, address: str) -> None:
    """The agent's serving certificate, asked for as the node itself."""
    key = csr.new_key()
    with Client.from_kubeconfig(str(files.kubeconfig)) as client:
        register_node(client, node, address)
        cert = request_certificate(client, csr.node_serving_request(key, node, [node, address]),
                                   csr.KUBELET_SERVING, csr.SERVING_USAGES)
    files.serving_cert.write_bytes(cert)
    write_private(files.serving_key, csr.key_pem(key))


def bootstrap(cluster: Discovered, token: str, node: str, address: str,
              files: NodeFiles, server: str | None = None) -> None:
    """Both certificates; the second with the node's own credentials."""
    client_certificate(cluster, token, node, files, server)
    serving_certificate(files, node, address)
