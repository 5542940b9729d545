"""`schooner-proxy`: flags named as kube-proxy names them; SIGTERM cleans up and exits 0.

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
import logging
import signal
import sys

from apimachinery.client import AsyncClient
from apimachinery.healthz import serve_healthz
from apimachinery.kubeconfig import KubeconfigError
from proxy.addresses import DEFAULT_DEVICE, LoopbackAddresses
from proxy.forwarder import DIAL_TIMEOUT
from proxy.plan import parse_range
from proxy.proxier import Proxier

log = logging.getLogger("proxy")

DEFAULT_SERVICE_RANGE = "172.28.255.0/24"  # the apiserver's --service-cluster-ip-range


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="schooner-proxy",
                                description="Forwards ClusterIP:port to ready endpoints.")
    p.add_argument("--kubeconfig", default=None,
                   help="kubeconfig file (default: $KUBECONFIG, $SCHOONER_HOME/kubeconfig, "
                        "~/.schooner/kubeconfig)")
    p.add_argument("--bind-address-lo", action=argparse.BooleanOptionalAction, default=True,
                   help="add each ClusterIP as a /32 on the loopback device (and remove it "
                        "again); --no-bind-address-lo when something else routes them here")
    p.add_argument("--loopback-device", default=DEFAULT_DEVICE,
                   help="device that carries the ClusterIPs")
    p.add_argument("--service-cluster-ip-range", default=DEFAULT_SERVICE_RANGE,
                   help="only ClusterIPs inside this range are served (and put on the device)")
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
    return args


async def run(args: argparse.Namespace) -> int:
    """Run the proxy until SIGTERM/SIGINT, then undo everything it did to the node.

    Returns the exit code: 0 after a signal, 1 if the sync loop itself died.
    """
    client = AsyncClient.from_kubeconfig(args.kubeconfig)
    addresses = LoopbackAddresses(args.loopback_device) if args.bind_address_lo else None
    proxier = Proxier(client, args.service_range, addresses=addresses,
                      dial_timeout=args.dial_timeout_seconds)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("component=proxy server=%s range=%s device=%s msg=\"starting\"", client.server,
             args.service_range, args.loopback_device if addresses else "-")
    health = None
    sync_task = asyncio.create_task(proxier.run(), name="proxier")
    try:
        if args.healthz_port:
            health = await serve_healthz(args.healthz_bind_address, args.healthz_port,
                                         lambda: proxier.healthy)
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({sync_task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
    finally:
        sync_task.cancel()
        await asyncio.wait({sync_task})
        if health is not None:
            health.close()
            await health.wait_closed()
        await proxier.shutdown()
        await client.aclose()
        log.info("component=proxy msg=\"stopped\"")
    if not sync_task.cancelled() and sync_task.exception() is not None:
        log.error("component=proxy error=%r msg=\"sync loop died\"", sync_task.exception())
        return 1
    return 0


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.v >= 4 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    if args.v >= 2:  # every sync and every forwarded connection
        logging.getLogger("proxy").setLevel(logging.DEBUG)
    try:
        code = asyncio.run(run(args))
    except KubeconfigError as exc:
        sys.exit(f"error: {exc}")
    sys.exit(code)


if __name__ == "__main__":
    main()
