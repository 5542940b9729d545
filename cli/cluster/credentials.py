"""A local cluster's PKI, tokens and kubeconfigs: made once, kept across restarts.

The user gets the admin kubeconfig (group system:masters); each component gets a
kubeconfig with a token of its own (`kubeconfigs/<component>.kubeconfig`), named as
Kubernetes names these identities, so the apiserver knows who calls: its flow control
serves a node's Lease renewals at a priority level a flooding user cannot take
(apiserver/flowcontrol.py). There is no authorization yet: every identity may still
do everything (RBAC is issue 16's work).
"""

from __future__ import annotations

import contextlib
import os
import socket

from apimachinery.etcdpki import ensure_client, ensure_etcd_ca, ensure_member
from apimachinery.kubeconfig import KubeconfigError, load_kubeconfig, write_kubeconfig
from apimachinery.pki import ensure_ca, ensure_serving_cert, ensure_token
from apiserver import encryption
from cli.cluster.layout import Paths, Ports

HOSTNAME = socket.gethostname().lower()

# The components' identities, named as Kubernetes names them so RBAC rules read
# the same here: component -> (user, groups); the agent's is its node's
# (`component_identity`). Tokens are made by component_token.
COMPONENT_USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "scheduler": ("system:kube-scheduler", ()),
    "controller-manager": ("system:kube-controller-manager", ()),
    "proxy": ("system:kube-proxy", ()),
    "agent": (f"system:node:{HOSTNAME}", ("system:nodes",)),
}
COMPONENTS = tuple(COMPONENT_USERS)


def component_identity(component: str, node: str = HOSTNAME) -> tuple[str, tuple[str, ...]]:
    """The user and groups of a component; an agent is `system:node:<node>` in system:nodes."""
    if component == "agent":
        return f"system:node:{node}", ("system:nodes",)
    return COMPONENT_USERS[component]


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


def ensure_encryption_config(paths: Paths) -> bool:
    """Write the apiserver's EncryptionConfiguration (one new aesgcm key for Secrets, then
    identity, so Secrets stored before it still read) once, 0600; True when new (the
    running apiserver has not read it yet and must be restarted)."""
    if paths.encryption_config.exists():
        return False
    paths.encryption_config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(paths.encryption_config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(encryption.new_config(["secrets"]))
    return True


def admin_token(paths: Paths) -> str:
    """The cluster-admin token (group system:masters), made on first use."""
    return ensure_token(paths.tokens, "admin", groups=("system:masters",))


def component_token(paths: Paths, component: str, node: str = HOSTNAME) -> str:
    """The token of a component (`scheduler`, `controller-manager`, `agent`, `proxy`).

    The apiserver reads tokens.csv when it starts, so a token added while it
    runs is accepted after its next restart: add them before `up` starts it.
    """
    user, groups = component_identity(component, node)
    return ensure_token(paths.tokens, user, groups=groups)


def ensure_component_kubeconfigs(paths: Paths, ports: Ports, node: str) -> bool:
    """Write each component's kubeconfig, with its own token; True when a token was new
    (the running apiserver has not read it yet and must be restarted)."""
    before = paths.tokens.read_bytes() if paths.tokens.exists() else b""
    server = f"https://127.0.0.1:{ports.apiserver}"
    ca = paths.ca_cert.read_bytes()
    for component in COMPONENTS:
        path = paths.component_kubeconfig(component)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_kubeconfig(str(path), server, ca, component_token(paths, component, node),
                         user=component_identity(component, node)[0])
    return paths.tokens.read_bytes() != before


def ensure_kubeconfig(paths: Paths, ports: Ports) -> None:
    """Write the admin kubeconfig unless the existing one already points at this apiserver."""
    server = f"https://127.0.0.1:{ports.apiserver}"
    with contextlib.suppress(KubeconfigError):
        if load_kubeconfig(str(paths.kubeconfig)).server == server:
            return
    write_kubeconfig(str(paths.kubeconfig), server, paths.ca_cert.read_bytes(), admin_token(paths))
