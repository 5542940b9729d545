"""Lease-based leader election, as client-go's tools/leaderelection.

Several replicas of the scheduler or the controller-manager may run; only the
one holding the coordination.k8s.io/v1 Lease (`kube-system/kube-scheduler`,
`kube-system/kube-controller-manager`) acts. The algorithm is client-go's:

- `try_acquire_or_renew` reads the Lease (or creates it), and takes it only if
  it is free (no holder) or its holder has not renewed within
  `leaseDurationSeconds` as measured on *this* process's monotonic clock from
  the moment it last saw the record change (so clock skew between hosts does
  not matter). The write is an update carrying the read resourceVersion: a 409
  means another candidate won the round.
- A candidate retries every `retry_period` (jittered, as `wait.JitterUntil`);
  the leader renews every `retry_period` and gives up leadership once it has
  failed to renew for `renew_deadline`. That is before the lease expires for
  the others (lease_duration > renew_deadline), so two leaders never act at once.
- On a clean shutdown the leader releases the Lease (holder empty, duration
  1 s; client-go's ReleaseOnCancel), so a standby takes over at once.

Kubernetes' components exit when they lose leadership (klog.FlushAndExit in
OnStoppedLeading) rather than wind down, and a supervisor restarts them;
`exit_process` is that hook for Schooner's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn, Protocol

from apimachinery import errors
from apimachinery.client import request_timeout
from apimachinery.clock import Clock, RealClock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object

log = logging.getLogger(__name__)

# kube-scheduler's and kube-controller-manager's --leader-elect-* defaults.
DEFAULT_LEASE_DURATION = 15.0
DEFAULT_RENEW_DEADLINE = 10.0
DEFAULT_RETRY_PERIOD = 2.0
DEFAULT_NAMESPACE = "kube-system"
JITTER_FACTOR = 1.2  # client-go's JitterFactor for the acquire loop
EVENT_REASON = "LeaderElection"


class LeaderElectionLost(Exception):
    """The Lease could not be renewed within the renew deadline."""


def new_identity() -> str:
    """hostname_uuid, as kube-controller-manager and kube-scheduler make theirs."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def micro_time(when: datetime) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def exit_process() -> NoReturn:
    """Leave at once with status 1 (klog.FlushAndExit): no cleanup that could still act."""
    log.error("leaderelection lost")
    logging.shutdown()
    os._exit(1)


@dataclass(frozen=True)
class LeaderElectionConfig:
    """Which Lease, who we are, and the timing (client-go's LeaderElectionConfig)."""

    name: str
    identity: str
    namespace: str = DEFAULT_NAMESPACE
    lease_duration: float = DEFAULT_LEASE_DURATION
    renew_deadline: float = DEFAULT_RENEW_DEADLINE
    retry_period: float = DEFAULT_RETRY_PERIOD
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        # The checks of client-go's NewLeaderElector.
        if self.lease_duration < 1:
            raise ValueError("leaseDuration must be at least 1s")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("leaseDuration must be greater than renewDeadline")
        if self.retry_period <= 0:
            raise ValueError("retryPeriod must be greater than zero")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError(f"renewDeadline must be greater than retryPeriod*{JITTER_FACTOR}")
        if not self.identity:
            raise ValueError("identity must not be empty")


class LeaseClient(Protocol):
    """What the elector needs of the API (AsyncClient fits)."""

    async def get(self, resource: Any, name: str, namespace: str | None = None) -> Object: ...

    async def create(self, resource: Any, obj: Object,
                     namespace: str | None = None) -> Object: ...

    async def update(self, resource: Any, obj: Object) -> Object: ...


class Elector(Protocol):
    """Holds leadership for the duration of `lead()` (the seam components run under)."""

    def lead(self) -> contextlib.AbstractAsyncContextManager[None]: ...


class AlwaysLeader:
    """No election (--leader-elect=false): this process is the only instance."""

    @contextlib.asynccontextmanager
    async def lead(self) -> AsyncIterator[None]:
        yield


def _record(spec: Object) -> tuple[str, int, Any, Any, int]:
    """The fields of the election record compared to notice a change (observedRawRecord)."""
    return (spec.get("holderIdentity") or "", int(spec.get("leaseDurationSeconds") or 0),
            spec.get("acquireTime"), spec.get("renewTime"), int(spec.get("leaseTransitions") or 0))


class LeaderElector:
    """One candidate for one Lease; `lead()` is entered once it leads (client-go's Run)."""

    def __init__(self, client: LeaseClient, config: LeaderElectionConfig, *,
                 clock: Clock | None = None, recorder: EventRecorder | None = None,
                 on_lost: Callable[[], None] | None = None,
                 rng: random.Random | None = None) -> None:
        self.client, self.config = client, config
        self.clock: Clock = clock or RealClock()
        self.recorder = recorder
        self.on_lost = on_lost  # called when leadership is lost (production: exit_process)
        self.rng = rng or random.Random()
        self._lease: Object | None = None  # the last Lease read or written (LeaseLock.lease)
        self._observed: Object = {}  # its spec
        self._observed_time = 0.0  # monotonic time the record was last seen to change

    # -- state ---------------------------------------------------------------------------

    def is_leader(self) -> bool:
        return (self._observed.get("holderIdentity") or "") == self.config.identity

    def holder(self) -> str:
        """The holder this candidate saw last ("" for none)."""
        return self._observed.get("holderIdentity") or ""

    def _lease_valid(self) -> bool:
        duration = int(self._observed.get("leaseDurationSeconds") or 0)
        return self._observed_time + duration > self.clock.monotonic()

    def _observe(self, lease: Object) -> None:
        spec = lease.get("spec") or {}
        if _record(spec) != _record(self._observed) or self._lease is None:
            self._observed_time = self.clock.monotonic()
        self._lease, self._observed = lease, spec

    # -- one round -----------------------------------------------------------------------

    def _desired(self, now: datetime) -> Object:
        stamp = micro_time(now)
        return {"holderIdentity": self.config.identity,
                "leaseDurationSeconds": int(self.config.lease_duration),
                "acquireTime": stamp, "renewTime": stamp, "leaseTransitions": 0}

    async def _write(self, spec: Object) -> Object:
        """LeaseLock.Update: the cached Lease with a new spec; its resourceVersion guards it."""
        assert self._lease is not None
        updated = await self.client.update("leases", {**self._lease, "spec": spec})
        self._lease, self._observed = updated, updated.get("spec") or spec
        self._observed_time = self.clock.monotonic()
        return updated

    async def try_acquire_or_renew(self) -> bool:
        """One round of tryAcquireOrRenew: True if this candidate holds the Lease after it.

        Each request times out after half the renew deadline, so a renewal sent to a
        frozen apiserver moves the client to the next URL with time left to renew there
        (kube-controller-manager gives its leader-election client a timeout too)."""
        with request_timeout(self.config.renew_deadline / 2):
            return await self._try_acquire_or_renew()

    async def _try_acquire_or_renew(self) -> bool:
        spec = self._desired(self.clock.now())
        if self.is_leader() and self._lease_valid():  # fast path: renew the cached Lease
            spec.update(acquireTime=self._observed.get("acquireTime"),
                        leaseTransitions=int(self._observed.get("leaseTransitions") or 0))
            try:
                await self._write(spec)
                return True
            except errors.APIError as exc:
                log.info("lease=%s optimistic renewal failed, rereading error=%s",
                         self._key(), exc.message)
        try:
            current = await self.client.get("leases", self.config.name, self.config.namespace)
        except errors.NotFound:
            return await self._create(spec)
        except errors.APIError as exc:
            log.warning("lease=%s cannot read the lease error=%s", self._key(), exc.message)
            return False
        self._observe(current)
        if self.holder() and self._lease_valid() and not self.is_leader():
            return False  # someone else holds an unexpired lease
        transitions = int(self._observed.get("leaseTransitions") or 0)
        if self.is_leader():
            spec.update(acquireTime=self._observed.get("acquireTime"),
                        leaseTransitions=transitions)
        else:
            spec["leaseTransitions"] = transitions + 1
        try:
            await self._write(spec)
        except errors.APIError as exc:  # 409: another candidate wrote first
            log.info("lease=%s not acquired error=%s", self._key(), exc.message)
            return False
        return True

    async def _create(self, spec: Object) -> bool:
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                 "spec": spec}
        try:
            created = await self.client.create("leases", lease, self.config.namespace)
        except errors.APIError as exc:  # AlreadyExists: another candidate created it first
            log.info("lease=%s not created error=%s", self._key(), exc.message)
            return False
        self._lease, self._observed = created, created.get("spec") or spec
        self._observed_time = self.clock.monotonic()
        return True

    async def release(self) -> bool:
        """Give the Lease up (ReleaseOnCancel): no holder, 1 s, so a standby takes it now."""
        if not self.is_leader() or self._lease is None:
            return True
        stamp = micro_time(self.clock.now())
        spec = {"holderIdentity": "", "leaseDurationSeconds": 1, "acquireTime": stamp,
                "renewTime": stamp,
                "leaseTransitions": int(self._observed.get("leaseTransitions") or 0)}
        try:
            await self._write(spec)
        except errors.APIError as exc:
            log.error("lease=%s failed to release error=%s", self._key(), exc.message)
            return False
        log.info("lease=%s identity=%s released", self._key(), self.config.identity)
        return True

    # -- the loops -----------------------------------------------------------------------

    async def acquire(self) -> None:
        """Try every retry period (jittered) until this candidate leads; cancel to give up."""
        log.info("lease=%s identity=%s attempting to acquire leader lease", self._key(),
                 self.config.identity)
        seen = None
        while not await self.try_acquire_or_renew():
            if self.holder() != seen:
                seen = self.holder()
                log.info("lease=%s current leader=%s", self._key(), seen or "<none>")
            jitter = self.rng.random() * JITTER_FACTOR * self.config.retry_period
            await self.clock.sleep(self.config.retry_period + jitter)
        log.info("lease=%s identity=%s successfully acquired lease", self._key(),
                 self.config.identity)
        self._event("became leader")

    async def renew(self) -> None:
        """Renew every retry period; return once renewals have failed for the renew deadline.

        Each round (wait.PollImmediateUntil within RenewDeadline) retries every
        retry period, and an attempt that hangs counts against the deadline too.
        """
        while True:
            await self.clock.sleep(self.config.retry_period)
            deadline = self.clock.monotonic() + self.config.renew_deadline
            while not await self._attempt_until(deadline):
                if self.clock.monotonic() >= deadline:
                    log.error("lease=%s identity=%s failed to renew within %ss", self._key(),
                              self.config.identity, self.config.renew_deadline)
                    self._event("stopped leading")
                    return
                await self.clock.sleep(min(self.config.retry_period,
                                           deadline - self.clock.monotonic()))

    async def _attempt_until(self, deadline: float) -> bool:
        """try_acquire_or_renew, abandoned (False) if it is still running at `deadline`."""
        attempt = asyncio.ensure_future(self.try_acquire_or_renew())
        timer = asyncio.ensure_future(self.clock.sleep(deadline - self.clock.monotonic()))
        try:
            await asyncio.wait([attempt, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not attempt.done():
                attempt.cancel()
            await asyncio.wait([attempt, timer])
        return not attempt.cancelled() and attempt.result()

    @contextlib.asynccontextmanager
    async def lead(self) -> AsyncIterator[None]:
        """Wait to lead, then run the body while renewing.

        Losing the Lease calls `on_lost` (which may exit the process) and
        cancels the body; the context then raises LeaderElectionLost. A body
        that ends (or is cancelled) while leading releases the Lease.
        """
        sender = (asyncio.create_task(self.recorder.run(), name="leaderelection-events")
                  if self.recorder is not None else None)
        body = asyncio.current_task()
        assert body is not None
        lost = asyncio.Event()
        renewer: asyncio.Task[None] | None = None
        try:
            await self.acquire()
            renewer = asyncio.create_task(self._keep(body, lost), name="leaderelection-renew")
            try:
                yield
            except asyncio.CancelledError:
                if not lost.is_set():
                    raise
                body.uncancel()
            if lost.is_set():
                raise LeaderElectionLost(f"lease {self._key()} lost by {self.config.identity}")
        finally:
            await _cancel(renewer)
            if not lost.is_set() and self.config.release_on_cancel:
                await self.release()
            await _cancel(sender)

    async def _keep(self, body: asyncio.Task[Any], lost: asyncio.Event) -> None:
        await self.renew()
        lost.set()
        if self.on_lost is not None:
            self.on_lost()
        body.cancel()

    def _event(self, what: str) -> None:
        """The LeaderElection event on the Lease: "<identity> became leader" (LeaseLock)."""
        if self.recorder is None or self._lease is None:
            return
        subject = {**self._lease, "kind": "Lease", "apiVersion": "coordination.k8s.io/v1"}
        self.recorder.record(subject, EVENT_REASON, f"{self.config.identity} {what}")

    def _key(self) -> str:
        return f"{self.config.namespace}/{self.config.name}"


async def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is None:
        return
    task.cancel()
    await asyncio.wait([task])


async def lead_until(elector: Elector, stop: asyncio.Event,
                     work: Callable[[], Awaitable[None]]) -> None:
    """Run `work()` while leading; `stop` ends the wait for leadership.

    Once leading, `work` is expected to return on `stop` by itself (it winds
    down gracefully); only a candidate still waiting is cancelled.
    """
    leading = asyncio.Event()

    async def body() -> None:
        async with elector.lead():
            leading.set()
            await work()

    task = asyncio.ensure_future(body())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done() and (not leading.is_set() or not stop.is_set()):
            task.cancel()  # stopped while a standby (or we were cancelled ourselves)
        await asyncio.wait([task, stopper])
    if not task.cancelled():
        task.result()
