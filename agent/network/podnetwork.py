"""The pod network across nodes: this node's pod CIDR, and routes to everyone else's.

Only with `--cluster-cidr` (the multi-host lab); without it the agent keeps
`--pod-cidr` and touches no route and no firewall rule.

* `wait_for_pod_cidr`: the controller-manager's node IPAM writes the Node's
  `spec.podCIDR` moments after the agent registers it; the agent waits for it
  (polling, with a log line every few seconds) up to `--pod-cidr-timeout`, and
  then gives up with an error rather than guess a subnet another node may get.
* `HostGatewayRoutes`: one loop, woken by a Node informer's events and every
  `resync_period`, that makes the kernel's routes match `desired_routes` of
  the cached Nodes and keeps the DOCKER-USER rules in place (both idempotent,
  `network/hostnetwork.py`). A failed command is logged and tried again shortly. The
  first pass waits for the informer's first list, so a slow apiserver never
  looks like "every other node is gone".
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from typing import Any

from agent.network.hostnetwork import (
    HostNetwork,
    HostNetworkError,
    Network,
    desired_routes,
    plan_routes,
)
from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock
from apimachinery.informer import Informer
from apimachinery.meta import Object

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
LOG_EVERY_SECONDS = 10.0
RETRY_SECONDS = 5.0


class PodCIDRTimeout(Exception):
    """The Node got no spec.podCIDR in time."""


def node_pod_cidr(node: Object) -> str:
    return str((node.get("spec") or {}).get("podCIDR") or "")


def route_facts(node: Object) -> tuple[Any, ...]:
    """What a Node's route depends on: its pod CIDRs and its addresses."""
    spec = node.get("spec") or {}
    return (spec.get("podCIDR"), spec.get("podCIDRs"),
            (node.get("status") or {}).get("addresses"))


async def wait_for_pod_cidr(client: AsyncClient, clock: Clock, node: Object, *,
                            timeout: float, cluster_cidr: Network | None = None) -> str:
    """The Node's spec.podCIDR, polled for until `timeout` seconds have passed.

    A podCIDR outside `cluster_cidr` is used all the same (the Node says so), with a
    warning: no other node will route to it.
    """
    name = str((node.get("metadata") or {}).get("name"))
    started = clock.monotonic()
    next_log = started
    while not node_pod_cidr(node):
        waited = clock.monotonic() - started
        if waited >= timeout:
            raise PodCIDRTimeout(
                f"node {name} has no spec.podCIDR after {waited:.0f}s; is the "
                "controller-manager running with --allocate-node-cidrs?")
        if clock.monotonic() >= next_log:
            log.info("component=agent waiting for the node's spec.podCIDR node=%s waited=%.0fs "
                     "timeout=%.0fs", name, waited, timeout)
            next_log += LOG_EVERY_SECONDS
        await clock.sleep(POLL_SECONDS)
        try:
            node = await client.get("nodes", name)
        except errors.APIError as exc:
            log.warning("component=agent reading the node failed node=%s error=%s", name,
                        exc.message)
    cidr = node_pod_cidr(node)
    if cluster_cidr is not None and not _inside(cidr, cluster_cidr):
        log.warning("component=agent the node's podCIDR is outside --cluster-cidr; other nodes "
                    "will not route to it node=%s pod_cidr=%s cluster_cidr=%s", name, cidr,
                    cluster_cidr)
    return cidr


def _inside(cidr: str, cluster_cidr: Network) -> bool:
    try:
        net = ipaddress.ip_network(cidr)
    except ValueError:
        return False
    return net.version == cluster_cidr.version and net.subnet_of(
        cluster_cidr)  # type: ignore[arg-type]  # the same IP version


class HostGatewayRoutes:
    """Keeps a route to every other Node's pod CIDR, and the forwarding rules."""

    def __init__(self, client: AsyncClient, clock: Clock, host: HostNetwork, *,
                 node_name: str, cluster_cidr: Network, own_cidr: Network | None,
                 resync_period: float = 30.0) -> None:
        self.clock, self.host = clock, host
        self.node_name, self.cluster_cidr, self.own_cidr = node_name, cluster_cidr, own_cidr
        self.resync_period = resync_period
        self.informer = Informer(client, "nodes", clock=clock)
        self._dirty = asyncio.Event()
        self.informer.add_event_handler(self._changed, self._updated, self._changed)

    def _changed(self, _node: Object) -> None:
        self._dirty.set()

    def _updated(self, old: Object, new: Object) -> None:
        """Status heartbeats (every node, every few seconds) change no route: skip them."""
        if route_facts(old) != route_facts(new):
            self._dirty.set()

    async def sync(self) -> None:
        """One pass: the DOCKER-USER rules, then routes added, replaced and removed."""
        for rule in await self.host.ensure_forward_accept(self.cluster_cidr):
            log.info("component=agent forwarding rule added chain=DOCKER-USER rule=%r", rule)
        desired = desired_routes(self.informer.store.list(), node_name=self.node_name,
                                 cluster_cidr=self.cluster_cidr, own_cidr=self.own_cidr)
        plan = plan_routes(desired, await self.host.routes(self.cluster_cidr),
                           self.cluster_cidr)
        for route in plan.replace:
            await self.host.replace_route(route)
            log.info("component=agent route set node=%s route=%s", self.node_name, route)
        for route in plan.delete:
            await self.host.delete_route(route)
            log.info("component=agent route removed node=%s route=%s", self.node_name, route)

    async def _ticker(self) -> None:
        while True:
            await self.clock.sleep(self.resync_period)
            self._dirty.set()

    async def run(self) -> None:
        """Sync whenever Nodes change (and every resync period) until cancelled."""
        self.informer.start()
        ticker = asyncio.create_task(self._ticker(), name="routes-resync")
        try:
            while not self.informer.has_synced:
                with contextlib.suppress(TimeoutError):
                    await self.informer.wait_for_sync(30)
            while True:
                await self._dirty.wait()
                self._dirty.clear()
                try:
                    await self.sync()
                except HostNetworkError as exc:
                    log.warning("component=agent pod network sync failed node=%s error=%s; "
                                "retrying in %.0fs", self.node_name, exc, RETRY_SECONDS)
                    await self.clock.sleep(RETRY_SECONDS)
                    self._dirty.set()
        finally:
            ticker.cancel()
            await asyncio.wait([ticker])
            await self.informer.stop()
