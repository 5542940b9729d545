"""The node Lease's heartbeat with the first apiserver frozen: one short timeout, then
the renewal goes through on the next URL at once, not after the client's 30 s."""

from __future__ import annotations

import time

import pytest
from aiohttp import web

import agent.nodestatus.lease as lease_module
from agent.nodestatus.lease import LeaseRenewer
from apimachinery.client import AsyncClient
from apimachinery.clock import RealClock
from tests.unit.frozen_servers import app, frozen_url, run_async, serve

LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1"


def leases_app(puts: list[str]) -> web.Application:
    """An apiserver that accepts every PUT of the Lease n1, with a new resourceVersion."""
    application = app()

    async def put(request: web.Request) -> web.Response:
        body = await request.json()
        puts.append(body["spec"]["renewTime"])
        body["metadata"]["resourceVersion"] = str(len(puts) + 1)
        return web.json_response(body)

    application.router.add_put(LEASE_PATH, put)
    return application


@run_async
async def test_a_renewal_sent_to_a_frozen_apiserver_is_retried_on_the_next(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lease_module, "HEARTBEAT_TIMEOUT", 0.5)
    puts: list[str] = []
    with frozen_url() as frozen:
        async with serve(leases_app(puts)) as live, AsyncClient([frozen, live]) as client:
            renewer = LeaseRenewer(client, RealClock(), "n1")
            renewer._lease = renewer._new_lease()  # renewed before: the next is one PUT
            renewer._lease["metadata"]["resourceVersion"] = "1"
            start = time.monotonic()
            assert await renewer.heartbeat()
            took = time.monotonic() - start
            assert client.server == live
    assert len(puts) == 1, puts
    assert 0.4 < took < 3, took  # one heartbeat timeout, not the client's 30 s
