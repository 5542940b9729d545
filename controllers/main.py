"""`schooner-controller-manager`: the controllers in one process, as kube-controller-manager.

Flags are kube-controller-manager's (`--controllers`, `--concurrent-*-syncs`,
`--max-endpoints-per-slice`, `--min-resync-period`, `--kubeconfig`, `-v`, and for node IPAM
`--allocate-node-cidrs`, `--cluster-cidr`, `--node-cidr-mask-size`,
`--service-cluster-ip-range`). Every controller shares one
informer per resource; workers start once every cache has synced. SIGTERM
or SIGINT shuts the work queues down, lets each worker finish the key in
hand (for a short grace), then stops the informers.

With `--leader-elect` several controller-managers may run: each waits for the
`kube-system/kube-controller-manager` Lease (apimachinery.leaderelection) and
only the holder starts its informers and controllers; a standby only answers
/healthz. The leader releases the Lease on SIGTERM, so a standby takes over at
once, and exits with status 1 if it cannot renew within
`--leader-elect-renew-deadline`, as kube-controller-manager does. Without the
flag (`AlwaysLeader`) the process is the only one and leads from the start.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apimachinery.client import APISERVER_URLS_HELP, AsyncClient, split_urls
from apimachinery.durations import duration
from apimachinery.healthz import serve_healthz
from apimachinery.kubeconfig import load_kubeconfig
from apimachinery.leaderelection import AlwaysLeader, Elector, lead_until
from apimachinery.leaderelectionflags import (
    add_leader_election_flags,
    elector_from_flags,
    leader_election_config,
)

from .autorollback import AutoRollbackController
from .base import Controller, ControllerClient, SharedInformerFactory
from .bootstrap import BootstrapSigner, TokenCleaner
from .certificates import CSRApprovingController, CSRSigningController, SigningCA
from .clusterroleaggregation import ClusterRoleAggregationController
from .deployment import DeploymentController
from .endpoints import EndpointsController
from .endpointslice import EndpointSliceController
from .endpointslicemirroring import EndpointSliceMirroringController
from .garbagecollector import GarbageCollector
from .namespace import NamespaceController
from .nodeipam import NodeIpamController
from .nodeipam.cidrset import CIDRSet, parse_cidr
from .nodelifecycle import NodeLifecycleController
from .podgc import PodGCController
from .replicaset import ReplicaSetController
from .rootcacertpublisher import RootCACertPublisher
from .serviceaccounts import ServiceAccountsController
from .statefulset import StatefulSetController

log = logging.getLogger("controllers.main")

Factory = Callable[[ControllerClient, SharedInformerFactory, argparse.Namespace], Controller]

CONTROLLERS: dict[str, Factory] = {
    "replicaset": lambda c, f, a: ReplicaSetController(
        c, f, workers=a.concurrent_replicaset_syncs),
    "deployment": lambda c, f, a: DeploymentController(
        c, f, workers=a.concurrent_deployment_syncs),
    "garbagecollector": lambda c, f, a: GarbageCollector(c, f, workers=a.concurrent_gc_syncs),
    "namespace": lambda c, f, a: NamespaceController(
        c, f, workers=a.concurrent_namespace_syncs),
    "endpoints": lambda c, f, a: EndpointsController(
        c, f, workers=a.concurrent_endpoint_syncs),
    "endpointslice": lambda c, f, a: EndpointSliceController(
        c, f, workers=a.concurrent_service_endpoint_syncs,
        max_endpoints_per_slice=a.max_endpoints_per_slice),
    "endpointslicemirroring": lambda c, f, a: EndpointSliceMirroringController(
        c, f, workers=a.mirroring_concurrent_service_endpoint_syncs,
        max_endpoints_per_subset=a.mirroring_max_endpoints_per_subset),
    "statefulset": lambda c, f, a: StatefulSetController(
        c, f, workers=a.concurrent_statefulset_syncs),
    "auto-rollback": lambda c, f, a: AutoRollbackController(
        c, f, restart_threshold=a.auto_rollback_restart_threshold,
        image_pull_grace=a.auto_rollback_image_pull_grace),
    "nodelifecycle": lambda c, f, a: NodeLifecycleController(
        c, f, grace_period=a.node_monitor_grace_period, monitor_period=a.node_monitor_period,
        eviction_rate=a.node_eviction_rate, secondary_eviction_rate=a.secondary_node_eviction_rate,
        unhealthy_zone_threshold=a.unhealthy_zone_threshold,
        large_cluster_size=a.large_cluster_size_threshold),
    "podgc": lambda c, f, a: PodGCController(c, f, quarantine=a.orphan_pod_quarantine),
    "clusterrole-aggregation": lambda c, f, a: ClusterRoleAggregationController(c, f),
    "serviceaccount": lambda c, f, a: ServiceAccountsController(c, f),
    "root-ca-cert-publisher": lambda c, f, a: RootCACertPublisher(c, f, ca_pem=a.root_ca_pem),
    "nodeipam": lambda c, f, a: NodeIpamController(
        c, f, cluster_cidr=a.cluster_cidr, node_cidr_mask_size=a.node_cidr_mask_size,
        service_cidr=a.service_cluster_ip_range),
    "csrapproving": lambda c, f, a: CSRApprovingController(c, f),
    "bootstrapsigner": lambda c, f, a: BootstrapSigner(c, f),
    "tokencleaner": lambda c, f, a: TokenCleaner(c, f),
    "csrsigning": lambda c, f, a: CSRSigningController(
        c, f, ca=SigningCA.load(a.cluster_signing_cert_file, a.cluster_signing_key_file),
        duration=a.cluster_signing_duration),
}
# Off unless named, as in kube-controller-manager (kubeadm runs `--controllers
# *,bootstrapsigner,tokencleaner`, and so do Schooner's clusters that take joining hosts).
DISABLED_BY_DEFAULT = frozenset({"bootstrapsigner", "tokencleaner"})
CACHE_SYNC_TIMEOUT = 24 * 3600.0  # wait for the apiserver as long as it takes
SHUTDOWN_GRACE = 5.0
LEASE_NAME = "kube-controller-manager"
EVENT_COMPONENT = "kube-controller-manager"


def _endpoints_per_slice(value: str) -> int:
    """kube-controller-manager's bound on --max-endpoints-per-slice: 1 to 1000."""
    number = int(value)
    if not 1 <= number <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="schooner-controller-manager",
                                description="Runs Schooner's controllers against the API.")
    p.add_argument("--kubeconfig", default=None,
                   help="kubeconfig with the apiserver and credentials "
                        "(default: $KUBECONFIG or ~/.kube/config)")
    p.add_argument("--apiserver-urls", type=split_urls, default=[], help=APISERVER_URLS_HELP)
    p.add_argument("--controllers", default="*",
                   help="controllers to run: '*' for all, a name to enable one, "
                        f"'-name' to disable one; names: {', '.join(CONTROLLERS)} "
                        f"('*' leaves out {', '.join(sorted(DISABLED_BY_DEFAULT))})")
    p.add_argument("--concurrent-replicaset-syncs", type=int, default=2,
                   help="ReplicaSets synced at once")
    p.add_argument("--concurrent-deployment-syncs", type=int, default=2,
                   help="Deployments synced at once")
    p.add_argument("--concurrent-gc-syncs", type=int, default=20,
                   help="garbage collector workers")
    p.add_argument("--concurrent-namespace-syncs", type=int, default=10,
                   help="namespaces emptied at once")
    p.add_argument("--concurrent-endpoint-syncs", type=int, default=5,
                   help="Services whose Endpoints are synced at once")
    p.add_argument("--concurrent-service-endpoint-syncs", type=int, default=5,
                   help="Services whose EndpointSlices are synced at once")
    p.add_argument("--max-endpoints-per-slice", type=_endpoints_per_slice, default=100,
                   help="endpoints the endpointslice controller puts in one slice (1-1000)")
    p.add_argument("--mirroring-concurrent-service-endpoint-syncs", type=int, default=5,
                   help="Endpoints the endpointslicemirroring controller syncs at once")
    p.add_argument("--mirroring-max-endpoints-per-subset", type=_endpoints_per_slice,
                   default=1000, help="addresses of one Endpoints subset mirrored into "
                   "EndpointSlices, the rest skipped (1-1000)")
    p.add_argument("--concurrent-statefulset-syncs", type=int, default=2,
                   help="StatefulSets synced at once")
    p.add_argument("--allocate-node-cidrs", action="store_true",
                   help="give every Node a pod CIDR from --cluster-cidr (the nodeipam "
                        "controller runs only with it)")
    p.add_argument("--cluster-cidr", default="",
                   help="CIDR range of the pods, cut into one subnet per Node "
                        "(needs --allocate-node-cidrs)")
    p.add_argument("--node-cidr-mask-size", type=int, default=24,
                   help="prefix length of each Node's pod CIDR")
    p.add_argument("--service-cluster-ip-range", default="",
                   help="the Services' CIDR range, never handed to a Node when it overlaps "
                        "--cluster-cidr")
    p.add_argument("--node-monitor-grace-period", type=duration, default=15.0,
                   help="how long a node may go without renewing its Lease before it is "
                        "marked Unknown (Kubernetes: 40s)")
    p.add_argument("--node-monitor-period", type=duration, default=5.0,
                   help="how often every node's health is judged and the zones' disruption "
                        "state computed")
    p.add_argument("--node-eviction-rate", type=float, default=0.1,
                   help="nodes per second whose pods may be evicted (NoExecute-tainted) in a "
                        "zone that is healthy or fully disrupted")
    p.add_argument("--secondary-node-eviction-rate", type=float, default=0.01,
                   help="the same in a zone whose nodes are mostly unhealthy, when it has more "
                        "than --large-cluster-size-threshold nodes (a smaller one: 0)")
    p.add_argument("--unhealthy-zone-threshold", type=float, default=0.55,
                   help="fraction of not-Ready nodes (at least 3) that puts a zone in "
                        "PartialDisruption")
    p.add_argument("--large-cluster-size-threshold", type=int, default=50,
                   help="zones with more nodes than this keep evicting, at the secondary "
                        "rate, in PartialDisruption")
    p.add_argument("--orphan-pod-quarantine", type=duration, default=40.0,
                   help="how long a pod's node must be missing before the pod is "
                        "force-deleted (Kubernetes' PodGC quarantine: 40s)")
    p.add_argument("--auto-rollback-restart-threshold", type=int, default=3,
                   help="restarts of a new pod's container in CrashLoopBackOff that fail the "
                        "rollout of a Deployment annotated schooner.io/auto-rollback")
    p.add_argument("--auto-rollback-image-pull-grace", type=duration, default=30.0,
                   help="how long a new pod may wait on its image (ErrImagePull, "
                        "ImagePullBackOff, ...) before such a rollout counts as failed")
    p.add_argument("--cluster-signing-cert-file", default="",
                   help="PEM CA certificate the csrsigning controller issues kubelet "
                        "certificates with (csrsigning runs only with it and the key)")
    p.add_argument("--cluster-signing-key-file", default="",
                   help="PEM private key of --cluster-signing-cert-file")
    p.add_argument("--cluster-signing-duration", type=duration, default=365 * 24 * 3600.0,
                   help="the longest validity of a certificate csrsigning issues "
                        "(Kubernetes: 8760h)")
    p.add_argument("--min-resync-period", type=float, default=12 * 3600.0,
                   help="seconds between informer resyncs that revisit every object")
    p.add_argument("--root-ca-file", default=None,
                   help="the cluster CA's certificate (PEM, no key) published to every "
                        "namespace as ConfigMap kube-root-ca.crt; default: the kubeconfig's CA")
    p.add_argument("--bind-address", default="127.0.0.1",
                   help="address of the /healthz endpoint")
    p.add_argument("--secure-port", type=int, default=10257,
                   help="port of the /healthz endpoint (0: none), as kube-controller-manager's")
    add_leader_election_flags(p, LEASE_NAME)
    p.add_argument("-v", "--v", type=int, default=0, help="log verbosity (0-4)")
    return p.parse_args(argv)


def selected_controllers(spec: str) -> list[str]:
    """kube-controller-manager's --controllers: '*' all, 'name' on, '-name' off."""
    items = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [s.lstrip("-") for s in items if s != "*" and s.lstrip("-") not in CONTROLLERS]
    if unknown:
        raise ValueError(f"unknown controllers: {', '.join(unknown)} "
                         f"(known: {', '.join(CONTROLLERS)})")
    enabled = set(CONTROLLERS) - DISABLED_BY_DEFAULT if "*" in items else set()
    enabled |= {s for s in items if s != "*" and not s.startswith("-")}
    enabled -= {s[1:] for s in items if s.startswith("-")}
    return [name for name in CONTROLLERS if name in enabled]


def check_node_cidr_flags(args: argparse.Namespace) -> None:
    """ValueError when --allocate-node-cidrs cannot work with the CIDR flags given."""
    if not args.allocate_node_cidrs:
        return
    if not args.cluster_cidr:
        raise ValueError("--allocate-node-cidrs needs --cluster-cidr")
    try:
        CIDRSet(args.cluster_cidr, args.node_cidr_mask_size)
        if args.service_cluster_ip_range:
            parse_cidr(args.service_cluster_ip_range)
    except ValueError as exc:
        raise ValueError(f"node CIDRs: {exc}") from None


def root_ca_pem(args: argparse.Namespace) -> str:
    """The CA certificate to publish: --root-ca-file, else the kubeconfig's CA (as
    kube-controller-manager falls back to its client config's CAData); "" if neither.
    A file holding a private key is refused: only certificates are published."""
    if args.root_ca_file:
        text = Path(args.root_ca_file).read_text()
    else:
        try:
            ca = load_kubeconfig(args.kubeconfig).ca_data if args.kubeconfig else None
        except (OSError, ValueError):
            ca = None
        text = ca.decode() if ca else ""
    if "PRIVATE KEY" in text:
        raise ValueError("--root-ca-file holds a private key: give the CA's certificate only")
    return text


def enabled_controllers(names: list[str], args: argparse.Namespace) -> list[str]:
    """Drop the controllers their flags leave off, as kube-controller-manager's init
    functions do: nodeipam runs only with --allocate-node-cidrs, csrsigning only with
    its CA, root-ca-cert-publisher only with a CA to publish."""
    off = {"nodeipam": "--allocate-node-cidrs is off"} if not args.allocate_node_cidrs else {}
    if not (args.cluster_signing_cert_file and args.cluster_signing_key_file):
        off["csrsigning"] = "--cluster-signing-cert-file and --cluster-signing-key-file unset"
    if not getattr(args, "root_ca_pem", ""):
        off["root-ca-cert-publisher"] = "no --root-ca-file and no CA in the kubeconfig"
    for name in names:
        if name in off:
            log.info("component=controller-manager controller=%s not enabled (%s)",
                     name, off[name])
    return [n for n in names if n not in off]


async def _until(stop: asyncio.Event, work: asyncio.Future[None]) -> bool:
    """Wait for `work` or `stop`; True if the work finished first (its errors raised)."""
    stopper: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([work, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        await asyncio.wait([stopper])
    if work.done():
        work.result()
        return True
    work.cancel()
    await asyncio.wait([work])
    return False


async def run_controllers(client: ControllerClient, names: list[str], args: argparse.Namespace,
                          stop: asyncio.Event, elector: Elector | None = None) -> None:
    """Wait to lead, then build the chosen controllers on shared informers and run them
    until `stop` (or until leadership is lost: LeaderElectionLost)."""
    await lead_until(elector or AlwaysLeader(), stop,
                     lambda: _run_leading(client, names, args, stop))


async def _run_leading(client: ControllerClient, names: list[str], args: argparse.Namespace,
                       stop: asyncio.Event) -> None:
    factory = SharedInformerFactory(client, resync_period=args.min_resync_period or None)
    controllers = [CONTROLLERS[name](client, factory, args) for name in names]
    factory.start()
    workers: list[asyncio.Task[None]] = []
    try:
        sync = asyncio.ensure_future(factory.wait_for_cache_sync(CACHE_SYNC_TIMEOUT))
        if not await _until(stop, sync):
            return
        log.info("component=controller-manager caches synced controllers=%s",
                 ",".join(names))
        workers = [asyncio.create_task(c.run(), name=c.name) for c in controllers]
        stopper: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        try:  # workers end only when their queue shuts down, or on a bug
            await asyncio.wait([stopper, *workers], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            await asyncio.wait([stopper])
    finally:
        for controller in controllers:
            controller.shut_down()
        if workers:
            _, pending = await asyncio.wait(workers, timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.wait(workers)
            for task in workers:
                if not task.cancelled() and task.exception() is not None:
                    log.error("component=controller-manager controller=%s failed: %r",
                              task.get_name(), task.exception())
        await factory.shutdown()


async def _main(args: argparse.Namespace, names: list[str]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    health = None
    if args.secure_port:
        health = await serve_healthz(args.bind_address, args.secure_port, lambda: True)
    try:
        async with AsyncClient.from_kubeconfig(args.kubeconfig,
                                           extra_servers=args.apiserver_urls) as client:
            elector = elector_from_flags(args, client, EVENT_COMPONENT)
            await run_controllers(client, names, args, stop, elector)
    finally:
        if health is not None:
            health.close()
            await health.wait_closed()
    log.info("component=controller-manager stopped")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.v >= 4 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    # httpx logs every request at INFO: only worth it when debugging (-v 4).
    logging.getLogger("httpx").setLevel(logging.INFO if args.v >= 4 else logging.WARNING)
    try:
        names = selected_controllers(args.controllers)
    except ValueError as exc:
        sys.exit(f"error: --controllers: {exc}")
    try:
        check_node_cidr_flags(args)
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    try:
        args.root_ca_pem = root_ca_pem(args)
    except (OSError, ValueError) as exc:
        sys.exit(f"error: --root-ca-file: {exc}")
    names = enabled_controllers(names, args)
    if "csrsigning" in names:
        try:
            SigningCA.load(args.cluster_signing_cert_file, args.cluster_signing_key_file)
        except (OSError, ValueError) as exc:
            sys.exit(f"error: --cluster-signing-*: {exc}")
    try:
        if args.leader_elect:
            leader_election_config(args)
    except ValueError as exc:
        sys.exit(f"error: --leader-elect-*: {exc}")
    asyncio.run(_main(args, names))


if __name__ == "__main__":
    main()
