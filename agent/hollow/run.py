"""`schooner-agent --hollow N`: one process standing for N nodes, with no Docker (kubemark).

Start-up registers the N Nodes and their Leases (`nodes`), then starts
the one pod informer and its writers (`pods`); once the informer has
synced it logs `hollow nodes ready nodes=N prefix=P`, the line benchmarks
wait for. Then it runs until stopped: the Leases renew spread over their
interval, statuses are posted every few minutes, bound pods turn Running
after `--hollow-start-delay`, deleted pods go for good. Every 10 s in which
something happened, one progress line counts pods started and deleted.
On stop (SIGTERM/SIGINT) the loops end; with `cleanup` the Nodes and Leases
are deleted first, so a benchmark leaves no cluster-scoped litter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from agent.hollow.nodes import HollowNodeConfig, HollowNodes
from agent.hollow.pods import HollowPods, HollowPodStats
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock, RealClock

log = logging.getLogger(__name__)
PROGRESS_PERIOD = 10.0


@dataclass(frozen=True)
class HollowConfig:
    nodes: HollowNodeConfig
    start_delay: float = 1.0
    workers: int = 16
    cleanup: bool = False


class HollowAgent:
    """The nodes and the pods of one hollow process, started and stopped together."""

    def __init__(self, config: HollowConfig, client: AsyncClient,
                 clock: Clock | None = None, writers: Sequence[AsyncClient] = ()) -> None:
        self.config, self.client, self.writers = config, client, tuple(writers)
        self.clock: Clock = clock or RealClock()
        self.nodes = HollowNodes(client, self.clock, config.nodes)
        self.pods: HollowPods | None = None
        self._progress: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register every node, sync the pod cache; then everything runs in the background."""
        cfg, started = self.config, self.clock.monotonic()
        await self.nodes.register()
        self.nodes.start()
        self.pods = HollowPods(self.client, self.clock, pod_cidrs=self.nodes.pod_cidrs,
                               host_ip=cfg.nodes.node_ip, start_delay=cfg.start_delay,
                               workers=cfg.workers, writers=self.writers)
        self.pods.start()
        while not self.pods.informer.has_synced:
            with contextlib.suppress(TimeoutError):
                await self.pods.informer.wait_for_sync(30)
        self._progress = asyncio.create_task(self._report_progress(self.pods.stats),
                                             name="hollow-progress")
        log.info("component=agent hollow nodes ready nodes=%d prefix=%s pods=%d workers=%d "
                 "start_delay=%.1fs elapsed=%.1fs", cfg.nodes.count, cfg.nodes.prefix,
                 sum(len(self.pods.pods_on(n.name)) for n in self.nodes.nodes), cfg.workers,
                 cfg.start_delay, self.clock.monotonic() - started)

    async def _report_progress(self, stats: HollowPodStats) -> None:
        last = None
        while True:
            await self.clock.sleep(PROGRESS_PERIOD)
            now = (stats.started, stats.deleted, stats.errors)
            if now != last:
                running = self._running()
                log.info("component=agent hollow pods running=%d started=%d deleted=%d writes=%d "
                         "errors=%d", running, stats.started, stats.deleted, stats.writes,
                         stats.errors)
                last = now

    def _running(self) -> int:
        """Pods on this process's nodes whose stored phase is Running."""
        if self.pods is None:
            return 0
        return sum(1 for n in self.nodes.nodes for p in self.pods.pods_on(n.name)
                   if (p.get("status") or {}).get("phase") == "Running")

    async def stop(self) -> None:
        """End every loop; with cleanup, delete the Nodes and Leases first."""
        if self._progress is not None:
            self._progress.cancel()
            await asyncio.wait([self._progress])
        if self.pods is not None:
            await self.pods.stop()
        await self.nodes.stop()
        if self.config.cleanup:
            await self.nodes.cleanup()


async def run_hollow(config: HollowConfig, client: AsyncClient, stop: asyncio.Event,
                     writers: Sequence[AsyncClient] = ()) -> int:
    """Run until `stop` is set (the signal handlers set it); 0 on a clean stop.

    `client` carries the informer, the Leases and Node statuses; `writers` (when
    given) the pod status writes and deletes, a few workers per client.
    """
    agent = HollowAgent(config, client, writers=writers)
    try:
        starting = asyncio.create_task(agent.start())
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            starting.result()
            await stopping
        else:
            starting.cancel()
            await asyncio.wait([starting])
        log.info("component=agent hollow agent stopping nodes=%d cleanup=%s", config.nodes.count,
                 config.cleanup)
    finally:
        await agent.stop()
    return 0
