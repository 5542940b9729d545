"""`pods/{name}/exec`, `attach` and `portforward` over a WebSocket: relayed, message for
message, to the pod's agent.

As kube-apiserver's connect subresources: the options are checked here (PodExecOptions:
a command, at least one stream; PodPortForwardOptions: the ports), the pod must be on a
node (and running, for a port-forward; not finished, for an exec), and the request goes
on to the agent of that node (`/exec/{namespace}/{pod}/{container}`, `/attach/...`,
`/portForward/{namespace}/{pod}`, the kubelet's paths) over TLS, with the apiserver's
own client certificate: the caller's credentials stay here (kubeletclient.py).

The relay is a second WebSocket, to the agent, in the sub-protocol the caller chose, so
every message passes through unchanged and the agent alone speaks the protocol: exec's
channels 0-4 and v5's 255, kubectl's tunnelled SPDY session, the Python client's
channel pairs (docs/architecture.md, "Exec and attach", "Port-forward"). One agent
WebSocket per caller WebSocket: a port-forward's every connection rides the session
it belongs to, with no handshake of its own. Until both upgrades succeed the caller
gets an HTTP answer with a Status (the agent's 4xx as its own, an agent that cannot be
reached a 503), which kubectl prints as `Error from server (...)`. A node that stops
answering is noticed by WebSocket pings, and the caller's stream then ends.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from urllib.parse import urlencode

from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from apimachinery import errors, wsstream
from apimachinery import portforward as pf
from apimachinery.meta import Object
from apimachinery.racing import first_done
from apimachinery.resources import ResourceInfo
from apiserver.kind import Upgrade
from apiserver.kinds.core.pod.nodeproxy import agent_base, container_of, status_or_text
from apiserver.kubeletclient import KubeletClientConfig

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 10.0  # seconds to reach the agent and have its upgrade
PING_INTERVAL = PING_TIMEOUT = 15.0  # a silent agent is given up after about 30 s
CLOSE_TIMEOUT = 2.0  # then its closing handshake is waited for this long, not websockets' 10 s
_FINISHED = ("Succeeded", "Failed")


class AgentStreams:
    """Opens the agent's side of an exec, attach or port-forward and relays the caller's
    WebSocket to it."""

    def __init__(self, pods: ResourceInfo) -> None:
        self.pods = pods
        self._contexts: dict[KubeletClientConfig, ssl.SSLContext] = {}

    def _ssl(self, config: KubeletClientConfig) -> ssl.SSLContext:
        """One TLS context per configuration: loading the certificate for every stream
        cost milliseconds each."""
        context = self._contexts.get(config)
        if context is None:
            context = self._contexts[config] = config.ssl_context()
        return context

    async def exec(self, websocket: WebSocket, call: Upgrade, what: str) -> None:
        """Relay an `exec` or an `attach` (no command: the container's own stdin)."""
        registry, namespace, name = call.registry, call.info.namespace or "", call.info.name or ""
        protocol = wsstream.choose_protocol(websocket.scope.get("subprotocols") or [])
        try:
            options = wsstream.parse_options(_query(websocket), needs_command=what == "exec")
        except wsstream.InvalidOptions as exc:
            raise errors.BadRequest(str(exc)) from None
        if protocol is None:
            raise errors.BadRequest(
                f"the {what} stream needs a WebSocket sub-protocol of "
                f"{', '.join(wsstream.PROTOCOLS)} (SPDY is not served)")
        pod = await registry.get(self.pods, namespace, name)
        container = container_of(pod, options.container)
        _check_not_finished(pod, what)
        config = kubelet_config(websocket)
        base = await agent_base(registry, pod, config)
        pairs = [p for p in wsstream.query_of(options) if p[0] != "container"]
        await self._relay(websocket, call, config, protocol,
                          f"{base}/{what}/{namespace}/{name}/{container}?{urlencode(pairs)}")

    async def port_forward(self, websocket: WebSocket, call: Upgrade) -> None:
        """Relay a port-forward: kubectl's tunnelled SPDY, or the channel-pair form."""
        registry, namespace, name = call.registry, call.info.namespace or "", call.info.name or ""
        offered = list(websocket.scope.get("subprotocols") or [])
        query = ""
        if pf.SPDY_TUNNEL_PROTOCOL in offered:
            protocol = pf.SPDY_TUNNEL_PROTOCOL
        else:
            protocol = next((p for p in offered if p in pf.CHANNEL_PROTOCOLS), "")
            if not protocol:
                raise errors.BadRequest(
                    "unable to upgrade: none of the offered sub-protocols is served "
                    f"(offer {pf.SPDY_TUNNEL_PROTOCOL} or {pf.CHANNEL_PROTOCOLS[0]})")
            try:
                ports = pf.parse_ports(websocket.query_params.getlist("ports"))
            except pf.InvalidPorts as exc:
                raise errors.BadRequest(str(exc)) from None
            query = "?" + urlencode([("ports", str(p)) for p in ports])
        pod = await registry.get(self.pods, namespace, name)
        if (pod.get("status") or {}).get("phase") != "Running":
            raise errors.BadRequest(f"pod {name} is not running")
        config = kubelet_config(websocket)
        base = await agent_base(registry, pod, config)
        await self._relay(websocket, call, config, protocol,
                          f"{base}/portForward/{namespace}/{name}{query}")

    async def _relay(self, websocket: WebSocket, call: Upgrade, config: KubeletClientConfig,
                     protocol: str, url: str) -> None:
        """The agent's upgrade first (its refusal is the caller's answer), then the
        caller's, then both directions until either side ends. The agent is offered the
        caller's sub-protocol, SPDY's in the spelling `websockets` can send."""
        towards_agent = (pf.SPDY_RELAY_PROTOCOL if protocol == pf.SPDY_TUNNEL_PROTOCOL
                         else protocol)
        agent = await self._dial("wss" + url.removeprefix("https"), towards_agent, config)
        try:
            await websocket.accept(subprotocol=protocol)
            call.accepted()
            await _pump(websocket, agent)
        finally:
            await agent.close()

    async def _dial(self, url: str, protocol: str, config: KubeletClientConfig
                    ) -> ClientConnection:
        try:
            return await connect(url, ssl=self._ssl(config), subprotocols=[protocol],  # type: ignore[list-item]
                                 open_timeout=CONNECT_TIMEOUT, max_size=None,
                                 compression=None, ping_interval=PING_INTERVAL,
                                 ping_timeout=PING_TIMEOUT, close_timeout=CLOSE_TIMEOUT)
        except InvalidStatus as exc:
            response = exc.response
            raise errors.from_status(status_or_text(bytes(response.body or b"")),
                                     response.status_code) from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise errors.ServiceUnavailable(f"cannot reach the node agent: {exc}") from exc


def kubelet_config(websocket: WebSocket) -> KubeletClientConfig:
    """The apiserver's TLS towards agents, as the app holds it (nodeproxy's, for HTTP)."""
    config = getattr(websocket.app.state, "kubelet_client", None)
    return config if isinstance(config, KubeletClientConfig) else KubeletClientConfig()


def _query(websocket: WebSocket) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for key, value in websocket.query_params.multi_items():
        query.setdefault(key, []).append(value)
    return query


def _check_not_finished(pod: Object, what: str) -> None:
    """Kubernetes refuses an exec (an attach) into a pod that has finished, naming its
    phase."""
    phase = (pod.get("status") or {}).get("phase")
    if phase in _FINISHED:
        raise errors.BadRequest(f"cannot {what} into a container in a completed pod; current "
                                f"phase is {phase}")


async def _pump(websocket: WebSocket, agent: ClientConnection) -> None:
    """Both directions at once; when either side ends, the other is closed."""
    try:
        await first_done(_to_agent(websocket, agent), _to_caller(websocket, agent))
    finally:
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
