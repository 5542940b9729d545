"""`pods/{name}/portforward`: a pod's ports, over WebSocket, relayed through its node's agent.

Two client forms, told apart by the WebSocket sub-protocol the client offers:
* `SPDY/3.1+portforward.k8s.io` (kubectl v1.30+): SPDY/3.1 inside binary messages, a
  data and an error stream per connection (`streamType`, `port`, `requestID`
  headers). Echoing that sub-protocol is what keeps kubectl on WebSockets; the inner
  protocol is then `portforward.k8s.io` (the prefix stripped, no header negotiation).
* `v4.channel.k8s.io` / `portforward.k8s.io` with `?ports=` (the kubelet's own form,
  which the official Python client speaks): relayed to the agent message for message.
A plain SPDY upgrade (kubectl's fallback) is not served: an HTTP request here answers
400, as Kubernetes answers a portforward without an upgrade.

Towards the agent it is always the channel-pair form, over the apiserver's TLS client
identity (`kubeletclient.py`): the SPDY relay opens one agent WebSocket per forwarded
connection (`?ports=P`), so connections start, fail and end apart, and the agent
never learns SPDY. The user was authorized here on `pods/portforward` with the verb
of the request's method as Kubernetes v1.32 derives it (a WebSocket is a GET: `get`;
SPDY's POST would be `create`); the caller's credentials stop here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlencode

import orjson
import websockets
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection

from apimachinery import errors
from apimachinery import portforward as pf
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apimachinery.tlspeer import nodelay, peer_certificate
from apiserver import authorizer
from apiserver.auth import Authenticator
from apiserver.kubeletclient import KubeletClientConfig, agent_url
from apiserver.registry import Registry
from apiserver.spdy.frames import GoAway
from apiserver.spdy.session import Session, Stream, StreamReset

log = logging.getLogger(__name__)

AGENT_OPEN_TIMEOUT = 10.0
POD_CHECK_INTERVAL = 1.0  # seconds between checks that the forwarded pod still runs


async def serve(ws: WebSocket, registry: Registry, authenticator: Authenticator,
                authz: authorizer.Authorizer, config: KubeletClientConfig) -> None:
    """One portforward upgrade: who, may they, which pod, which form; then the relay."""
    pods = registry.kinds.lookup("", "pods").resource
    namespace, name = ws.path_params["namespace"], ws.path_params["name"]
    offered = list(ws.scope.get("subprotocols") or [])
    try:
        user = await authenticator.authenticate(ws.headers.get("authorization"),
                                                peer_certificate(ws.scope))
        await authorizer.check(authz, authorizer.Attributes(
            user, "get", namespace, "", "v1", "pods", "portforward", name))
        pod = await registry.get(pods, namespace, name)
        url = await agent_target(registry, pod, config)
        ports: list[int] = []
        if pf.SPDY_TUNNEL_PROTOCOL in offered:
            protocol = pf.SPDY_TUNNEL_PROTOCOL
        else:
            protocol = next((p for p in offered if p in pf.CHANNEL_PROTOCOLS), "")
            if not protocol:
                raise errors.BadRequest(
                    "unable to upgrade: none of the offered sub-protocols is served "
                    f"(offer {pf.SPDY_TUNNEL_PROTOCOL} or {pf.CHANNEL_PROTOCOLS[0]})")
            try:
                ports = pf.parse_ports(ws.query_params.getlist("ports"))
            except pf.InvalidPorts as exc:
                raise errors.BadRequest(str(exc)) from None
            agent = await _open_or_503(url, ports, config)
    except errors.APIError as exc:
        await ws.send_denial_response(denial(exc))
        return
    await ws.accept(subprotocol=protocol)
    log.info("component=apiserver port-forward user=%s pod=%s/%s protocol=%s", user.name,
             namespace, name, protocol)
    stopped = watch_pod(registry, pods, pod)
    try:
        if protocol == pf.SPDY_TUNNEL_PROTOCOL:
            relay = SpdyRelay(ws, url, config, f"{namespace}/{name}")
            await _first_done(relay.run(), relay.fail_when(stopped))
        else:
            try:
                await _first_done(relay_channels(ws, agent), stopped)
            finally:
                await agent.close()
    finally:
        with contextlib.suppress(Exception):
            await ws.close(1000)


async def watch_pod(registry: Registry, pods: ResourceInfo, pod: Object) -> str:
    """Return (with the reason) once the pod is gone, replaced or no longer running: the
    forward then ends, so a client never waits on a pod that cannot answer."""
    meta = pod["metadata"]
    while True:
        await asyncio.sleep(POD_CHECK_INTERVAL)
        try:
            now = await registry.get(pods, meta["namespace"], meta["name"])
        except errors.NotFound:
            return f"pod {meta['namespace']}/{meta['name']} was deleted"
        except errors.APIError:
            continue  # storage trouble: the pod may well still run
        if now["metadata"].get("uid") != meta.get("uid"):
            return f"pod {meta['namespace']}/{meta['name']} was replaced"
        if (now.get("status") or {}).get("phase") != "Running":
            return f"pod {meta['namespace']}/{meta['name']} is no longer running"


async def _open_or_503(url: str, ports: list[int], config: KubeletClientConfig
                       ) -> ClientConnection:
    try:
        return await open_agent(url, ports, config)
    except websockets.InvalidStatus as exc:
        body = exc.response.body or b""
        raise errors.from_status({"message": body.decode(errors="replace").strip()},
                                 exc.response.status_code) from None
    except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
        raise errors.ServiceUnavailable(f"cannot reach the node agent: {exc}") from None


def denial(exc: errors.APIError) -> Response:
    """A refused upgrade: the error's v1 Status with its code, as an HTTP answer."""
    return Response(orjson.dumps(exc.to_status()), status_code=exc.code,
                    media_type="application/json")


async def agent_target(registry: Registry, pod: Object, config: KubeletClientConfig) -> str:
    """`wss://IP:PORT/portForward/NS/NAME` of the pod's agent (a 400 if not running)."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    if (pod.get("status") or {}).get("phase") != "Running" or not spec.get("nodeName"):
        raise errors.BadRequest(f"pod {meta['name']} is not running")
    node = await registry.get(registry.kinds.lookup("", "nodes").resource, None,
                              spec["nodeName"])
    base = agent_url(node, config).replace("https://", "wss://", 1)
    return f"{base}/portForward/{meta['namespace']}/{meta['name']}"


async def open_agent(url: str, ports: list[int], config: KubeletClientConfig
                     ) -> ClientConnection:
    """The agent's WebSocket for `ports`, as the apiserver itself (its certificate)."""
    query = urlencode([("ports", str(p)) for p in ports])
    connection = await websockets.connect(
        f"{url}?{query}", ssl=_ssl_context(config), subprotocols=[
            websockets.Subprotocol(pf.CHANNEL_PROTOCOLS[0])],
        open_timeout=AGENT_OPEN_TIMEOUT, max_size=None, compression=None,
        ping_interval=None)
    nodelay(connection.transport)
    return connection


@functools.cache
def _ssl_context(config: KubeletClientConfig) -> ssl.SSLContext:
    """One TLS context per configuration: loading the certificate for every forwarded
    connection cost milliseconds each."""
    return config.ssl_context()


async def relay_channels(client: WebSocket, agent: ClientConnection) -> None:
    """The channel-pair form: every message as it is, both ways, until either side ends."""

    async def upstream() -> None:
        while True:
            message = await client.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None and message.get("text") is not None:
                data = message["text"].encode()
            if data:
                await agent.send(data)

    async def downstream() -> None:
        async for message in agent:
            await client.send_bytes(message if isinstance(message, bytes) else
                                    message.encode())

    await _first_done(upstream(), downstream())


async def _first_done(*coros: Coroutine[Any, Any, Any]) -> Any:
    """Run the coroutines until one ends; cancel the others; its result."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        first = done.pop()
        return None if first.cancelled() or first.exception() else first.result()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class SpdyRelay:
    """kubectl's tunnelled SPDY session: pairs each connection's error and data
    streams by requestID and relays the pair through an agent WebSocket of its own."""

    def __init__(self, client: WebSocket, agent_url: str, config: KubeletClientConfig,
                 pod: str) -> None:
        self.client = client
        self.agent_url = agent_url
        self.config = config
        self.pod = pod
        self.session = Session(self._send, self._stream)
        self.pairs: dict[str, dict[str, Stream]] = {}
        self.errors: set[Stream] = set()  # the error streams of connections in progress

    async def _send(self, data: bytes) -> None:
        await self.client.send_bytes(data)

    async def fail_when(self, stopped: Coroutine[Any, Any, str]) -> None:
        """Once `stopped` says why, say it on every connection's error stream (kubectl
        prints it and closes the connection), then end the session."""
        why = await stopped
        log.info("component=apiserver port-forward pod=%s ended: %s", self.pod, why)
        for error in list(self.errors):
            with contextlib.suppress(StreamReset):
                await error.write(why.encode())
                await error.close()
        with contextlib.suppress(StreamReset):
            await self.session.send(GoAway(0))
        self.session.close()

    async def run(self) -> None:
        try:
            while True:
                message = await self.client.receive()
                if message["type"] == "websocket.disconnect":
                    return
                data = message.get("bytes") or (message.get("text") or "").encode()
                await self.session.receive(data)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            self.session.close()
            for task in list(self.session.tasks):
                task.cancel()

    async def _stream(self, stream: Stream) -> None:
        kind = stream.headers.get("streamtype", "")
        request = stream.headers.get("requestid", "")
        if kind not in ("error", "data"):
            await stream.cancel()
            return
        pair = self.pairs.setdefault(request, {})
        pair[kind] = stream
        if len(pair) == 2:
            del self.pairs[request]
            await self._forward(pair["data"], pair["error"])

    async def _forward(self, data: Stream, error: Stream) -> None:
        text = data.headers.get("port", "")
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            await _fail(error, data, f"invalid port {text!r}")
            return
        port = int(text)
        try:
            agent = await open_agent(self.agent_url, [port], self.config)
        except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
            await _fail(error, data, f"error forwarding port {port} to pod {self.pod}: "
                                     f"the node agent cannot be reached: {exc}")
            return
        self.errors.add(error)
        try:
            await _first_done(self._to_agent(data, agent), self._from_agent(agent, data, error))
        finally:
            self.errors.discard(error)
            await agent.close()
            with contextlib.suppress(StreamReset):
                await data.close()
                await error.close()

    @staticmethod
    async def _to_agent(data: Stream, agent: ClientConnection) -> None:
        try:
            while chunk := await data.read():
                await agent.send(pf.frame(0, chunk))
        except StreamReset:
            return
        await asyncio.Future()  # a half-close: keep receiving until the pod's side ends

    @staticmethod
    async def _from_agent(agent: ClientConnection, data: Stream, error: Stream) -> None:
        prefixed = {0: False, 1: False}
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in agent:
                if not isinstance(message, bytes) or not message:
                    continue
                channel, payload = pf.split(message)
                if channel not in prefixed:
                    continue
                if not prefixed[channel]:  # the port the agent names first
                    prefixed[channel], payload = True, payload[2:]
                if payload:
                    await (data if channel == 0 else error).write(payload)


async def _fail(error: Stream, data: Stream, message: str) -> None:
    with contextlib.suppress(StreamReset):
        await error.write(message.encode())
        await error.close()
        await data.close()
