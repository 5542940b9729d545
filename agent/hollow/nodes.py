"""N hollow Nodes in one process: registration, spread Lease renewals, rare status posts.

Each node reuses the real agent's `NodeStatusManager` (register, status
patches, re-register when the Node vanishes) and `LeaseRenewer` (one PUT per
renewal). What differs is timing, because one process carries all of them:

* Registration runs with bounded concurrency, so 1,000 nodes are 1,000
  creates at a steady rate rather than one burst the apiserver must queue.
* Node i renews its Lease at `i/N` of the interval after the first round, so
  N renewals are spread evenly (N/interval writes a second) instead of
  arriving together every interval, which would stall every other request.
* Status is posted every `status_period` (5 min), as the kubelet does once
  Leases carry the heartbeat ("status only on change or every 5 min"); a
  hollow node's status never changes, so only the period remains. These are
  spread over the period in the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

from agent.hollow.addresses import node_names, node_pod_cidr
from agent.hollow.reported_status import HOLLOW_LABEL, RUNTIME_SCHEME, RUNTIME_VERSION, hollow_facts
from agent.nodestatus.lease import LEASE_NAMESPACE, LeaseRenewer
from agent.nodestatus.node_status import HostFacts, NodeStatusManager, register_with_retry
from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock
from apimachinery.meta import Object

log = logging.getLogger(__name__)
# A hollow node serves no logs or exec, and says so as Kubernetes' zero value does: the
# apiserver answers such requests 503 ("does not advertise its agent address and port").
KUBELET_PORT = 0


@dataclass(frozen=True)
class HollowNodeConfig:
    count: int
    prefix: str = "hollow-"
    node_ip: str = "127.0.0.1"
    cpus: int = 4
    memory_bytes: int = 16 * 1024**3
    ephemeral_bytes: int = 100 * 1024**3
    max_pods: int = 110
    pod_cidr_range: str = "10.64.0.0/10"
    node_cidr_mask_size: int = 24
    lease_renew_interval: float = 10.0
    status_period: float = 300.0
    concurrency: int = 16  # registrations, Lease renewals, status posts, deletes in flight


class HollowNodeStatus(NodeStatusManager):
    """The agent's node status, with the hollow runtime and a --hollow-max-pods capacity;
    its periodic patches pass the process's shared gate."""

    def __init__(self, *args: Any, max_pods: int, gate: asyncio.Semaphore, **kwargs: Any
                 ) -> None:
        super().__init__(*args, **kwargs)
        self.max_pods, self.gate = max_pods, gate

    async def update(self) -> None:
        async with self.gate:
            await super().update()

    def _status(self, old: Object | None) -> Object:
        status = super()._status(old)
        for key in ("capacity", "allocatable"):
            status[key]["pods"] = str(self.max_pods)
        status["nodeInfo"]["containerRuntimeVersion"] = f"{RUNTIME_SCHEME}://{RUNTIME_VERSION}"
        return status


class GatedLeaseRenewer(LeaseRenewer):
    """The agent's LeaseRenewer, a renewal at a time per slot of the shared gate.

    When the apiserver falls behind, N renewals would otherwise all wait in
    the client's pool at once: httpcore scans every waiting request on each
    pool event (quadratic), the event loop lags, and the pool times out. With
    the gate they wait here, cheaply, and each renewal is merely late.
    """

    def __init__(self, *args: Any, gate: asyncio.Semaphore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = gate

    async def renew(self) -> Object:
        async with self.gate:
            return await super().renew()


@dataclass
class HollowNode:
    name: str
    index: int
    pod_cidr: str  # what pod IPs come from: the Node's spec.podCIDR once registered
    status: HollowNodeStatus
    lease: GatedLeaseRenewer | None = None


def spread(index: int, count: int, period: float) -> float:
    """Node `index`'s offset into a period shared by `count` nodes (evenly apart)."""
    return period * index / count if count else 0.0


class HollowNodes:
    """Registers N Nodes and keeps them alive: the node half of a hollow agent."""

    def __init__(self, client: AsyncClient, clock: Clock, config: HollowNodeConfig) -> None:
        self.client, self.clock, self.config = client, clock, config
        self.gate = asyncio.Semaphore(max(config.concurrency, 1))  # Lease and status writes
        self.nodes = [self._node(i, name)
                      for i, name in enumerate(node_names(config.prefix, config.count))]
        self._tasks: list[asyncio.Task[Any]] = []

    def _node(self, index: int, name: str) -> HollowNode:
        cfg = self.config
        cidr = node_pod_cidr(index, cfg.pod_cidr_range, cfg.node_cidr_mask_size)
        facts: HostFacts = hollow_facts(cpus=cfg.cpus, memory_bytes=cfg.memory_bytes,
                                        ephemeral_bytes=cfg.ephemeral_bytes, name=name)
        status = HollowNodeStatus(
            self.client, self.clock, name=name, node_ip=cfg.node_ip, port=KUBELET_PORT,
            runtime_version=RUNTIME_VERSION, facts=facts, max_pods=cfg.max_pods,
            gate=self.gate, extra_labels={HOLLOW_LABEL: "true"},
            spec={"podCIDR": cidr, "podCIDRs": [cidr]})
        return HollowNode(name=name, index=index, pod_cidr=cidr, status=status)

    @property
    def pod_cidrs(self) -> dict[str, str]:
        return {n.name: n.pod_cidr for n in self.nodes}

    async def register(self) -> None:
        """Register every Node and create its Lease, `concurrency` at a time."""
        await _bounded(self.config.concurrency, [self._register(n) for n in self.nodes])

    async def _register(self, node: HollowNode) -> None:
        stored = await register_with_retry(node.status, self.clock)
        node.pod_cidr = (stored.get("spec") or {}).get("podCIDR") or node.pod_cidr
        uid = str((stored.get("metadata") or {}).get("uid") or "")
        node.lease = GatedLeaseRenewer(self.client, self.clock, node.name, uid, gate=self.gate)
        try:
            await node.lease.renew()
        except errors.APIError as exc:  # the renewal loop tries again
            log.warning("component=agent lease creation failed node=%s error=%s", node.name,
                        exc.message)

    def start(self) -> None:
        """The per-node loops: Lease renewals and status posts, each spread over its period."""
        cfg, count = self.config, len(self.nodes)
        for node in self.nodes:
            assert node.lease is not None, "register() first"
            self._spawn(self._after(spread(node.index, count, cfg.lease_renew_interval),
                                    partial(node.lease.run, cfg.lease_renew_interval)),
                        f"lease-{node.name}")
            self._spawn(self._after(spread(node.index, count, cfg.status_period),
                                    partial(node.status.run, cfg.status_period)),
                        f"status-{node.name}")

    async def _after(self, delay: float, loop: Callable[[], Awaitable[None]]) -> None:
        await self.clock.sleep(delay)
        await loop()

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        self._tasks.clear()

    async def cleanup(self) -> None:
        """Delete every Lease and Node this process registered (`--hollow-cleanup`)."""
        await _bounded(self.config.concurrency, [self._delete(n.name) for n in self.nodes])
        log.info("component=agent hollow nodes deleted nodes=%d prefix=%s", len(self.nodes),
                 self.config.prefix)

    async def _delete(self, name: str) -> None:
        for resource, namespace in (("leases", LEASE_NAMESPACE), ("nodes", None)):
            try:
                await self.client.delete(resource, name, namespace)
            except errors.NotFound:
                pass
            except errors.APIError as exc:
                log.warning("component=agent cleanup failed %s=%s error=%s", resource, name,
                            exc.message)


async def _bounded(limit: int, coros: list[Coroutine[Any, Any, None]]) -> None:
    """Run `coros` with at most `limit` in flight."""
    gate = asyncio.Semaphore(max(limit, 1))

    async def gated(coro: Coroutine[Any, Any, None]) -> None:
        async with gate:
            await coro

    await asyncio.gather(*(gated(c) for c in coros))
