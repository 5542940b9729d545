"""The lab's credentials and kubeconfigs, made on the host; each container mounts only its own.

The lab home (default `~/.schooner/lab`) holds:

    etc/ca.crt                     the lab's CA certificate, made once and kept
    signing/ca.key                 its key: the controller-managers' (csrsigning) alone
    etc/apiserver.crt, .key        the apiservers' serving certificate (all their names)
    etc/tokens.csv                 the static token file the apiservers read: the
                                   components' tokens and the admin's (the host's
                                   kubeconfig calls with it)
    etc/ID-apiserverN.kubeconfig   what a control-plane client uses to reach apiserverN:
                                   ID is scheduler or controller-manager, each with a
                                   token of its own (the CA certificate embedded)
    config/SERVICE/                copies of the files of `etc/` that container reads
                                   (lab.topology ContainerSpec.config_files), 0700,
                                   secrets 0600; the only folder mounted at /etc/schooner
    join-token                     the bootstrap token the nodes join with (host only;
                                   each node is given it on its command line)
    kubeconfig                     what `schooner` and `kubectl` on the host use (admin)
    etcd-pki/ca/ca.crt, ca.key     etcd's own CA (kubeadm's etcd/ca), never mounted
    etcd-pki/etcdN/                a member's ca.crt, server.crt/.key, peer.crt/.key
    etcd-pki/apiserver/            ca.crt, apiserver-etcd-client.crt/.key
    apiserver/encryption-config.yaml  the key Secrets are encrypted with in etcd (0600)
    apiserver/audit-policy.yaml    the audit policy (apimachinery.auditpolicy's default)
    apiserver/apiserver-kubelet-client.crt, .key  how the apiservers reach agents
                                   (CN kube-apiserver-kubelet-client)
    apiserver/sa.key               the key both apiservers sign service-account tokens
                                   with (pods' projected tokens, TokenRequest), made once

`etc/` itself is mounted nowhere. As kubeadm gives each control-plane component only
its own files under /etc/kubernetes, each container mounts its own `config/SERVICE/`
read-only at /etc/schooner: an apiserver holds the CA certificate, its serving
certificate and key and the token file; a scheduler its one kubeconfig (scheduler.conf);
a controller-manager its one kubeconfig and the CA certificate, and `signing/` at
/etc/schooner-signing (the CA key, for csrsigning: kube-controller-manager's
`--cluster-signing-key-file`). So no scheduler or controller-manager holds the token file,
the admin's token or kubeconfig, the serving key or another component's kubeconfig. The
nodes mount none of these: each joins as a separate host would
(`schooner join`, lab/joining.py) and holds only what joining gave it, its own keys
and certificates (its agent's serving certificate among them, from a kubelet-serving
CertificateSigningRequest) and the CA certificate. Each control-plane client has its
own identity (lab.topology.component_identities), and the apiservers
(`--authorization-mode Node,RBAC`) allow each only its role: a node reads only its
pods' Secrets and writes only its own Node, Lease and pods' status. etcd is private: each member's
folder is mounted (read-only, at /etc/schooner-etcd) into that member only,
`etcd-pki/apiserver/` into the apiservers only; no node, scheduler or
controller-manager receives the etcd CA or any etcd certificate. `apiserver/` is
mounted read-only at /etc/schooner-apiserver in the apiserver containers only; no
node, scheduler or controller-manager sees the encryption key or the token signing key.
"""

from __future__ import annotations

import os
import shutil
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
    ContainerSpec,
    LabConfig,
    apiserver_folder,
    component_identities,
    config_folder,
    control_plane_containers,
    kubeconfig_name,
)


class LabFiles:
    """Where each file of one lab lives under its home."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.etc = home / "etc"
        self.ca_cert = self.etc / "ca.crt"
        self.signing = home / "signing"
        self.ca_key = self.signing / "ca.key"
        self.join_token = home / "join-token"
        self.serving_cert = self.etc / "apiserver.crt"
        self.serving_key = self.etc / "apiserver.key"
        self.tokens = self.etc / "tokens.csv"
        self.kubeconfig = home / "kubeconfig"
        self.compose_file = home / "docker-compose.yml"
        self.apiserver = apiserver_folder(self.etc)
        self.encryption_config = self.apiserver / "encryption-config.yaml"
        self.audit_policy = self.apiserver / "audit-policy.yaml"
        self.service_account_key = self.apiserver / "sa.key"
        self.config = home / "config"  # config_folder's parent
        self.etcd_pki = home / "etcd-pki"
        self.etcd_ca = self.etcd_pki / "ca"
        # where a lab made before its nodes joined kept their serving certificates
        self.retired_node_pki = home / "node-pki"

    def etcd_pki_dir(self, name: str) -> Path:
        """The host folder mounted at ETCD_PKI_DIR into the container(s) of `name`."""
        return self.etcd_pki / name

    def config_dir(self, service: str) -> Path:
        """The host folder mounted at CONFIG_DIR into the container of `service`."""
        return config_folder(self.etc, service)

    def incluster_kubeconfig(self, identity: str, apiserver: str) -> Path:
        return self.etc / kubeconfig_name(identity, apiserver)

    def ensure(self, config: LabConfig) -> str:
        """Make whatever is missing; returns the admin token."""
        self.etc.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.signing.mkdir(mode=0o700, parents=True, exist_ok=True)
        if (self.etc / "ca.key").exists() and not self.ca_key.exists():
            (self.etc / "ca.key").rename(self.ca_key)  # a lab made before nodes joined
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
        # The sources of each container's config folder, mounted nowhere; closed to other
        # users of the host.
        self.etc.chmod(0o700)
        self.ensure_config_folders(control_plane_containers(config))
        self._ensure_apiserver_folder()
        self.ensure_agents()
        return token

    def ensure_config_folders(self, specs: list[ContainerSpec]) -> None:
        """Each container's own folder, with copies of exactly the files of `etc/` it reads
        and nothing else; folders of containers the lab no longer has are removed. The
        folders are 0700 and every copy but a certificate 0600, as kubeadm's files."""
        self.config.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config.chmod(0o700)
        wanted = {s.service: s.config_files for s in specs if s.config_files}
        for stale in self.config.iterdir():
            if stale.name in wanted:
                continue
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
        for service, names in wanted.items():
            folder = self.config_dir(service)
            folder.mkdir(mode=0o700, exist_ok=True)
            folder.chmod(0o700)
            for extra in folder.iterdir():
                if extra.name not in names:
                    extra.unlink()
            for name in names:
                _copy(self.etc / name, folder / name, 0o644 if name.endswith(".crt") else 0o600)

    def ensure_agents(self) -> None:
        """The apiservers' client certificate towards agents. The agents' serving
        certificates are not made here: each node gets its own through a kubelet-serving
        CertificateSigningRequest when it joins (a lab made before that loses its
        host-signed ones)."""
        ensure_cert(self.apiserver / KUBELET_CLIENT_CERT, self.apiserver / KUBELET_CLIENT_KEY,
                    self.ca_cert, self.ca_key, common_name=KUBELET_CLIENT_USER, client=True)
        shutil.rmtree(self.retired_node_pki, ignore_errors=True)

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


def _copy(source: Path, target: Path, mode: int) -> None:
    """`source`'s bytes at `target` with `mode`, replaced at once (temp file, then rename) so
    a running container never reads half a file; left alone when already the same."""
    data = source.read_bytes()
    if target.exists() and target.read_bytes() == data and \
            target.stat().st_mode & 0o777 == mode:
        return
    temp = target.with_name(f".{target.name}.tmp")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.fchmod(fd, mode)  # whatever the umask
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(temp, target)
