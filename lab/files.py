"""The lab's credentials and kubeconfigs, made on the host and mounted into every container.

The lab home (default `~/.schooner/lab`) holds:

    etc/ca.crt, etc/ca.key         the lab's CA, made once and kept
    etc/apiserver.crt, .key        the apiservers' serving certificate (all their names)
    etc/tokens.csv                 the static token file the apiservers read
    etc/apiserverN.kubeconfig      what components inside the lab use to reach apiserverN
    kubeconfig                     what `schooner` and `kubectl` on the host use

`etc/` is mounted read-only at /etc/schooner in the lab's containers. Components
use the admin token for now, as the local cluster's do; per-component identities
come with RBAC.
"""

from __future__ import annotations

from pathlib import Path

from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.pki import ensure_ca, ensure_serving_cert, ensure_token

from .topology import APISERVER_PORT, LabConfig


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

    def incluster_kubeconfig(self, apiserver: str) -> Path:
        return self.etc / f"{apiserver}.kubeconfig"

    def ensure(self, config: LabConfig) -> str:
        """Make whatever is missing; returns the admin token."""
        self.etc.mkdir(mode=0o755, parents=True, exist_ok=True)
        ca = ensure_ca(self.ca_cert, self.ca_key)
        ensure_serving_cert(self.serving_cert, self.serving_key, self.ca_cert, self.ca_key,
                            config.server_names())
        token = ensure_token(self.tokens, "admin", groups=("system:masters",))
        for name in config.apiserver_names():
            write_kubeconfig(str(self.incluster_kubeconfig(name)),
                             f"https://{name}:{APISERVER_PORT}", ca, token)
        write_kubeconfig(str(self.kubeconfig),
                         f"https://127.0.0.1:{config.apiserver_host_port}", ca, token,
                         cluster=config.name, context=config.name)
        # The containers' processes read these as root through a read-only bind mount;
        # the folder stays closed to other users of the host.
        self.etc.chmod(0o700)
        return token
