"""The local cluster as a whole: `up`, `down` and `status` of the components in one home.

`up` makes the cluster's PKI, tokens and kubeconfig once, then starts each
component of `components.control_plane_components` (etcd, the apiserver, the
controller-manager, the scheduler, the agent and, as root, the proxy) as a
detached process and waits until it answers its health URL. It is idempotent: a
component already running and healthy is left alone, so `up` also means "start
whatever is missing". `down` stops them in reverse order; etcd's data, the
tokens and the kubeconfig survive, as with `minikube stop`. Running each
process (pid files, /proc checks, start, stop, health, the lock) is
`cli.cluster.supervisor`'s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from apimachinery.auditpolicy import ensure_default_policy
from cli.cluster.components import control_plane_components, find_etcd, node_name
from cli.cluster.credentials import (
    ensure_agent_pki,
    ensure_component_kubeconfigs,
    ensure_encryption_config,
    ensure_kubeconfig,
    ensure_pki,
)
from cli.cluster.layout import Paths, Ports, resolve_ports, save_ports, saved_ports, schooner_home
from cli.cluster.supervisor import (
    START_TIMEOUT,
    STOP_TIMEOUT,
    ClusterError,
    Component,
    ComponentStatus,
    component_status,
    health_client,
    locked,
    poll,
    probe,
    running_pid,
    start,
    stop,
)


@dataclass(frozen=True)
class ClusterStatus:
    home: Path
    kubeconfig: Path
    server: str
    components: list[ComponentStatus]

    @property
    def healthy(self) -> bool:
        return all(c.healthy for c in self.components)


def _status(paths: Paths, ports: Ports, comps: list[Component]) -> ClusterStatus:
    with health_client(paths) as client:
        rows = [component_status(paths, comp, client) for comp in comps]
    return ClusterStatus(paths.home, paths.kubeconfig, f"https://127.0.0.1:{ports.apiserver}", rows)


def up(home: Path | str | None = None, *, etcd_port: int | None = None,
       etcd_peer_port: int | None = None, apiserver_port: int | None = None,
       etcd_metrics_port: int | None = None, components: list[Component] | None = None,
       timeout: float = START_TIMEOUT) -> ClusterStatus:
    """Start whatever part of the local control plane is not running and healthy.

    A component that runs but stays unhealthy for `timeout` is restarted.
    """
    paths = Paths(schooner_home(home))
    paths.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    with locked(paths):
        saved = saved_ports(paths)
        ports = resolve_ports(saved, os.environ, etcd_port=etcd_port,
                              etcd_peer_port=etcd_peer_port, apiserver_port=apiserver_port,
                              etcd_metrics_port=etcd_metrics_port)
        old = resolve_ports(saved, {})
        running = control_plane_components(paths, old, find_etcd(required=False))
        if ports != old and any(running_pid(paths, c) for c in running):
            raise ClusterError(f"the cluster in {paths.home} runs on other ports ({old}): "
                               "run `schooner down` before changing them")
        save_ports(paths, ports)
        resigned = ensure_pki(paths)
        ensure_kubeconfig(paths, ports)
        new_credentials = (resigned | ensure_component_kubeconfigs(paths, ports, node_name())
                           | ensure_agent_pki(paths, node_name())
                           | ensure_encryption_config(paths)
                           | ensure_default_policy(paths.audit_policy))
        comps = components or control_plane_components(paths, ports, find_etcd())
        with health_client(paths) as client:
            for comp in comps:
                pid = running_pid(paths, comp)
                if pid is not None and new_credentials and comp.name == "apiserver":
                    stop(pid, STOP_TIMEOUT)  # it may predate --client-ca-file or its names
                    pid = None
                if pid is not None:
                    if poll(partial(probe, client, comp.health_url), timeout):
                        continue
                    stop(pid, STOP_TIMEOUT)
                start(paths, comp, client, timeout)
        return _status(paths, ports, comps)


def down(home: Path | str | None = None, *, components: list[Component] | None = None,
         timeout: float = STOP_TIMEOUT) -> list[str]:
    """Stop the control plane in reverse start order; returns the names stopped.

    A pid file whose process is gone, or is now another program (a recycled
    pid), is removed without signalling anything.
    """
    paths = Paths(schooner_home(home))
    if not paths.home.is_dir():
        return []
    with locked(paths):
        ports = resolve_ports(saved_ports(paths), {})
        comps = components or control_plane_components(paths, ports, find_etcd(required=False))
        stopped = []
        for comp in reversed(comps):
            if (pid := running_pid(paths, comp)) is not None:
                stop(pid, timeout)
                stopped.append(comp.name)
            paths.pid(comp.name).unlink(missing_ok=True)
        return stopped


def status(home: Path | str | None = None) -> ClusterStatus:
    """Each component's pid, liveness and health; changes nothing."""
    paths = Paths(schooner_home(home))
    ports = resolve_ports(saved_ports(paths), {})
    return _status(paths, ports, control_plane_components(paths, ports, find_etcd(False)))
