"""Secrets encrypted in etcd (apiserver/encryption.py) on a real etcd and apiservers.

One etcd, apiservers in turn: identity only (a Secret stored in clear, as before),
with [aesgcm key1, identity] (new Secrets encrypted, the old one still read, and
rewritten encrypted by a replace), then with [aesgcm key2, aesgcm key1] (rotation:
replacing every Secret unchanged re-encrypts it with key2). etcd is read raw through
its JSON gateway, as someone with a copy of its data would see it.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from apimachinery.client import Client
from cli.cluster.processes import Apiserver, Etcd

pytestmark = pytest.mark.integration

KUBECTL = shutil.which("kubectl")
PASSWORD = b"hunter2-correct-horse"


def raw(etcd: Etcd, key: str) -> bytes:
    """The bytes etcd holds at `key`."""
    body = {"key": base64.b64encode(key.encode()).decode()}
    reply = httpx.post(f"{etcd.url}/v3/kv/range", json=body, timeout=5).json()
    return base64.b64decode(reply["kvs"][0]["value"])


def write_config(path: Path, *keys: tuple[str, bytes], identity: bool = False) -> Path:
    providers: list[dict[str, Any]] = [{"aesgcm": {"keys": [
        {"name": n, "secret": base64.b64encode(k).decode()} for n, k in keys]}}]
    if identity:
        providers.append({"identity": {}})
    path.write_text(yaml.safe_dump({
        "apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
        "resources": [{"resources": ["secrets"], "providers": providers}]}))
    return path


def secret(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {"password": base64.b64encode(PASSWORD).decode()}}


def assert_sealed(value: bytes, key_name: str) -> None:
    assert value.startswith(f"k8s:enc:aesgcm:v1:{key_name}:".encode()), value[:40]
    assert PASSWORD not in value and base64.b64encode(PASSWORD)[:16] not in value


def replace_all(server: Apiserver, tmp: Path) -> None:
    """Kubernetes' documented rewrite: `kubectl get secrets -A -o json | kubectl replace -f -`."""
    if KUBECTL is None:
        with server.client() as c:
            for item in c.list("secrets", "default")["items"]:
                c.update("secrets", item)
        return
    config = server.kubeconfig(tmp / "kubeconfig")
    env = {"HOME": str(tmp), "PATH": "/usr/bin:/bin"}
    listed = subprocess.run([KUBECTL, "--kubeconfig", str(config), "get", "secrets", "-A",
                             "-o", "json"], capture_output=True, text=True, env=env,
                            timeout=60, check=True).stdout
    done = subprocess.run([KUBECTL, "--kubeconfig", str(config), "replace", "--validate=false",
                           "-f", "-"],
                          input=listed, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr


def test_secrets_encrypted_identity_read_and_rotation(tmp_path: Path) -> None:
    etcd = Etcd(tmp_path / "etcd").start()
    servers: list[Apiserver] = []

    clear = tmp_path / "clear.yaml"
    clear.write_text(yaml.safe_dump({
        "apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
        "resources": [{"resources": ["secrets"], "providers": [{"identity": {}}]}]}))

    def start(name: str, config: Path | None) -> Apiserver:
        args = ["--encryption-provider-config", str(config or clear)]
        server = Apiserver(tmp_path / name, etcd.url, extra_args=args)
        servers.append(server)
        return server.start()

    try:
        plain = start("plain", None)
        with plain.client() as c:
            c.create("secrets", secret("old"), "default")
        plain.stop()
        assert PASSWORD in base64.b64decode(
            yaml.safe_load(raw(etcd, "/registry/secrets/default/old"))["data"]["password"])

        key1, key2 = b"k" * 32, b"K" * 32
        one = start("one", write_config(tmp_path / "one.yaml", ("key1", key1), identity=True))
        with one.client() as c:
            c.create("secrets", secret("new"), "default")
            c.create("configmaps", {"metadata": {"name": "clear"}, "data": {"a": "b"}},
                     "default")
            assert_sealed(raw(etcd, "/registry/secrets/default/new"), "key1")
            assert raw(etcd, "/registry/configmaps/default/clear").startswith(b"{")
            for name in ("old", "new"):  # the old one through identity
                got = c.get("secrets", name, "default")
                assert base64.b64decode(got["data"]["password"]) == PASSWORD
            names = {i["metadata"]["name"] for i in c.list("secrets", "default")["items"]}
            assert {"old", "new"} <= names
            before = c.get("secrets", "old", "default")["metadata"]["resourceVersion"]
            replace_all(one, tmp_path)
            # Unchanged, yet written again: it was stored under identity.
            after = c.get("secrets", "old", "default")["metadata"]["resourceVersion"]
            assert after != before
            assert_sealed(raw(etcd, "/registry/secrets/default/old"), "key1")
        one.stop()

        two = start("two", write_config(tmp_path / "two.yaml", ("key2", key2), ("key1", key1)))
        with two.client() as c:
            assert base64.b64decode(
                c.get("secrets", "old", "default")["data"]["password"]) == PASSWORD
            replace_all(two, tmp_path)
            for name in ("old", "new"):
                assert_sealed(raw(etcd, f"/registry/secrets/default/{name}"), "key2")
            # Encrypted with key2, now current: a second replace writes nothing.
            rv = c.get("secrets", "new", "default")["metadata"]["resourceVersion"]
            replace_all(two, tmp_path)
            assert c.get("secrets", "new", "default")["metadata"]["resourceVersion"] == rv
        two.stop()

        # key1 retired: everything still reads with key2 alone.
        three = start("three", write_config(tmp_path / "three.yaml", ("key2", key2)))
        with three.client() as c:
            items = c.list("secrets", "default")["items"]
            assert all(base64.b64decode(i["data"]["password"]) == PASSWORD for i in items)
    finally:
        for server in servers:
            server.stop()
        etcd.stop()


def test_the_session_apiserver_encrypts_and_its_watch_is_clear(
        etcd: Etcd, client: Client, namespace: str) -> None:
    """Every test apiserver runs as `up` runs it: Secrets encrypted, watches decrypted."""
    rv = client.list("secrets", namespace)["metadata"]["resourceVersion"]
    client.create("secrets", secret("watched"), namespace)
    client.patch("secrets", "watched", {"metadata": {"labels": {"a": "b"}}}, namespace)
    assert_sealed(raw(etcd, f"/registry/secrets/{namespace}/watched"), "key1")
    events = []
    for event in client.watch("secrets", namespace, resource_version=rv, timeout_seconds=2):
        events.append(event)
        if len(events) == 2:
            break
    assert [e.type for e in events] == ["ADDED", "MODIFIED"]
    assert all(base64.b64decode(e.object["data"]["password"]) == PASSWORD for e in events)


def test_bad_config_stops_the_apiserver_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"apiVersion": "apiserver.config.k8s.io/v1",
                                   "kind": "EncryptionConfiguration", "resources": [
                                       {"resources": ["secrets"], "providers": [
                                           {"aesgcm": {"keys": [{"name": "k",
                                                                 "secret": "c2hvcnQ="}]}}]}]}))
    proc = subprocess.run(["/work/main/.venv/bin/python", "-m", "apiserver",
                           "--encryption-provider-config", str(bad)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        'error: resources[0].providers[0].aesgcm.keys[0].secret: Invalid value: "REDACTED": '
        "secret is not of the expected length, got 5, expected one of [16, 24, 32]"]
