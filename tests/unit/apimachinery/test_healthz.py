"""The tiny health endpoint answers 200 while healthy, 503 when not, 404 elsewhere."""

from __future__ import annotations

import asyncio

from apimachinery.healthz import serve_healthz


async def _get(port: int, path: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data.decode()


def test_healthz_reflects_the_check() -> None:
    async def scenario() -> None:
        healthy = [True]
        server = await serve_healthz("127.0.0.1", 0, lambda: healthy[0])
        port = server.sockets[0].getsockname()[1]
        try:
            assert (await _get(port, "/healthz")).startswith("HTTP/1.1 200 OK")
            healthy[0] = False
            assert (await _get(port, "/healthz")).startswith("HTTP/1.1 503")
            assert (await _get(port, "/other")).startswith("HTTP/1.1 404")
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())
