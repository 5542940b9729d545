"""A local cluster's PKI, tokens and admin kubeconfig: made once, kept across restarts."""

from __future__ import annotations

import contextlib
import socket

from apimachinery.etcdpki import ensure_client, ensure_etcd_ca, ensure_member
from apimachinery.kubeconfig import KubeconfigError, load_kubeconfig, write_kubeconfig
from apimachinery.pki import ensure_ca, ensure_serving_cert, ensure_token
from cli.cluster.layout import Paths, Ports

HOSTNAME = socket.gethostname().lower()

# The components' identities, named as Kubernetes names them so RBAC rules read
# the same here: component -> (user, groups). Tokens are made by component_token.
COMPONENT_USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "scheduler": ("system:kube-scheduler", ()),
    "controller-manager": ("system:kube-controller-manager", ()),
    "proxy": ("system:kube-proxy", ()),
    "agent": (f"system:node:{HOSTNAME}", ("system:nodes",)),
}


def ensure_pki(paths: Paths) -> None:
    """Make the CAs once; re-sign a certificate only when missing, stale or short of a name.

    The apiserver's names are loopback, this host, and the in-cluster `kubernetes`
    service. etcd has a CA of its own (`pki/etcd/`, as kubeadm's), so no certificate
    of the cluster CA, a user's or a node's, opens etcd; the apiserver's
    `apiserver-etcd-client` certificate is the one etcd client certificate.
    """
    ensure_ca(paths.ca_cert, paths.ca_key)
    hosts = ["127.0.0.1", "::1", "localhost", HOSTNAME,
             "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
    ensure_serving_cert(paths.apiserver_cert, paths.apiserver_key, paths.ca_cert,
                        paths.ca_key, hosts)
    ensure_etcd_ca(paths.etcd_pki)
    ensure_member(paths.etcd_pki, paths.etcd_server_tls, HOSTNAME,
                  ["127.0.0.1", "::1", "localhost", HOSTNAME])
    ensure_client(paths.etcd_pki, paths.apiserver_etcd_client)


def admin_token(paths: Paths) -> str:
    """The cluster-admin token (group system:masters), made on first use."""
    return ensure_token(paths.tokens, "admin", groups=("system:masters",))


def component_token(paths: Paths, component: str) -> str:
    """The token of a component (`scheduler`, `controller-manager`, `agent`, `proxy`).

    The apiserver reads tokens.csv when it starts, so a token added while it
    runs is accepted after its next restart: add them before `up` starts it.
    """
    user, groups = COMPONENT_USERS[component]
    return ensure_token(paths.tokens, user, groups=groups)


def ensure_kubeconfig(paths: Paths, ports: Ports) -> None:
    """Write the admin kubeconfig unless the existing one already points at this apiserver."""
    server = f"https://127.0.0.1:{ports.apiserver}"
    with contextlib.suppress(KubeconfigError):
        if load_kubeconfig(str(paths.kubeconfig)).server == server:
            return
    write_kubeconfig(str(paths.kubeconfig), server, paths.ca_cert.read_bytes(), admin_token(paths))
