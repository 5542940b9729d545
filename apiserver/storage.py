"""etcd v3 access: the only module in Schooner that talks to etcd.

Objects are stored as JSON under `/registry/{resource}/{namespace}/{name}`
(cluster-scoped: `/registry/{resource}/{name}`), with `resourceVersion`
stripped: an object's resourceVersion is its key's etcd mod revision and is set
on every read, as Kubernetes' etcd3 store does. Writes are etcd transactions
guarded on that revision, so no write is ever read-then-write racy:
create is "put if the key is absent", update and delete are "if the mod
revision is still the one I read".

A write may carry `Reservations`, keys claimed or released in its transaction:
how a Service holds its ClusterIP and NodePorts. Encoding lives in `etcdcodec.py`.
"""

from __future__ import annotations

import asyncio
import builtins
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aetcd
import aetcd.exceptions
import grpc
from aetcd import rpc, rtypes

from apimachinery import errors
from apimachinery.meta import Object, deep_copy

from . import metrics
from .compactor import COMPACT_REV_KEY, Swap
from .defrag import MemberSize
from .encryption import NO_ENCRYPTION, Encryption, TransformError
from .etcdclient import EtcdEndpoints
from .etcdcodec import (
    RawEvent,
    decode,
    decode_continue,
    encode,
    encode_continue,
    prefix_end,
    to_raw_event,
    unchanged,
)
from .leases import LeaseManager

log = logging.getLogger("apiserver.storage")


# A full list may be large (10,000 pods is ~20 MiB) and gets this long; keepalive,
# not this deadline, notices a member that froze under it.
_LIST_TIMEOUT = 60.0

# How often a conflicting guaranteed_update is retried before giving up.
_MAX_UPDATE_ATTEMPTS = 16


# Set for a request with `?dryRun=All`: every write goes through admission, defaulting
# and validation, and stops here, before etcd (Kubernetes' dry-run semantics).
DRY_RUN: contextvars.ContextVar[bool] = contextvars.ContextVar("dry_run", default=False)


class ListPage(NamedTuple):
    """One page of a list: its objects, the revision it was read at, the continue token
    ("" on the last page) and, when known, how many objects the next pages hold."""

    items: list[Object]
    revision: int
    token: str
    remaining: int | None = None


class CompactedError(Exception):
    """The revision asked for has been compacted; the caller must relist (HTTP 410)."""

    def __init__(self, compacted_revision: int) -> None:
        super().__init__(f"revision compacted below {compacted_revision}")
        self.compacted_revision = compacted_revision


@dataclass(frozen=True)
class Reservations:
    """Keys claimed or released in the same etcd transaction as an object's write.

    A Service holds each ClusterIP and NodePort as a key valued with its owner
    (as Kubernetes' IPAddress objects, KEP-1880). A `claim` key must be absent or
    the whole write fails; a `release` key goes only while it names that owner.
    """

    claim: Mapping[str, str] = field(default_factory=dict)
    release: Mapping[str, str] = field(default_factory=dict)


Reserver = Callable[[Object, Object | None], Awaitable[Reservations | None]]
Call = Callable[[aetcd.Client], Awaitable[Any]]

# Errors that mean the member did not answer (refused, reset, deadline, keepalive
# lost, or its client retired under the call): the caller may move to another.
_NO_ANSWER = (rpc.StatusCode.UNAVAILABLE, rpc.StatusCode.DEADLINE_EXCEEDED,
              rpc.StatusCode.CANCELLED)


# etcd's words for a request it could not complete: while it has no quorum or no
# leader, a member answers "context deadline exceeded" (gRPC code UNKNOWN, which
# aetcd wraps in a bare ClientError) or "etcdserver: request timed out".
_ETCD_UNAVAILABLE = ("deadline exceeded", "timed out", "no leader", "leader changed")


def _unmapped(details: str) -> errors.APIError:
    """An etcd error with no mapping of its own: 503 when etcd could not complete the
    request (it was a 500 the apiserver let through while etcd's quorum was away in
    the lab), otherwise a 500 Status naming it."""
    if any(words in details for words in _ETCD_UNAVAILABLE):
        return errors.ServiceUnavailable(f"etcd request failed: {details}")
    return errors.InternalError(f"etcd: {details}")


def _cancelled_by_caller() -> bool:
    """Whether this task itself is being cancelled (a client gone, shutdown), as opposed to
    gRPC cancelling a call because its channel was closed under it."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class Storage:
    """Typed operations on etcd for the registry: get, list, create, update, delete, watch."""

    def __init__(self, endpoints: list[str], *, request_timeout: float = 3.0,
                 credentials: grpc.ChannelCredentials | None = None,
                 encryption: Encryption = NO_ENCRYPTION) -> None:
        self._etcd = EtcdEndpoints(endpoints, request_timeout=request_timeout,
                                   credentials=credentials)
        self._timeout = request_timeout
        self._encryption = encryption
        self.leases = LeaseManager(self._grant)

    # -- connection -------------------------------------------------------------------

    async def connect(self, wait: float = 0.0) -> None:
        """Connect to the first etcd member that answers, waiting up to `wait` seconds for
        one; the others are failover."""
        await self._etcd.connect(wait)
        log.info("component=apiserver connected to etcd endpoint=%s",
                 self._etcd.current_endpoint)

    async def close(self) -> None:
        await self._etcd.close()

    @property
    def client(self) -> aetcd.Client:
        return self._etcd.client

    async def _call(self, operation: str, fn: Call, *, read: bool = False) -> Any:
        """Run one etcd request on the member in use, timing it and mapping etcd errors.

        A member that does not answer is reported, so the next request goes to
        another; a read is then tried once more there. A write is not: whether
        it was applied is unknown, so its caller gets 503 and decides.
        """
        start = time.perf_counter()
        try:
            for attempt in (1, 2):
                client = self._etcd.client
                try:
                    return await fn(client)
                except asyncio.CancelledError:
                    if client is self._etcd.client or _cancelled_by_caller():
                        raise
                    # Another request gave this member up and closed its client under
                    # this call; grpc says so with a local cancellation. No answer, as
                    # below (it was a 500 while etcd's quorum was away in the lab).
                    if not read or attempt == 2:
                        raise errors.ServiceUnavailable(
                            "etcd request failed: the etcd member in use was given up "
                            "during the request") from None
                except (aetcd.exceptions.ClientError, rpc.AioRpcError) as exc:
                    if not _no_answer(exc):
                        raise
                    await self._etcd.failed(client, _details(exc))
                    if not read or attempt == 2:
                        raise errors.ServiceUnavailable(
                            f"etcd request failed: {_details(exc)}") from exc
            raise AssertionError("unreachable")
        except rpc.AioRpcError as exc:
            if exc.code() == rpc.StatusCode.OUT_OF_RANGE:
                raise CompactedError(0) from exc
            if exc.code() == rpc.StatusCode.INVALID_ARGUMENT and "too large" in str(
                    exc.details()):
                raise errors.RequestEntityTooLarge(str(exc.details())) from exc
            if exc.code() == rpc.StatusCode.NOT_FOUND and "lease" in str(exc.details()):
                # A reused lease was revoked under us (etcd restored, or by hand): grant
                # afresh on the client's retry.
                self.leases.forget()
                raise errors.ServiceUnavailable(f"etcd: {exc.details()}") from exc
            raise _unmapped(str(exc.details())) from exc
        except aetcd.exceptions.InvalidArgumentError as exc:
            if "too large" in str(exc):
                raise errors.RequestEntityTooLarge(str(exc)) from exc
            raise errors.InternalError(f"etcd: {exc}") from exc
        except aetcd.exceptions.ClientError as exc:  # aetcd's wrapper of any other code
            raise _unmapped(str(exc)) from exc
        finally:
            metrics.ETCD_LATENCY.labels(operation).observe(time.perf_counter() - start)

    # -- reads ------------------------------------------------------------------------

    # -- values at rest (encryption.py) -------------------------------------------------

    def _clear(self, key: bytes, value: bytes) -> tuple[bytes, bool]:
        """A stored value as JSON, and whether its encryption is stale (rewrite it).

        A value no configured key opens is a 500 naming the key, as kube-apiserver's.
        """
        try:
            return self._encryption.from_storage(key, value)
        except TransformError as exc:
            raise errors.InternalError(str(exc)) from None

    def _decode(self, kv: Any) -> Object:
        return decode(self._clear(kv.key, kv.value)[0], kv.mod_revision)

    def _sealed(self, key: str, data: bytes) -> bytes:
        return self._encryption.to_storage(key.encode(), data)

    async def current_revision(self) -> int:
        resp = await self._range(b"/registry/", prefix_end(b"/registry/"), count_only=True)
        return int(resp.header.revision)

    async def get(self, key: str) -> Object | None:
        """The object at `key`, or None."""
        kv = await self._call("get", lambda c: c.get(key.encode()), read=True)
        if kv is None:
            return None
        return self._decode(kv)

    async def _range(self, key: bytes, range_end: bytes, *, limit: int = 0,
                     revision: int = 0, count_only: bool = False,
                     keys_only: bool = False) -> Any:
        request = rpc.RangeRequest(key=key, range_end=range_end, limit=limit,
                                   revision=revision, count_only=count_only,
                                   keys_only=keys_only)
        timeout = self._timeout if count_only or keys_only else _LIST_TIMEOUT

        async def call(client: aetcd.Client) -> Any:
            await client.connect()
            return await client.kvstub.Range(request, timeout=timeout,
                                             metadata=client.metadata)

        return await self._call("list", call, read=True)

    async def list(self, prefix: str, *, limit: int = 0, continue_token: str | None = None,
                   resource_version: int = 0,
                   keep: Callable[[Object], bool] | None = None,
                   ) -> ListPage:
        """Objects under `prefix` at one revision, with the token of the next page.

        With a limit, filtered-out objects do not count against it and the
        token resumes after the last key examined, as Kubernetes' paged lists do.
        An unfiltered page that stops early says how many objects follow
        (`remainingItemCount`, from etcd's count of the range, as Kubernetes' etcd3
        store does); a filtered one cannot know. A token or resourceVersion older
        than etcd's compaction raises CompactedError.
        """
        start_key, end_key = prefix.encode(), prefix_end(prefix.encode())
        revision = resource_version
        if continue_token:
            revision, start = decode_continue(continue_token)
            start_key = start.encode()
        items: list[Object] = []
        while True:
            want = (limit - len(items) + 1) if limit else 0
            try:
                resp = await self._range(start_key, end_key, limit=max(want, 0),
                                         revision=revision)
            except CompactedError:
                raise errors.Gone(
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter."
                    if continue_token else f"too old resource version: {revision}") from None
            revision = revision or int(resp.header.revision)
            kvs = list(resp.kvs)
            for index, kv in enumerate(kvs):
                obj = self._decode(kv)
                if keep is None or keep(obj):
                    items.append(obj)
                if limit and len(items) == limit:
                    if kv is not kvs[-1] or resp.more:
                        next_key = kv.key + b"\0"
                        remaining = int(resp.count) - index - 1 if keep is None else None
                        return ListPage(items, revision,
                                        encode_continue(revision, next_key.decode()), remaining)
                    return ListPage(items, revision, "")
            if not resp.more or not kvs:
                return ListPage(items, revision, "")
            start_key = kvs[-1].key + b"\0"

    async def count(self, prefix: str) -> int:
        resp = await self._range(prefix.encode(), prefix_end(prefix.encode()), count_only=True)
        return int(resp.count)

    async def list_keys(self, prefix: str) -> set[str]:
        """The keys under `prefix`, without it and without values: a range's taken values."""
        resp = await self._range(prefix.encode(), prefix_end(prefix.encode()), keys_only=True)
        return {kv.key.decode()[len(prefix):] for kv in resp.kvs}

    # -- writes -----------------------------------------------------------------------

    async def _grant(self, ttl: int) -> int:
        """A new etcd lease of `ttl` seconds (for LeaseManager, which reuses it)."""
        lease = await self._call("lease", lambda c: c.lease(ttl))
        return int(lease.id)

    async def _lease(self, ttl: int | None) -> int | None:
        """The lease a write with a TTL is attached to (None: the key never expires)."""
        return None if not ttl else await self.leases.lease(ttl)

    async def create(self, key: str, obj: Object, *,
                     reservations: Reservations | None = None,
                     ttl: int | None = None) -> Object:
        """Store `obj` at `key` if nothing is there; return it with its resourceVersion.

        Raises KeyExistsError, or ReservationTakenError when another write
        claimed one of `reservations.claim` first (the caller allocates again).
        With a `ttl`, etcd deletes the key that many seconds (or a little more:
        leases.py) after this write.
        """
        txn = self.client.transactions
        data = encode(obj)
        if DRY_RUN.get():
            if await self.get(key) is not None:
                raise KeyExistsError(key)
            # Nothing was stored, so there is no resourceVersion (Kubernetes omits it).
            dry = decode(data, 0)
            dry["metadata"].pop("resourceVersion")
            return dry
        compare, ops = await self._reservation_ops(reservations)
        lease = await self._lease(ttl)
        ok, responses = await self._call("create", lambda c: c.transaction(
            compare=[txn.create(key.encode()) == 0, *compare],
            success=[txn.put(key.encode(), self._sealed(key, data), lease=lease), *ops],
            failure=[txn.get(key.encode())] if compare else [],
        ))
        if not ok:
            if compare and not responses[0]:
                raise ReservationTakenError(key)
            raise KeyExistsError(key)
        return decode(data, int(responses[0].response_put.header.revision))

    async def replace(self, key: str, obj: Object, expected_revision: int, *,
                      reservations: Reservations | None = None,
                      ttl: int | None = None) -> Object:
        """Write `obj` if the key's mod revision is still `expected_revision`.

        RevisionMismatchError when the object changed, or a claimed or released
        key did: either way the caller reads again and retries.
        """
        txn = self.client.transactions
        data = encode(obj)
        if DRY_RUN.get():
            return decode(data, expected_revision)
        compare, ops = await self._reservation_ops(reservations)
        lease = await self._lease(ttl)
        ok, responses = await self._call("update", lambda c: c.transaction(
            compare=[txn.mod(key.encode()) == expected_revision, *compare],
            success=[txn.put(key.encode(), self._sealed(key, data), lease=lease), *ops],
            failure=[],
        ))
        if not ok:
            raise RevisionMismatchError(key)
        return decode(data, int(responses[0].response_put.header.revision))

    async def delete(self, key: str, expected_revision: int, *,
                     reservations: Reservations | None = None) -> int:
        """Delete `key` if its mod revision is still `expected_revision`; the delete's revision."""
        if DRY_RUN.get():
            return expected_revision
        txn = self.client.transactions
        compare, ops = await self._reservation_ops(reservations)
        ok, responses = await self._call("delete", lambda c: c.transaction(
            compare=[txn.mod(key.encode()) == expected_revision, *compare],
            success=[txn.delete(key.encode()), *ops],
            failure=[],
        ))
        if not ok:
            raise RevisionMismatchError(key)
        return int(responses[0].response_delete_range.header.revision) if responses else 0

    async def _reservation_ops(self, reservations: Reservations | None
                               ) -> tuple[builtins.list[Any], builtins.list[Any]]:
        """The compares and operations that claim and release `reservations` in a transaction."""
        if reservations is None:
            return [], []
        txn = self.client.transactions
        compare = [txn.create(k.encode()) == 0 for k in reservations.claim]
        ops = [txn.put(k.encode(), owner.encode()) for k, owner in reservations.claim.items()]
        for k, revision in (await self._held(reservations.release)).items():
            compare.append(txn.mod(k.encode()) == revision)
            ops.append(txn.delete(k.encode()))
        return compare, ops

    async def _held(self, release: Mapping[str, str]) -> dict[str, int]:
        """The mod revision of each key of `release` that still names its owner (one read)."""
        if not release:
            return {}
        txn = self.client.transactions
        keys = list(release)
        _, responses = await self._call("get", lambda c: c.transaction(
            compare=[], success=[txn.get(k.encode()) for k in keys], failure=[]), read=True)
        held: dict[str, int] = {}
        for k, kvs in zip(keys, responses, strict=True):
            for value, meta in kvs:
                if value.decode() == release[k]:
                    held[k] = int(meta.mod_revision)
                else:
                    log.warning("component=apiserver reservation not released key=%s "
                                "holder=%s releaser=%s", k, value.decode(), release[k])
        return held

    async def guaranteed_update(self, key: str,
                                mutate: Callable[[Object], Awaitable[Object | None]], *,
                                reserve: Reserver | None = None,
                                ttl: int | None = None) -> Object | None:
        """Read, mutate, write with compare-and-swap, retrying on races (etcd3 store's loop).

        `mutate` receives a private copy and returns the new object, or None to
        delete the key. Errors it raises (NotFound, Conflict, Invalid) propagate.
        `reserve(before, after)` then says what the write claims and releases
        (`after` None: a delete) and may fill in what it allocated, as the hook
        Kubernetes' Service REST runs before an update.

        A new object equal to the stored one is not written: as in Kubernetes' etcd3
        store, a no-op update keeps its resourceVersion and sends no watch event
        (kubectl prints `patched (no change)` when the resourceVersion stays).
        With a `ttl`, every write renews the key's life (a lease from now), as
        Kubernetes' TTL of Events applies on update too.
        """
        for _ in range(_MAX_UPDATE_ATTEMPTS):
            kv = await self._call("get", lambda c: c.get(key.encode()), read=True)
            if kv is None:
                raise KeyMissingError(key)
            stored, stale = self._clear(kv.key, kv.value)
            current = decode(stored, kv.mod_revision)
            revision = int(kv.mod_revision)
            before = deep_copy(current) if reserve is not None else current
            updated = await mutate(current)
            reservations = await reserve(before, updated) if reserve is not None else None
            # A value under an old key (or none) is written again however unchanged: that
            # write is what re-encrypts it with the first key (key rotation).
            if (updated is not None and not reservations and not stale
                    and unchanged(stored, updated)):
                return decode(stored, revision)
            try:
                if updated is None:
                    await self.delete(key, revision, reservations=reservations)
                    return None
                return await self.replace(key, updated, revision, reservations=reservations,
                                          ttl=ttl)
            except RevisionMismatchError:
                await asyncio.sleep(0)
        raise errors.Conflict(f"{key}: too many concurrent updates, try again")

    # -- plain keys with a life of their own (masterleases.py) ------------------------

    async def put_expiring(self, key: str, value: bytes, ttl: int) -> None:
        """Write `value` at `key` on a new lease of `ttl` seconds: etcd deletes the key
        when no later write renews it in time. A fresh lease each time, as Kubernetes'
        master leases get (their TTL is too short for LeaseManager's reuse window); the
        lease it replaces runs out holding nothing."""
        lease = await self._grant(ttl)
        await self._call("update", lambda c: c.put(key.encode(), value, lease=lease))

    async def values(self, prefix: str) -> dict[str, bytes]:
        """Every key under `prefix` (without it) and its value, as stored (not decoded)."""
        resp = await self._range(prefix.encode(), prefix_end(prefix.encode()))
        return {kv.key.decode()[len(prefix):]: bytes(kv.value) for kv in resp.kvs}

    async def delete_key(self, key: str) -> None:
        """Delete `key` whatever its revision (nothing to do when it is gone)."""
        await self._call("delete", lambda c: c.delete(key.encode()))

    async def compact(self, revision: int) -> None:
        await self._call("compact", lambda c: c.compact(revision, physical=True))

    async def swap_compact_key(self, expected_version: int, revision: int) -> Swap:
        """Write `revision` to compact_rev_key if its version is still `expected_version`.

        The compactors of every apiserver on this etcd take turns through it
        (apiserver/compactor.py). One raw Txn, as aetcd's helper hides the header.
        """
        key = COMPACT_REV_KEY
        request = rpc.TxnRequest(
            compare=[rpc.Compare(result=rpc.Compare.EQUAL, target=rpc.Compare.VERSION,
                                 key=key, version=expected_version)],
            success=[rpc.RequestOp(request_put=rpc.PutRequest(
                key=key, value=str(revision).encode()))],
            failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=key))])

        async def call(client: aetcd.Client) -> Any:
            await client.connect()
            return await client.kvstub.Txn(request, timeout=self._timeout,
                                           metadata=client.metadata)

        resp = await self._call("compact", call)
        if resp.succeeded:
            return Swap(True, expected_version + 1, int(resp.header.revision))
        kvs = resp.responses[0].response_range.kvs
        return Swap(False, int(kvs[0].version) if kvs else 0, int(resp.header.revision))

    # -- per-member maintenance (defrag.py) --------------------------------------------

    def member_endpoints(self) -> builtins.list[str]:
        return self._etcd.members_in_use_last()

    async def member_size(self, endpoint: str) -> MemberSize:
        """One member's file size and the part of it in use (its own status)."""
        client = self._etcd.client_for(endpoint)
        try:
            await client.connect()
            resp = await client.maintenancestub.Status(
                rpc.StatusRequest(), timeout=self._timeout, metadata=client.metadata)
            return MemberSize(int(resp.dbSize), int(resp.dbSizeInUse))
        finally:
            await client.close()

    async def defragment_member(self, endpoint: str) -> None:
        """Rewrite one member's file without its free pages; it answers nothing meanwhile."""
        client = self._etcd.client_for(endpoint)
        start = time.perf_counter()
        try:
            await client.connect()
            await client.maintenancestub.Defragment(
                rpc.DefragmentRequest(), timeout=_LIST_TIMEOUT, metadata=client.metadata)
        finally:
            await client.close()
            metrics.ETCD_LATENCY.labels("defragment").observe(time.perf_counter() - start)

    # -- watch ------------------------------------------------------------------------

    async def watch(self, prefix: str, start_revision: int) -> AsyncIterator[RawEvent]:
        """Every change under `prefix` from `start_revision` (inclusive), decoded.

        One stream across member changes: when the member in use stops answering
        (or is left for another), the watch resumes on the next from the revision
        after the last one it delivered, so nothing is lost or repeated; etcd's
        members share one revision history. Raises CompactedError if etcd no
        longer has that revision, and errors.ServiceUnavailable once every member
        has failed in turn without a single event in between.
        """
        next_revision, failures = start_revision, 0
        while True:
            client = self._etcd.client
            try:
                async for event in self._watch_once(client, prefix, next_revision):
                    failures = 0
                    next_revision = event.revision + 1
                    yield event
            except (aetcd.exceptions.ClientError, rpc.AioRpcError) as exc:
                if not _no_answer(exc):
                    raise errors.ServiceUnavailable(f"etcd watch failed: {exc}") from exc
                failures += 1
                await self._etcd.failed(client, _details(exc))
                if failures > len(self._etcd.endpoints):
                    raise errors.ServiceUnavailable(
                        f"etcd watch failed: {_details(exc)}") from exc
            # The stream also ends without an error when its client is retired.
            if client is self._etcd.client:
                await asyncio.sleep(0.1)
            log.info("component=apiserver etcd watch resumed prefix=%s revision=%d",
                     prefix, next_revision)

    async def _watch_once(self, client: aetcd.Client, prefix: str,
                          start_revision: int) -> AsyncIterator[RawEvent]:
        """One etcd watch on `client`'s member, on a gRPC stream of its own, until it ends.

        Not aetcd's watcher: it multiplexes every watch of a client on one stream
        and, once that stream broke with its member gone, could leave later
        watches waiting out their timeouts one after another. One stream per
        watch (etcd allows any number) fails alone and is simply opened again.
        The creation is awaited with the request deadline; after that only
        keepalive judges the member, as a watch may rightly be quiet for hours.
        """
        await client.connect()
        stub = rpc.WatchStub(client.channel)
        call = stub.Watch(metadata=client.metadata)
        try:
            await _closed_is_lost(call.write(rpc.WatchRequest(
                create_request=rpc.WatchCreateRequest(
                    key=prefix.encode(), range_end=prefix_end(prefix.encode()),
                    start_revision=start_revision, prev_kv=True))))
            created = await asyncio.wait_for(_read(call), self._timeout)
            if not isinstance(created, rpc.WatchResponse) or not created.created:
                raise aetcd.exceptions.ConnectionFailedError("etcd did not create the watch")
            while True:
                if created.compact_revision:
                    raise CompactedError(int(created.compact_revision))
                if created.canceled:
                    raise aetcd.exceptions.ConnectionFailedError(
                        f"etcd canceled the watch: {created.cancel_reason}")
                for event in created.events:
                    yield to_raw_event(rtypes.Event(event.type, event.kv, event.prev_kv),
                                       lambda k, v: self._clear(k, v)[0])
                created = await _read(call)
                if not isinstance(created, rpc.WatchResponse):  # the stream's end (EOF)
                    return
        except TimeoutError as exc:
            raise aetcd.exceptions.WatchTimeoutError("etcd did not create the watch") from exc
        finally:
            call.cancel()


class KeyExistsError(Exception):
    """create() found the key already present."""


class KeyMissingError(Exception):
    """guaranteed_update() found no object at the key."""


class RevisionMismatchError(Exception):
    """The key changed since it was read (or was deleted): a lost compare-and-swap."""


class ReservationTakenError(Exception):
    """create() lost a race: another write claimed one of its reservation keys first."""


async def _read(call: Any) -> Any:
    """The next message of a gRPC stream. gRPC raises CancelledError in the reader when
    the channel is closed under it (its client retired): that is a lost member, not
    this task being cancelled, and must not end the watch cache's pump."""
    return await _closed_is_lost(call.read())


async def _closed_is_lost(step: Awaitable[Any]) -> Any:
    """A read or write of a gRPC stream, its channel's closing a lost member: the
    CancelledError gRPC raises then (in the writer as in the reader) becomes a
    ConnectionFailedError, unless this task itself is being cancelled."""
    try:
        return await step
    except asyncio.CancelledError:
        if _cancelled_by_caller():
            raise
        raise aetcd.exceptions.ConnectionFailedError("etcd watch stream closed") from None


def _no_answer(exc: BaseException) -> bool:
    """Whether `exc` says the member did not answer (aetcd wraps gRPC's errors, or not)."""
    if isinstance(exc, aetcd.exceptions.ConnectionFailedError
                  | aetcd.exceptions.ConnectionTimeoutError
                  | aetcd.exceptions.WatchTimeoutError):
        return True
    cause = exc if isinstance(exc, rpc.AioRpcError) else exc.__cause__
    return isinstance(cause, rpc.AioRpcError) and cause.code() in _NO_ANSWER


def _details(exc: BaseException) -> str:
    return str(exc.details()) if isinstance(exc, rpc.AioRpcError) else str(exc)
