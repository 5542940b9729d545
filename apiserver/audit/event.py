"""One request's audit Events (audit.k8s.io/v1 Event), built as kube-apiserver builds them.

`Auditor.begin` decides the level from the policy (None: nothing is built) and
writes the RequestReceived stage; `finish` writes ResponseComplete with the
response code (or Panic for an unexpected error). A watch or a log/exec stream is
long-running: its ResponseStarted stage is written when its answer begins and
ResponseComplete when the stream ends. At Request level the request's object is
logged; at RequestResponse the response's too, when it is a JSON object.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import HTTPConnection
from starlette.responses import Response, StreamingResponse

from apimachinery.errors import APIError

from ..auth import UserInfo
from ..requestinfo import RequestInfo
from ..wire import decode_object
from .policy import LEVELS, Attributes, Policy
from .writer import AuditWriter

_LONG_RUNNING = {"watch"}
_LONG_RUNNING_SUBRESOURCES = {"log", "exec", "attach", "portforward", "proxy"}


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Record:
    """The event of one request as it goes through its stages."""

    event: dict[str, Any]
    level: str
    omit: frozenset[str]
    long_running: bool


class Auditor:
    def __init__(self, policy: Policy, writer: AuditWriter) -> None:
        self.policy, self.writer = policy, writer

    def begin(self, request: HTTPConnection, user: UserInfo,
              info: RequestInfo | None) -> Record | None:
        """The request's record (None when the policy says None), RequestReceived written."""
        attrs = _attributes(request, user, info)
        level, omit = self.policy.decide(attrs)
        if level == "None":
            return None
        query = request.url.query
        event: dict[str, Any] = {
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
            "auditID": str(uuid.uuid4()), "stage": "RequestReceived",
            "requestURI": request.url.path + (f"?{query}" if query else ""),
            "verb": attrs.verb,
            "user": {"username": user.name, **({"uid": user.uid} if user.uid else {}),
                     "groups": list(user.groups)},
            "sourceIPs": _source_ips(request),
            "userAgent": request.headers.get("user-agent", ""),
        }
        if info is not None:
            event["objectRef"] = _object_ref(info)
        event["requestReceivedTimestamp"] = event["stageTimestamp"] = timestamp()
        long_running = info is not None and (
            info.verb in _LONG_RUNNING or (info.subresource or "") in _LONG_RUNNING_SUBRESOURCES)
        record = Record(event, level, omit, long_running)
        self._emit(record, "RequestReceived")
        return record

    def finish(self, record: Record, request: HTTPConnection, response: Response | None,
               code: int, *, panic: bool = False, failure: APIError | None = None,
               annotations: dict[str, str] | None = None) -> None:
        """ResponseComplete (or Panic, or ResponseStarted for a stream) with the code, a
        refusal's status, reason and message as Kubernetes records them, and the audit
        annotations admission noted (PodSecurity's, apiserver/admissionnotes.py)."""
        event = record.event
        event["responseStatus"] = {"metadata": {}, "code": code}
        if annotations:
            event["annotations"] = {**event.get("annotations", {}), **annotations}
        if failure is not None:
            event["responseStatus"].update(status="Failure", message=failure.message,
                                           reason=failure.reason)
        self._objects(record, request, response)
        if panic:
            event["responseStatus"]["message"] = "APIServer panic'd"
            self._emit(record, "Panic")
            return
        if record.long_running and isinstance(response, StreamingResponse):
            self._emit(record, "ResponseStarted")
            response.body_iterator = self._on_end(record, response.body_iterator)
            return
        self._emit(record, "ResponseComplete")

    def started(self, record: Record, code: int) -> None:
        """ResponseStarted of a connection upgraded in place (exec, port-forward): its
        ResponseComplete, from `finish`, follows when the connection ends."""
        record.event["responseStatus"] = {"metadata": {}, "code": code}
        self._emit(record, "ResponseStarted")

    async def _on_end(self, record: Record,
                      body: AsyncIterable[Any]) -> AsyncIterator[Any]:
        try:
            async for chunk in body:
                yield chunk
        finally:
            self._emit(record, "ResponseComplete")

    def _objects(self, record: Record, request: HTTPConnection, response: Response | None) -> None:
        """objectRef's name from a created object; the objects the level asks for."""
        event = record.event
        body = getattr(request.state, "audit_body", None)
        obj = _decoded(body, request.headers.get("content-type", "")) if body else None
        ref = event.get("objectRef")
        if ref is not None and obj is not None and not ref.get("name"):
            name = (obj.get("metadata") or {}).get("name")
            if isinstance(name, str) and name:
                ref["name"] = name
        if LEVELS.index(record.level) >= LEVELS.index("Request") and obj is not None:
            event["requestObject"] = obj
        if record.level == "RequestResponse" and response is not None and \
                not isinstance(response, StreamingResponse) and \
                response.media_type == "application/json":
            with contextlib.suppress(orjson.JSONDecodeError):
                event["responseObject"] = orjson.loads(response.body)

    def _emit(self, record: Record, stage: str) -> None:
        if stage in record.omit:
            return
        record.event["stage"] = stage
        record.event["stageTimestamp"] = timestamp()
        # Serialized here: later stages change the record while the writer may not yet
        # have reached this one (a few microseconds; the disk is the writer's).
        self.writer.submit(orjson.dumps(record.event))

    def close(self) -> None:
        self.writer.close()


def _attributes(request: HTTPConnection, user: UserInfo,
                info: RequestInfo | None) -> Attributes:
    if info is None:
        method = str(request.scope.get("method", "GET"))  # a WebSocket has none: a GET
        return Attributes(user.name, tuple(user.groups), method.lower(), request.url.path)
    return Attributes(user.name, tuple(user.groups), info.verb, request.url.path,
                      info.resource.plural, info.subresource or "", info.resource.group,
                      info.namespace or "", info.name or "")


def _object_ref(info: RequestInfo) -> dict[str, str]:
    ref = {"resource": info.resource.plural, "namespace": info.namespace or "",
           "name": info.name or "", "apiGroup": info.resource.group,
           "apiVersion": info.resource.version, "subresource": info.subresource or ""}
    return {k: v for k, v in ref.items() if v}


def _source_ips(request: HTTPConnection) -> list[str]:
    """X-Forwarded-For's addresses, then the peer's, as Kubernetes lists them."""
    forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",")
                 if ip.strip()]
    peer = request.client.host if request.client else ""
    return [*forwarded, *([peer] if peer and peer not in forwarded else [])]


def _decoded(body: bytes, content_type: str) -> dict[str, Any] | None:
    try:
        return decode_object(body, content_type or "application/json")
    except Exception:  # a body the handler refused: its 4xx is in responseStatus
        return None
