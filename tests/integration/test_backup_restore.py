"""`schooner backup` and `restore` of a real etcd started by the launcher, in a tmp home.

The round trip at etcd's level: keys and their revisions come back, a key
written after the backup does not, the archive is 0600 and holds the home's
credentials byte for byte, and each refusal (a running cluster, a home with
data, a damaged archive) leaves the home as it was. etcd is private, as `schooner up`
runs it (TLS with client certificates): etcdctl here presents the home's apiserver
etcd client certificate, and a restored home's etcd certificates are signed again
from the etcd CA the archive kept. The whole cluster's case
(workloads, the agent adopting its containers) is tests/chaos/test_backup_restore_cluster.py.
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli import cluster
from cli.cluster import Component, Paths, Ports, archive
from cli.cluster.archive import BackupError
from cli.cluster.components import control_plane_components, find_etcd
from cli.cluster.credentials import admin_token, ensure_pki
from cli.cluster.etcdsnapshot import find_etcdctl, tls_flags
from cli.cluster.processes import free_port
from cli.cluster.restore import restore

pytestmark = pytest.mark.integration


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for var in ("SCHOONER_HOME", "SCHOONER_ETCD_PORT", "SCHOONER_ETCD_PEER_PORT",
                "SCHOONER_APISERVER_PORT"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    yield home
    cluster.down(home, components=etcd_only(home, ports_of(home)))


def ports_of(home: Path) -> Ports:
    doc = json.loads((home / "cluster.json").read_text()) if (home / "cluster.json").exists() \
        else {}
    return Ports(etcd=doc.get("etcdPort", 2379), etcd_peer=doc.get("etcdPeerPort", 2380),
                 etcd_metrics=doc.get("etcdMetricsPort", 2381))


def etcd_only(home: Path, ports: Ports) -> list[Component]:
    return control_plane_components(Paths(home), ports, find_etcd())[:1]


def up_etcd(home: Path, ports: Ports | None = None) -> Ports:
    ports = ports or Ports(etcd=free_port(), etcd_peer=free_port(), apiserver=free_port(),
                           etcd_metrics=free_port())
    cluster.up(home, etcd_port=ports.etcd, etcd_peer_port=ports.etcd_peer,
               apiserver_port=ports.apiserver, etcd_metrics_port=ports.etcd_metrics,
               components=etcd_only(home, ports))
    return ports


def etcdctl(paths: Paths, ports: Ports, *args: str) -> str:
    """etcdctl against the home's etcd over TLS, with the home's apiserver client cert."""
    return subprocess.run([find_etcdctl(), "--endpoints", f"https://127.0.0.1:{ports.etcd}",
                           *tls_flags(paths.apiserver_etcd_client), *args],
                          capture_output=True, text=True, check=True).stdout


def keys(paths: Paths, ports: Ports) -> dict[str, tuple[str, int, int]]:
    """Every key under /t/: (value, create_revision, mod_revision)."""
    doc = json.loads(etcdctl(paths, ports, "get", "/t/", "--prefix", "-w", "json"))
    return {base64.b64decode(kv["key"]).decode(): (base64.b64decode(kv["value"]).decode(),
                                                   kv["create_revision"], kv["mod_revision"])
            for kv in doc.get("kvs") or []}


def test_a_backup_restored_into_a_fresh_home_has_the_keys_and_revisions(
        home: Path, tmp_path: Path) -> None:
    paths = Paths(home)
    ports = up_etcd(home)
    ensure_pki(paths)
    admin_token(paths)
    for i in range(20):
        etcdctl(paths, ports, "put", f"/t/k{i}", f"v{i}")
    etcdctl(paths, ports, "put", "/t/k3", "changed")
    before = keys(paths, ports)
    dest = tmp_path / "backup.tar.gz"
    manifest = archive.backup(paths, dest)
    etcdctl(paths, ports, "put", "/t/after", "not in the backup")

    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    with tarfile.open(dest) as tar:
        names = tar.getnames()
        assert names[0] == archive.MANIFEST
        assert set(names) == {archive.MANIFEST, archive.SNAPSHOT, *archive.CREDENTIALS,
                              archive.ENCRYPTION, "cluster.json"}
        ca_key = tar.extractfile("pki/ca.key")
        assert ca_key is not None and ca_key.read() == paths.ca_key.read_bytes()
    assert manifest.snapshot.revision == max(r for _, _, r in before.values())

    with pytest.raises(BackupError, match="is running"):
        restore(paths, dest)
    cluster.down(home, components=etcd_only(home, ports))
    with pytest.raises(BackupError, match="already holds a cluster's data"):
        restore(paths, dest)

    fresh = Paths(tmp_path / "fresh")  # another machine: nothing but the archive
    restored = restore(fresh, dest)
    assert sorted(restored.files) == sorted([*archive.CREDENTIALS, archive.ENCRYPTION])
    assert fresh.ca_key.read_bytes() == paths.ca_key.read_bytes()
    # The key that opens the snapshot's Secrets comes back with it, private.
    assert fresh.encryption_config.read_bytes() == paths.encryption_config.read_bytes()
    assert stat.S_IMODE(fresh.encryption_config.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.etcd_data.stat().st_mode) == 0o700
    assert json.loads(fresh.cluster_json.read_text()) == json.loads(
        paths.cluster_json.read_text())
    assert not list(fresh.home.glob(".restore-*"))
    assert fresh.etcd_pki.joinpath("ca.key").read_bytes() == \
        paths.etcd_pki.joinpath("ca.key").read_bytes()
    assert not fresh.apiserver_etcd_client.cert.exists()  # signed again by `up`, not kept
    up_etcd(fresh.home, ports)
    try:
        # the fresh home's own client certificate (new, from the kept CA) opens its etcd
        assert keys(fresh, ports) == before  # same values, same create and mod revisions
        etcdctl(fresh, ports, "put", "/t/new", "x")  # writable; revisions go on
        assert keys(fresh, ports)["/t/new"][2] == manifest.snapshot.revision + 1
        assert "/t/new" in keys(paths, ports)  # and the old home's too: the same etcd CA
    finally:
        cluster.down(fresh.home, components=etcd_only(fresh.home, ports))


def test_force_over_other_credentials_signs_etcd_again_from_the_kept_ca(
        home: Path, tmp_path: Path) -> None:
    """A home with an etcd CA of its own (also named etcd-ca) takes the backup's with
    --force; `up` signs etcd's and the apiserver's certificates again from it."""
    paths, other = Paths(home), Paths(tmp_path / "other")
    ports = up_etcd(home)
    etcdctl(paths, ports, "put", "/t/a", "1")
    before = keys(paths, ports)
    dest = tmp_path / "b.tar.gz"
    archive.backup(paths, dest)
    cluster.down(home, components=etcd_only(home, ports))
    other_ports = up_etcd(other.home)
    cluster.down(other.home, components=etcd_only(other.home, other_ports))
    old_client_cert = other.apiserver_etcd_client.cert.read_bytes()
    shutil.rmtree(other.etcd_data)
    with pytest.raises(BackupError, match="differs from the backup's"):
        restore(other, dest)
    restore(other, dest, force=True)
    up_etcd(other.home, other_ports)  # its own ports: its cluster.json is kept
    try:
        assert other.apiserver_etcd_client.cert.read_bytes() != old_client_cert
        assert keys(other, other_ports) == before
        assert keys(paths, other_ports) == before  # the backup's etcd CA, the old cert
    finally:
        cluster.down(other.home, components=etcd_only(other.home, other_ports))


def test_force_sets_the_old_data_aside(home: Path, tmp_path: Path) -> None:
    paths = Paths(home)
    ports = up_etcd(home)
    etcdctl(paths, ports, "put", "/t/a", "1")
    dest = tmp_path / "b.tar.gz"
    archive.backup(paths, dest, credentials=False)
    with tarfile.open(dest) as tar:
        assert set(tar.getnames()) == {archive.MANIFEST, archive.SNAPSHOT, "cluster.json"}
    etcdctl(paths, ports, "put", "/t/b", "2")
    cluster.down(home, components=etcd_only(home, ports))
    restored = restore(paths, dest, force=True)
    assert restored.set_aside is not None and (restored.set_aside / "member").is_dir()
    up_etcd(home, ports)
    assert set(keys(paths, ports)) == {"/t/a"}


def test_a_damaged_snapshot_in_the_archive_is_refused(home: Path, tmp_path: Path) -> None:
    paths = Paths(home)
    ports = up_etcd(home)
    etcdctl(paths, ports, "put", "/t/a", "1")
    dest = tmp_path / "b.tar.gz"
    archive.backup(paths, dest, credentials=False)
    cluster.down(home, components=etcd_only(home, ports))
    unpacked = tmp_path / "unpacked"
    with tarfile.open(dest) as tar:
        tar.extractall(unpacked, filter="data")
    snap = unpacked / archive.SNAPSHOT
    data = bytearray(snap.read_bytes())
    data[5000] ^= 0xFF
    snap.write_bytes(bytes(data))
    damaged = tmp_path / "damaged.tar.gz"
    with gzip.open(damaged, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        for name in (archive.MANIFEST, archive.SNAPSHOT, "cluster.json"):
            tar.add(unpacked / name, arcname=name)
    shutil.rmtree(paths.etcd_data)
    with pytest.raises(BackupError, match="damaged"):
        restore(paths, damaged)
    assert not paths.etcd_data.exists()
