"""A minimal `/healthz` endpoint for components that serve nothing else.

The scheduler and controller-manager answer health checks on their own port,
as kube-scheduler (10259) and kube-controller-manager (10257) do, so the
launcher and any supervisor can tell "running" from "running and working".
It is a few lines of asyncio streams rather than a web framework, on purpose:
it must stay up even when the component's main loop is busy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

HealthCheck = Callable[[], bool]


async def serve_healthz(host: str, port: int, check: HealthCheck) -> asyncio.Server:
    """Answer `GET /healthz` with 200 `ok` while `check()` is true, else 503."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request.decode(errors="replace").split()
            path = parts[1] if len(parts) > 1 else ""
            if path.split("?")[0] not in ("/healthz", "/livez", "/readyz"):
                status, body = "404 Not Found", b"not found"
            elif check():
                status, body = "200 OK", b"ok"
            else:
                status, body = "503 Service Unavailable", b"not healthy"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: "
                         f"{len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
