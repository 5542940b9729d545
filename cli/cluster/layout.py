"""Where a local cluster lives: its home's files and the loopback ports it listens on.

Everything lives under `$SCHOONER_HOME` (default `~/.schooner`): `pki/` (the
cluster CA and the apiserver's certificates, kubeadm's `/etc/kubernetes/pki`;
`pki/etcd/` the etcd CA and etcd's certificates, kubeadm's `pki/etcd`),
`tokens.csv`, `kubeconfig` (the admin's), `kubeconfigs/<component>.kubeconfig`,
`etcd/` (etcd's data), `logs/<component>.log`, `run/<component>.pid` and
`cluster.json` (the ports chosen, reused later).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from apimachinery.etcdpki import EtcdClientTLS, EtcdServerTLS
from cli.cluster.supervisor import ClusterError

DEFAULT_ETCD_PORT = 2379
DEFAULT_APISERVER_PORT = 6443


class Paths:
    """Where each file of a local cluster lives under its home directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.pki = home / "pki"
        self.ca_cert, self.ca_key = self.pki / "ca.crt", self.pki / "ca.key"
        self.apiserver_cert = self.pki / "apiserver.crt"
        self.apiserver_key = self.pki / "apiserver.key"
        # The apiserver's client certificate towards agents (kubeadm's
        # apiserver-kubelet-client) and this host's agent's serving certificate.
        self.apiserver_kubelet_client_cert = self.pki / "apiserver-kubelet-client.crt"
        self.apiserver_kubelet_client_key = self.pki / "apiserver-kubelet-client.key"
        self.agent_cert, self.agent_key = self.pki / "agent.crt", self.pki / "agent.key"
        # etcd's own CA and certificates; only etcd and the apiserver are given any.
        self.etcd_pki = self.pki / "etcd"
        self.etcd_server_tls = EtcdServerTLS.in_dir(self.etcd_pki)
        self.apiserver_etcd_client = EtcdClientTLS(
            self.etcd_pki / "ca.crt", self.pki / "apiserver-etcd-client.crt",
            self.pki / "apiserver-etcd-client.key")
        self.tokens = home / "tokens.csv"
        # The key Secrets are encrypted with in etcd: 0600, given to the apiserver only.
        self.encryption_config = self.pki / "encryption-config.yaml"
        # The audit policy `up` writes once (edit it to log more) and the audit log.
        self.audit_policy = home / "audit-policy.yaml"
        self.audit_log = home / "logs" / "audit.log"
        self.kubeconfig = home / "kubeconfig"
        self.etcd_data = home / "etcd"
        self.cluster_json = home / "cluster.json"
        # Written by `schooner init`: the address other hosts reach the apiserver on
        # (cli/join/); its absence means a cluster of this host only.
        self.init_json = home / "init.json"
        self.run = home / "run"

    def component_kubeconfig(self, component: str) -> Path:
        """The kubeconfig a component (scheduler, agent, ...) uses: its own identity."""
        return self.home / "kubeconfigs" / f"{component}.kubeconfig"

    def log(self, component: str) -> Path:
        return self.home / "logs" / f"{component}.log"

    def pid(self, component: str) -> Path:
        return self.run / f"{component}.pid"


def schooner_home(home: Path | str | None = None) -> Path:
    """The given home, else `$SCHOONER_HOME`, else `~/.schooner`."""
    return Path(home or os.environ.get("SCHOONER_HOME") or "~/.schooner").expanduser().absolute()


@dataclass(frozen=True)
class Ports:
    """The loopback ports of the control plane."""

    etcd: int = DEFAULT_ETCD_PORT
    etcd_peer: int = DEFAULT_ETCD_PORT + 1
    apiserver: int = DEFAULT_APISERVER_PORT
    # Health (and, for the agent, logs/exec) ports, Kubernetes' defaults.
    controller_manager: int = 10257
    scheduler: int = 10259
    agent: int = 10250
    proxy: int = 10256
    # etcd's /health and /metrics in the clear on loopback (kubeadm's 2381): the client
    # port takes only the apiserver's certificate.
    etcd_metrics: int = DEFAULT_ETCD_PORT + 2


def resolve_ports(saved: Mapping[str, int], environ: Mapping[str, str], *,
                  etcd_port: int | None = None, etcd_peer_port: int | None = None,
                  apiserver_port: int | None = None,
                  etcd_metrics_port: int | None = None) -> Ports:
    """Each port from the argument, else the environment, else cluster.json, else the default.

    The etcd peer and metrics ports follow a moved client port (client + 1 and + 2,
    as 2379/2380/2381) unless they are given themselves.
    """

    def pick(arg: int | None, env: str, key: str, default: int) -> int:
        if arg is not None:
            return arg
        if environ.get(env):
            if not environ[env].isdigit():
                raise ClusterError(f"{env}={environ[env]!r} is not a port number")
            return int(environ[env])
        return int(saved.get(key, default))

    etcd = pick(etcd_port, "SCHOONER_ETCD_PORT", "etcdPort", DEFAULT_ETCD_PORT)
    moved = etcd_port is not None or bool(environ.get("SCHOONER_ETCD_PORT"))
    peer = pick(etcd_peer_port, "SCHOONER_ETCD_PEER_PORT", "etcdPeerPort" if not moved else "",
                etcd + 1)
    metrics = pick(etcd_metrics_port, "SCHOONER_ETCD_METRICS_PORT",
                   "etcdMetricsPort" if not moved else "", etcd + 2)
    api = pick(apiserver_port, "SCHOONER_APISERVER_PORT", "apiserverPort", DEFAULT_APISERVER_PORT)
    return Ports(etcd=etcd, etcd_peer=peer, etcd_metrics=metrics, apiserver=api,
                 controller_manager=pick(None, "SCHOONER_CONTROLLER_MANAGER_PORT",
                                         "controllerManagerPort", Ports.controller_manager),
                 scheduler=pick(None, "SCHOONER_SCHEDULER_PORT", "schedulerPort",
                                Ports.scheduler),
                 agent=pick(None, "SCHOONER_AGENT_PORT", "agentPort", Ports.agent),
                 proxy=pick(None, "SCHOONER_PROXY_PORT", "proxyPort", Ports.proxy))


@dataclass(frozen=True)
class InitConfig:
    """What `schooner init` adds to a local cluster so that other hosts can join it."""

    advertise_address: str
    # The pod network node IPAM cuts a /24 per host from, and the service range inside
    # it that IPAM skips (as the lab's address plan).
    cluster_cidr: str = "172.28.128.0/17"


def read_init_config(paths: Paths) -> InitConfig | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        saved = json.loads(paths.init_json.read_text())
        return InitConfig(str(saved["advertiseAddress"]), str(saved["clusterCIDR"]))
    return None


def save_init_config(paths: Paths, config: InitConfig) -> None:
    paths.init_json.write_text(json.dumps({"advertiseAddress": config.advertise_address,
                                           "clusterCIDR": config.cluster_cidr}) + "\n")


def saved_ports(paths: Paths) -> dict[str, int]:
    """The ports recorded in cluster.json by the last `up`; none when there is no record."""
    with contextlib.suppress(OSError, ValueError):
        return dict(json.loads(paths.cluster_json.read_text()))
    return {}


def save_ports(paths: Paths, ports: Ports) -> None:
    """Record the ports in cluster.json, so the next `up`, `down` and `status` find them."""
    paths.cluster_json.write_text(json.dumps({
        "etcdPort": ports.etcd, "etcdPeerPort": ports.etcd_peer,
        "etcdMetricsPort": ports.etcd_metrics,
        "apiserverPort": ports.apiserver, "controllerManagerPort": ports.controller_manager,
        "schedulerPort": ports.scheduler, "agentPort": ports.agent,
        "proxyPort": ports.proxy}) + "\n")
