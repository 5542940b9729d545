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
from typing import Any
from urllib.parse import urlsplit

import aetcd
import aetcd.exceptions
from aetcd import rpc

from apimachinery import errors
from apimachinery.meta import Object, deep_copy

from . import metrics
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

log = logging.getLogger("apiserver.storage")


# gRPC refuses replies over 4 MiB by default; a list of 10,000 pods is ~20 MiB.
# Kubernetes raises the same limit on its etcd client.
_GRPC_OPTIONS = {"grpc.max_receive_message_length": 1 << 30,
                 "grpc.max_send_message_length": 1 << 27}

# How often a conflicting guaranteed_update is retried before giving up.
_MAX_UPDATE_ATTEMPTS = 16


# Set for a request with `?dryRun=All`: every write goes through admission, defaulting
# and validation, and stops here, before etcd (Kubernetes' dry-run semantics).
DRY_RUN: contextvars.ContextVar[bool] = contextvars.ContextVar("dry_run", default=False)


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


class Storage:
    """Typed operations on etcd for the registry: get, list, create, update, delete, watch."""

    def __init__(self, endpoints: list[str], *, timeout: float = 10.0) -> None:
        if not endpoints:
            raise ValueError("at least one etcd endpoint is required")
        self._endpoints = endpoints
        self._endpoint_index = 0
        self._timeout = timeout
        self._client: aetcd.Client | None = None

    # -- connection -------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect to the first etcd endpoint that answers; the others are failover."""
        last: Exception | None = None
        for _ in range(len(self._endpoints)):
            url = urlsplit(self._endpoints[self._endpoint_index])
            client = aetcd.Client(host=url.hostname or "127.0.0.1", port=url.port or 2379,
                                  timeout=self._timeout, options=_GRPC_OPTIONS)
            try:
                await client.connect()
                await client.status()
                self._client = client
                log.info("component=apiserver connected to etcd endpoint=%s",
                         self._endpoints[self._endpoint_index])
                return
            except Exception as exc:  # try the next member
                last = exc
                await client.close()
                self._endpoint_index = (self._endpoint_index + 1) % len(self._endpoints)
        raise errors.ServiceUnavailable(f"etcd is unreachable at {self._endpoints}: {last}")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def client(self) -> aetcd.Client:
        if self._client is None:
            raise errors.ServiceUnavailable("storage is not connected to etcd")
        return self._client

    async def _call(self, operation: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run one etcd request, timing it and mapping etcd errors to API errors."""
        start = time.perf_counter()
        try:
            return await fn()
        except (aetcd.exceptions.ConnectionFailedError,
                aetcd.exceptions.ConnectionTimeoutError) as exc:
            raise errors.ServiceUnavailable(f"etcd request failed: {exc}") from exc
        except rpc.AioRpcError as exc:
            if exc.code() == rpc.StatusCode.OUT_OF_RANGE:
                raise CompactedError(0) from exc
            if exc.code() in (rpc.StatusCode.UNAVAILABLE, rpc.StatusCode.DEADLINE_EXCEEDED):
                raise errors.ServiceUnavailable(f"etcd request failed: {exc.details()}") from exc
            if exc.code() == rpc.StatusCode.INVALID_ARGUMENT and "too large" in str(
                    exc.details()):
                raise errors.RequestEntityTooLarge(str(exc.details())) from exc
            raise errors.InternalError(f"etcd: {exc.details()}") from exc
        except aetcd.exceptions.InvalidArgumentError as exc:
            if "too large" in str(exc):
                raise errors.RequestEntityTooLarge(str(exc)) from exc
            raise errors.InternalError(f"etcd: {exc}") from exc
        finally:
            metrics.ETCD_LATENCY.labels(operation).observe(time.perf_counter() - start)

    # -- reads ------------------------------------------------------------------------

    async def current_revision(self) -> int:
        resp = await self._range(b"/registry/", prefix_end(b"/registry/"), count_only=True)
        return int(resp.header.revision)

    async def get(self, key: str) -> Object | None:
        """The object at `key`, or None."""
        kv = await self._call("get", lambda: self.client.get(key.encode()))
        if kv is None:
            return None
        return decode(kv.value, kv.mod_revision)

    async def _range(self, key: bytes, range_end: bytes, *, limit: int = 0,
                     revision: int = 0, count_only: bool = False,
                     keys_only: bool = False) -> Any:
        request = rpc.RangeRequest(key=key, range_end=range_end, limit=limit,
                                   revision=revision, count_only=count_only,
                                   keys_only=keys_only)

        async def call() -> Any:
            await self.client.connect()
            return await self.client.kvstub.Range(request, timeout=self._timeout,
                                                  metadata=self.client.metadata)

        return await self._call("list", call)

    async def list(self, prefix: str, *, limit: int = 0, continue_token: str | None = None,
                   resource_version: int = 0,
                   keep: Callable[[Object], bool] | None = None,
                   ) -> tuple[list[Object], int, str]:
        """Objects under `prefix` at one revision: (items, revision, continue token).

        With a limit, filtered-out objects do not count against it and the
        token resumes after the last key examined, as Kubernetes' paged lists do.
        A token or resourceVersion older than etcd's compaction raises CompactedError.
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
            for kv in kvs:
                obj = decode(kv.value, kv.mod_revision)
                if keep is None or keep(obj):
                    items.append(obj)
                if limit and len(items) == limit:
                    if kv is not kvs[-1] or resp.more:
                        next_key = kv.key + b"\0"
                        return items, revision, encode_continue(revision, next_key.decode())
                    return items, revision, ""
            if not resp.more or not kvs:
                return items, revision, ""
            start_key = kvs[-1].key + b"\0"

    async def count(self, prefix: str) -> int:
        resp = await self._range(prefix.encode(), prefix_end(prefix.encode()), count_only=True)
        return int(resp.count)

    async def list_keys(self, prefix: str) -> set[str]:
        """The keys under `prefix`, without it and without values: a range's taken values."""
        resp = await self._range(prefix.encode(), prefix_end(prefix.encode()), keys_only=True)
        return {kv.key.decode()[len(prefix):] for kv in resp.kvs}

    # -- writes -----------------------------------------------------------------------

    async def create(self, key: str, obj: Object, *,
                     reservations: Reservations | None = None) -> Object:
        """Store `obj` at `key` if nothing is there; return it with its resourceVersion.

        Raises KeyExistsError, or ReservationTakenError when another write
        claimed one of `reservations.claim` first (the caller allocates again).
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
        ok, responses = await self._call("create", lambda: self.client.transaction(
            compare=[txn.create(key.encode()) == 0, *compare],
            success=[txn.put(key.encode(), data), *ops],
            failure=[txn.get(key.encode())] if compare else [],
        ))
        if not ok:
            if compare and not responses[0]:
                raise ReservationTakenError(key)
            raise KeyExistsError(key)
        return decode(data, int(responses[0].response_put.header.revision))

    async def replace(self, key: str, obj: Object, expected_revision: int, *,
                      reservations: Reservations | None = None) -> Object:
        """Write `obj` if the key's mod revision is still `expected_revision`.

        RevisionMismatchError when the object changed, or a claimed or released
        key did: either way the caller reads again and retries.
        """
        txn = self.client.transactions
        data = encode(obj)
        if DRY_RUN.get():
            return decode(data, expected_revision)
        compare, ops = await self._reservation_ops(reservations)
        ok, responses = await self._call("update", lambda: self.client.transaction(
            compare=[txn.mod(key.encode()) == expected_revision, *compare],
            success=[txn.put(key.encode(), data), *ops],
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
        ok, responses = await self._call("delete", lambda: self.client.transaction(
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
        _, responses = await self._call("get", lambda: self.client.transaction(
            compare=[], success=[txn.get(k.encode()) for k in keys], failure=[]))
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
                                reserve: Reserver | None = None) -> Object | None:
        """Read, mutate, write with compare-and-swap, retrying on races (etcd3 store's loop).

        `mutate` receives a private copy and returns the new object, or None to
        delete the key. Errors it raises (NotFound, Conflict, Invalid) propagate.
        `reserve(before, after)` then says what the write claims and releases
        (`after` None: a delete) and may fill in what it allocated, as the hook
        Kubernetes' Service REST runs before an update.

        A new object equal to the stored one is not written: as in Kubernetes' etcd3
        store, a no-op update keeps its resourceVersion and sends no watch event
        (kubectl prints `patched (no change)` when the resourceVersion stays).
        """
        for _ in range(_MAX_UPDATE_ATTEMPTS):
            kv = await self._call("get", lambda: self.client.get(key.encode()))
            if kv is None:
                raise KeyMissingError(key)
            current = decode(kv.value, kv.mod_revision)
            revision = int(kv.mod_revision)
            before = deep_copy(current) if reserve is not None else current
            updated = await mutate(current)
            reservations = await reserve(before, updated) if reserve is not None else None
            if updated is not None and not reservations and unchanged(kv.value, updated):
                return decode(kv.value, revision)
            try:
                if updated is None:
                    await self.delete(key, revision, reservations=reservations)
                    return None
                return await self.replace(key, updated, revision, reservations=reservations)
            except RevisionMismatchError:
                await asyncio.sleep(0)
        raise errors.Conflict(f"{key}: too many concurrent updates, try again")

    async def compact(self, revision: int) -> None:
        await self._call("compact", lambda: self.client.compact(revision, physical=True))

    # -- watch ------------------------------------------------------------------------

    async def watch(self, prefix: str, start_revision: int) -> AsyncIterator[RawEvent]:
        """Every change under `prefix` from `start_revision` (inclusive), decoded.

        Raises CompactedError if etcd no longer has that revision, and
        errors.ServiceUnavailable when the connection to etcd drops.
        """
        try:
            watch = await self.client.watch(
                prefix.encode(), range_end=prefix_end(prefix.encode()),
                start_revision=start_revision, prev_kv=True)
        except aetcd.exceptions.RevisionCompactedError as exc:
            raise CompactedError(exc.compacted_revision) from exc
        except (aetcd.exceptions.ConnectionFailedError,
                aetcd.exceptions.ConnectionTimeoutError) as exc:
            raise errors.ServiceUnavailable(f"etcd watch failed: {exc}") from exc
        try:
            async for event in watch:
                yield to_raw_event(event)
        except aetcd.exceptions.RevisionCompactedError as exc:
            raise CompactedError(exc.compacted_revision) from exc
        except (aetcd.exceptions.ConnectionFailedError,
                aetcd.exceptions.ConnectionTimeoutError, aetcd.exceptions.ClientError) as exc:
            raise errors.ServiceUnavailable(f"etcd watch failed: {exc}") from exc
        finally:
            try:
                await asyncio.shield(watch.cancel())
            except Exception:  # the stream may already be gone with the connection
                log.debug("component=apiserver etcd watch cancel failed prefix=%s", prefix)


class KeyExistsError(Exception):
    """create() found the key already present."""


class KeyMissingError(Exception):
    """guaranteed_update() found no object at the key."""


class RevisionMismatchError(Exception):
    """The key changed since it was read (or was deleted): a lost compare-and-swap."""


class ReservationTakenError(Exception):
    """create() lost a race: another write claimed one of its reservation keys first."""
