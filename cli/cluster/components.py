"""What a local cluster runs: each component's command line, health URL and ports, in start order.

A data-driven list: etcd, the apiserver, then the controller-manager, the
scheduler, this host's agent and (as root) the service proxy. The node name,
pod network and address ranges come from the environment, so a second cluster
on the same host (a test's, a benchmark's) can be told apart from `make up`'s.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from apimachinery.etcdpki import EtcdClientTLS, EtcdServerTLS
from cli.cluster.layout import InitConfig, Paths, Ports, read_init_config
from cli.cluster.supervisor import ClusterError, Component

# The checkout the components are started from (their PYTHONPATH).
SOURCE_ROOT = Path(__file__).resolve().parents[2]


# etcd's maintainers withdrew 3.5.0-3.5.2 from production use: a member killed under
# load can come back missing committed writes (etcd-io/etcd#13766).
WITHDRAWN_ETCD = ((3, 5, 0), (3, 5, 1), (3, 5, 2))
# Debian's etcd-server, which `make` installs (3.4.23; Kubernetes' minimum is 3.4.22).
DEBIAN_ETCD = "/usr/bin/etcd"

# etcd's space quota, explicit (its default is 2 GiB too, but unstated defaults change:
# etcd 3.6 raises it to 8 GiB). Past it etcd raises a NOSPACE alarm and refuses every
# write until it is compacted, defragmented and the alarm disarmed; the apiserver's
# compaction (apiserver/compactor.py) and Events' TTL keep a cluster far below it.
ETCD_QUOTA_BACKEND_BYTES = 2 * 1024 ** 3


def etcd_bounds_flags(quota: int = ETCD_QUOTA_BACKEND_BYTES) -> list[str]:
    """The space quota, and etcd's own compaction off: the apiserver compacts (5 min)."""
    return ["--quota-backend-bytes", str(quota), "--auto-compaction-retention", "0"]


def find_etcd(required: bool = True) -> str:
    """The etcd binary: the first sound one of Debian's, PATH's and the one beside Python.

    An etcd from the withdrawn 3.5.0-3.5.2 line is passed over, and refused with
    a one-line error when it is the only one. With `required=False` (for `status`
    and `down`, which only recognise a running etcd) nothing is checked or refused,
    and a missing etcd yields plain "etcd".
    """
    candidates = [c for c in dict.fromkeys((
        DEBIAN_ETCD, shutil.which("etcd"), str(Path(sys.executable).parent / "etcd")))
        if c and Path(c).is_file()]
    if not required:
        return next((c for c in candidates if etcd_version(c) not in WITHDRAWN_ETCD),
                    candidates[0] if candidates else "etcd")
    for candidate in candidates:
        if etcd_version(candidate) not in WITHDRAWN_ETCD:
            return candidate
    if candidates:
        version = ".".join(map(str, etcd_version(candidates[0]) or ()))
        raise ClusterError(
            f"etcd {version} at {candidates[0]} is from the withdrawn 3.5.0-3.5.2 line "
            "(etcd-io/etcd#13766): install Debian's etcd-server (`make` does)")
    raise ClusterError("etcd not found: install Debian's etcd-server (`make` does), "
                       "or put an etcd >= 3.4.22 on PATH")


@functools.cache
def etcd_version(path: str) -> tuple[int, ...] | None:
    """The version `path --version` prints (`etcd Version: 3.4.23`), or None if it says none."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"etcd Version: (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(g) for g in match.groups()) if match else None


def etcd_command(etcd: str, name: str, data_dir: Path, client_port: int, peer_port: int,
                 *flags: str, initial_cluster: str | None = None,
                 tls: EtcdServerTLS | None = None, metrics_port: int | None = None) -> list[str]:
    """An etcd member named `name` on loopback ports, with its data in `data_dir`.

    Alone by default; `initial_cluster` (`name=peerURL,...`) makes it one member of
    a new cluster. With `tls`, both ports serve TLS and take only client
    certificates of the etcd CA (apimachinery/etcdpki.py); `metrics_port` then
    serves /health and /metrics in the clear on loopback, as kubeadm's
    `--listen-metrics-urls http://127.0.0.1:2381`, so a health check needs no key.
    `--logger zap` because etcd 3.4's default logger (capnslog) is deprecated and
    warns so at every start. The keepalive floor is lowered to 1 s so the
    apiserver's pings (every 2 s, apiserver/etcdclient.py) are never taken as
    abuse (etcd's default floor is 5 s). The space quota is explicit and etcd's
    auto-compaction off (`etcd_bounds_flags`).
    """
    scheme = "https" if tls else "http"
    client, peer = f"{scheme}://127.0.0.1:{client_port}", f"{scheme}://127.0.0.1:{peer_port}"
    secure = tls.flags() if tls else []
    if metrics_port is not None:
        secure += ["--listen-metrics-urls", f"http://127.0.0.1:{metrics_port}"]
    return [
        etcd, "--name", name, "--data-dir", str(data_dir), "--logger", "zap",
        "--grpc-keepalive-min-time", "1s", *etcd_bounds_flags(), *secure,
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, *flags,
        "--initial-cluster", initial_cluster or f"{name}={peer}",
    ]


def apiserver_command(etcd_url: str, port: int, cert: Path, key: Path, tokens: Path,
                      *flags: str, etcd_tls: EtcdClientTLS | None = None) -> list[str]:
    """`python -m apiserver` over TLS on a loopback port, with static tokens; with
    `etcd_tls`, its etcd client certificate (`--etcd-cafile` and the rest)."""
    return [
        sys.executable, "-m", "apiserver", "--etcd-servers", etcd_url,
        *(etcd_tls.apiserver_flags() if etcd_tls else []),
        "--bind-address", "127.0.0.1", "--secure-port", str(port),
        "--tls-cert-file", str(cert), "--tls-private-key-file", str(key),
        "--token-auth-file", str(tokens), *flags,
    ]


# Schooner's clusters move a dead node's pods after 10 s of its NoExecute taint (25 s
# after it went silent), not Kubernetes' 300 s: the apiserver's DefaultTolerationSeconds
# admission gives every new pod that much unless the pod says otherwise.
FAILOVER_TOLERATION_FLAGS = ("--default-not-ready-toleration-seconds", "10",
                             "--default-unreachable-toleration-seconds", "10")


def etcd_client_url(ports: Ports) -> str:
    """The local cluster's etcd client URL: TLS with client certificates (private etcd)."""
    return f"https://127.0.0.1:{ports.etcd}"


def etcd_peer_url(ports: Ports) -> str:
    """The local cluster's etcd peer URL, as etcd advertises it (and a restore records it)."""
    return f"https://127.0.0.1:{ports.etcd_peer}"


def control_plane_components(paths: Paths, ports: Ports, etcd: str = "etcd") -> list[Component]:
    """The control plane in start order; later components are appended here."""
    client = etcd_client_url(ports)
    pythonpath = os.pathsep.join(p for p in (str(SOURCE_ROOT), os.environ.get("PYTHONPATH")) if p)
    return [
        Component("etcd", etcd_command(etcd, "schooner", paths.etcd_data, ports.etcd,
                                       ports.etcd_peer, tls=paths.etcd_server_tls,
                                       metrics_port=ports.etcd_metrics),
                  f"http://127.0.0.1:{ports.etcd_metrics}/health",
                  ports=(ports.etcd, ports.etcd_peer, ports.etcd_metrics)),
        Component("apiserver", apiserver_command(
            client, ports.apiserver, paths.apiserver_cert, paths.apiserver_key, paths.tokens,
            "--service-cluster-ip-range", service_cidr(), *FAILOVER_TOLERATION_FLAGS,
            "--advertise-address", advertise_address(),
            "--client-ca-file", str(paths.ca_cert), *kubelet_client_flags(paths),
            "--service-account-signing-key-file", str(paths.pki / "sa.key"),
            "--authorization-mode", "Node,RBAC",
            "--encryption-provider-config", str(paths.encryption_config),
            "--audit-policy-file", str(paths.audit_policy), "--audit-log-path",
            str(paths.audit_log), "--audit-log-maxsize", "100", "--audit-log-maxbackup", "5",
            "--enable-bootstrap-token-auth", "true", *joinable_apiserver_flags(paths),
            etcd_tls=paths.apiserver_etcd_client,
        ), f"https://127.0.0.1:{ports.apiserver}/readyz",
            env={"PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}, ports=(ports.apiserver,)),
        *node_components(paths, ports, {"PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}),
    ]


def joinable_apiserver_flags(paths: Paths) -> list[str]:
    """After `schooner init`: the apiserver listens on every address and advertises the one
    other hosts reach (so it dials no agent at loopback: a joined host could name its
    own); a host without credentials may read cluster-info (RBAC allows
    system:anonymous that ConfigMap only)."""
    joinable = read_init_config(paths)
    if joinable is None:
        return []
    if init_host_ip(joinable) == "127.0.0.1":  # a test's cluster: no other host to serve
        return ["--anonymous-auth", "true"]
    return ["--bind-address", "0.0.0.0", "--advertise-address", joinable.advertise_address,
            "--anonymous-auth", "true"]


def init_host_ip(joinable: InitConfig | None) -> str:
    """The address this host's agent registers: `schooner init`'s advertised address (the
    apiserver of a joinable cluster dials no loopback agent), else 127.0.0.1."""
    if joinable is None or ipaddress.ip_address(joinable.advertise_address).is_loopback:
        return "127.0.0.1"
    return joinable.advertise_address


def pod_network_flags(paths: Paths, pod_cidr: str) -> list[str]:
    """This host's pod range: its own (`$SCHOONER_POD_CIDR`); after `schooner init`, a /24
    of the cluster's from node IPAM, with routes to the joined hosts' (as theirs)."""
    joinable = read_init_config(paths)
    if joinable is None:
        return ["--pod-cidr", pod_cidr]
    return ["--cluster-cidr", joinable.cluster_cidr]


def joinable_controller_manager_flags(joinable: InitConfig | None) -> list[str]:
    """After `schooner init`: node IPAM gives each joined host a pod /24."""
    if joinable is None:
        return []
    return ["--allocate-node-cidrs", "--cluster-cidr", joinable.cluster_cidr,
            "--service-cluster-ip-range", service_cidr()]


def kubelet_client_flags(paths: Paths) -> list[str]:
    """How the apiserver reaches agents: its own client certificate, their CA."""
    return ["--kubelet-client-certificate", str(paths.apiserver_kubelet_client_cert),
            "--kubelet-client-key", str(paths.apiserver_kubelet_client_key),
            "--kubelet-certificate-authority", str(paths.ca_cert)]


def service_cidr() -> str:
    """The Service ClusterIP range: `$SCHOONER_SERVICE_CIDR`, default 172.28.255.0/24.

    Inside the same 172.28.0.0/16 as the pod network, so no address leaves the
    machine; a second cluster on the host (a test's) takes another /24.
    """
    return os.environ.get("SCHOONER_SERVICE_CIDR", "172.28.255.0/24")


def pod_cidr() -> str:
    """This host's pod network: `$SCHOONER_POD_CIDR`, default 172.28.1.0/24."""
    return os.environ.get("SCHOONER_POD_CIDR", "172.28.1.0/24")


def advertise_address() -> str:
    """The apiserver's --advertise-address: the pod bridge's gateway (the pod CIDR's first
    address, where Docker puts it), an address of this host that pods reach directly
    and the proxy forwards the `kubernetes` ClusterIP to. Not loopback (an endpoint may
    not be: a pod's loopback is its own) and not the host's own interface (nothing
    here listens beyond loopback and the networks the project made). The agent makes
    the bridge after the apiserver starts; the apiserver binds it beforehand
    (apiserver/listeners.py), and docs/architecture.md says why."""
    return str(ipaddress.IPv4Network(pod_cidr()).network_address + 1)


def apiserver_service_names() -> list[str]:
    """The `kubernetes` Service's names a pod may use: its ClusterIP (the service range's
    first address) and its DNS names, which the serving certificate must carry."""
    return [str(ipaddress.IPv4Network(service_cidr()).network_address + 1), "kubernetes",
            "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local"]


def cluster_dns() -> str:
    """The cluster DNS address: the service range's 10th, where the apiserver puts kube-dns."""
    return str(ipaddress.IPv4Network(service_cidr()).network_address + 10)


def cluster_dns_flags() -> list[str]:
    """Pods use the proxy's DNS when there is a proxy (root), else Docker's default."""
    return ["--cluster-dns", cluster_dns()] if os.geteuid() == 0 else []


def node_name() -> str:
    """This host's node: `$SCHOONER_NODE_NAME`, default the host name (lower case)."""
    return os.environ.get("SCHOONER_NODE_NAME", socket.gethostname().lower())


def node_components(paths: Paths, ports: Ports, env: dict[str, str]) -> list[Component]:
    """Controller-manager, scheduler and this host's agent, all clients of the apiserver.

    Each uses its own kubeconfig (`Paths.component_kubeconfig`, written by `up`), so the
    apiserver knows who calls and allows each only its role (`Node,RBAC`: the agent only
    what its pods reference, docs/security.md). The agent's node is `node_name()`, its pod network
    `$SCHOONER_POD_NETWORK` (default `schooner-pods`) on `$SCHOONER_POD_CIDR` (default
    172.28.1.0/24): a second cluster on the same Docker engine (a test's) must differ in
    all three, since an agent removes the containers of its node that its cluster lacks.
    """
    network = os.environ.get("SCHOONER_POD_NETWORK", "schooner-pods")
    node = node_name()
    cidr = pod_cidr()
    return [
        Component("controller-manager", [
            sys.executable, "-m", "controllers",
            "--kubeconfig", str(paths.component_kubeconfig("controller-manager")),
            "--secure-port", str(ports.controller_manager),
            # csrsigning issues joining hosts' certificates (`schooner join`)
            "--cluster-signing-cert-file", str(paths.ca_cert),
            "--cluster-signing-key-file", str(paths.ca_key),
            "--controllers", "*,bootstrapsigner,tokencleaner",
            *joinable_controller_manager_flags(read_init_config(paths)),
            # the cluster CA's certificate (never its key): every namespace's kube-root-ca.crt
            "--root-ca-file", str(paths.ca_cert),
        ], f"http://127.0.0.1:{ports.controller_manager}/healthz", env=env,
            ports=(ports.controller_manager,)),
        Component("scheduler", [
            sys.executable, "-m", "scheduler",
            "--kubeconfig", str(paths.component_kubeconfig("scheduler")),
            "--secure-port", str(ports.scheduler),
        ], f"http://127.0.0.1:{ports.scheduler}/healthz", env=env, ports=(ports.scheduler,)),
        Component("agent", [
            sys.executable, "-m", "agent",
            "--kubeconfig", str(paths.component_kubeconfig("agent")),
            "--node-name", node, "--node-ip", init_host_ip(read_init_config(paths)),
            "--port", str(ports.agent), "--root-dir", str(paths.home / "agent"),
            "--tls-cert-file", str(paths.agent_cert),
            "--tls-private-key-file", str(paths.agent_key),
            "--client-ca-file", str(paths.ca_cert),
            "--network-name", network, *pod_network_flags(paths, cidr), *cluster_dns_flags(),
            # the local engine is the user's own: its images are not the agent's to remove
            "--image-gc-high-threshold", "100",
        ], f"https://127.0.0.1:{ports.agent}/healthz", env=env, ports=(ports.agent,)),
        *proxy_components(paths, ports, env),
    ]


def proxy_components(paths: Paths, ports: Ports, env: dict[str, str]) -> list[Component]:
    """The service proxy, when we may add ClusterIPs to the loopback (root only)."""
    if os.geteuid() != 0:
        return []
    return [Component("proxy", [
        sys.executable, "-m", "proxy", "--kubeconfig", str(paths.component_kubeconfig("proxy")),
        "--service-cluster-ip-range", service_cidr(), "--healthz-port", str(ports.proxy),
    ], f"http://127.0.0.1:{ports.proxy}/healthz", env=env, ports=(ports.proxy,))]
