"""The lab's credentials and kubeconfigs, made on the host and mounted into every container.

The lab home (default `~/.schooner/lab`) holds:

    etc/ca.crt, etc/ca.key         the lab's CA, made once and kept
    etc/apiserver.crt, .key        the apiservers' serving certificate (all their names)
    etc/tokens.csv                 the static token file the apiservers read
    etc/ID-apiserverN.kubeconfig   what a client inside the lab uses to reach apiserverN:
                                   ID is scheduler, controller-manager, proxy or a node
                                   (its agent), each with a token of its own
    kubeconfig                     what `schooner` and `kubectl` on the host use (admin)

`etc/` is mounted read-only at /etc/schooner in the lab's containers. Each client
has its own identity (lab.topology.component_identities), so the apiservers' flow
control knows a node's Lease renewal from a user's flood; there is no authorization
yet, and the token file itself is in `etc/` (the apiservers read it), so this names
callers rather than confines them: RBAC and certificates come later.
"""

from __future__ import annotations

from pathlib import Path

from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.pki import ensure_ca, ensure_serving_cert, ensure_token

from .topology import APISERVER_PORT, LabConfig, component_identities, kubeconfig_name


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
        # The containers' processes read these as root through a read-only bind mount;
        # the folder stays closed to other users of the host.
        self.etc.chmod(0o700)
        return token
