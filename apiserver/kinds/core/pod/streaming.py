"""`pods/{name}/exec` and `attach` over a WebSocket: relayed, message for message, to the
pod's agent.

As kube-apiserver's exec: the options are checked here (PodExecOptions: a command, at
least one stream), the pod must be on a node and not finished, and the request goes
on to the agent of that node (`/exec/{namespace}/{pod}/{container}`, the kubelet's
path) over TLS, with the apiserver's own client certificate: the caller's credentials
stay here (kubeletclient.py). The relay is a second WebSocket, to the agent, in the
sub-protocol the caller chose, so every message (channels 0-4 and v5's 255) passes
through unchanged and the agent alone speaks for the command (docs/architecture.md,
"Exec and attach"). Until both upgrades succeed the caller gets an HTTP answer with a
Status (the agent's 4xx as its own, an agent that cannot be reached a 503), which
kubectl prints as `Error from server (...)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from urllib.parse import urlencode

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from apimachinery import errors, wsstream
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apiserver.kinds.core.pod.nodeproxy import agent_base, container_of
from apiserver.kubeletclient import KubeletClientConfig
from apiserver.registry import Registry

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 10.0  # seconds to reach the agent and have its upgrade
_FINISHED = ("Succeeded", "Failed")


class StreamRelay:
    """Opens the agent's side of an exec and relays the caller's WebSocket to it."""

    def __init__(self, pods: ResourceInfo) -> None:
        self.pods = pods
        self._contexts: dict[KubeletClientConfig, ssl.SSLContext] = {}

    def _ssl(self, config: KubeletClientConfig) -> ssl.SSLContext:
        context = self._contexts.get(config)
        if context is None:
            context = self._contexts[config] = config.ssl_context()
        return context

    async def relay(self, websocket: WebSocket, registry: Registry,
                    config: KubeletClientConfig, namespace: str, name: str, what: str) -> None:
        """Relay an `exec` or an `attach` (no command: the container's own stdin)."""
        protocol = wsstream.choose_protocol(websocket.scope.get("subprotocols") or [])
        query: dict[str, list[str]] = {}
        for key, value in websocket.query_params.multi_items():
            query.setdefault(key, []).append(value)
        try:
            options = wsstream.parse_options(query, needs_command=what == "exec")
        except wsstream.InvalidOptions as exc:
            raise errors.BadRequest(str(exc)) from None
        if protocol is None:
            raise errors.BadRequest(
                f"the {what} stream needs a WebSocket sub-protocol of "
                f"{', '.join(wsstream.PROTOCOLS)} (SPDY is not served)")
        pod = await registry.get(self.pods, namespace, name)
        container = container_of(pod, options.container)
        _check_running(pod, what)
        base = await agent_base(registry, pod, config)
        pairs = [p for p in wsstream.query_of(options) if p[0] != "container"]
        url = (f"wss{base.removeprefix('https')}/{what}/{namespace}/{name}/{container}?"
               f"{urlencode(pairs)}")
        agent = await self._dial(url, protocol, config)
        try:
            await websocket.accept(subprotocol=protocol)
            await _relay(websocket, agent)
        finally:
            await agent.close()

    async def _dial(self, url: str, protocol: str, config: KubeletClientConfig
                    ) -> ClientConnection:
        try:
            return await connect(url, ssl=self._ssl(config), subprotocols=[protocol],  # type: ignore[list-item]
                                 open_timeout=CONNECT_TIMEOUT, max_size=None,
                                 compression=None, ping_interval=None)
        except InvalidStatus as exc:
            response = exc.response
            raise errors.from_status(_status_or_text(bytes(response.body or b"")),
                                     response.status_code) from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise errors.ServiceUnavailable(f"cannot reach the node agent: {exc}") from exc


def kubelet_config(websocket: WebSocket) -> KubeletClientConfig:
    """The apiserver's TLS towards agents, as the app holds it (nodeproxy's, for HTTP)."""
    config = getattr(websocket.app.state, "kubelet_client", None)
    return config if isinstance(config, KubeletClientConfig) else KubeletClientConfig()


def _check_running(pod: Object, what: str) -> None:
    """Kubernetes refuses an exec (an attach) into a pod that has finished, naming its
    phase."""
    phase = (pod.get("status") or {}).get("phase")
    if phase in _FINISHED:
        raise errors.BadRequest(f"cannot {what} into a container in a completed pod; current "
                                f"phase is {phase}")


def _status_or_text(body: bytes) -> Object:
    try:
        parsed = orjson.loads(body)
        if isinstance(parsed, dict):
            return parsed
    except orjson.JSONDecodeError:
        pass
    return {"message": body.decode(errors="replace").strip()[:500]}


async def _relay(websocket: WebSocket, agent: ClientConnection) -> None:
    """Both directions at once; when either side ends, the other is closed."""
    upstream = asyncio.ensure_future(_to_agent(websocket, agent))
    downstream = asyncio.ensure_future(_to_caller(websocket, agent))
    try:
        await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (upstream, downstream):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await websocket.close()


async def _to_agent(websocket: WebSocket, agent: ClientConnection) -> None:
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = wsstream.message_bytes(message)
            if data is not None:
                await agent.send(data)
    except (WebSocketDisconnect, ConnectionClosed):
        return


async def _to_caller(websocket: WebSocket, agent: ClientConnection) -> None:
    try:
        async for message in agent:
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
    except ConnectionClosed:
        return
