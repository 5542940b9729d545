"""`schooner port-forward TARGET [LOCAL:]REMOTE...`: local ports relayed to a pod's ports.

As kubectl's: TARGET is `POD`, `pod/POD`, `svc/NAME` or `deploy/NAME` (a Running pod of
the selector; a Service's port is mapped to its targetPort, a named one through the
pod's container ports, client-side as kubectl does). It listens on 127.0.0.1 (`0` or
an empty LOCAL: a free port) and prints `Forwarding from 127.0.0.1:L -> R`. Each local
connection is one WebSocket to `pods/NAME/portforward?ports=R` in the channel-pair
form (apimachinery.portforward): data on channel 0, the pod side's error on channel 1,
which is printed, and the local connection closed. Ctrl-C stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

import typer
import websockets

from apimachinery import errors, wsstream
from apimachinery import portforward as pf
from apimachinery.client import Client
from apimachinery.racing import first_done

from .commands import CommandError, NamespaceOpt, session_of

Object = dict[str, Any]


def parse_mapping(text: str) -> tuple[int, int]:
    """`8080:80`, `:80` or `80` -> (local, remote); local 0 picks a free port."""
    local, _, remote = text.rpartition(":") if ":" in text else (text, "", text)
    try:
        pair = (int(local) if local else 0, int(remote))
    except ValueError:
        raise CommandError(f"invalid port mapping {text!r}: want LOCAL:REMOTE") from None
    if not 0 <= pair[0] <= 65535 or not 1 <= pair[1] <= 65535:
        raise CommandError(f"invalid port mapping {text!r}: ports are 1-65535")
    return pair


def resolve_target(client: Client, namespace: str, target: str,
                   mappings: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """The pod to forward to, and the mappings with a Service's ports made the pod's."""
    kind, _, name = target.rpartition("/")
    kind = kind.lower()
    if kind in ("", "pod", "pods", "po"):
        pod = client.get("pods", name, namespace)
    elif kind in ("svc", "service", "services"):
        service = client.get("services", name, namespace)
        pod = _running_pod(client, namespace, (service.get("spec") or {}).get("selector"),
                           target)
        mappings = [(local, _target_port(service, pod, remote)) for local, remote in mappings]
    elif kind in ("deploy", "deployment", "deployments"):
        deployment = client.get("deployments", name, namespace)
        selector = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels")
        pod = _running_pod(client, namespace, selector, target)
    else:
        raise CommandError(f"cannot port-forward to a {kind}: name a pod, svc or deploy")
    phase = (pod.get("status") or {}).get("phase")
    if phase != "Running":
        raise CommandError("unable to forward port because pod is not running. "
                           f"Current status={phase}")
    return pod["metadata"]["name"], mappings


def _running_pod(client: Client, namespace: str, selector: dict[str, str] | None,
                 target: str) -> Object:
    if not selector:
        raise CommandError(f"{target} has no selector to find its pods by")
    label = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    pods = client.list("pods", namespace, label_selector=label)["items"]
    running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"
               and not p["metadata"].get("deletionTimestamp")]
    if not running:
        raise CommandError(f"no running pod for {target}")
    return min(running, key=lambda p: p["metadata"]["name"])


def _target_port(service: Object, pod: Object, port: int) -> int:
    """The Service port's targetPort on `pod` (kubectl's translateServicePortToTargetPort)."""
    for entry in (service.get("spec") or {}).get("ports") or []:
        if entry.get("port") != port:
            continue
        target = entry.get("targetPort", port)
        if isinstance(target, int):
            return target
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == target:
                    return int(p["containerPort"])
        raise CommandError(f"pod {pod['metadata']['name']} has no container port {target!r}")
    raise CommandError(f"service {service['metadata']['name']} does not have port {port}")


class Forwarder:
    """The listeners, and one WebSocket per local connection."""

    def __init__(self, client: Client, namespace: str, pod: str) -> None:
        self.client = client
        self.path = (f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}/portforward")

    async def serve(self, mappings: list[tuple[int, int]]) -> None:
        servers = []
        for local, remote in mappings:
            server = await asyncio.start_server(self._handler(remote), "127.0.0.1", local)
            bound = server.sockets[0].getsockname()[1]
            typer.echo(f"Forwarding from 127.0.0.1:{bound} -> {remote}")
            servers.append(server)
        await asyncio.gather(*(s.serve_forever() for s in servers))

    def _handler(self, port: int) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                              Coroutine[Any, Any, None]]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self.connection(reader, writer, port)
        return handle

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         port: int) -> None:
        typer.echo(f"Handling connection for {port}")
        url, headers, context = self.client.websocket(f"{self.path}?ports={port}")
        try:
            async with websockets.connect(
                    url, ssl=context, additional_headers=headers, max_size=None,
                    compression=None, ping_interval=None,
                    subprotocols=[websockets.Subprotocol(pf.CHANNEL_PROTOCOLS[0])]) as ws:
                await first_done(_upstream(reader, ws), _downstream(ws, writer, port))
        except websockets.InvalidStatus as exc:
            body = (exc.response.body or b"").decode(errors="replace").strip()
            typer.echo(f"error: port-forward to {port}: {exc.response.status_code} {body}",
                       err=True)
        except (OSError, websockets.WebSocketException) as exc:
            typer.echo(f"error: port-forward to {port}: {exc}", err=True)
        finally:
            writer.close()


async def _upstream(reader: asyncio.StreamReader, ws: Any) -> None:
    while chunk := await reader.read(64 * 1024):
        await ws.send(wsstream.frame(0, chunk))
    await asyncio.Future()  # the local side is done sending; the pod's side may not be


async def _downstream(ws: Any, writer: asyncio.StreamWriter, port: int) -> None:
    first = {0: True, 1: True}
    with contextlib.suppress(websockets.ConnectionClosed):
        async for message in ws:
            channel, data = wsstream.unframe(message)
            if channel not in first:
                continue
            if first[channel]:
                first[channel], data = False, data[2:]
            if channel == 1 and data:
                typer.echo(f"error: an error occurred forwarding {port}: "
                           f"{data.decode(errors='replace')}", err=True)
                return
            if data:
                writer.write(data)
                await writer.drain()


def port_forward_cmd(ctx: typer.Context,
                     target: Annotated[str, typer.Argument(help="POD, pod/POD, svc/NAME or "
                                                                "deploy/NAME")],
                     ports: Annotated[list[str], typer.Argument(help="[LOCAL:]REMOTE ...")],
                     namespace: NamespaceOpt = None) -> None:
    """Forward local ports to a pod (kubectl port-forward)."""
    session = session_of(ctx)
    ns = session.namespace(namespace)
    mappings = [parse_mapping(p) for p in ports]
    try:
        pod, mappings = resolve_target(session.client, ns, target, mappings)
    except errors.NotFound as exc:
        raise CommandError(exc.message) from None
    try:
        asyncio.run(Forwarder(session.client, ns, pod).serve(mappings))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise CommandError(f"unable to listen: {exc}") from None
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command("port-forward")(port_forward_cmd)
