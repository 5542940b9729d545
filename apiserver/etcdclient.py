"""Which etcd member the apiserver talks to, and moving off one that stops answering.

aetcd's client holds one endpoint and no balancer, so this module is the part
of etcd's Go client (clientv3's endpoint list and health balancer) that the
apiserver needs: it keeps one aetcd client on the current member and, when a
call to it fails for want of an answer (refused, reset, deadline passed,
keepalive lost), moves to the next member that answers a status request.
Members named `https://` are dialled over TLS with the apiserver's etcd client
certificate (`--etcd-cafile/--etcd-certfile/--etcd-keyfile`, etcdtls.py); every
client here, the failover probes', the defragmenter's and the health check's
too, is made by `_new_client`, so none talks to etcd in the clear.

Two things make "stops answering" noticed within seconds, a member frozen
(SIGSTOP, a half-open connection) as well as one stopped:

- every unary call carries a deadline (`request_timeout`, 3 s by default; a
  write to a healthy etcd takes milliseconds, and etcd's own request timeout is
  about 7 s), and full lists a longer one;
- gRPC keepalive pings the member every 2 s while calls or watches are open and
  drops the connection if a ping is unanswered for 2 s, so a watch on a frozen
  member fails instead of waiting forever. Pings go only while a call or watch
  is open (`keepalive_permit_without_calls` off): etcd counts pings on an idle
  connection as abuse and closes it. etcd accepts pings no more often than its
  `--grpc-keepalive-min-time` (5 s by default), so every etcd Schooner starts runs
  with 1 s (cli/cluster/components.py, lab/topology.py); against an etcd left at
  5 s, gRPC halves its ping rate after etcd's first complaint and carries on.

Moving is shared: of many calls failing on the same member at once, the first
moves and the others find the move done. The retired client is closed, which
ends its watches; `Storage.watch` resumes them on the new member.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aetcd
import grpc

from apimachinery import errors

from .etcdtls import TLSClient, channel_credentials

log = logging.getLogger("apiserver.etcdclient")

# gRPC refuses replies over 4 MiB by default; a list of 10,000 pods is ~20 MiB.
# Kubernetes raises the same limit on its etcd client.
GRPC_OPTIONS: dict[str, int] = {
    "grpc.max_receive_message_length": 1 << 30,
    "grpc.max_send_message_length": 1 << 27,
    "grpc.keepalive_time_ms": 2000,
    "grpc.keepalive_timeout_ms": 2000,
    "grpc.keepalive_permit_without_calls": 0,
    # By default gRPC stops pinging after two pings with no data sent: an idle
    # watch would then never notice its member froze.
    "grpc.http2.max_pings_without_data": 0,
    # gRPC's reconnect back-off grows to 2 minutes; an etcd restarted after a
    # long outage must be found again within a second or so.
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.min_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 1000,
}

# A member must answer a status request within this to be moved to.
PROBE_TIMEOUT = 1.0
# Between rounds of probes while no member answers at start.
RETRY_PAUSE = 0.5
# A client younger than this is not replaced: during a full outage every call
# fails, and one new channel per failing call would only add churn.
MIN_CLIENT_AGE = 0.25


class EtcdEndpoints:
    """The etcd members (`--etcd-servers`) and the client on the one in use."""

    def __init__(self, endpoints: list[str], *, request_timeout: float = 3.0,
                 credentials: grpc.ChannelCredentials | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not endpoints:
            raise ValueError("at least one etcd endpoint is required")
        self.endpoints = list(endpoints)
        # `https://` members are dialled over TLS with these (etcdtls.py); without any,
        # they are checked against the system's roots and no certificate is presented.
        self._credentials = credentials
        self.request_timeout = request_timeout
        self._clock = clock
        self._index = 0
        self._client: aetcd.Client | None = None
        self._since = 0.0
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def current_endpoint(self) -> str:
        return self.endpoints[self._index]

    @property
    def client(self) -> aetcd.Client:
        """The client on the member in use; ServiceUnavailable before connect()."""
        if self._client is None:
            raise errors.ServiceUnavailable("storage is not connected to etcd")
        return self._client

    async def connect(self, wait: float = 0.0) -> None:
        """Use the first member, in `--etcd-servers` order, that answers; while none does,
        try them all again every RETRY_PAUSE for up to `wait` seconds.

        An apiserver started beside etcd (the lab's containers, a host booting) may ask
        before etcd serves, or before a first TLS handshake fits in PROBE_TIMEOUT on a
        busy host; kube-apiserver waits for its storage too
        (`--storage-initialization-timeout`, 1m).
        """
        deadline = self._clock() + wait
        async with self._lock:
            while not await self._move(self._index):
                if self._clock() >= deadline:
                    raise errors.ServiceUnavailable(
                        f"etcd is unreachable at {self.endpoints}")
                log.warning("component=apiserver waiting for etcd endpoints=%s",
                            ",".join(self.endpoints))
                await self._pause()

    async def _pause(self) -> None:
        await asyncio.sleep(RETRY_PAUSE)

    async def failed(self, client: aetcd.Client, reason: object) -> None:
        """A call on `client` got no answer: move to another member unless one already did."""
        async with self._lock:
            if client is not self._client or self._clock() - self._since < MIN_CLIENT_AGE:
                return
            log.warning("component=apiserver etcd member not answering endpoint=%s err=%s",
                        self.current_endpoint, reason)
            start = (self._index + 1) % len(self.endpoints)
            if not await self._move(start):
                # None answers: keep trying them in turn, on a fresh channel each time.
                self._adopt(start, self._new_client(start))

    async def _move(self, start: int) -> bool:
        """Adopt the first member from `start` on that answers a status request; False if none."""
        for step in range(len(self.endpoints)):
            index = (start + step) % len(self.endpoints)
            candidate = self._new_client(index)
            try:
                await asyncio.wait_for(candidate.status(), PROBE_TIMEOUT)
            except Exception as exc:  # this member does not answer: try the next
                log.debug("component=apiserver etcd probe failed endpoint=%s err=%r",
                          self.endpoints[index], exc)
                await candidate.close()
                continue
            self._adopt(index, candidate)
            return True
        return False

    def _adopt(self, index: int, client: aetcd.Client) -> None:
        old, self._client, self._index, self._since = self._client, client, index, self._clock()
        log.info("component=apiserver using etcd endpoint=%s", self.endpoints[index])
        if old is not None:
            task = asyncio.create_task(old.close(), name="etcd-client-close")
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def members_in_use_last(self) -> list[str]:
        """Every member, the one in use last (defrag.py blocks each while it runs)."""
        return [e for i, e in enumerate(self.endpoints) if i != self._index] + [
            self.current_endpoint]

    def client_for(self, endpoint: str) -> aetcd.Client:
        """A client of its own on one named member (the caller closes it)."""
        return self._new_client(self.endpoints.index(endpoint))

    def _new_client(self, index: int) -> aetcd.Client:
        url = urlsplit(self.endpoints[index])
        where: dict[str, Any] = {"host": url.hostname or "127.0.0.1", "port": url.port or 2379,
                                 "timeout": self.request_timeout, "options": GRPC_OPTIONS}
        if url.scheme == "https":
            credentials = self._credentials or channel_credentials(None, None, None)
            return TLSClient(credentials=credentials, **where)
        return aetcd.Client(**where)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
