"""`schooner-scheduler`: flags named as kube-scheduler names them, SIGTERM stops cleanly.

The process is a client of the API like any other: it reads the kubeconfig
(`--kubeconfig`, else $KUBECONFIG, $SCHOONER_HOME/kubeconfig or
~/.schooner/kubeconfig), and on SIGTERM or SIGINT it stops the workers, shuts
the queue down and stops the informers before it exits. A `kill -9` is
survived by design: the next run relists and binds what is still pending,
and the apiserver refuses to bind a pod twice.

With `--leader-elect` (and the other `--leader-elect-*` flags, as
kube-scheduler's) several schedulers may run; only the holder of the
`kube-system/kube-scheduler` Lease starts its informers and binds. A standby
answers /healthz and waits; the leader releases the Lease on SIGTERM and exits
with status 1 if it cannot renew it within the renew deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys

from apimachinery.client import APISERVER_URLS_HELP, AsyncClient, split_urls
from apimachinery.clock import RealClock
from apimachinery.events import EventRecorder
from apimachinery.healthz import serve_healthz
from apimachinery.kubeconfig import KubeconfigError
from apimachinery.leaderelection import lead_until
from apimachinery.leaderelectionflags import (
    add_leader_election_flags,
    elector_from_flags,
    leader_election_config,
)
from scheduler.cache import DEFAULT_ASSUME_TTL
from scheduler.event_filters import DEFAULT_SCHEDULER_NAME
from scheduler.plugins import default_profile
from scheduler.queue import DEFAULT_POD_INITIAL_BACKOFF, DEFAULT_POD_MAX_BACKOFF
from scheduler.scheduler import DEFAULT_BIND_CONCURRENCY, Scheduler

log = logging.getLogger("scheduler")
LEASE_NAME = "kube-scheduler"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="schooner-scheduler",
                                description="Assigns pending pods to nodes.")
    p.add_argument("--kubeconfig", default=None,
                   help="kubeconfig file (default: $KUBECONFIG, $SCHOONER_HOME/kubeconfig, "
                        "~/.schooner/kubeconfig)")
    p.add_argument("--apiserver-urls", type=split_urls, default=[], help=APISERVER_URLS_HELP)
    p.add_argument("--scheduler-name", default=DEFAULT_SCHEDULER_NAME,
                   help="schedule pods whose spec.schedulerName is this (empty means "
                        f"{DEFAULT_SCHEDULER_NAME})")
    p.add_argument("--workers", type=int, default=1,
                   help="pods scheduled concurrently (binding order is exact with 1)")
    p.add_argument("--pod-initial-backoff-seconds", type=float,
                   default=DEFAULT_POD_INITIAL_BACKOFF,
                   help="first retry delay of an unschedulable pod")
    p.add_argument("--pod-max-backoff-seconds", type=float, default=DEFAULT_POD_MAX_BACKOFF,
                   help="longest retry delay of an unschedulable pod")
    p.add_argument("--percentage-of-nodes-to-score", type=int, default=0,
                   help="stop filtering once this share of nodes is feasible (0: "
                        "kube-scheduler's adaptive default, 42%% of 1,000 nodes)")
    p.add_argument("--bind-concurrency", type=int, default=DEFAULT_BIND_CONCURRENCY,
                   help="Binding POSTs in flight while the next pods are scheduled")
    p.add_argument("--assume-ttl-seconds", type=float, default=DEFAULT_ASSUME_TTL,
                   help="how long a bound pod counts on its node before the watch shows it")
    p.add_argument("--bind-address", default="127.0.0.1",
                   help="address of the /healthz endpoint")
    p.add_argument("--secure-port", type=int, default=10259,
                   help="port of the /healthz endpoint (0: none), as kube-scheduler's")
    add_leader_election_flags(p, LEASE_NAME)
    p.add_argument("-v", "--v", type=int, default=0,
                   help="log verbosity: 2 adds queue events, 4 everything (0-4)")
    args = p.parse_args(argv)
    if args.workers < 1:
        p.error("--workers must be at least 1")
    if not 0 <= args.percentage_of_nodes_to_score <= 100:
        p.error("--percentage-of-nodes-to-score must be between 0 and 100")
    if args.bind_concurrency < 1:
        p.error("--bind-concurrency must be at least 1")
    if args.leader_elect:
        try:
            leader_election_config(args)
        except ValueError as exc:
            p.error(f"--leader-elect-*: {exc}")
    return args


async def run(args: argparse.Namespace) -> None:
    """Build the client and scheduler, and run until SIGTERM/SIGINT."""
    client = AsyncClient.from_kubeconfig(args.kubeconfig, extra_servers=args.apiserver_urls)
    scheduler = Scheduler(client, scheduler_name=args.scheduler_name, workers=args.workers,
                          assume_ttl=args.assume_ttl_seconds,
                          initial_backoff=args.pod_initial_backoff_seconds,
                          max_backoff=args.pod_max_backoff_seconds,
                          profile=dataclasses.replace(
                              default_profile(),
                              percentage_of_nodes_to_score=args.percentage_of_nodes_to_score),
                          bind_concurrency=args.bind_concurrency,
                          recorder=EventRecorder(client, args.scheduler_name, RealClock()))
    stop = asyncio.Event()

    def on_signal() -> None:
        stop.set()
        scheduler.stop()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)
    log.info("component=scheduler scheduler=%s server=%s msg=\"starting\"",
             args.scheduler_name, client.server)
    health = None
    if args.secure_port:
        health = await serve_healthz(args.bind_address, args.secure_port, lambda: True)
    try:
        elector = elector_from_flags(args, client, args.scheduler_name)
        await lead_until(elector, stop, scheduler.run)
    finally:
        if health is not None:
            health.close()
            await health.wait_closed()
        await client.aclose()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.v >= 4 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    if args.v >= 2:  # queue moves and other per-event detail
        log.setLevel(logging.DEBUG)
    if args.v < 4:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        asyncio.run(run(args))
    except KubeconfigError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
