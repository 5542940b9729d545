"""`schooner-agent`: the node agent (kubelet), with flags named as the kubelet names them."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import uvloop

from agent.agent import Agent, AgentConfig
from agent.eviction.manager import EvictionConfig
from agent.eviction.signals import DEFAULT_EVICTION_HARD, Threshold, parse_thresholds
from agent.hollow.nodes import HollowNodeConfig
from agent.hollow.run import HollowConfig, run_hollow
from agent.imagegc.manager import ImageGCConfig
from agent.imagegc.policy import Thresholds
from agent.network.podnetwork import PodCIDRTimeout
from agent.nodestatus.node_status import MAX_PODS
from agent.podsync.backoff import DEFAULT_BASE, DEFAULT_MAX
from agent.runtime.container import ContainerRuntimeError, LogRotation
from agent.runtime.docker_runtime import DockerRuntime
from apimachinery import quantity
from apimachinery.client import APISERVER_URLS_HELP, AsyncClient, split_urls
from apimachinery.durations import duration
from apimachinery.kubeconfig import KubeconfigError

log = logging.getLogger("agent")
HOLLOW_WORKERS_PER_CLIENT = 4  # pod writers sharing one connection pool (see hollow/pods.py)


def cidr(text: str) -> str:
    """A network in CIDR notation (`172.30.128.0/17`), or empty."""
    if not text:
        return ""
    try:
        return str(ipaddress.ip_network(text.strip()))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid CIDR {text!r}: {exc}") from None


def ip_list(text: str) -> tuple[str, ...]:
    """Comma-separated IP addresses, as the kubelet's --cluster-dns."""
    try:
        return tuple(str(ipaddress.ip_address(t.strip())) for t in text.split(",") if t.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid IP list {text!r}: {exc}") from None


def node_ip(text: str) -> str:
    """`--node-ip`, checked as the kubelet's validateNodeIP (its words) but for loopback,
    which a one-host cluster uses (`schooner up`, the tests) and which only an apiserver
    bound to loopback dials (apiserver/kubeletclient.py)."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("nodeIP must be a valid IP address") from None
    if ip.is_multicast:
        raise argparse.ArgumentTypeError("nodeIP can't be a multicast address")
    if ip.is_link_local:
        raise argparse.ArgumentTypeError("nodeIP can't be a link-local unicast address")
    if ip.is_unspecified:
        raise argparse.ArgumentTypeError("nodeIP can't be an all zeros address")
    return str(ip)


def default_root_dir() -> str:
    home = os.environ.get("SCHOONER_HOME")
    base = Path(home).expanduser() if home else Path("~/.schooner").expanduser()
    return str(base / "agent")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="schooner-agent",
                                description="The node agent: runs this node's pods on Docker.")
    p.add_argument("--kubeconfig", help="kubeconfig for the apiserver (default: "
                   "$KUBECONFIG, $SCHOONER_HOME/kubeconfig, ~/.schooner/kubeconfig)")
    p.add_argument("--apiserver-urls", type=split_urls, default=[], help=APISERVER_URLS_HELP)
    p.add_argument("--node-name", default=socket.gethostname().lower(),
                   help="the Node's name (default: the hostname)")
    p.add_argument("--node-ip", type=node_ip, default="127.0.0.1",
                   help="the node's InternalIP; the server binds to it (not multicast, "
                        "link-local or all zeros)")
    p.add_argument("--address", default="",
                   help="address the logs/exec server binds to (default: --node-ip)")
    p.add_argument("--port", type=int, default=10250, help="port of the logs/exec server")
    p.add_argument("--tls-cert-file", default="",
                   help="the server's certificate (PEM; intermediates after it) for this "
                        "node's names and addresses; none: a self-signed one is made in "
                        "<root-dir>/pki")
    p.add_argument("--tls-private-key-file", default="",
                   help="the key of --tls-cert-file")
    p.add_argument("--client-ca-file", default="",
                   help="CA (PEM) whose client certificates authenticate callers (CN the "
                        "user, O the groups), the apiserver's among them")
    p.add_argument("--pod-cidr", default="172.28.1.0/24",
                   help="pod network subnet when the Node has no spec.podCIDR (unused with "
                        "--cluster-cidr)")
    p.add_argument("--cluster-cidr", type=cidr, default="",
                   help="CIDR of every node's pods (the multi-host pod network): wait for "
                        "the Node's spec.podCIDR instead of --pod-cidr, turn Docker's NAT "
                        "off for it, route to other nodes' pod CIDRs via their InternalIP "
                        "and accept the CIDR in DOCKER-USER (default: none of that)")
    p.add_argument("--pod-cidr-timeout", type=duration, default=300.0,
                   help="with --cluster-cidr: how long to wait for spec.podCIDR (e.g. 5m)")
    p.add_argument("--cluster-dns", type=ip_list, default=(),
                   help="comma-separated DNS server IPs for pods with dnsPolicy "
                        "ClusterFirst (default: none; pods keep Docker's DNS)")
    p.add_argument("--cluster-domain", default="cluster.local",
                   help="the cluster's DNS domain, searched by pods after their namespace")
    p.add_argument("--network-name", default="schooner-pods",
                   help="name of the Docker bridge network for pods")
    p.add_argument("--root-dir", default=default_root_dir(),
                   help="directory for pod volumes (default $SCHOONER_HOME/agent)")
    p.add_argument("--node-status-update-frequency", type=duration, default=10.0,
                   help="how often the node status is posted (e.g. 10s)")
    p.add_argument("--sync-frequency", type=duration, default=10.0,
                   help="how often every pod is synced even without events (e.g. 10s)")
    p.add_argument("--pod-infra-container-image", default="schooner/busybox:latest",
                   help="image of each pod's sandbox container (runs `sleep`)")
    p.add_argument("--backoff-base", type=duration, default=DEFAULT_BASE,
                   help=argparse.SUPPRESS)  # first restart back-off; tests shorten it
    p.add_argument("--backoff-max", type=duration, default=DEFAULT_MAX, help=argparse.SUPPRESS)
    p.add_argument("--pod-max-pids", type=int, default=1024,
                   help="the most processes each container may run (Docker's pids limit; "
                        "the kubelet's flag limits a whole pod); -1: unlimited")
    # Run `ip` and `iptables` inside this network namespace: tests keep the host's untouched.
    p.add_argument("--host-network-netns", default="", help=argparse.SUPPRESS)
    p.add_argument("-v", "--v", type=int, default=0, help="log verbosity (0-4)")
    add_node_health_flags(p)
    add_hollow_flags(p)
    args = p.parse_args(argv)
    check_node_health_flags(p, args)
    if bool(args.tls_cert_file) != bool(args.tls_private_key_file):
        p.error("--tls-cert-file and --tls-private-key-file go together")
    return args


def add_node_health_flags(p: argparse.ArgumentParser) -> None:
    """What keeps a node up for months: log rotation, image GC, node-pressure eviction (the
    kubelet's flags and defaults)."""
    p.add_argument("--container-log-max-size", type=memory_bytes, default=10 * 1024**2,
                   help="a container's log file is rotated at this size (e.g. 10Mi)")
    p.add_argument("--container-log-max-files", type=int, default=5,
                   help="log files kept per container, the current one included (>= 2)")


    p.add_argument("--image-gc-high-threshold", type=int, default=85,
                   help="percent of the image filesystem used at which unused images are "
                        "removed (100: never)")
    p.add_argument("--image-gc-low-threshold", type=int, default=80,
                   help="percent of the image filesystem the image GC frees down to")
    p.add_argument("--minimum-image-gc-age", type=duration, default=120.0,
                   help="an unused image is kept at least this long after it is first seen")
    p.add_argument("--image-gc-period", type=duration, default=300.0,
                   help=argparse.SUPPRESS)  # the kubelet's fixed 5 minutes; tests shorten it
    # Only images with this label (KEY=VALUE) are collected: tests never touch the host's.
    p.add_argument("--image-gc-only-label", default="", help=argparse.SUPPRESS)
    p.add_argument("--eviction-hard", type=eviction_thresholds,
                   default=eviction_thresholds(DEFAULT_EVICTION_HARD),
                   help="thresholds that evict pods when met, e.g. memory.available<100Mi,"
                        "nodefs.available<10%% (default "
                        f"{DEFAULT_EVICTION_HARD.replace('%', '%%')}; "
                        "signals: memory.available, nodefs.available, imagefs.available)")
    p.add_argument("--eviction-pressure-transition-period", type=duration, default=300.0,
                   help="how long a pressure condition stays after its threshold is no "
                        "longer met (e.g. 5m)")
    p.add_argument("--eviction-monitoring-interval", type=duration, default=10.0,
                   help=argparse.SUPPRESS)  # the kubelet's 10 s housekeeping; tests shorten it


def eviction_thresholds(text: str) -> tuple[Threshold, ...]:
    """`--eviction-hard`, in the kubelet's syntax."""
    try:
        return tuple(parse_thresholds(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def check_node_health_flags(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    high, low = args.image_gc_high_threshold, args.image_gc_low_threshold
    if not 0 <= high <= 100:
        p.error(f"--image-gc-high-threshold: {high} must be between 0 and 100")
    if not 0 <= low <= 100:
        p.error(f"--image-gc-low-threshold: {low} must be between 0 and 100")
    if low > high:
        p.error(f"--image-gc-low-threshold ({low}) must not be above "
                f"--image-gc-high-threshold ({high})")
    if args.container_log_max_files < 2:
        p.error("--container-log-max-files must be at least 2")
    if args.container_log_max_size < 1024:
        p.error("--container-log-max-size must be at least 1Ki")


def add_hollow_flags(p: argparse.ArgumentParser) -> None:
    """`--hollow N` and its knobs: N nodes in this process, no Docker (Kubernetes' kubemark)."""
    g = p.add_argument_group("hollow nodes", "stand for N nodes with no Docker (benchmarks)")
    g.add_argument("--hollow", type=int, default=0, metavar="N",
                   help="run N hollow nodes PREFIX-0..N-1 instead of a real node (default 0)")
    g.add_argument("--hollow-name-prefix", default="hollow-", help="hollow Node name prefix")
    g.add_argument("--hollow-start-delay", type=duration, default=1.0,
                   help="how long after a pod is bound it is reported Running (e.g. 1s)")
    g.add_argument("--hollow-cpu", type=int, default=4, help="CPUs per hollow node")
    g.add_argument("--hollow-memory", type=memory_bytes, default=16 * 1024**3,
                   help="memory per hollow node (e.g. 16Gi)")
    g.add_argument("--hollow-max-pods", type=int, default=MAX_PODS,
                   help="pods capacity per hollow node")
    g.add_argument("--hollow-pod-cidr-range", type=cidr, default="10.64.0.0/10",
                   help="range cut into per-node podCIDRs; fake pod IPs come from them")
    g.add_argument("--hollow-node-cidr-mask-size", type=int, default=24,
                   help="prefix length of each hollow node's podCIDR")
    g.add_argument("--hollow-workers", type=int, default=16,
                   help="pod status writes and deletes in flight")
    g.add_argument("--hollow-lease-renew-interval", type=duration, default=10.0,
                   help="how often each Lease is renewed; renewals are spread over it")
    g.add_argument("--hollow-node-status-update-frequency", type=duration, default=300.0,
                   help="how often each hollow Node's status is posted (e.g. 5m)")
    g.add_argument("--hollow-cleanup", action="store_true",
                   help="delete the hollow Nodes and Leases on exit")


def memory_bytes(text: str) -> int:
    """A memory quantity (`16Gi`, `512Mi`) in bytes."""
    try:
        return quantity.memory_bytes(text)
    except (ValueError, ArithmeticError) as exc:
        raise argparse.ArgumentTypeError(f"invalid quantity {text!r}: {exc}") from None


def hollow_config_from(args: argparse.Namespace) -> HollowConfig:
    nodes = HollowNodeConfig(
        count=args.hollow, prefix=args.hollow_name_prefix, node_ip=args.node_ip,
        cpus=args.hollow_cpu, memory_bytes=args.hollow_memory, max_pods=args.hollow_max_pods,
        pod_cidr_range=args.hollow_pod_cidr_range or "10.64.0.0/10",
        node_cidr_mask_size=args.hollow_node_cidr_mask_size,
        lease_renew_interval=args.hollow_lease_renew_interval,
        status_period=args.hollow_node_status_update_frequency)
    return HollowConfig(nodes=nodes, start_delay=args.hollow_start_delay,
                        workers=args.hollow_workers, cleanup=args.hollow_cleanup)


def config_from(args: argparse.Namespace) -> AgentConfig:
    return AgentConfig(
        node_name=args.node_name, node_ip=args.node_ip, address=args.address, port=args.port,
        pod_cidr=args.pod_cidr, network_name=args.network_name,
        root_dir=Path(args.root_dir).expanduser().resolve(),
        node_status_update_frequency=args.node_status_update_frequency,
        sync_frequency=args.sync_frequency, backoff_base=args.backoff_base,
        backoff_max=args.backoff_max, sandbox_image=args.pod_infra_container_image,
        cluster_cidr=args.cluster_cidr, pod_cidr_timeout=args.pod_cidr_timeout,
        cluster_dns=args.cluster_dns, cluster_domain=args.cluster_domain,
        host_network_netns=args.host_network_netns, pod_max_pids=args.pod_max_pids,
        image_gc=ImageGCConfig(Thresholds(args.image_gc_high_threshold,
                                          args.image_gc_low_threshold,
                                          args.minimum_image_gc_age),
                               args.image_gc_period, args.image_gc_only_label),
        eviction=EvictionConfig(args.eviction_hard, args.eviction_pressure_transition_period,
                                args.eviction_monitoring_interval),
        tls_cert_file=args.tls_cert_file, tls_private_key_file=args.tls_private_key_file,
        client_ca_file=args.client_ca_file)


async def run(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.hollow:
        return await run_hollow_nodes(args, stop)
    config = config_from(args)
    client = AsyncClient.from_kubeconfig(args.kubeconfig, extra_servers=args.apiserver_urls)
    runtime = DockerRuntime(config.node_name, config.network_name, log_rotation=LogRotation(
        args.container_log_max_size, args.container_log_max_files))
    agent = Agent(config, client, runtime)
    try:
        starting = asyncio.create_task(agent.start())
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            starting.result()  # a failed start-up raises here
            await stopping
        else:
            starting.cancel()
            await asyncio.wait([starting])
        log.info("component=agent agent stopping node=%s (containers keep running)",
                 config.node_name)
    finally:
        await agent.stop()
        runtime.close()
        await client.aclose()
    return 0


async def run_hollow_nodes(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """`--hollow N`: no Docker, no server; the same client, informer and node code paths."""
    config = hollow_config_from(args)
    client = AsyncClient.from_kubeconfig(args.kubeconfig, extra_servers=args.apiserver_urls)
    writers = [AsyncClient.from_kubeconfig(args.kubeconfig, extra_servers=args.apiserver_urls)
               for _ in range(-(-config.workers // HOLLOW_WORKERS_PER_CLIENT))]
    try:
        return await run_hollow(config, client, stop, writers)
    finally:
        for c in (client, *writers):
            await c.aclose()


def run_loop(args: argparse.Namespace) -> int:
    """The event loop: uvloop, as the apiserver's. Its transports cost less CPU per
    request (for hollow nodes every pod and Lease is an HTTPS request) and less latency
    per relayed message (exec and port-forward cross the agent's loop each way)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run(args))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.v >= 4 else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.hollow and args.v < 2:  # a line per node registered is noise at 1,000 nodes
        logging.getLogger("agent.nodestatus.node_status").setLevel(logging.WARNING)
    try:
        code = run_loop(args)
    except KubeconfigError as exc:
        sys.exit(f"error: {exc}")
    except OSError as exc:
        sys.exit(f"error: {exc}")
    except ContainerRuntimeError as exc:
        sys.exit(f"error: the Docker engine: {exc}")
    except PodCIDRTimeout as exc:
        sys.exit(f"error: {exc}")
    logging.shutdown()
    # Pool threads may still be in a blocking Docker call (a stop with a long grace
    # period); the engine finishes it without us, so do not wait for them at exit.
    os._exit(code)


if __name__ == "__main__":
    main()
