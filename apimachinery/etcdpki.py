"""etcd's own PKI: a CA of its own, the members' certificates and the apiserver's client one.

etcd is private, as kubeadm keeps it: it serves TLS on its client and peer ports
and accepts only client certificates signed by the etcd CA, a CA apart from the
cluster CA. So a certificate the cluster CA signs for a user or a node opens the
apiserver but never etcd. kubeadm's layout and names are kept:

    etcd/ca.crt, etcd/ca.key            the etcd CA (`etcd-ca`)
    etcd/server.crt, etcd/server.key    a member's serving certificate: its names and
                                        addresses, serverAuth + clientAuth (etcd's
                                        gateway dials the member with it)
    etcd/peer.crt, etcd/peer.key        a member's certificate towards its peers, both
                                        usages (a member serves and dials peers)
    apiserver-etcd-client.crt, .key     the only client certificate (clientAuth,
                                        `kube-apiserver-etcd-client`, no SANs)

`EtcdServerTLS.flags` and `EtcdClientTLS.apiserver_flags` are the command-line
flags of etcd and of the apiserver (Kubernetes' `--etcd-cafile`, `--etcd-certfile`,
`--etcd-keyfile`) for those files. Paths are `PurePath`s: the lab names files as
they appear inside its containers. Used by the launcher (`cli.cluster`), the lab
and test fixtures; the apiserver only reads the files its flags name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

from .pki import ensure_ca, ensure_cert

ETCD_CA_NAME = "etcd-ca"
APISERVER_ETCD_CLIENT = "kube-apiserver-etcd-client"
CA_FILES = ("ca.crt", "ca.key")


@dataclass(frozen=True)
class EtcdServerTLS:
    """The files one etcd member serves with, and the CA it trusts clients and peers by."""

    ca: PurePath
    cert: PurePath
    key: PurePath
    peer_cert: PurePath
    peer_key: PurePath

    @classmethod
    def in_dir(cls, directory: PurePath) -> EtcdServerTLS:
        """kubeadm's names (`ca.crt`, `server.crt`, `peer.crt`, ...) in one directory."""
        return cls(directory / "ca.crt", directory / "server.crt", directory / "server.key",
                   directory / "peer.crt", directory / "peer.key")

    def flags(self) -> list[str]:
        """etcd's flags: TLS with client certificates required on both ports."""
        return [
            "--cert-file", str(self.cert), "--key-file", str(self.key),
            "--client-cert-auth=true", "--trusted-ca-file", str(self.ca),
            "--peer-cert-file", str(self.peer_cert), "--peer-key-file", str(self.peer_key),
            "--peer-client-cert-auth=true", "--peer-trusted-ca-file", str(self.ca),
        ]


@dataclass(frozen=True)
class EtcdClientTLS:
    """A client certificate of the etcd CA, and that CA to check the members by."""

    ca: PurePath
    cert: PurePath
    key: PurePath

    @classmethod
    def in_dir(cls, directory: PurePath) -> EtcdClientTLS:
        """`ca.crt` and kubeadm's `apiserver-etcd-client.crt`/`.key` in one directory."""
        return cls(directory / "ca.crt", directory / "apiserver-etcd-client.crt",
                   directory / "apiserver-etcd-client.key")

    def apiserver_flags(self) -> list[str]:
        """kube-apiserver's flags for these files."""
        return ["--etcd-cafile", str(self.ca), "--etcd-certfile", str(self.cert),
                "--etcd-keyfile", str(self.key)]


def ensure_etcd_ca(ca_dir: Path) -> bytes:
    """The etcd CA in `ca_dir` (`ca.crt`, `ca.key`), made once; returns its cert PEM."""
    return ensure_ca(ca_dir / "ca.crt", ca_dir / "ca.key", ETCD_CA_NAME)


def ensure_member(ca_dir: Path, tls: EtcdServerTLS, name: str, hosts: list[str]) -> None:
    """A member's serving and peer certificates, signed by the etcd CA in `ca_dir`.

    `hosts` are the names and addresses clients and peers reach it by; etcd checks
    a peer's certificate names against the address it connects from. The CA's
    certificate is copied beside them when they live in a directory of their own
    (a lab member's, mounted into its container without the CA's key).
    """
    ca_cert, ca_key = (ca_dir / f for f in CA_FILES)
    _copy_ca(ca_cert, Path(tls.ca))
    for cert, key in ((tls.cert, tls.key), (tls.peer_cert, tls.peer_key)):
        ensure_cert(Path(cert), Path(key), ca_cert, ca_key, common_name=name, hosts=hosts,
                    server=True, client=True)


def ensure_client(ca_dir: Path, tls: EtcdClientTLS,
                  common_name: str = APISERVER_ETCD_CLIENT) -> None:
    """A client certificate of the etcd CA in `ca_dir` (the apiserver's, by default)."""
    ca_cert, ca_key = (ca_dir / f for f in CA_FILES)
    _copy_ca(ca_cert, Path(tls.ca))
    ensure_cert(Path(tls.cert), Path(tls.key), ca_cert, ca_key, common_name=common_name,
                client=True)


def _copy_ca(source: Path, target: Path) -> None:
    if target != source and (not target.exists() or target.read_bytes() != source.read_bytes()):
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
