"""Token discovery, as `kubeadm join --token T --discovery-token-ca-cert-hash sha256:H` does it.

The joining host trusts nothing yet: it reads `kube-public/cluster-info` over TLS
without checking the server (anonymous, as kubeadm), then believes it only when
(1) the `jws-kubeconfig-<token id>` signature verifies with the token's secret, so
the answer came from a cluster that knows the token, and (2) the CA it names hashes
to the pinned `sha256:` value, so it is the CA the administrator saw. Every later
request checks the server against that CA.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import httpx
import yaml

from apimachinery import bootstraptoken as bt

HASH_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")
CLUSTER_INFO_PATH = (f"/api/v1/namespaces/{bt.CLUSTER_INFO_NAMESPACE}/configmaps/"
                     f"{bt.CLUSTER_INFO}")


class JoinError(Exception):
    """Why a host cannot join: one line for the user. `transient` when trying again later
    may work (the control plane is still starting: unreachable, no cluster-info yet, not
    yet signed with this token); never for a signature or CA that does not check out."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Discovered:
    """The cluster as cluster-info names it, now trusted."""

    server: str
    ca_pem: bytes


def server_url(server: str) -> str:
    """`10.0.0.1:6443` or `https://10.0.0.1:6443` -> the https URL."""
    server = server.strip().rstrip("/")
    if server.startswith("http://"):
        raise JoinError(f"{server}: the apiserver is reached over https only")
    return server if server.startswith("https://") else f"https://{server}"


def check_hash(pinned: str) -> str:
    """The pinned hash, lower-cased, or JoinError naming the expected form."""
    value = pinned.strip().lower()
    if HASH_PATTERN.match(value) is None:
        raise JoinError(f'--discovery-token-ca-cert-hash {pinned!r}: expected '
                        '"sha256:" and 64 hex digits (as `schooner init` prints it)')
    return value


def fetch_cluster_info(server: str, timeout: float = 10.0) -> dict[str, str]:
    """cluster-info's data, read without trusting the server (nothing secret is sent)."""
    try:
        with httpx.Client(verify=False, timeout=timeout) as http:
            answer = http.get(server + CLUSTER_INFO_PATH)
    except httpx.HTTPError as exc:
        raise JoinError(f"cannot reach the apiserver at {server}: {exc}",
                        transient=True) from None
    if answer.status_code != 200:
        raise JoinError(f"cannot read cluster-info from {server}: HTTP {answer.status_code} "
                        "(is it a Schooner control plane made by `schooner init`?)",
                        transient=True)
    data = (answer.json() or {}).get("data")
    if not isinstance(data, dict) or not isinstance(data.get("kubeconfig"), str):
        raise JoinError(f"the cluster-info ConfigMap of {server} holds no kubeconfig",
                        transient=True)
    return {str(k): str(v) for k, v in data.items()}


def trusted(data: dict[str, str], token: str, pinned: str) -> Discovered:
    """The cluster cluster-info names, once its signature and CA check out."""
    token_id, secret = bt.parse(token)
    signature = data.get(bt.JWS_PREFIX + token_id)
    if signature is None:
        raise JoinError(f'token id "{token_id}" is invalid for this cluster or it has '
                        'expired. Use "schooner token create" on the control-plane host to '
                        "create a new valid token", transient=True)
    if not bt.verify(data["kubeconfig"], signature, token_id, secret):
        raise JoinError("failed to verify JWS signature of received cluster info object, "
                        "can't trust this API Server")
    server, ca_pem = cluster_of(data["kubeconfig"])
    actual = bt.ca_cert_hash(ca_pem)
    if actual != pinned:
        raise JoinError("cluster CA found in cluster-info ConfigMap is not trusted: "
                        f"public key {actual} not pinned")
    return Discovered(server, ca_pem)


def cluster_of(kubeconfig: str) -> tuple[str, bytes]:
    """The server and CA a cluster-info kubeconfig names."""
    try:
        doc = yaml.safe_load(kubeconfig)
        cluster = doc["clusters"][0]["cluster"]
        return str(cluster["server"]), base64.b64decode(cluster["certificate-authority-data"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError):
        raise JoinError("the cluster-info kubeconfig names no server and CA") from None


def discover(server: str, token: str, pinned: str) -> Discovered:
    """kubeadm's token discovery against `server` (host:port or https URL)."""
    try:
        bt.parse(token)
    except bt.InvalidToken:
        raise JoinError(f'the bootstrap token "{token}" was not of the form '
                        '"[a-z0-9]{6}.[a-z0-9]{16}"') from None
    return trusted(fetch_cluster_info(server_url(server)), token, check_hash(pinned))
