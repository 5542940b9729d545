"""The async client's aiohttp transport against the real apiserver: nothing left open.

A watch given up mid-stream makes aiohttp close its TLS connection in the
background; closing the client must wait for that close, or a loop that ends
next (`asyncio.run` returning) can leave the socket open (apimachinery/transport.py).
Whether the socket is then collected open depends on timing (the bench smoke
tests met it one run in two), so the test makes the closes slow for certain (the
apiserver stopped with SIGSTOP while they start) and checks the cause: closes in
flight when the client closes, none once it has.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import warnings

from apimachinery.transport import ClosingConnector
from cli.cluster.processes import Apiserver, Etcd

WATCHES = 20
THAW_AFTER = 0.5  # seconds the apiserver stays stopped


def test_closing_the_client_waits_for_the_closes_of_abandoned_watches(
        fresh_apiserver: tuple[Etcd, Apiserver]) -> None:
    _, apiserver = fresh_apiserver
    pid, namespace = apiserver.process.pid, "default"
    pending: dict[str, int] = {}

    async def scenario() -> None:
        async with apiserver.async_client() as client:
            streams = [client.watch("configmaps", namespace, timeout_seconds=60)
                       for _ in range(WATCHES)]
            first = [asyncio.create_task(anext(s)) for s in streams]
            await client.create("configmaps", {"metadata": {"generateName": "w-"}}, namespace)
            await asyncio.gather(*first)
            # The apiserver is frozen, so no close_notify is answered until it thaws;
            # each watch is given up mid-stream, so its connection is closed, not pooled.
            os.kill(pid, signal.SIGSTOP)
            try:
                await asyncio.gather(*(s.aclose() for s in streams))
            finally:
                asyncio.get_running_loop().call_later(THAW_AFTER, os.kill, pid, signal.SIGCONT)
            connector = client._http._transport.client.connector
            assert isinstance(connector, ClosingConnector)
            pending["at close"] = len(connector._closing)
        pending["after close"] = len(connector._closing)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            asyncio.run(scenario())
        finally:
            os.kill(pid, signal.SIGCONT)  # a failure before the thaw must not leave it stopped
        gc.collect()
    assert pending["at close"] >= 1, "no close was still in flight: nothing was tested"
    assert pending["after close"] == 0, pending
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not unclosed, unclosed
