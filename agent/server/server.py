"""The agent's own HTTP server: container logs, exec and health (the kubelet's port 10250).

* `GET /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=&timestamps=&previous=
  &sinceSeconds=&sinceTime=&limitBytes=` streams the container's output as text/plain
  from Docker's logs (`logoptions` reads and checks the query), cut after `limitBytes`
  as the kubelet does; with `follow` it streams until the container stops or the
  client goes away. A container that cannot answer is a 400
  with the kubelet's words (not yet started, no previous instance), a pod the agent
  does not know a 404. The
  apiserver proxies `pods/{name}/log` here, as itself (its client certificate).
* `POST /exec/{namespace}/{pod}/{container}` with `{"command": [...]}` runs a
  command to completion: `{"exitCode": n, "output": "..."}` (non-interactive). At
  most `API_EXECS_IN_FLIGHT` at once (more get a 429), the output capped by the
  runtime (`EXEC_OUTPUT_LIMIT`), and the command killed if the caller hangs up.
* `GET /exec/{namespace}/{pod}/{container}?command=...&stdin=&stdout=&stderr=&tty=` with a
  WebSocket upgrade: an interactive exec in Kubernetes' channel protocol (`streaming`).
* `GET /portForward/{namespace}/{pod}?ports=...`, a WebSocket: the pod's ports, relayed
  (`agent.server.portforward`, the kubelet's channel-pair protocol).
* `GET /healthz`: `ok`, without authentication.
It serves TLS only, with the node's serving certificate (`--tls-cert-file`), as the
kubelet's port 10250. Everything but /healthz needs a caller the agent can name
(`agent.server.auth`: a client certificate of `--client-ca-file`, or a bearer
token the apiserver vouches for in a TokenReview; else 401; an unknown token past
its lookup rate limit is a 429 with Retry-After) and may do the request
(`agent.server.authz`: a SubjectAccessReview on `nodes/proxy` and its siblings;
else 403 in the kubelet's words). /healthz answers anyone (the kubelet's is on a
port of its own, 10248), so supervisors need no credentials. It runs as a
uvicorn server inside the agent's own event loop, on a socket bound before it
starts, so a taken port is a clear error at start-up and signals stay with the
agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from agent.runtime.container import ContainerRecord, ContainerRuntimeError
from agent.runtime.protocol import ContainerRuntime
from agent.server.auth import Authenticator, Verdict
from agent.server.authz import Decision, SubjectAccessReviewer, request_attributes
from agent.server.logoptions import InvalidLogOptions, parse
from agent.server.portforward import PodAddress
from agent.server.portforward import serve as serve_port_forward
from agent.server.streaming import serve_attach, serve_exec
from agent.server.unavailable import Unavailable
from apimachinery.tlspeer import (
    ClientCertHttpToolsProtocol,
    ClientCertWebSocketProtocol,
    peer_certificate,
)

log = logging.getLogger(__name__)
# API execs at once: half the runtime's exec slots, so probes and hooks always find one
API_EXECS_IN_FLIGHT = 4
DISCONNECT_POLL = 1.0  # seconds between checks that an exec's caller is still there
# Interactive sessions (exec, attach, port-forward WebSockets) at once on this node: each
# holds an engine exec or pod connections and two relays; past it a 429, so a flood of
# sessions cannot take the agent's memory or the engine's exec slots from its pods.
STREAM_SESSIONS = 64


# (namespace, pod, container, previous) -> the container instance, or why there is none
ContainerFinder = Callable[[str, str, str, bool], Awaitable[ContainerRecord | Unavailable]]


async def capped(chunks: AsyncIterator[bytes], limit: int | None) -> AsyncIterator[bytes]:
    """The chunks, cut after `limit` bytes in all (the kubelet's limitBytes); then stop,
    even when following."""
    left = limit
    async for chunk in chunks:
        if left is not None:
            chunk = chunk[:left]
            left -= len(chunk)
        if chunk:
            yield chunk
        if left is not None and left <= 0:
            return


class ClientGone(Exception):
    """The caller hung up while its exec ran (the exec has been killed)."""


async def _exec_while_connected(request: Request, runtime: ContainerRuntime, container_id: str,
                                command: list[str]) -> tuple[int, str]:
    """Run the exec, cancelling it (the runtime then kills the command) if the client
    goes away: a non-interactive exec otherwise holds its slot as long as it runs."""
    running = asyncio.ensure_future(runtime.exec(container_id, command))
    try:
        while True:
            done, _ = await asyncio.wait({running}, timeout=DISCONNECT_POLL)
            if done:
                return running.result()
            if await request.is_disconnected():
                raise ClientGone()
    finally:
        if not running.done():
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError, ContainerRuntimeError):
                await running


def _text(message: str, code: int) -> Response:
    return PlainTextResponse(message + "\n", status_code=code)


def create_app(finder: ContainerFinder, runtime: ContainerRuntime, authn: Authenticator,
               authz: SubjectAccessReviewer, node_name: str,
               pod_address: PodAddress | None = None) -> Starlette:
    """The ASGI app; `finder` resolves a pod's container from the agent's cache,
    `pod_address` a running pod's IP (port-forward)."""

    open_streams: set[Any] = set()
    api_execs = asyncio.Semaphore(API_EXECS_IN_FLIGHT)

    async def refused(request: HTTPConnection) -> Response | None:
        """None for a caller who may do the request, else the 401 (or 429, `auth`), or
        the 403 in the kubelet's words (`authz`)."""
        caller = await authn.authenticate(request.headers.get("authorization"),
                                          peer_certificate(request.scope))
        if caller.verdict is Verdict.THROTTLED:
            response = _text("Too many requests with unknown tokens, please try again later",
                             429)
            response.headers["Retry-After"] = "1"
            return response
        if caller.verdict is not Verdict.ALLOWED or caller.user is None:
            return _text("Unauthorized", 401)
        attrs = request_attributes(request.scope.get("method", "GET"), request.url.path,
                                   node_name)
        decision = await authz.authorize(caller.user, attrs)
        if decision is Decision.ALLOWED:
            return None
        if decision is Decision.ERROR:
            return _text(f"Authorization error ({attrs.describe(caller.user)})", 500)
        return _text(f"Forbidden ({attrs.describe(caller.user)})", 403)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def container_logs(request: Request) -> Response:
        if (refusal := await refused(request)) is not None:
            return refusal
        p = request.path_params
        try:
            options = parse(request.query_params, datetime.now(UTC))
        except InvalidLogOptions as exc:
            return _text(str(exc), 400)
        found = await finder(p["namespace"], p["pod"], p["container"], options.previous)
        if isinstance(found, Unavailable):
            return _text(found.message, found.code)
        stream = runtime.stream_logs(found.id, follow=options.follow, tail=options.tail,
                                     timestamps=options.timestamps, since=options.since)
        open_streams.add(stream)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in capped(stream.chunks(), options.limit_bytes):
                    yield chunk
            except ContainerRuntimeError as exc:
                log.debug("component=agent log stream ended error=%s", exc)
            except Exception as exc:  # the engine went away mid-stream
                log.debug("component=agent log stream broke error=%r", exc)
            finally:
                stream.close()
                open_streams.discard(stream)
        return StreamingResponse(body(), media_type="text/plain; charset=utf-8")

    async def exec_command(request: Request) -> Response:
        if (refusal := await refused(request)) is not None:
            return refusal
        try:
            command = orjson.loads(await request.body()).get("command")
        except (orjson.JSONDecodeError, AttributeError):
            command = None
        if not isinstance(command, list) or not command or not all(
                isinstance(c, str) for c in command):
            return _text('the body must be {"command": ["...", ...]}', 400)
        p = request.path_params
        found = await finder(p["namespace"], p["pod"], p["container"], False)
        if isinstance(found, Unavailable):
            return _text(found.message, found.code)
        if not found.running:
            return _text(f'container "{p["container"]}" is not running', 400)
        if api_execs.locked():
            return _text("too many execs in flight on this node", 429)
        async with api_execs:
            try:
                code, output = await _exec_while_connected(request, runtime, found.id, command)
            except ClientGone:
                return _text("client gone", 499)
            except ContainerRuntimeError as exc:
                return _text(f"exec failed: {exc}", 500)
        return Response(orjson.dumps({"exitCode": code, "output": output}),
                        media_type="application/json")

    sessions = [0]  # interactive sessions now open

    def session(serve: Callable[[WebSocket], Awaitable[None]]
                ) -> Callable[[WebSocket], Awaitable[None]]:
        """`serve`, counted against STREAM_SESSIONS (a 429 past it)."""
        async def counted(ws: WebSocket) -> None:
            if sessions[0] >= STREAM_SESSIONS:
                await ws.send_denial_response(_text(
                    f"too many interactive sessions on this node ({STREAM_SESSIONS})", 429))
                return
            sessions[0] += 1
            try:
                await serve(ws)
            finally:
                sessions[0] -= 1
        return counted

    async def port_forward(ws: WebSocket) -> None:
        if pod_address is None:
            await ws.send_denial_response(_text("port-forward is not served here", 404))
            return
        await serve_port_forward(ws, refused, pod_address)

    app = Starlette(routes=[
        Route("/healthz", healthz),
        WebSocketRoute("/portForward/{namespace}/{pod}", session(port_forward)),
        Route("/containerLogs/{namespace}/{pod}/{container}", container_logs),
        Route("/exec/{namespace}/{pod}/{container}", exec_command, methods=["POST"]),
        WebSocketRoute("/exec/{namespace}/{pod}/{container}",
                       session(lambda ws: serve_exec(ws, runtime, finder, refused))),
        WebSocketRoute("/attach/{namespace}/{pod}/{container}",
                       session(lambda ws: serve_attach(ws, runtime, finder, refused))),
    ])
    app.state.log_streams = open_streams  # closed on shutdown, so followers end cleanly
    return app


class _Server(uvicorn.Server):
    """uvicorn without its signal handling: the agent owns SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class ServingTLS:
    """The agent's TLS: its serving certificate and key, and the CA whose client
    certificates authenticate (the kubelet's --tls-cert-file, --tls-private-key-file,
    --client-ca-file); no CA: callers present tokens only."""

    cert_file: str
    key_file: str
    client_ca_file: str | None = None


class AgentServer:
    def __init__(self, app: Starlette, host: str, port: int, tls: ServingTLS) -> None:
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))  # fail now, clearly, if the port is taken
        self.port = int(self._sock.getsockname()[1])
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off",
            http=ClientCertHttpToolsProtocol, ws=ClientCertWebSocketProtocol,
            timeout_graceful_shutdown=1,
            ssl_certfile=tls.cert_file, ssl_keyfile=tls.key_file,
            # A caller may send a certificate; one it sends must verify (tlspeer.py).
            ssl_cert_reqs=ssl.CERT_OPTIONAL if tls.client_ca_file else ssl.CERT_NONE,
            ssl_ca_certs=tls.client_ca_file)
        config.load()  # an unreadable certificate or key fails the start, not the first call
        self._server = _Server(config)
        self._app = app

    async def serve(self) -> None:
        await self._server.serve(sockets=[self._sock])

    def stop(self) -> None:
        """End followed log streams (their responses complete), then shut down."""
        for stream in list(self._app.state.log_streams):
            stream.close()
        self._server.should_exit = True
