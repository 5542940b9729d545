"""The REST client every component and the CLI use to talk to the apiserver.

`Client` (blocking) and `AsyncClient` (asyncio) have the same methods, like
client-go's dynamic client: objects go in and come out as plain wire-format
dicts, a non-2xx reply is raised as the `apimachinery.errors` exception its
v1 Status stands for, and a transport failure is raised as `Unreachable`.

Each request is described once, by a `_BaseClient._req_*` builder, as a
`_Request`; the two classes differ only in how they send it. Each holds one
connection pool (HTTP/1.1, keep-alive) for its whole life, as the official
Python client's urllib3 pool manager does. `AsyncClient` keeps httpx's API but
sends through aiohttp's connection pool (httpx-aiohttp's transport): httpcore's
pool and anyio's streams cost 3.4 ms of client CPU per request here, aiohttp's
1.1 ms, and every controller, the scheduler and the hollow nodes are such clients
(docs/architecture.md, "Why the async client sends through aiohttp").

`resource` is a `ResourceInfo` or a name `resources.resolve` understands
(`pods`, `po`, `deployments.apps`). For a single namespaced object a missing
namespace means the client's default (`default`, or the kubeconfig context's);
for list, watch and delete_collection it means all namespaces.

A client may be given several apiserver URLs (the kubeconfig's server first,
then `--apiserver-urls`). It sends to one at a time and moves to the next when a
request meets a transport failure (refused, reset, timed out), never on an HTTP
error answer. A read (GET, which includes list and watch) is retried on the next
URL at once; a write is retried only when the connection was never made, since
otherwise it may have been applied; an interrupted watch re-opens on the next URL
from the last resourceVersion it delivered. One URL behaves exactly as before:
no retry. A frozen apiserver (it accepts connections, then never answers) is a
timeout: the client's, a shorter one for heartbeats (`request_timeout`), and for a
watch with bookmarks `WATCH_IDLE_TIMEOUT` of silence. docs/architecture.md,
"Apiserver failover".

An answer of 429 (the apiserver's flow control shedding load) or 5xx that carries
Retry-After is sent again after that long, with exponential back-off and jitter, up
to 10 times as client-go does (apimachinery/retryafter.py); then its error is raised.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import ssl
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Self

import httpx
import orjson

from apimachinery import errors, meta, retryafter
from apimachinery.kubeconfig import load_kubeconfig
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo, UnknownResourceError, from_discovery, resolve
from apimachinery.transport import aiohttp_transport, never_sent

Resource = ResourceInfo | str

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# A watch that asked for bookmarks hears from a live Schooner apiserver at least every
# 5 s (apiserver/watchcache.py BOOKMARK_INTERVAL: an event, or a BOOKMARK when idle).
# Silence for longer means the server or the path to it is frozen (a paused container,
# a half-open connection): the read times out and the watch re-opens, on the next URL
# if there is one. Kubernetes' clients notice the same through HTTP/2 health pings.
WATCH_IDLE_TIMEOUT = 8.0

# The timeout for requests sent inside `request_timeout(...)`, in this task.
_REQUEST_TIMEOUT: ContextVar[float | None] = ContextVar("request_timeout", default=None)


@contextmanager
def request_timeout(seconds: float) -> Iterator[None]:
    """Requests sent in this block (in this asyncio task, and tasks it starts) time out
    after `seconds` instead of the client's timeout.

    For heartbeats, as the kubelet's separate heartbeat client and the leader-election
    client have a short timeout of their own: a frozen apiserver must cost a renewal
    less than the grace it has, and the timeout moves the whole client to the next URL.
    """
    token = _REQUEST_TIMEOUT.set(seconds)
    try:
        yield
    finally:
        _REQUEST_TIMEOUT.reset(token)


PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


def _program() -> str:
    """This process's program, as client-go puts `os.Args[0]` first in its User-Agent: the
    package run with `python -m` (`controllers`, `scheduler`, `agent`, `proxy`), else the
    executable's name (`schooner`). The apiserver names a write's field manager after it
    when the request names none, so managedFields tell the components apart."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = spec.name.split(".")[0] if spec is not None and spec.name else ""
    if not name or name == "__main__":
        name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name.startswith("-"):  # python -c
        name = ""
    return name.replace("/", "") or "schooner"


USER_AGENT = f"{_program()}/0.1 (schooner)"


@dataclass(frozen=True)
class WatchEvent:
    """One line of a watch stream: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR."""

    type: str
    object: Object


@dataclass(frozen=True)
class _Request:
    """A request described independently of the client that sends it."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None  # JSON-encoded when not None, unless `content` is given
    content_type: str = "application/json"
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    read_timeout: float | None = None  # streams only; None: wait forever (quiet watches)

    def send_args(self) -> dict[str, Any]:
        headers, content = dict(self.headers), self.content
        if content is None and self.body is not None:
            content = orjson.dumps(self.body)
            headers.setdefault("Content-Type", self.content_type)
        return {"params": self.params or None, "content": content, "headers": headers}


def _params(**values: Any) -> dict[str, str]:
    """Query parameters with None/False dropped and True spelled `true`, as Kubernetes does."""
    return {k: "true" if v is True else str(v)
            for k, v in values.items() if v is not None and v is not False}


def _check(resp: httpx.Response) -> None:
    """Raise the exception a non-2xx reply's v1 Status stands for (body already read)."""
    if resp.is_success:
        return
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        text = resp.text.strip()
        body = {"message": text.splitlines()[0][:300]} if text else {}
    raise errors.from_status(body, resp.status_code)


def _decode(resp: httpx.Response) -> Object:
    return orjson.loads(resp.content) if resp.content else {}


def _as_list(body: Object) -> Object:
    """A List whose `items` is a list, never None (the official client's models need that)."""
    body["items"] = body.get("items") or []
    return body


def _parse_event(line: str) -> WatchEvent | None:
    if not line.strip():
        return None
    data = orjson.loads(line)
    return WatchEvent(str(data.get("type", "")), data.get("object") or {})


def _event_rv(event: WatchEvent, current: str | None) -> str | None:
    """The resourceVersion a watch resumes from after `event` (ERROR events carry none)."""
    if event.type == "ERROR":
        return current
    rv = (event.object.get("metadata") or {}).get("resourceVersion")
    return str(rv) if rv else current


APISERVER_URLS_HELP = ("more apiserver URLs, comma-separated, to fail over to when the "
                       "kubeconfig's server stops answering (all must share its CA)")


def split_urls(text: str | None) -> builtins.list[str]:
    """`--apiserver-urls`: a comma-separated list, blanks ignored."""
    return [u.strip() for u in (text or "").split(",") if u.strip()]


class _Stream:
    """Where a watch is: the resourceVersion to resume from, and failures since its last event."""

    def __init__(self, resource_version: str | None) -> None:
        self.rv = resource_version
        self.failures = 0

    def resumable(self, servers: int) -> bool:
        """Re-open after a mid-stream failure? Only with somewhere else to go and a
        concrete resourceVersion (None or "0" would replay or skip events)."""
        self.failures += 1
        return servers > 1 and self.rv not in (None, "", "0") and self.failures < servers


def with_client_cert(verify: ssl.SSLContext | bool, cert: bytes,
                     key: bytes) -> ssl.SSLContext:
    """An SSL context that also presents a client certificate. `ssl` loads one from files
    only, so the pair is written to a private temporary file and removed once read."""
    if isinstance(verify, ssl.SSLContext):
        context = verify
    else:
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with tempfile.NamedTemporaryFile(prefix="client-cert-") as pem:  # created 0600
        pem.write(cert.rstrip(b"\n") + b"\n" + key)
        pem.flush()
        context.load_cert_chain(pem.name)
    return context


class _BaseClient:
    """Connection settings and request builders shared by `Client` and `AsyncClient`."""

    watch_idle_timeout = WATCH_IDLE_TIMEOUT

    def __init__(self, server: str | Sequence[str], *, token: str | None = None,
                 ca_data: bytes | None = None, insecure: bool = False, timeout: float = 30.0,
                 namespace: str = "default",
                 client_cert: tuple[bytes, bytes] | None = None) -> None:
        """`client_cert` is a (certificate, key) PEM pair presented in the TLS handshake."""
        urls = [server] if isinstance(server, str) else builtins.list(server)
        self.servers = tuple(dict.fromkeys(u.rstrip("/") for u in urls if u))
        if not self.servers:
            raise ValueError("a client needs at least one apiserver URL")
        self._current = 0
        self.namespace = namespace
        self.timeout = timeout
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._verify: ssl.SSLContext | bool = not insecure
        if ca_data and not insecure:
            self._verify = ssl.create_default_context(cadata=ca_data.decode("ascii"))
        if client_cert is not None:
            self._verify = with_client_cert(self._verify, *client_cert)

    @classmethod
    def from_kubeconfig(cls, path: str | None = None, context: str | None = None, *,
                        extra_servers: Sequence[str] = ()) -> Self:
        """A client for the kubeconfig's context, with its namespace as the default;
        `extra_servers` are failover URLs after the kubeconfig's own server."""
        cfg = load_kubeconfig(path, context)
        cert = (cfg.client_cert, cfg.client_key) if cfg.client_cert and cfg.client_key \
            else None
        return cls([cfg.server, *extra_servers], token=cfg.token, ca_data=cfg.ca_data,
                   insecure=cfg.insecure, namespace=cfg.namespace, client_cert=cert)

    @property
    def server(self) -> str:
        """The apiserver URL requests go to now."""
        return self.servers[self._current]

    def websocket(self, path: str) -> tuple[str, dict[str, str], ssl.SSLContext | None]:
        """A WebSocket's URL (`wss://...`), headers (the token) and TLS for `path` on the
        current server: streaming calls (port-forward) upgrade outside httpx."""
        url = self.server.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        headers = {k: v for k, v in self._headers.items() if k != "Accept"}
        context: ssl.SSLContext | None = None
        if url.startswith("wss://"):
            if isinstance(self._verify, ssl.SSLContext):
                context = self._verify
            else:
                context = ssl.create_default_context()
                if not self._verify:
                    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        return url + path, headers, context

    def _url(self, index: int, path: str) -> str:
        return self.servers[index] + path

    def _failed(self, index: int) -> None:
        """Move on from the URL at `index`, unless a concurrent request already did."""
        if self._current == index:
            self._current = (index + 1) % len(self.servers)

    def _retryable(self, req: _Request, exc: httpx.TransportError, attempt: int) -> bool:
        """Resend on the next URL? Reads always, writes only if nothing was sent."""
        if attempt + 1 >= len(self.servers):
            return False
        return req.method in IDEMPOTENT_METHODS or never_sent(exc)

    def _resend_after(self, resp: httpx.Response, resends: int) -> float | None:
        """Seconds to wait before sending again because the server said Retry-After (a 429
        or 5xx, apimachinery.retryafter), or None to answer with this reply now."""
        if resends >= retryafter.MAX_RETRIES:
            return None
        server_wait = retryafter.retry_after(resp.status_code, resp.headers)
        return None if server_wait is None else retryafter.delay(resends, server_wait)

    def stream_target(self) -> tuple[str, dict[str, str], ssl.SSLContext | bool]:
        """(server URL, headers, TLS verification): what a WebSocket to the API needs
        (`schooner exec`, `attach`, `cp`), with the same identity as every request."""
        return self.servers[0], dict(self._headers), self._verify

    def _http_options(self, transport: Any) -> dict[str, Any]:
        return {"base_url": self.servers[0], "headers": self._headers, "verify": self._verify,
                "timeout": httpx.Timeout(self.timeout), "http1": True, "http2": False,
                "limits": httpx.Limits(max_connections=100, max_keepalive_connections=20),
                "transport": transport}

    def _timeout(self, req: _Request, stream: bool) -> httpx.Timeout | Any:
        """A stream's timeouts (its own read timeout), a `request_timeout` block's,
        or the client's."""
        override = _REQUEST_TIMEOUT.get()
        if stream:
            return httpx.Timeout(override or self.timeout, read=req.read_timeout)
        return httpx.USE_CLIENT_DEFAULT if override is None else httpx.Timeout(override)

    def _unreachable(self, exc: Exception, index: int) -> errors.Unreachable:
        reason = str(exc) or type(exc).__name__
        return errors.Unreachable(
            f"cannot reach the apiserver at {self.servers[index]}: {reason}")

    def _info(self, resource: Resource) -> ResourceInfo:
        """The resource a name means, from the built-in table."""
        return resource if isinstance(resource, ResourceInfo) else resolve(resource)

    # -- request builders: the only place paths, parameters and bodies are decided --

    def _path(self, res: Resource, name: str, namespace: str | None,
              subresource: str | None = None) -> str:
        info = self._info(res)
        path = info.object_path(name, (namespace or self.namespace) if info.namespaced else None)
        return f"{path}/{subresource}" if subresource else path

    def _req_get(self, res: Resource, name: str, namespace: str | None,
                 subresource: str | None) -> _Request:
        return _Request("GET", self._path(res, name, namespace, subresource))

    def _req_list(self, res: Resource, namespace: str | None, label_selector: str | None,
                  field_selector: str | None, limit: int | None, continue_: str | None,
                  resource_version: str | None) -> _Request:
        return _Request("GET", self._info(res).collection_path(namespace), _params(
            labelSelector=label_selector, fieldSelector=field_selector, limit=limit,
            resourceVersion=resource_version, **{"continue": continue_}))

    def _req_create(self, res: Resource, obj: Object, namespace: str | None) -> _Request:
        info = self._info(res)
        ns = namespace or meta.namespace_of(obj) or self.namespace
        return _Request("POST", info.collection_path(ns if info.namespaced else None), body=obj)

    def _req_update(self, res: Resource, obj: Object, subresource: str | None) -> _Request:
        if not meta.name_of(obj):
            raise ValueError(f"cannot update {self._info(res).group_resource}: no metadata.name")
        path = self._path(res, meta.name_of(obj), meta.namespace_of(obj), subresource)
        return _Request("PUT", path, body=obj)

    def _req_patch(self, res: Resource, name: str, patch: Any, namespace: str | None,
                   patch_type: str, subresource: str | None,
                   field_manager: str | None) -> _Request:
        """A PATCH; server-side apply requires a field manager, so it defaults to `schooner`."""
        if patch_type not in PATCH_CONTENT_TYPES:
            raise ValueError(f"unknown patch type {patch_type!r}: "
                             f"expected one of {', '.join(PATCH_CONTENT_TYPES)}")
        if patch_type == "apply" and not field_manager:
            field_manager = "schooner"
        return _Request("PATCH", self._path(res, name, namespace, subresource),
                        _params(fieldManager=field_manager), body=patch,
                        content_type=PATCH_CONTENT_TYPES[patch_type])

    def _req_delete(self, res: Resource, name: str, namespace: str | None,
                    propagation_policy: str | None, grace_period_seconds: int | None,
                    preconditions: dict[str, str] | None) -> _Request:
        options: Object = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy is not None:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            options["preconditions"] = preconditions
        return _Request("DELETE", self._path(res, name, namespace), body=options)

    def _req_delete_collection(self, res: Resource, namespace: str | None,
                               label_selector: str | None,
                               field_selector: str | None) -> _Request:
        return _Request("DELETE", self._info(res).collection_path(namespace),
                        _params(labelSelector=label_selector, fieldSelector=field_selector))

    def _req_watch(self, res: Resource, namespace: str | None, resource_version: str | None,
                   label_selector: str | None, field_selector: str | None,
                   allow_bookmarks: bool, timeout_seconds: int | None) -> _Request:
        """A watch: with bookmarks, silence past `WATCH_IDLE_TIMEOUT` ends it; without,
        the read timeout outlives the server's `timeoutSeconds` (none without)."""
        read = None if timeout_seconds is None else timeout_seconds + self.timeout
        if allow_bookmarks:
            read = self.watch_idle_timeout
        return _Request("GET", self._info(res).collection_path(namespace), _params(
            watch=True, resourceVersion=resource_version, labelSelector=label_selector,
            fieldSelector=field_selector, allowWatchBookmarks=allow_bookmarks,
            timeoutSeconds=timeout_seconds), read_timeout=read)

    def _req_bind(self, name: str, node_name: str, namespace: str) -> _Request:
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": name, "namespace": namespace},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        return _Request("POST", self._path("pods", name, namespace, "binding"), body=binding)

    def _req_logs(self, name: str, namespace: str, container: str | None, follow: bool,
                  tail_lines: int | None, timestamps: bool) -> _Request:
        return _Request("GET", self._path("pods", name, namespace, "log"), _params(
            container=container, follow=follow, tailLines=tail_lines, timestamps=timestamps),
            headers={"Accept": "text/plain, */*"},
            read_timeout=None if follow else self.timeout)

    @staticmethod
    def _req_raw(method: str, path: str, params: dict[str, Any] | None, json: Any,
                 content: bytes | None, headers: dict[str, str] | None) -> _Request:
        """A request by path; a query in the path is kept and merged with `params`."""
        path, _, query = path.partition("?")
        merged = {**httpx.QueryParams(query), **_params(**(params or {}))}
        return _Request(method.upper(), path, merged, body=json, content=content,
                        headers=dict(headers or {}))


class Client(_BaseClient):
    """Blocking client over one `httpx.Client` pool; for the CLI and scripts."""

    def __init__(self, server: str | Sequence[str], *, token: str | None = None,
                 ca_data: bytes | None = None, insecure: bool = False, timeout: float = 30.0,
                 namespace: str = "default",
                 transport: httpx.BaseTransport | None = None,
                 client_cert: tuple[bytes, bytes] | None = None) -> None:
        super().__init__(server, token=token, ca_data=ca_data, insecure=insecure,
                         timeout=timeout, namespace=namespace, client_cert=client_cert)
        self._http = httpx.Client(**self._http_options(transport))
        self._discovered: builtins.list[ResourceInfo] | None = None

    def close(self) -> None:
        self._http.close()

    def _info(self, resource: Resource) -> ResourceInfo:
        """The built-in table first, then what the server's discovery serves (read once)."""
        if isinstance(resource, ResourceInfo):
            return resource
        try:
            return resolve(resource)
        except UnknownResourceError:
            return resolve(resource, self.discover())

    def resolve(self, name: str) -> ResourceInfo:
        """What a user types (`po`, `deploy`, `priorityclasses`) as a served resource."""
        return self._info(name)

    def discover(self) -> builtins.list[ResourceInfo]:
        """Every resource the server serves, from its legacy discovery documents."""
        if self._discovered is None:
            lists = [_decode(self.request("GET", "/api/v1"))]
            for group in _decode(self.request("GET", "/apis")).get("groups") or []:
                for version in group.get("versions") or []:
                    lists.append(_decode(self.request("GET", f"/apis/{version['groupVersion']}")))
            self._discovered = [r for rl in lists for r in from_discovery(rl)]
        return self._discovered

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(self, req: _Request) -> httpx.Response:
        _, resp = self._attempt(req, stream=False)
        return resp

    def _attempt(self, req: _Request, *, stream: bool) -> tuple[int, httpx.Response]:
        """Send to the current URL, failing over as `_retryable` allows and sending again
        when the server asks with Retry-After (`_resend_after`); the index used."""
        attempt = resends = 0
        while True:
            index = self._current
            timeout = self._timeout(req, stream)
            request = self._http.build_request(req.method, self._url(index, req.path),
                                               timeout=timeout, **req.send_args())
            try:
                resp = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                self._failed(index)
                if not self._retryable(req, exc, attempt):
                    raise self._unreachable(exc, index) from exc
                attempt += 1
                continue
            if stream and not resp.is_success:
                resp.read()
                resp.close()
            wait = self._resend_after(resp, resends)
            if wait is not None:
                time.sleep(wait)
                resends += 1
                continue
            _check(resp)
            return index, resp

    @contextmanager
    def _stream(self, req: _Request) -> Iterator[httpx.Response]:
        """A streamed reply; transport errors while reading it also become Unreachable."""
        index, resp = self._attempt(req, stream=True)
        try:
            yield resp
        except httpx.TransportError as exc:
            self._failed(index)
            raise self._unreachable(exc, index) from exc
        finally:
            resp.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, content: bytes | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        """Any request by path (discovery, /version, /healthz); raises on non-2xx."""
        return self._send(self._req_raw(method, path, params, json, content, headers))

    def get(self, resource: Resource, name: str, namespace: str | None = None, *,
            subresource: str | None = None) -> Object:
        return _decode(self._send(self._req_get(resource, name, namespace, subresource)))

    def list(self, resource: Resource, namespace: str | None = None, *,
             label_selector: str | None = None, field_selector: str | None = None,
             limit: int | None = None, continue_: str | None = None,
             resource_version: str | None = None) -> Object:
        req = self._req_list(resource, namespace, label_selector, field_selector, limit,
                             continue_, resource_version)
        return _as_list(_decode(self._send(req)))

    def list_all(self, resource: Resource, namespace: str | None = None, *,
                 label_selector: str | None = None, field_selector: str | None = None,
                 page_size: int = 500) -> tuple[builtins.list[Object], str]:
        """Every page (following `continue`, as client-go's pager does) and the list RV."""
        items: list[Object] = []
        rv, token = "", None
        while True:
            page = self.list(resource, namespace, label_selector=label_selector,
                             field_selector=field_selector, limit=page_size, continue_=token)
            items.extend(page["items"])
            rv = rv or meta.metadata(page).get("resourceVersion", "")
            token = meta.metadata(page).get("continue")
            if not token:
                return items, rv

    def create(self, resource: Resource, obj: Object, namespace: str | None = None) -> Object:
        return _decode(self._send(self._req_create(resource, obj, namespace)))

    def update(self, resource: Resource, obj: Object, *,
               subresource: str | None = None) -> Object:
        return _decode(self._send(self._req_update(resource, obj, subresource)))

    def update_status(self, resource: Resource, obj: Object) -> Object:
        return self.update(resource, obj, subresource="status")

    def patch(self, resource: Resource, name: str, patch: Any, namespace: str | None = None, *,
              patch_type: str = "merge", subresource: str | None = None,
              field_manager: str | None = None) -> Object:
        req = self._req_patch(resource, name, patch, namespace, patch_type, subresource,
                              field_manager)
        return _decode(self._send(req))

    def delete(self, resource: Resource, name: str, namespace: str | None = None, *,
               propagation_policy: str | None = None, grace_period_seconds: int | None = None,
               preconditions: dict[str, str] | None = None) -> Object:
        req = self._req_delete(resource, name, namespace, propagation_policy,
                               grace_period_seconds, preconditions)
        return _decode(self._send(req))

    def delete_collection(self, resource: Resource, namespace: str | None = None, *,
                          label_selector: str | None = None,
                          field_selector: str | None = None) -> Object:
        req = self._req_delete_collection(resource, namespace, label_selector, field_selector)
        return _decode(self._send(req))

    def watch(self, resource: Resource, namespace: str | None = None, *,
              resource_version: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None, allow_bookmarks: bool = False,
              timeout_seconds: int | None = None) -> Iterator[WatchEvent]:
        """Events until the server ends the stream; ERROR events are yielded, not raised.

        With several URLs a stream cut mid-way re-opens on the next one from the last
        resourceVersion delivered (`_Stream.resumable` says when)."""
        where = _Stream(resource_version)
        while True:
            req = self._req_watch(resource, namespace, where.rv, label_selector,
                                  field_selector, allow_bookmarks, timeout_seconds)
            opened = False
            try:
                with self._stream(req) as resp:
                    opened = True
                    for line in resp.iter_lines():
                        if event := _parse_event(line):
                            where.rv, where.failures = _event_rv(event, where.rv), 0
                            yield event
                return
            except errors.Unreachable:
                if not opened or not where.resumable(len(self.servers)):
                    raise

    def bind(self, name: str, node_name: str, namespace: str) -> None:
        """POST a v1 Binding to `pods/{name}/binding`, as kube-scheduler's binder does."""
        self._send(self._req_bind(name, node_name, namespace))

    def logs(self, name: str, namespace: str, *, container: str | None = None,
             follow: bool = False, tail_lines: int | None = None,
             timestamps: bool = False) -> Iterator[str]:
        """A pod's log lines; with follow, until the container stops or the caller stops."""
        req = self._req_logs(name, namespace, container, follow, tail_lines, timestamps)
        with self._stream(req) as resp:
            yield from resp.iter_lines()


class AsyncClient(_BaseClient):
    """Asyncio client over one `httpx.AsyncClient` pool; the same methods as `Client`.

    Iterate `watch` and `logs` inside `contextlib.aclosing(...)` when you may stop early,
    so the stream is closed at once rather than when the generator is collected.
    """

    def __init__(self, server: str | Sequence[str], *, token: str | None = None,
                 ca_data: bytes | None = None, insecure: bool = False, timeout: float = 30.0,
                 namespace: str = "default",
                 transport: httpx.AsyncBaseTransport | None = None,
                 client_cert: tuple[bytes, bytes] | None = None) -> None:
        super().__init__(server, token=token, ca_data=ca_data, insecure=insecure,
                         timeout=timeout, namespace=namespace, client_cert=client_cert)
        options = self._http_options(transport)
        if transport is None:
            options["transport"] = aiohttp_transport(self._verify, options["limits"])
        self._http = httpx.AsyncClient(**options)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _send(self, req: _Request) -> httpx.Response:
        _, resp = await self._attempt(req, stream=False)
        return resp

    async def _attempt(self, req: _Request, *, stream: bool) -> tuple[int, httpx.Response]:
        """Send to the current URL, failing over as `_retryable` allows and sending again
        when the server asks with Retry-After (`_resend_after`); the index used."""
        attempt = resends = 0
        while True:
            index = self._current
            timeout = self._timeout(req, stream)
            request = self._http.build_request(req.method, self._url(index, req.path),
                                               timeout=timeout, **req.send_args())
            try:
                resp = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                self._failed(index)
                if not self._retryable(req, exc, attempt):
                    raise self._unreachable(exc, index) from exc
                attempt += 1
                continue
            if stream and not resp.is_success:
                await resp.aread()
                await resp.aclose()
            wait = self._resend_after(resp, resends)
            if wait is not None:
                await asyncio.sleep(wait)
                resends += 1
                continue
            _check(resp)
            return index, resp

    @asynccontextmanager
    async def _stream(self, req: _Request) -> AsyncIterator[httpx.Response]:
        index, resp = await self._attempt(req, stream=True)
        try:
            yield resp
        except httpx.TransportError as exc:
            self._failed(index)
            raise self._unreachable(exc, index) from exc
        finally:
            await resp.aclose()

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                      json: Any = None, content: bytes | None = None,
                      headers: dict[str, str] | None = None) -> httpx.Response:
        return await self._send(self._req_raw(method, path, params, json, content, headers))

    async def get(self, resource: Resource, name: str, namespace: str | None = None, *,
                  subresource: str | None = None) -> Object:
        return _decode(await self._send(self._req_get(resource, name, namespace, subresource)))

    async def list(self, resource: Resource, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, continue_: str | None = None,
                   resource_version: str | None = None) -> Object:
        req = self._req_list(resource, namespace, label_selector, field_selector, limit,
                             continue_, resource_version)
        return _as_list(_decode(await self._send(req)))

    async def list_all(self, resource: Resource, namespace: str | None = None, *,
                       label_selector: str | None = None, field_selector: str | None = None,
                       page_size: int = 500) -> tuple[builtins.list[Object], str]:
        items: list[Object] = []
        rv, token = "", None
        while True:
            page = await self.list(resource, namespace, label_selector=label_selector,
                                   field_selector=field_selector, limit=page_size,
                                   continue_=token)
            items.extend(page["items"])
            rv = rv or meta.metadata(page).get("resourceVersion", "")
            token = meta.metadata(page).get("continue")
            if not token:
                return items, rv

    async def create(self, resource: Resource, obj: Object,
                     namespace: str | None = None) -> Object:
        return _decode(await self._send(self._req_create(resource, obj, namespace)))

    async def update(self, resource: Resource, obj: Object, *,
                     subresource: str | None = None) -> Object:
        return _decode(await self._send(self._req_update(resource, obj, subresource)))

    async def update_status(self, resource: Resource, obj: Object) -> Object:
        return await self.update(resource, obj, subresource="status")

    async def patch(self, resource: Resource, name: str, patch: Any,
                    namespace: str | None = None, *, patch_type: str = "merge",
                    subresource: str | None = None, field_manager: str | None = None) -> Object:
        req = self._req_patch(resource, name, patch, namespace, patch_type, subresource,
                              field_manager)
        return _decode(await self._send(req))

    async def delete(self, resource: Resource, name: str, namespace: str | None = None, *,
                     propagation_policy: str | None = None,
                     grace_period_seconds: int | None = None,
                     preconditions: dict[str, str] | None = None) -> Object:
        req = self._req_delete(resource, name, namespace, propagation_policy,
                               grace_period_seconds, preconditions)
        return _decode(await self._send(req))

    async def delete_collection(self, resource: Resource, namespace: str | None = None, *,
                                label_selector: str | None = None,
                                field_selector: str | None = None) -> Object:
        req = self._req_delete_collection(resource, namespace, label_selector, field_selector)
        return _decode(await self._send(req))

    async def watch(self, resource: Resource, namespace: str | None = None, *,
                    resource_version: str | None = None, label_selector: str | None = None,
                    field_selector: str | None = None, allow_bookmarks: bool = False,
                    timeout_seconds: int | None = None) -> AsyncGenerator[WatchEvent, None]:
        """Events until the server ends the stream; resumes on another URL as `Client.watch`."""
        where = _Stream(resource_version)
        while True:
            req = self._req_watch(resource, namespace, where.rv, label_selector,
                                  field_selector, allow_bookmarks, timeout_seconds)
            opened = False
            try:
                async with self._stream(req) as resp:
                    opened = True
                    async for line in resp.aiter_lines():
                        if event := _parse_event(line):
                            where.rv, where.failures = _event_rv(event, where.rv), 0
                            yield event
                return
            except errors.Unreachable:
                if not opened or not where.resumable(len(self.servers)):
                    raise

    async def bind(self, name: str, node_name: str, namespace: str) -> None:
        await self._send(self._req_bind(name, node_name, namespace))

    async def logs(self, name: str, namespace: str, *, container: str | None = None,
                   follow: bool = False, tail_lines: int | None = None,
                   timestamps: bool = False) -> AsyncGenerator[str, None]:
        req = self._req_logs(name, namespace, container, follow, tail_lines, timestamps)
        async with self._stream(req) as resp:
            async for line in resp.aiter_lines():
                yield line
