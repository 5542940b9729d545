"""The agent: the kubelet's syncLoop over its sources, wired together.

Start-up: check the runtime, bind the server's port, register the Node, create
the pod network with the Node's podCIDR (or `--pod-cidr`; with `--cluster-cidr`
it waits for the podCIDR instead, turns Docker's NAT off for the bridge and
keeps host-gw routes to the other Nodes, `network/podnetwork.py`), then start the pod
informer (fieldSelector `spec.nodeName=<node>`). Once its first list is in,
the sources run side by side and all feed one thing, `PodWorkers.update(uid)`:

* informer events (a pod added, changed, deleted);
* the PLEG: Docker's event stream and a relist every second;
* a periodic resync of every pod (`--sync-frequency`), which also revisits
  containers of pods that are gone (housekeeping);
* probe results: a liveness, readiness or startup result that changes
  (`probes/prober.py`, one task per container probe) re-syncs its pod at once.
Beside them: node status updates, the Lease, the event sender, the HTTPS
server (each caller authenticated and authorized by the apiserver: `server/`),
the image GC, the eviction manager and (with `--cluster-cidr`) the routes. On stop everything is
cancelled and the containers are left running; the next start adopts them by
their labels.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.eviction.manager import EvictionConfig, EvictionManager
from agent.imagegc.manager import ImageGC, ImageGCConfig
from agent.network.hostnetwork import HostNetwork, SubprocessRunner
from agent.network.podnetwork import HostGatewayRoutes, wait_for_pod_cidr
from agent.network.resolv_conf import ClusterDNS
from agent.nodestatus.lease import RENEW_INTERVAL_SECONDS, LeaseRenewer
from agent.nodestatus.node_status import NodeStatusManager, host_facts, register_with_retry
from agent.podsync.backoff import Backoff
from agent.podsync.images import ImageManager
from agent.podsync.pleg import PLEG
from agent.podsync.pod_sync import PodSyncer
from agent.podsync.pod_workers import PodWorkers, SyncResult
from agent.probes.prober import ProbeManager
from agent.probes.runner import ProbeRunner
from agent.runtime.container import ContainerRecord, ContainerRuntimeError, PodObservation
from agent.runtime.protocol import ContainerRuntime, EventWatch
from agent.server.auth import Authenticator
from agent.server.authz import SubjectAccessReviewer
from agent.server.server import AgentServer, ServingTLS, create_app
from agent.server.servingcert import ensure_self_signed
from agent.server.unavailable import Unavailable, waiting_to_start
from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock, RealClock
from apimachinery.events import EventRecorder
from apimachinery.informer import Informer
from apimachinery.meta import Object

log = logging.getLogger(__name__)
UID_INDEX = "uid"
SYNC_RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class AgentConfig:
    node_name: str
    root_dir: Path  # pod volumes live under <root_dir>/pods/<uid>/volumes/
    node_ip: str = "127.0.0.1"
    address: str = ""  # where the server listens; empty: the node IP
    port: int = 10250
    pod_cidr: str = "172.28.1.0/24"
    network_name: str = "schooner-pods"
    node_status_update_frequency: float = 10.0
    sync_frequency: float = 10.0
    relist_period: float = 1.0
    lease_renew_interval: float = RENEW_INTERVAL_SECONDS
    backoff_base: float = 10.0
    backoff_max: float = 300.0
    sandbox_image: str = "schooner/busybox:latest"
    cluster_cidr: str = ""  # set: wait for spec.podCIDR, no NAT, host-gw routes
    pod_cidr_timeout: float = 300.0
    route_resync_period: float = 30.0
    cluster_dns: tuple[str, ...] = ()  # set: pods get a resolv.conf naming these
    cluster_domain: str = "cluster.local"
    host_network_netns: str = ""  # tests: routes and rules go to this network namespace
    pod_max_pids: int = 1024  # per container (the kubelet's podPidsLimit is per pod); -1: none
    image_gc: ImageGCConfig = field(default_factory=ImageGCConfig)
    eviction: EvictionConfig = field(default_factory=EvictionConfig)
    # The server's TLS (the kubelet's flags): none given, a self-signed certificate
    # under <root_dir>/pki (server/servingcert.py).
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    client_ca_file: str = ""

    def serving_tls(self) -> ServingTLS:
        cert, key = self.tls_cert_file, self.tls_private_key_file
        if not cert:
            made = ensure_self_signed(self.root_dir / "pki", self.node_name, self.node_ip)
            cert, key = str(made[0]), str(made[1])
        return ServingTLS(cert, key, self.client_ca_file or None)


def _uid_index(pod: Object) -> list[str]:
    uid = (pod.get("metadata") or {}).get("uid")
    return [uid] if uid else []


class Agent:
    def __init__(self, config: AgentConfig, client: AsyncClient, runtime: ContainerRuntime,
                 clock: Clock | None = None, host_network: HostNetwork | None = None) -> None:
        self.config, self.client, self.runtime = config, client, runtime
        self.host_network = host_network or HostNetwork(SubprocessRunner(
            ("ip", "netns", "exec", config.host_network_netns)
            if config.host_network_netns else ()))
        self.clock: Clock = clock or RealClock()
        self.informer = Informer(client, "pods", field_selector=f"spec.nodeName={config.node_name}",
                                 clock=self.clock)
        self.informer.add_indexer(UID_INDEX, _uid_index)
        self.recorder = EventRecorder(client, "kubelet", self.clock, host=config.node_name)
        self.backoff = Backoff(self.clock, config.backoff_base, config.backoff_max)
        images = ImageManager(runtime, self.recorder, Backoff(
            self.clock, config.backoff_base, config.backoff_max), self.clock)
        self.prober = ProbeManager(ProbeRunner(runtime), self.recorder, self.clock,
                                   on_change=self._on_probe_result)
        self.syncer = PodSyncer(
            client=client, runtime=runtime, recorder=self.recorder, images=images,
            backoff=self.backoff, clock=self.clock, pod_by_uid=self.pod_by_uid,
            node_ip=config.node_ip, root_dir=config.root_dir,
            sandbox_image=config.sandbox_image,
            cluster_dns=ClusterDNS(config.cluster_dns, config.cluster_domain),
            pids_limit=config.pod_max_pids if config.pod_max_pids > 0 else None,
            prober=self.prober, admit=self._admit)
        self.workers = PodWorkers(self._sync, self.clock)
        self.image_gc = ImageGC(runtime, self.clock, self.recorder, config.node_name,
                                config.image_gc, declared=self.declared_images,
                                pinned=[config.sandbox_image])
        self.eviction = EvictionManager(runtime, self.clock, self.recorder, config.node_name,
                                        config.eviction, pods=self.informer.store.list,
                                        evict=self._evict, reclaim_disk=self.image_gc.delete_unused)
        self.pleg = PLEG(runtime, self.clock, self.workers.update)
        self.informer.add_event_handler(self._on_pod, lambda old, new: self._on_pod(new),
                                        self._on_pod)
        self._tasks: list[asyncio.Task[Any]] = []
        self._server: AgentServer | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._watcher: EventWatch | None = None

    # -- sources ------------------------------------------------------------------------

    def pod_by_uid(self, uid: str) -> Object | None:
        found = self.informer.store.by_index(UID_INDEX, uid)
        return found[0] if found else None

    def _on_pod(self, pod: Object) -> None:
        self.syncer.remember(pod)
        self.workers.update(str((pod.get("metadata") or {}).get("uid") or ""))

    def _on_probe_result(self, uid: str) -> None:
        self.workers.update(uid)

    async def _sync(self, uid: str) -> SyncResult:
        """One pod's sync; an unreachable apiserver or engine is retried, not a crash."""
        try:
            return await self.syncer.sync(uid)
        except (errors.APIError, ContainerRuntimeError) as exc:
            log.warning("component=agent pod sync failed uid=%s error=%s; retrying in %.0fs", uid,
                        exc, SYNC_RETRY_SECONDS)
            return SyncResult(requeue_after=SYNC_RETRY_SECONDS)

    async def _resync_loop(self) -> None:
        """Every pod, and every pod with leftover containers, now and then (housekeeping)."""
        while True:
            await self.clock.sleep(self.config.sync_frequency)
            uids = {u for p in self.informer.store.list() for u in _uid_index(p)}
            for uid in uids | self.pleg.pod_uids():
                self.workers.update(uid)

    def _admit(self, pod: Object) -> str | None:
        return self.eviction.admit(pod)

    def _evict(self, uid: str, message: str) -> None:
        self.syncer.evict(uid, message)
        self.workers.update(uid)

    def declared_images(self) -> list[str]:
        """The images this node's pods name (the image GC keeps them)."""
        return [str(c["image"]) for pod in self.informer.store.list()
                for key in ("initContainers", "containers")
                for c in (pod.get("spec") or {}).get(key) or [] if c.get("image")]

    async def find_container(self, namespace: str, name: str, container: str,
                             previous: bool) -> ContainerRecord | Unavailable:
        """The container instance the server's logs/exec should use, or why there is none
        (a 400 with the kubelet's words, as the apiserver relays them; 404 for no pod)."""
        pod = self.informer.store.get(f"{namespace}/{name}")
        if pod is None:
            return Unavailable(f'pods "{name}" not found on node {self.config.node_name}', 404)
        names = [c.get("name") for key in ("initContainers", "containers")
                 for c in (pod.get("spec") or {}).get(key) or []]
        if container not in names:
            return Unavailable(f'container "{container}" is not valid for pod "{name}"')
        uid = str(pod["metadata"].get("uid"))
        observed = PodObservation.of(await self.runtime.pod_containers(uid))
        started = [r for r in observed.containers.get(container, ()) if not r.pending]
        if previous:
            return started[1] if len(started) > 1 else Unavailable(
                f'previous terminated container "{container}" in pod "{name}" not found')
        return started[0] if started else waiting_to_start(pod, container)

    async def pod_address(self, namespace: str, name: str) -> tuple[str, str] | Unavailable:
        """A running pod's IP and uid, for port-forward; else why not (the kubelet's 404
        for an unknown pod, 400 for one that is not running). From the pod's status as
        this agent reported it (the cache): no engine call per forwarded connection."""
        pod = self.informer.store.get(f"{namespace}/{name}")
        if pod is None:
            return Unavailable(f'pods "{name}" not found on node {self.config.node_name}', 404)
        status = pod.get("status") or {}
        if status.get("phase") != "Running" or not status.get("podIP"):
            return Unavailable(f'pod "{name}" is not running')
        return str(status["podIP"]), str(pod["metadata"].get("uid"))

    # -- lifecycle ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def start(self) -> None:
        """Everything up to a synced pod cache; then the loops run in the background."""
        cfg = self.config
        version = str((await self.runtime.version()).get("Version", "unknown"))
        facts = await asyncio.to_thread(host_facts, cfg.root_dir)
        authn = Authenticator(self.client, self.clock, certificates=bool(cfg.client_ca_file))
        authz = SubjectAccessReviewer(self.client, self.clock)
        app = create_app(self.find_container, self.runtime, authn, authz, cfg.node_name,
                         pod_address=self.pod_address)
        server = AgentServer(app, cfg.address or cfg.node_ip, cfg.port, cfg.serving_tls())
        node_status = NodeStatusManager(self.client, self.clock, name=cfg.node_name,
                                        node_ip=cfg.node_ip, port=server.port,
                                        runtime_version=version, facts=facts,
                                        claims=self.runtime.claim_volumes,
                                        pressure=lambda: self.eviction.pressure)
        self.eviction.on_pressure_change = node_status.update
        node = await register_with_retry(node_status, self.clock)
        cluster_cidr = ipaddress.ip_network(cfg.cluster_cidr) if cfg.cluster_cidr else None
        if cluster_cidr is not None:
            subnet = await wait_for_pod_cidr(self.client, self.clock, node,
                                             timeout=cfg.pod_cidr_timeout,
                                             cluster_cidr=cluster_cidr)
        else:
            subnet = (node.get("spec") or {}).get("podCIDR") or cfg.pod_cidr
        await self.runtime.ensure_network(subnet, masquerade=cluster_cidr is None)
        lease = LeaseRenewer(self.client, self.clock, cfg.node_name,
                             str((node.get("metadata") or {}).get("uid") or ""))
        self._server = server
        self._server_task = asyncio.create_task(server.serve(), name="server")
        self._spawn(self.recorder.run(), "events")
        self._spawn(node_status.run(cfg.node_status_update_frequency), "node-status")
        self._spawn(lease.run(cfg.lease_renew_interval), "lease")
        if cluster_cidr is not None:
            routes = HostGatewayRoutes(
                self.client, self.clock, self.host_network, node_name=cfg.node_name,
                cluster_cidr=cluster_cidr,
                own_cidr=ipaddress.ip_network(subnet, strict=False),
                resync_period=cfg.route_resync_period)
            self._spawn(routes.run(), "routes")
        self.informer.start()
        while not self.informer.has_synced:
            with contextlib.suppress(TimeoutError):
                await self.informer.wait_for_sync(30)
        self._watcher = self.runtime.watch_events(self.pleg.on_runtime_event)
        self._spawn(self.pleg.run(cfg.relist_period), "pleg")
        self._spawn(self._resync_loop(), "resync")
        self._spawn(self.image_gc.run(), "image-gc")
        self._spawn(self.eviction.run(), "eviction")
        log.info("component=agent agent ready node=%s ip=%s port=%d network=%s subnet=%s "
                 "runtime=docker://%s pods=%d", cfg.node_name, cfg.node_ip, server.port,
                 cfg.network_name, subnet, version, len(self.informer.store))

    async def stop(self) -> None:
        """Stop every loop; containers keep running and are adopted on the next start."""
        if self._server is not None and self._server_task is not None:
            self._server.stop()
            await asyncio.wait([self._server_task], timeout=3)  # a graceful shutdown
            self._tasks.append(self._server_task)
        if self._watcher is not None:
            self._watcher.stop()
        await self.workers.stop()
        await self.prober.stop()
        await self.informer.stop()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        self._tasks.clear()
