"""The lab's credentials and kubeconfigs, made on the host and mounted into every container.

The lab home (default `~/.schooner/lab`) holds:

    etc/ca.crt, etc/ca.key         the lab's CA, made once and kept
    etc/apiserver.crt, .key        the apiservers' serving certificate (all their names)
    etc/tokens.csv                 the static token file the apiservers read
    etc/ID-apiserverN.kubeconfig   what a client inside the lab uses to reach apiserverN:
                                   ID is scheduler, controller-manager, proxy or a node
                                   (its agent), each with a token of its own
    kubeconfig                     what `schooner` and `kubectl` on the host use (admin)
    etcd-pki/ca/ca.crt, ca.key     etcd's own CA (kubeadm's etcd/ca), never mounted
    etcd-pki/etcdN/                a member's ca.crt, server.crt/.key, peer.crt/.key
    etcd-pki/apiserver/            ca.crt, apiserver-etcd-client.crt/.key
    apiserver/encryption-config.yaml  the key Secrets are encrypted with in etcd (0600)
    apiserver/audit-policy.yaml    the audit policy (apimachinery.auditpolicy's default)
    apiserver/apiserver-kubelet-client.crt, .key  how the apiservers reach agents
                                   (CN kube-apiserver-kubelet-client)
    node-pki/nodeN/agent.crt, .key nodeN's agent's serving certificate (its name and
                                   fixed address), mounted into nodeN only
    apiserver/sa.key               the key both apiservers sign service-account tokens
                                   with (pods' projected tokens, TokenRequest), made once

`etc/` is mounted read-only at /etc/schooner in the lab's containers but etcd's
and the registry's. Each client has its own identity
(lab.topology.component_identities), and the apiservers (`--authorization-mode
Node,RBAC`) allow each only its role: a node reads only its pods' Secrets and writes
only its own Node, Lease and pods' status. But `etc/` is mounted into every container,
tokens.csv and every identity's kubeconfig with it, so a container that is broken into
could still take another identity's token: moving the nodes onto `schooner join`
(certificates of their own, nothing shared) comes later. etcd is private: each member's
folder is mounted (read-only, at /etc/schooner-etcd) into that member only,
`etcd-pki/apiserver/` into the apiservers only; no node, scheduler or
controller-manager receives the etcd CA or any etcd certificate. `apiserver/` is
mounted read-only at /etc/schooner-apiserver in the apiserver containers only; no
node, scheduler or controller-manager sees the encryption key or the token signing key.
"""

from __future__ import annotations

import os
from pathlib import Path

from apimachinery.auditpolicy import ensure_default_policy
from apimachinery.etcdpki import (
    EtcdClientTLS,
    EtcdServerTLS,
    ensure_client,
    ensure_etcd_ca,
    ensure_member,
)
from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.pki import ensure_ca, ensure_cert, ensure_serving_cert, ensure_token
from apimachinery.sakey import ensure_service_account_key
from apimachinery.usercert import KUBELET_CLIENT_USER
from apiserver import encryption

from .topology import (
    APISERVER_ETCD_PKI,
    APISERVER_PORT,
    KUBELET_CLIENT_CERT,
    KUBELET_CLIENT_KEY,
    LabConfig,
    apiserver_folder,
    component_identities,
    kubeconfig_name,
    node_pki_folder,
)


class LabFiles:
    """Where each file of one lab lives under its home."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.etc = home / "etc"
        self.ca_cert, self.ca_key = self.etc / "ca.crt", self.etc / "ca.key"
        self.serving_cert = self.etc / "apiserver.crt"
        self.serving_key = self.etc / "apiserver.key"
        self.tokens = self.etc / "tokens.csv"
        self.kubeconfig = home / "kubeconfig"
        self.compose_file = home / "docker-compose.yml"
        self.apiserver = apiserver_folder(self.etc)
        self.encryption_config = self.apiserver / "encryption-config.yaml"
        self.audit_policy = self.apiserver / "audit-policy.yaml"
        self.service_account_key = self.apiserver / "sa.key"
        self.etcd_pki = home / "etcd-pki"
        self.etcd_ca = self.etcd_pki / "ca"
        self.node_pki = node_pki_folder(self.etc)

    def node_pki_dir(self, node: str) -> Path:
        """The host folder mounted at NODE_PKI_DIR into `node` alone."""
        return self.node_pki / node

    def etcd_pki_dir(self, name: str) -> Path:
        """The host folder mounted at ETCD_PKI_DIR into the container(s) of `name`."""
        return self.etcd_pki / name

    def incluster_kubeconfig(self, identity: str, apiserver: str) -> Path:
        return self.etc / kubeconfig_name(identity, apiserver)

    def ensure(self, config: LabConfig) -> str:
        """Make whatever is missing; returns the admin token."""
        self.etc.mkdir(mode=0o755, parents=True, exist_ok=True)
        ca = ensure_ca(self.ca_cert, self.ca_key)
        ensure_serving_cert(self.serving_cert, self.serving_key, self.ca_cert, self.ca_key,
                            config.server_names())
        token = ensure_token(self.tokens, "admin", groups=("system:masters",))
        for identity, (user, groups) in component_identities(config).items():
            own = ensure_token(self.tokens, user, groups=groups)
            for name in config.apiserver_names():
                write_kubeconfig(str(self.incluster_kubeconfig(identity, name)),
                                 f"https://{name}:{APISERVER_PORT}", ca, own, user=user)
        write_kubeconfig(str(self.kubeconfig),
                         f"https://127.0.0.1:{config.apiserver_host_port}", ca, token,
                         cluster=config.name, context=config.name)
        self.ensure_etcd(config)
        # The containers' processes read these as root through a read-only bind mount;
        # the folders stay closed to other users of the host.
        self.etc.chmod(0o700)
        self._ensure_apiserver_folder()
        self.ensure_agents(config)
        return token

    def ensure_agents(self, config: LabConfig) -> None:
        """The apiservers' client certificate towards agents, and each node's agent's
        serving certificate (its name and fixed address), signed by the lab CA for now:
        a node that joins gets its own through a CertificateSigningRequest instead."""
        ensure_cert(self.apiserver / KUBELET_CLIENT_CERT, self.apiserver / KUBELET_CLIENT_KEY,
                    self.ca_cert, self.ca_key, common_name=KUBELET_CLIENT_USER, client=True)
        self.node_pki.mkdir(mode=0o700, parents=True, exist_ok=True)
        for index, node in enumerate(config.node_names()):
            folder = self.node_pki_dir(node)
            ensure_cert(folder / "agent.crt", folder / "agent.key", self.ca_cert, self.ca_key,
                        common_name=f"system:node:{node}",
                        hosts=[node, config.node_address(index)], server=True)
        self.node_pki.chmod(0o700)

    def _ensure_apiserver_folder(self) -> None:
        """The encryption key (made once: a new one would lose every Secret), the audit
        policy and the service-account signing key (made once: a new one would void every
        token pods hold), in a folder only the apiserver containers mount."""
        self.apiserver.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.apiserver.chmod(0o700)
        if not self.encryption_config.exists():
            fd = os.open(self.encryption_config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(encryption.new_config(["secrets"]))
        ensure_default_policy(self.audit_policy)
        ensure_service_account_key(self.service_account_key)

    def ensure_etcd(self, config: LabConfig) -> None:
        """etcd's CA, each member's serving and peer certificates (its service name, which
        peers resolve and etcd checks a peer's certificate against), and the apiservers'
        client certificate, each in the folder that its container(s) alone mount."""
        self.etcd_pki.mkdir(mode=0o700, parents=True, exist_ok=True)
        ensure_etcd_ca(self.etcd_ca)
        for name in config.etcd_names():
            ensure_member(self.etcd_ca, EtcdServerTLS.in_dir(self.etcd_pki_dir(name)), name,
                          [name, "localhost", "127.0.0.1"])
        ensure_client(self.etcd_ca, EtcdClientTLS.in_dir(self.etcd_pki_dir(APISERVER_ETCD_PKI)))
        self.etcd_pki.chmod(0o700)
