"""`schooner-proxy`: flags named as kube-proxy names them; SIGTERM cleans up and exits 0.

Besides proxying, the process is the cluster's DNS server (`dns`): on `--cluster-dns`
(by default the service range's 10th address, kube-dns's ClusterIP, which the proxy
holds on `lo` like a ClusterIP and keeps there), port `--dns-port`, for names under
`--cluster-domain`, answered from the proxier's own caches.

The process is a client of the API like every component: it reads the kubeconfig
(`--kubeconfig`, else $KUBECONFIG, $SCHOONER_HOME/kubeconfig or
~/.schooner/kubeconfig). On SIGTERM or SIGINT it stops accepting, closes open
connections and removes every address it put on `lo`, so a stopped proxy leaves
the node as it found it. A `kill -9` leaves the addresses behind; the next proxy
adopts them (`ip addr add` says "File exists") and removes them when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys

import uvloop

from apimachinery.client import APISERVER_URLS_HELP, AsyncClient, split_urls
from apimachinery.healthz import serve_healthz
from apimachinery.kubeconfig import KubeconfigError
from proxy.addresses import DEFAULT_DEVICE, LoopbackAddresses
from proxy.dns import DNSHandler, DNSServer
from proxy.dnsrecords import ClusterRecords
from proxy.forwarder import DIAL_TIMEOUT
from proxy.plan import parse_range
from proxy.proxier import Proxier

log = logging.getLogger("proxy")

DEFAULT_SERVICE_RANGE = "172.28.255.0/24"  # the apiserver's --service-cluster-ip-range
DNS_SERVICE_OFFSET = 10  # kubeadm's convention, as the apiserver's kube-dns Service


def parse_addresses(value: str) -> list[str]:
    """`--nodeport-addresses`: comma-separated IPv4 addresses; ValueError names a bad one."""
    found: list[str] = []
    for item in (part.strip() for part in value.split(",")):
        if item:
            found.append(str(ipaddress.IPv4Address(item)))
    return found


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="schooner-proxy",
                                description="Forwards ClusterIP:port to ready endpoints.")
    p.add_argument("--kubeconfig", default=None,
                   help="kubeconfig file (default: $KUBECONFIG, $SCHOONER_HOME/kubeconfig, "
                        "~/.schooner/kubeconfig)")
    p.add_argument("--apiserver-urls", type=split_urls, default=[], help=APISERVER_URLS_HELP)
    p.add_argument("--bind-address-lo", action=argparse.BooleanOptionalAction, default=True,
                   help="add each ClusterIP as a /32 on the loopback device (and remove it "
                        "again); --no-bind-address-lo when something else routes them here")
    p.add_argument("--loopback-device", default=DEFAULT_DEVICE,
                   help="device that carries the ClusterIPs")
    p.add_argument("--service-cluster-ip-range", default=DEFAULT_SERVICE_RANGE,
                   help="only ClusterIPs inside this range are served (and put on the device)")
    p.add_argument("--nodeport-addresses", default="",
                   help="comma-separated node IPs that NodePort Services listen on "
                        "(default: none, no NodePort listeners)")
    p.add_argument("--cluster-dns", default="",
                   help="address the cluster DNS server answers on (default: the 10th "
                        "address of --service-cluster-ip-range, kube-dns's ClusterIP)")
    p.add_argument("--dns-port", type=int, default=53,
                   help="UDP and TCP port of the cluster DNS server (0: no DNS server)")
    p.add_argument("--cluster-domain", default="cluster.local",
                   help="the domain the DNS server is authoritative for")
    p.add_argument("--dial-timeout-seconds", type=float, default=DIAL_TIMEOUT,
                   help="how long to wait for one endpoint before trying the next")
    p.add_argument("--healthz-bind-address", default="127.0.0.1",
                   help="address of the /healthz endpoint")
    p.add_argument("--healthz-port", type=int, default=10256,
                   help="port of the /healthz endpoint (0: none), as kube-proxy's")
    p.add_argument("-v", "--v", type=int, default=0,
                   help="log verbosity: 2 adds every connection, 4 everything (0-4)")
    args = p.parse_args(argv)
    try:
        args.service_range = parse_range(args.service_cluster_ip_range)
    except ValueError as exc:
        p.error(f"--service-cluster-ip-range: {exc}")
    if args.dial_timeout_seconds <= 0:
        p.error("--dial-timeout-seconds must be positive")
    try:
        args.node_addresses = parse_addresses(args.nodeport_addresses)
    except ValueError as exc:
        p.error(f"--nodeport-addresses: {exc}")
    if not args.cluster_dns:
        args.cluster_dns = str(args.service_range.network_address + DNS_SERVICE_OFFSET)
    try:
        ipaddress.IPv4Address(args.cluster_dns)
    except ValueError as exc:
        p.error(f"--cluster-dns: {exc}")
    if not 0 <= args.dns_port <= 65535:
        p.error("--dns-port must be between 0 and 65535")
    if not args.cluster_domain.strip("."):
        p.error("--cluster-domain must not be empty")
    return args


def dns_server(args: argparse.Namespace, proxier: Proxier) -> DNSServer:
    """The DNS server over the proxier's caches, its replies forgotten on every change."""
    handler = DNSHandler(
        ClusterRecords(proxier.services.store, proxier.slices.store, args.cluster_domain),
        ready=lambda: proxier.services.has_synced and proxier.slices.has_synced)

    def changed(*objs: object) -> None:
        if len(objs) != 2 or objs[0] is not objs[1]:  # a resync's update changes nothing
            handler.invalidate()

    for informer in (proxier.services, proxier.slices):
        informer.add_event_handler(changed, changed, changed)
    return DNSServer(handler, args.cluster_dns, args.dns_port)


async def run(args: argparse.Namespace) -> int:
    """Run the proxy until SIGTERM/SIGINT, then undo everything it did to the node.

    Returns the exit code: 0 after a signal, 1 if the sync loop or the DNS server died.
    """
    client = AsyncClient.from_kubeconfig(args.kubeconfig, extra_servers=args.apiserver_urls)
    addresses = LoopbackAddresses(args.loopback_device) if args.bind_address_lo else None
    proxier = Proxier(client, args.service_range, addresses=addresses,
                      dial_timeout=args.dial_timeout_seconds,
                      node_addresses=args.node_addresses)
    dns = dns_server(args, proxier) if args.dns_port else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("component=proxy server=%s range=%s device=%s nodeport-addresses=%s dns=%s "
             "msg=\"starting\"", client.server, args.service_range,
             args.loopback_device if addresses else "-", ",".join(args.node_addresses) or "-",
             f"{args.cluster_dns}:{args.dns_port}" if dns else "-")
    health = None
    tasks = {asyncio.create_task(proxier.run(), name="proxier")}
    if dns is not None:
        # Only an address of the service range is the proxy's to put on lo.
        hold = (addresses is not None
                and ipaddress.IPv4Address(args.cluster_dns) in args.service_range)
        tasks.add(asyncio.create_task(
            dns.run((lambda: proxier.hold_address(args.cluster_dns)) if hold else None),
            name="dns"))
    try:
        if args.healthz_port:
            health = await serve_healthz(args.healthz_bind_address, args.healthz_port,
                                         lambda: proxier.healthy)
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait(tasks | {stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        if health is not None:
            health.close()
            await health.wait_closed()
        await proxier.shutdown()
        await client.aclose()
        log.info("component=proxy msg=\"stopped\"")
    died = [t for t in tasks if not t.cancelled() and t.exception() is not None]
    for task in died:
        log.error("component=proxy task=%s error=%r msg=\"loop died\"", task.get_name(),
                  task.exception())
    return 1 if died else 0


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.v >= 4 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    if args.v >= 2:  # every sync and every forwarded connection
        logging.getLogger("proxy").setLevel(logging.DEBUG)
    try:
        # uvloop: every proxied connection is an accept, a dial and two copy loops, the
        # kind of work where its event loop halves the cost (docs/benchmarks.md).
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            code = runner.run(run(args))
    except KubeconfigError as exc:
        sys.exit(f"error: {exc}")
    sys.exit(code)


if __name__ == "__main__":
    main()
