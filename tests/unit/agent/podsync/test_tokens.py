"""Pod-bound service-account tokens: the TokenRequest sent, and the kubelet's renewal
schedule (80% of the life, or 24 hours), on a fake clock; then the sync that rewrites a
running pod's token file when it is due."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.podsync.tokens import (
    Token,
    TokenKey,
    TokenManager,
    fetch_tokens,
    pod_token_keys,
    refresh_time,
)
from agent.podsync.volumes import memory_dir, secret_volume_dir
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from tests.unit.agent.fakes import FakeClient
from tests.unit.agent.helpers import NOW, UID, make_pod
from tests.unit.agent.podsync.test_pod_sync import World

KEY = TokenKey("ns", "robot", "", 3600, "p", UID)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_renewal_is_at_80_percent_of_the_life_less_the_jitter() -> None:
    token = Token("t", T0 + timedelta(seconds=3600), 3600)
    assert refresh_time(token) == T0 + timedelta(seconds=2880)
    assert refresh_time(token, jitter=7) == T0 + timedelta(seconds=2873)


def test_a_token_longer_than_a_day_is_renewed_after_24_hours() -> None:
    week = 7 * 24 * 3600
    token = Token("t", T0 + timedelta(seconds=week), week)
    assert refresh_time(token) == T0 + timedelta(hours=24)


def test_the_manager_asks_once_then_again_when_due() -> None:
    clock = FakeClock(wall=T0)
    client = FakeClient()
    client.token_now = T0
    manager = TokenManager(client, clock, jitter=lambda: 0.0)  # type: ignore[arg-type]

    async def body() -> None:
        assert await manager.get(KEY) == "token-p-0"
        assert manager.next_refresh([KEY]) == 2880.0
        clock.step(2879)
        assert not manager.due(KEY) and await manager.get(KEY) == "token-p-0"
        assert manager.next_refresh([KEY]) == 1.0
        clock.step(1)
        client.token_now = T0 + timedelta(seconds=2880)
        assert manager.due(KEY) and await manager.get(KEY) == "token-p-1"
        assert manager.next_refresh([KEY]) == 2880.0
    asyncio.run(body())
    [first, _] = [c for c in client.calls if c[0] == "token"]
    assert first[1] == "/api/v1/namespaces/ns/serviceaccounts/robot/token"
    assert first[2]["spec"] == {"audiences": [], "expirationSeconds": 3600, "boundObjectRef": {
        "apiVersion": "v1", "kind": "Pod", "name": "p", "uid": UID}}
    manager.forget_pod(UID)
    assert manager.due(KEY)


def token_pod(**source: object) -> Object:
    pod = make_pod("a", phase="Running")
    pod["spec"]["serviceAccountName"] = "robot"
    pod["spec"]["volumes"] = [{"name": "kube-api-access-x", "projected": {
        "defaultMode": 0o644, "sources": [{"serviceAccountToken": {
            "path": "token", "expirationSeconds": 3607, **source}}, {"downwardAPI": {
                "items": [{"path": "namespace",
                           "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}}]
    pod["spec"]["containers"][0]["volumeMounts"] = [{
        "name": "kube-api-access-x", "mountPath": "/var/run/secrets/kubernetes.io/"
        "serviceaccount", "readOnly": True}]
    return pod


def test_keys_carry_the_audience_and_lifetime_of_each_source() -> None:
    assert pod_token_keys(token_pod(audience="vault")) == {
        ("kube-api-access-x", 0): TokenKey("ns", "robot", "vault", 3607, "p", UID)}

    async def body() -> None:
        client = FakeClient()
        manager = TokenManager(client, FakeClock(wall=T0))  # type: ignore[arg-type]
        assert await fetch_tokens(manager, token_pod(audience="vault")) == {
            ("kube-api-access-x", 0): "token-p-0"}
        assert client.calls[0][2]["spec"]["audiences"] == ["vault"]
    asyncio.run(body())


def test_the_sync_writes_the_token_then_rewrites_it_when_due(tmp_path: Path) -> None:
    """The pod's first sync writes the token; the sync asks to come back when it is due
    (80% of 3607 s, less up to 10 s of jitter), and that sync writes the next token."""
    world = World(tmp_path, token_pod())
    world.client.token_now = NOW
    world.syncer.tokens._jitter = lambda: 0.0
    token_file = secret_volume_dir(tmp_path, UID, "kube-api-access-x") / "token"
    try:
        async def body() -> None:
            first = await world.syncer.sync(UID)
            assert token_file.read_text() == "token-p-0"
            assert (token_file.parent / "namespace").read_text() == "ns"
            assert first.requeue_after is not None
            assert abs(first.requeue_after - 0.8 * 3607) < 1e-6
            world.accept_status()
            world.clock.step(2000)
            again = await world.syncer.sync(UID)  # not due: nothing asked, nothing written
            assert token_file.read_text() == "token-p-0"
            assert again.requeue_after is not None and abs(again.requeue_after - 885.6) < 1e-6
            world.clock.step(again.requeue_after)
            world.client.token_now = world.clock.now()
            await world.syncer.sync(UID)
            assert token_file.read_text() == "token-p-1"
        asyncio.run(body())
        assert [c[0] for c in world.client.calls].count("token") == 2
    finally:
        shutil.rmtree(memory_dir(tmp_path), ignore_errors=True)
