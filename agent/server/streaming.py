"""Interactive exec and attach over a WebSocket: the kubelet's
`/exec/{namespace}/{pod}/{container}` and `/attach/...` upgrades, speaking Kubernetes'
channel protocol (`apimachinery.wsstream`). An attach has no command and no exit code:
its Status is Success when the container's output ends.

The caller (the apiserver, as itself) was authenticated and authorized before the
upgrade; what is wrong with the request (its options, the pod, the container, the
engine) is an HTTP answer in place of the upgrade, as the kubelet gives it. Once
accepted, stdin (channel 0), resizes (4) and v5's close of stdin (255) go to the
engine's session, and its stdout (1) and stderr (2) come back; when the output ends,
one Status on channel 3 says how (Success, NonZeroExitCode with the exit code, or
the engine's reason the command never ran), and the connection closes. A caller that
goes away first has its command killed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.responses import PlainTextResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent.runtime.container import ContainerRecord, ContainerRuntimeError
from agent.runtime.protocol import ContainerRuntime
from agent.runtime.session import StreamSession
from agent.server.unavailable import Unavailable
from apimachinery import wsstream
from apimachinery.racing import first_done

log = logging.getLogger(__name__)

# (namespace, pod, container, previous) -> the container instance, or why there is none
Finder = Callable[[str, str, str, bool], Awaitable[ContainerRecord | Unavailable]]
# the caller's refusal (401/403/429), or None when it may
Refusal = Callable[[WebSocket], Awaitable[Response | None]]


def _text(message: str, code: int) -> Response:
    return PlainTextResponse(message + "\n", status_code=code)


async def _refuse(websocket: WebSocket, response: Response) -> None:
    await websocket.send_denial_response(response)


async def serve_exec(websocket: WebSocket, runtime: ContainerRuntime, finder: Finder,
                     refused: Refusal) -> None:
    """Check the request, start the exec, accept the upgrade and pump until it ends."""
    await _serve(websocket, runtime, finder, refused, attach=False)


async def serve_attach(websocket: WebSocket, runtime: ContainerRuntime, finder: Finder,
                       refused: Refusal) -> None:
    """The same for an attach to the container's own stdin and output; leaving it
    detaches, and the container goes on."""
    await _serve(websocket, runtime, finder, refused, attach=True)


async def _serve(websocket: WebSocket, runtime: ContainerRuntime, finder: Finder,
                 refused: Refusal, *, attach: bool) -> None:
    if (refusal := await refused(websocket)) is not None:
        await _refuse(websocket, refusal)
        return
    protocol = wsstream.choose_protocol(websocket.scope.get("subprotocols") or [])
    if protocol is None:
        await _refuse(websocket, _text(
            f"none of the offered sub-protocols is served; use one of "
            f"{', '.join(wsstream.PROTOCOLS)}", 400))
        return
    query: dict[str, list[str]] = {}
    for key, value in websocket.query_params.multi_items():
        query.setdefault(key, []).append(value)
    try:
        options = wsstream.parse_options(query, needs_command=not attach)
    except wsstream.InvalidOptions as exc:
        await _refuse(websocket, _text(str(exc), 400))
        return
    p = websocket.path_params
    found = await finder(p["namespace"], p["pod"], p["container"], False)
    if isinstance(found, Unavailable):
        await _refuse(websocket, _text(found.message, found.code))
        return
    if not found.running:
        await _refuse(websocket, _text(f'container "{p["container"]}" is not running', 400))
        return
    try:
        if attach:
            session = await runtime.open_attach(found.id, stdin=options.stdin,
                                                stdout=options.stdout, stderr=options.stderr)
        else:
            session = await runtime.open_exec(
                found.id, list(options.command), stdin=options.stdin, stdout=options.stdout,
                stderr=options.stderr, tty=options.tty)
    except ContainerRuntimeError as exc:
        what = "attaching to" if attach else "executing command in"
        await _refuse(websocket, _text(f"error {what} container: {exc}", 500))
        return
    await websocket.accept(subprotocol=protocol)
    try:
        await _pump(websocket, session, options.command)
    finally:
        await session.close()


async def _pump(websocket: WebSocket, session: StreamSession, command: tuple[str, ...]) -> None:
    """Input to the session and output to the caller at once, until the output ends (then
    the Status) or the caller goes away (then nothing more is sent)."""
    await first_done(_output(websocket, session, command), _input(websocket, session))


async def _output(websocket: WebSocket, session: StreamSession, command: tuple[str, ...]
                  ) -> None:
    try:
        while parts := await session.read():
            for channel, data in parts:
                await websocket.send_bytes(wsstream.frame(channel, data))
        ending, held = await session.ending()
        if held:
            await websocket.send_bytes(wsstream.frame(wsstream.STDOUT, held))
        if ending.error:
            status = wsstream.failure(f"error executing command in container: {ending.error}")
        else:
            status = wsstream.exit_status(ending.exit_code or 0, command)
        await websocket.send_bytes(wsstream.status_message(status))
        await websocket.close()
    except (WebSocketDisconnect, OSError, RuntimeError) as exc:  # the caller went away
        log.debug("component=agent exec stream ended early error=%r", exc)


async def _input(websocket: WebSocket, session: StreamSession) -> None:
    """The caller's messages: stdin, resizes and v5's close of stdin."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = wsstream.message_bytes(message)
        if data is None:
            continue
        channel, payload = wsstream.unframe(data)
        if channel == wsstream.STDIN:
            await session.write(payload)
        elif channel == wsstream.RESIZE:
            size = wsstream.parse_resize(payload)
            if size is not None:
                with contextlib.suppress(ContainerRuntimeError):
                    await session.resize(*size)
        elif channel == wsstream.CLOSE and payload[:1] == bytes((wsstream.STDIN,)):
            session.close_stdin()
