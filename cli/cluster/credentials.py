"""A local cluster's PKI, tokens and kubeconfigs: made once, kept across restarts.

The user gets the admin kubeconfig (group system:masters); each component gets a
kubeconfig with a client certificate of its own signed by the cluster CA
(`kubeconfigs/<component>.kubeconfig`; CN the user, O the groups, as kubeadm issues
them), named as Kubernetes names these identities, so the apiserver knows who calls:
its flow control serves a node's Lease renewals at a priority level a flooding user cannot take
(apiserver/flowcontrol.py), and its RBAC authorizer gives each only what the bootstrap
policy binds to that user (apiserver/kinds/rbac/bootstrappolicy.py, docs/security.md).
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from apimachinery.etcdpki import ensure_client, ensure_etcd_ca, ensure_member
from apimachinery.kubeconfig import KubeconfigError, load_kubeconfig, write_kubeconfig
from apimachinery.pki import ensure_ca, ensure_cert, ensure_serving_cert, ensure_token
from apimachinery.sakey import ensure_service_account_key
from apimachinery.usercert import (
    KUBELET_CLIENT_USER,
    certificate_names,
    make_client_cert,
    still_good,
)
from apiserver import encryption
from cli.cluster.components import advertise_address, apiserver_service_names, init_host_ip
from cli.cluster.layout import Paths, Ports, read_init_config

HOSTNAME = socket.gethostname().lower()

# The components' identities, named as Kubernetes names them so RBAC rules read
# the same here: component -> (user, groups); the agent's is its node's
# (`component_identity`). Their kubeconfigs hold client certificates
# (ensure_component_kubeconfigs); component_token gives a static token instead.
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


def ensure_pki(paths: Paths) -> bool:
    """Make the CAs once; re-sign a certificate only when missing, stale or short of a name.

    The apiserver's names are loopback, this host, the address it advertises to pods
    (the pod bridge's gateway: components.advertise_address) and the in-cluster
    `kubernetes` Service: its ClusterIP (the service range's first address) and
    `kubernetes.default.svc[.cluster.local]`, which a pod's client checks. etcd has a
    CA of its own (`pki/etcd/`, as kubeadm's), so no certificate
    of the cluster CA, a user's or a node's, opens etcd; the apiserver's
    `apiserver-etcd-client` certificate is the one etcd client certificate. True when
    the serving certificate is new (a running apiserver must restart to serve it).
    """
    ensure_ca(paths.ca_cert, paths.ca_key)
    hosts = ["127.0.0.1", "::1", "localhost", HOSTNAME, *apiserver_service_names(),
             advertise_address()]
    if (joinable := read_init_config(paths)) is not None:  # `schooner init`'s address
        hosts.append(joinable.advertise_address)
    resigned = ensure_serving_cert(paths.apiserver_cert, paths.apiserver_key, paths.ca_cert,
                                   paths.ca_key, hosts)
    ensure_etcd_ca(paths.etcd_pki)
    ensure_member(paths.etcd_pki, paths.etcd_server_tls, HOSTNAME,
                  ["127.0.0.1", "::1", "localhost", HOSTNAME])
    ensure_client(paths.etcd_pki, paths.apiserver_etcd_client)
    ensure_service_account_key(paths.pki / "sa.key")
    return resigned


def ensure_agent_pki(paths: Paths, node: str) -> bool:
    """The apiserver's client certificate towards agents (CN kube-apiserver-kubelet-client,
    no group: its rights are the bootstrap binding to system:kubelet-api-admin) and the
    agent's serving certificate for its node name and address (the agent listens on
    127.0.0.1 here). True when either was made: a running apiserver has not read it."""
    made = ensure_cert(paths.apiserver_kubelet_client_cert, paths.apiserver_kubelet_client_key,
                       paths.ca_cert, paths.ca_key, common_name=KUBELET_CLIENT_USER,
                       client=True)
    made |= ensure_cert(paths.agent_cert, paths.agent_key, paths.ca_cert, paths.ca_key,
                        common_name=f"system:node:{node}",
                        hosts=[node, init_host_ip(read_init_config(paths))],
                        server=True)
    return made


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
    """Write each component's kubeconfig with a client certificate of its own, unless the
    one there already names this server and identity with a good certificate of this CA.
    True when one was written: an apiserver started before components had certificates
    may not trust them yet (no --client-ca-file), so `up` restarts it."""
    server = f"https://127.0.0.1:{ports.apiserver}"
    written = False
    for component in COMPONENTS:
        user, groups = component_identity(component, node)
        written |= ensure_cert_kubeconfig(paths, paths.component_kubeconfig(component), server,
                                          user, groups)
    return written


def ensure_kubeconfig(paths: Paths, ports: Ports) -> None:
    """Write the admin kubeconfig unless the existing one already points at this apiserver."""
    server = f"https://127.0.0.1:{ports.apiserver}"
    with contextlib.suppress(KubeconfigError):
        if load_kubeconfig(str(paths.kubeconfig)).server == server:
            return
    write_kubeconfig(str(paths.kubeconfig), server, paths.ca_cert.read_bytes(), admin_token(paths))


def ensure_cert_kubeconfig(paths: Paths, path: Path, server: str, user: str,
                           groups: tuple[str, ...]) -> bool:
    """Keep `path` if it points at `server` as `user` in `groups` with a certificate of
    this CA that has 30+ days left; else sign a new certificate and write it. True when
    written."""
    ca = paths.ca_cert.read_bytes()
    with contextlib.suppress(KubeconfigError, ValueError):
        current = load_kubeconfig(str(path))
        if (current.server == server and current.client_cert
                and certificate_names(current.client_cert) == (user, groups)
                and still_good(current.client_cert, ca)):
            return False
    cert, key = make_client_cert(ca, paths.ca_key.read_bytes(), user, groups)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_kubeconfig(str(path), server, ca, None, user=user, client_cert=cert, client_key=key)
    return True
