"""Shedding load fairly: the in-flight limits, split between priority levels as API
Priority and Fairness (APF) splits them.

Kubernetes caps the requests an apiserver works on at once (`--max-requests-inflight`
for reads, `--max-mutating-requests-inflight` for writes) and answers what does not fit
429 with `Retry-After: 1`. APF, on by default since 1.20, divides that concurrency
between priority levels by their nominal shares, so one level's flood cannot take
another's seats, and queues a request briefly (fairly between flows) before refusing it.
Schooner does the same with the levels of APF's default configuration that its
callers fill (APF's own objects, FlowSchema and PriorityLevelConfiguration, are not
served, so the levels and shares are fixed here):

    exempt          system:masters: never limited (Kubernetes exempts them too)
    node-high       the agents (group system:nodes): node Leases, status, pods
    leader-election the scheduler's and controller-manager's Leases in kube-system
    system          the scheduler, the controller-manager, the proxy (all else)
    workload-low    service accounts (group system:serviceaccounts)
    global-default  everyone else, including system:anonymous

Each level has its own seats for reads and for writes: the level's share of each flag
(a flag of 0 means no limit, as in Kubernetes). A request without a free seat waits
in its flow's queue (one flow per user, served round-robin, so a user who floods a
level waits behind their own requests, not in front of another user's) for up to
`QUEUE_WAIT_SECONDS`; a full queue or a wait past that is a 429. Long-running
requests (watch; the log, exec, attach, portforward and proxy subresources) hold
their connection for minutes and are not counted, as in Kubernetes.

Kubernetes writes its 429 as plain text; Schooner answers every error as a v1 Status,
so it is a Status (reason TooManyRequests, Kubernetes' message, `retryAfterSeconds: 1`)
with the same `Retry-After: 1` header, which client-go and Schooner's clients honour.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from apimachinery import errors

from . import metrics

EXEMPT = "exempt"
NODE_HIGH = "node-high"
LEADER_ELECTION = "leader-election"
SYSTEM = "system"
WORKLOAD_LOW = "workload-low"
GLOBAL_DEFAULT = "global-default"

# APF's default nominal concurrency shares of the levels Schooner uses.
SHARES: dict[str, int] = {NODE_HIGH: 40, SYSTEM: 30, LEADER_ELECTION: 10,
                          WORKLOAD_LOW: 100, GLOBAL_DEFAULT: 20}

MASTERS = "system:masters"
NODES = "system:nodes"
SERVICE_ACCOUNTS = "system:serviceaccounts"
SYSTEM_USERS = frozenset({"system:kube-scheduler", "system:kube-controller-manager",
                          "system:kube-proxy"})
LEADER_ELECTION_USERS = frozenset({"system:kube-scheduler", "system:kube-controller-manager"})
LEADER_ELECTION_NAMESPACE = "kube-system"
# The group of Leases, the only objects leader election writes here (APF's
# leader-election FlowSchema also names endpoints and configmaps, long since unused).
COORDINATION = "coordination.k8s.io"

MUTATING_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
LONG_RUNNING_SUBRESOURCES = frozenset({"log", "exec", "attach", "portforward", "proxy"})

# APF's queueLengthLimit default, per flow here; and its wait limit (a quarter of the
# 60 s request timeout) before a queued request is refused.
QUEUE_LENGTH_LIMIT = 50
QUEUE_WAIT_SECONDS = 15.0
RETRY_AFTER_SECONDS = 1  # Kubernetes' value
TOO_MANY_REQUESTS = "Too many requests, please try again later."


@dataclass(frozen=True)
class Work:
    """What flow control needs to know of a request: who sends it, and what it does."""

    user: str
    groups: tuple[str, ...]
    verb: str  # Kubernetes' verb: get, list, watch, create, ...; `get` for non-resource GETs
    resource: str = ""  # plural, "" for a non-resource path (discovery, /metrics)
    group: str = ""
    subresource: str = ""
    namespace: str = ""

    @property
    def mutating(self) -> bool:
        return self.verb in MUTATING_VERBS

    @property
    def long_running(self) -> bool:
        """Kubernetes' BasicLongRunningRequestCheck: watches and streaming subresources."""
        return self.verb == "watch" or self.subresource in LONG_RUNNING_SUBRESOURCES


def priority_level(work: Work) -> str:
    """The level a request is served at, as APF's default FlowSchemas would place it."""
    groups = set(work.groups)
    if MASTERS in groups:
        return EXEMPT
    if NODES in groups:
        return NODE_HIGH
    if (work.user in LEADER_ELECTION_USERS and work.group == COORDINATION
            and work.namespace == LEADER_ELECTION_NAMESPACE):
        return LEADER_ELECTION
    if work.user in SYSTEM_USERS:
        return SYSTEM
    if SERVICE_ACCOUNTS in groups:
        return WORKLOAD_LOW
    return GLOBAL_DEFAULT


def seats(limit: int, level: str) -> int:
    """A level's share of an in-flight limit, at least one seat; 0 (no limit) stays 0."""
    if limit <= 0:
        return 0
    return max(1, math.ceil(limit * SHARES[level] / sum(SHARES.values())))


class Rejected(Exception):
    """No seat: `reason` is APF's label (queue-full, time-out)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SeatPool:
    """The seats of one level for one kind of request (reads or writes), and their queues.

    Runs on one event loop, so no lock: every change happens between awaits. Queued
    requests are dispatched round-robin between flows as seats free up.
    """

    def __init__(self, seats: int, *, queue_length: int = QUEUE_LENGTH_LIMIT,
                 wait_limit: float = QUEUE_WAIT_SECONDS) -> None:
        self.seats = seats  # 0: no limit
        self.queue_length = queue_length
        self.wait_limit = wait_limit
        self.in_use = 0
        self.waiting = 0
        self._flows: dict[str, deque[asyncio.Future[None]]] = {}

    async def acquire(self, flow: str) -> None:
        """Take a seat, waiting in `flow`'s queue if none is free; Rejected if it cannot."""
        if self.seats == 0 or (self.in_use < self.seats and not self.waiting):
            self.in_use += 1
            return
        queue = self._flows.setdefault(flow, deque())
        if len(queue) >= self.queue_length:
            raise Rejected("queue-full")
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(granted)
        self.waiting += 1
        try:
            await asyncio.wait((granted,), timeout=self.wait_limit)
        except asyncio.CancelledError:  # the client went away while queued
            self._abandon(flow, granted)
            raise
        if not granted.done():
            self._abandon(flow, granted)
            raise Rejected("time-out")

    def release(self) -> None:
        """Give a seat back, and hand it to the next flow's oldest waiter, if any."""
        self.in_use -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        while self._flows and (self.seats == 0 or self.in_use < self.seats):
            flow = next(iter(self._flows))
            queue = self._flows.pop(flow)
            granted = queue.popleft()
            if queue:  # to the back of the round
                self._flows[flow] = queue
            self.waiting -= 1
            self.in_use += 1
            granted.set_result(None)

    def _abandon(self, flow: str, granted: asyncio.Future[None]) -> None:
        """A waiter gives up: its seat back if it was granted meanwhile, else its place."""
        if granted.done():
            self.release()
            return
        granted.cancel()
        queue = self._flows.get(flow)
        if queue is not None and granted in queue:
            queue.remove(granted)
            self.waiting -= 1
            if not queue:
                del self._flows[flow]


class FlowControl:
    """Every level's seat pools; `admit` is what a request handler runs inside."""

    def __init__(self, max_requests_inflight: int, max_mutating_requests_inflight: int, *,
                 queue_length: int = QUEUE_LENGTH_LIMIT,
                 wait_limit: float = QUEUE_WAIT_SECONDS) -> None:
        self.pools: dict[tuple[str, bool], SeatPool] = {}
        for level in SHARES:
            for mutating, limit in ((False, max_requests_inflight),
                                    (True, max_mutating_requests_inflight)):
                self.pools[level, mutating] = SeatPool(
                    seats(limit, level), queue_length=queue_length, wait_limit=wait_limit)
                metrics.FLOWCONTROL_NOMINAL_SEATS.labels(level, _kind(mutating)).set(
                    seats(limit, level))
            both = (self.pools[level, False], self.pools[level, True])
            metrics.FLOWCONTROL_EXECUTING.labels(level).set_function(
                functools.partial(_total, both, "in_use"))
            metrics.FLOWCONTROL_INQUEUE.labels(level).set_function(
                functools.partial(_total, both, "waiting"))

    @asynccontextmanager
    async def admit(self, work: Work) -> AsyncIterator[str]:
        """Run the body holding a seat of `work`'s level (none for exempt or long-running
        work); yields the level. A request with no seat is refused with 429."""
        level = priority_level(work)
        if level == EXEMPT or work.long_running:
            metrics.FLOWCONTROL_DISPATCHED.labels(level).inc()
            yield level
            return
        pool = self.pools[level, work.mutating]
        await self._acquire(pool, level, work.user)
        try:
            yield level
        finally:
            pool.release()

    async def _acquire(self, pool: SeatPool, level: str, flow: str) -> None:
        started = time.perf_counter()
        try:
            await pool.acquire(flow)
        except Rejected as exc:
            metrics.FLOWCONTROL_REJECTED.labels(level, exc.reason).inc()
            raise too_many_requests() from None
        finally:
            metrics.FLOWCONTROL_WAIT.labels(level).observe(time.perf_counter() - started)
        metrics.FLOWCONTROL_DISPATCHED.labels(level).inc()


def too_many_requests() -> errors.TooManyRequests:
    """Kubernetes' 429: its message, and Retry-After: 1 (error_response sets the header)."""
    return errors.TooManyRequests(TOO_MANY_REQUESTS,
                                  details={"retryAfterSeconds": RETRY_AFTER_SECONDS})


def _total(pools: tuple[SeatPool, ...], attribute: str) -> float:
    """A gauge's value: the sum of one count (in_use, waiting) over a level's pools."""
    return float(sum(getattr(pool, attribute) for pool in pools))


def _kind(mutating: bool) -> str:
    return "mutating" if mutating else "readOnly"
