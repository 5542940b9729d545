"""How the lab's nodes join: the token they are given, and what the control plane publishes.

Every lab node joins as a real host does (`schooner join`'s discovery and TLS
bootstrap, cli/join/): the harness gives it only the join token and the CA's hash
on its command line, and mounts no cluster file into it. The token is made once per
lab and kept in the lab home (`join-token`, 0600, on the host only); once an
apiserver answers, the harness creates its bootstrap-token Secret and
`kube-public/cluster-info` (what `schooner init` does on a real first host), the
bootstrapsigner signs it, and the nodes, retrying meanwhile, join.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from apimachinery import bootstraptoken as bt
from apimachinery import errors
from apimachinery.client import Client
from cli.join.commands import publish_cluster_info
from cli.join.tokens import create_token

from .topology import APISERVER_PORT, LabConfig


@dataclass(frozen=True)
class NodeJoin:
    """What each node is given to join: `schooner join SERVER --token T
    --discovery-token-ca-cert-hash H`."""

    token: str
    ca_cert_hash: str


def ensure_join_token(path: Path) -> str:
    """The lab's join token, made once (the nodes' volumes outlive a restart of the lab)."""
    if path.exists():
        return path.read_text().strip()
    token = bt.new_token()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def node_join(token_file: Path, ca_cert: Path) -> NodeJoin:
    return NodeJoin(ensure_join_token(token_file), bt.ca_cert_hash(ca_cert.read_bytes()))


def publish(client: Client, config: LabConfig, join: NodeJoin, ca_pem: bytes) -> None:
    """The token's Secret (no expiry: a lab node may be added or rebuilt any time) and
    cluster-info naming the first apiserver; both idempotent."""
    with contextlib.suppress(ValueError):  # made by an earlier `lab up`
        create_token(client, token=join.token, ttl=timedelta(0),
                     description="the lab's nodes join with it (lab/joining.py)")
    with contextlib.suppress(errors.AlreadyExists, errors.Conflict):
        publish_cluster_info(client, f"https://{config.apiserver_names()[0]}:{APISERVER_PORT}",
                             ca_pem)
