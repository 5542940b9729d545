"""How Schooner lays objects out in etcd: the encoding shared by reads, writes and watches.

Objects are JSON without their `resourceVersion` (the key's mod revision is
the resourceVersion, set again on every read, as Kubernetes' etcd3 store
does); a prefix's key range ends at `prefix_end`; paged lists resume from an
opaque continue token; watch events are decoded once into RawEvents that every
watcher shares. Pure functions only: `storage.py` does the talking to etcd.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from apimachinery import errors
from apimachinery.meta import Object


@dataclass
class RawEvent:
    """One change under a prefix, decoded: what the watch cache fans out."""

    type: str  # ADDED, MODIFIED or DELETED
    key: str
    revision: int
    object: Object
    prev_object: Object | None
    _line: bytes | None = field(default=None, repr=False, compare=False)

    def line(self) -> bytes:
        """The event as one watch line, encoded once however many watchers receive it."""
        if self._line is None:
            self._line = orjson.dumps({"type": self.type, "object": self.object}) + b"\n"
        return self._line


def prefix_end(prefix: bytes) -> bytes:
    """The first key after every key that starts with `prefix` (etcd's range_end)."""
    end = bytearray(prefix)
    for i in reversed(range(len(end))):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"


def decode(value: bytes, revision: int) -> Object:
    """JSON bytes from etcd to an object carrying its resourceVersion."""
    obj: Object = orjson.loads(value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


def encode(obj: Object) -> bytes:
    """An object to the bytes stored in etcd, without its resourceVersion."""
    meta = obj.get("metadata") or {}
    if "resourceVersion" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "resourceVersion"}}
    return orjson.dumps(obj)


def unchanged(stored: bytes, obj: Object) -> bool:
    """Whether writing `obj` would store what `stored` already holds (resourceVersion aside).

    The bytes are compared first; only when they differ (keys in another order) is
    the stored value decoded to compare the objects themselves.
    """
    data = encode(obj)
    if data == stored:
        return True
    if len(data) != len(stored):
        return False
    meta = obj.get("metadata") or {}
    bare = {**obj, "metadata": {k: v for k, v in meta.items() if k != "resourceVersion"}}
    return bool(orjson.loads(stored) == bare)


def encode_continue(revision: int, next_key: str) -> str:
    """Kubernetes-style continue token: the list's revision and where to resume."""
    raw = orjson.dumps({"v": "schooner/v1", "rv": revision, "start": next_key})
    return base64.urlsafe_b64encode(raw).decode()


def decode_continue(token: str) -> tuple[int, str]:
    """The revision and start key of a continue token; 400 for a token we did not issue."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), str(data["start"])
    except Exception:
        raise errors.BadRequest(f"invalid continue token: {token[:40]}") from None


def to_raw_event(event: Any,
                 clear: Callable[[bytes, bytes], bytes] = lambda _key, value: value,
                 ) -> RawEvent:
    """An etcd watch event (with its previous value) as a RawEvent.

    `clear(key, value)` turns a stored value back into JSON (encryption at rest).
    """
    kv = event.kv
    has_prev = event.prev_kv is not None and event.prev_kv.create_revision != 0
    prev = (decode(clear(event.prev_kv.key, event.prev_kv.value), event.prev_kv.mod_revision)
            if has_prev else None)
    key = kv.key.decode()
    if event.kind == "DELETE":
        base = prev if prev is not None else _stub_from_key(key)
        obj = {**base, "metadata": {**base.get("metadata", {}),
                                    "resourceVersion": str(kv.mod_revision)}}
        return RawEvent("DELETED", key, kv.mod_revision, obj, prev)
    kind = "ADDED" if kv.create_revision == kv.mod_revision else "MODIFIED"
    return RawEvent(kind, key, kv.mod_revision, decode(clear(kv.key, kv.value), kv.mod_revision),
                    prev)


def _stub_from_key(key: str) -> Object:
    """The identity of a deleted object whose last value etcd compacted away."""
    parts = key.strip("/").split("/")  # registry, resource, [namespace,] name
    meta = {"name": parts[-1]}
    if len(parts) == 4:
        meta["namespace"] = parts[2]
    return {"metadata": meta}
