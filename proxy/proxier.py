"""The proxy's sync loop: make addresses, listeners and balancers match the API.

kube-proxy's shape: informers on Services and EndpointSlices (discovery.k8s.io/v1,
indexed by their Service, `slices.service_index`; hand-made v1 Endpoints reach the
proxy as the slices the endpointslicemirroring controller makes of them) only mark
the state dirty; one sync (its `syncProxyRules`, run by a coalescing runner) reads
both caches, computes the desired state (`plan.desired_state`, pure) and applies the difference,
in an order that never leaves a listener without its address:

1. balancers get their new backends (new connections use them at once; open
   connections are left alone);
2. listeners no longer wanted are closed;
3. addresses no longer wanted are removed from `lo`;
4. wanted addresses are added, then wanted listeners started.

A failed step (an `ip` error, a port in use) is logged and the whole sync retried
after a second: every step is idempotent, so the retry just converges.

An address `hold_address` put on `lo` (the cluster DNS server's) stays there across
syncs, whether or not a Service has it, until shutdown removes everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Sequence

from apimachinery import meta
from apimachinery.clock import Clock, RealClock
from apimachinery.informer import Informer, ListerWatcher

from .addresses import LoopbackAddresses
from .balancer import RoundRobin
from .forwarder import DIAL_TIMEOUT, PortForwarder
from .plan import desired_state
from .slices import SERVICE_INDEX, service_index

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
SYNC_TIMEOUT = 60.0


class Proxier:
    """Owns every address, listener and balancer of this proxy."""

    def __init__(self, client: ListerWatcher, service_range: ipaddress.IPv4Network, *,
                 addresses: LoopbackAddresses | None, clock: Clock | None = None,
                 dial_timeout: float = DIAL_TIMEOUT,
                 node_addresses: Sequence[str] = ()) -> None:
        self._clock: Clock = clock if clock is not None else RealClock()
        self.service_range = service_range
        self.addresses = addresses  # None: the addresses are managed elsewhere
        self.dial_timeout = dial_timeout
        self.node_addresses = tuple(node_addresses)  # where NodePorts listen
        self.services = Informer(client, "services", clock=self._clock)
        self.slices = Informer(client, "endpointslices", clock=self._clock)
        self.slices.add_indexer(SERVICE_INDEX, service_index)
        for informer in (self.services, self.slices):
            informer.add_event_handler(self._mark, self._mark_update, self._mark)
        self._dirty = asyncio.Event()
        self._bound_ips: set[str] = set()
        self._held_ips: set[str] = set()  # kept on lo across syncs (hold_address)
        self._listeners: dict[tuple[str, int], PortForwarder] = {}
        self._balancers: dict[str, RoundRobin] = {}
        self._connections: set[asyncio.Task[None]] = set()
        self.last_sync_ok = False

    # -- events only mark the state dirty; the cache is the truth --

    def _mark(self, _obj: object) -> None:
        self._dirty.set()

    def _mark_update(self, old: object, new: object) -> None:
        if old is not new:  # a resync re-delivers the same object: nothing changed
            self._dirty.set()

    @property
    def healthy(self) -> bool:
        """Both caches synced and the last sync applied everything."""
        return self.services.has_synced and self.slices.has_synced and self.last_sync_ok

    # -- the loop --

    async def run(self) -> None:
        """Start the informers and sync whenever something changed; runs until cancelled."""
        self.services.start()
        self.slices.start()
        try:
            await self.services.wait_for_sync(SYNC_TIMEOUT)
            await self.slices.wait_for_sync(SYNC_TIMEOUT)
            self._dirty.set()
            while True:
                await self._dirty.wait()
                self._dirty.clear()
                try:
                    await self.sync()
                    self.last_sync_ok = True
                except Exception:
                    log.exception("component=proxy msg=\"sync failed, retrying\" in=%.1fs",
                                  RETRY_SECONDS)
                    self.last_sync_ok = False
                    await self._clock.sleep(RETRY_SECONDS)
                    self._dirty.set()
        finally:
            await self.services.stop()
            await self.slices.stop()

    async def sync(self) -> None:
        """Apply the difference between the caches' desired state and what is running."""
        services = self.services.store.list()
        slices = {key: self.slices.store.by_index(SERVICE_INDEX, key)
                  for key in map(meta.key_of, services)}
        state = desired_state(services, slices, self.service_range,
                              self.node_addresses)
        wanted = {sp.key: backends for sp, backends in state.listeners.values()}

        for key, sp in state.service_ports.items():
            balancer = self._balancers.setdefault(key, RoundRobin(clock=self._clock))
            balancer.update(wanted.get(key, []), sp.affinity_timeout)
        for key in set(self._balancers) - set(state.service_ports):
            del self._balancers[key]

        for addr, forwarder in list(self._listeners.items()):
            wanted_here = state.listeners.get(addr)
            if wanted_here is None or wanted_here[0] != forwarder.service_port:
                forwarder.close()
                del self._listeners[addr]

        wanted_ips = state.cluster_ips | self._held_ips
        for ip in sorted(self._bound_ips - wanted_ips):
            if self.addresses is not None:
                await self.addresses.remove(ip)
            self._bound_ips.discard(ip)
        for ip in sorted(wanted_ips - self._bound_ips):
            if self.addresses is not None:
                await self.addresses.add(ip)
            self._bound_ips.add(ip)

        failed: list[str] = []
        for addr, (sp, _) in sorted(state.listeners.items()):
            if addr in self._listeners:
                continue
            forwarder = PortForwarder(sp, self._balancers[sp.key], self._connections,
                                      self.dial_timeout)
            try:
                await forwarder.start()
            except OSError as exc:
                failed.append(f"{sp.key} on {addr[0]}:{addr[1]}: {exc}")
                continue
            self._listeners[addr] = forwarder
        log.debug("component=proxy services=%d listeners=%d addresses=%d msg=\"synced\"",
                  len(state.service_ports), len(self._listeners), len(self._bound_ips))
        if failed:
            raise OSError("could not listen: " + "; ".join(failed))

    async def hold_address(self, ip: str) -> None:
        """Put `ip` on the device now and keep it there until shutdown, Service or not.

        For the cluster DNS server, which must bind its address before the first
        sync, and keep it when a sync finds no Service holding it. Idempotent.
        """
        self._held_ips.add(ip)
        if self.addresses is not None:
            await self.addresses.add(ip)
        self._bound_ips.add(ip)

    async def shutdown(self) -> None:
        """Close every listener and open connection, then remove every address added."""
        for forwarder in self._listeners.values():
            forwarder.close()
        self._listeners.clear()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        if connections:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*connections, return_exceptions=True), 5)
        if self.addresses is not None:
            await self.addresses.remove_all()
        self._bound_ips.clear()
