"""The backup archive's format and the refusals of `schooner backup|restore` (no etcd needed).

Archives are built here by hand, so each damaged or foreign one is exactly what
the test says; a whole round trip through a real etcd is in
tests/integration/test_backup_restore.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cli import backup as backup_cli
from cli.cluster import archive, etcdsnapshot
from cli.cluster.archive import BackupError
from cli.cluster.components import control_plane_components, etcd_peer_url
from cli.cluster.layout import Paths, Ports
from cli.cluster.restore import restore
from cli.cluster.supervisor import ClusterError


def fake_snapshot(body: bytes = b"\x01" * 4096) -> bytes:
    """Bytes shaped as etcd streams a snapshot: whole pages, then their SHA-256."""
    return body + hashlib.sha256(body).digest()


def manifest(files: dict[str, bytes], **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "SchoonerBackup", "format": 1, "created": "2026-12-07T05:00:00+00:00",
        "etcd": {"revision": 7, "totalKeys": 3, "hash": 1, "bytes": 4096,
                 "sha256": fake_snapshot()[-32:].hex()},
        "files": {n: hashlib.sha256(b).hexdigest() for n, b in files.items()},
        "serviceClusterIPRange": "172.28.255.0/24"}
    doc.update(overrides)
    return doc


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def backup_file(path: Path, files: dict[str, bytes] | None = None, **overrides: Any) -> Path:
    files = {"tokens.csv": b"tok,admin,admin,system:masters\n"} if files is None else files
    doc = manifest(files, **overrides)
    return write_tar(path, {archive.MANIFEST: json.dumps(doc).encode(),
                            archive.SNAPSHOT: fake_snapshot(), **files})


def test_a_snapshot_with_its_sha256_passes_the_check(tmp_path: Path) -> None:
    snap = tmp_path / "s.db"
    snap.write_bytes(fake_snapshot())
    assert etcdsnapshot.check_sha256(snap) == fake_snapshot()[-32:].hex()


@pytest.mark.parametrize(("data", "message"), [
    (fake_snapshot()[:100] + b"x" + fake_snapshot()[101:], "does not match its data"),
    (b"\x01" * 4096, "not an etcd snapshot with its SHA-256"),  # a bare db file
    (b"", "not an etcd snapshot"),
])
def test_a_damaged_or_bare_snapshot_is_refused(tmp_path: Path, data: bytes, message: str
                                                ) -> None:
    snap = tmp_path / "s.db"
    snap.write_bytes(data)
    with pytest.raises(ClusterError, match=message):
        etcdsnapshot.check_sha256(snap)


def test_etcdctl_error_line_is_picked_from_its_json_logs() -> None:
    out = ('{"level":"info","msg":"restoring snapshot"}\nError: data-dir "r" exists\n'
           '{"level":"info","msg":"x"}\n')
    assert etcdsnapshot._error_line(out, 1) == 'data-dir "r" exists'
    assert etcdsnapshot._error_line("", 2) == "etcdctl exited 2"


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_bytes(b"not a tar at all"), "is not a Schooner backup"),
    (lambda p: write_tar(p, {"../evil": b"x"}), "unexpected member '../evil'"),
    (lambda p: write_tar(p, {"pki/../../evil": b"x"}), "unexpected member"),
    (lambda p: write_tar(p, {archive.SNAPSHOT: fake_snapshot()}), "is missing"),
    (lambda p: write_tar(p, {archive.MANIFEST: b"{not json"}), "is malformed"),
    (lambda p: backup_file(p, kind="Other"), "is not a SchoonerBackup"),
    (lambda p: backup_file(p, format=2), "this schooner reads format 1"),
    (lambda p: backup_file(p, files={"etc/passwd": b"x"}), "unexpected member"),
])
def test_what_is_not_a_backup_is_refused_and_nothing_lands_outside(
        tmp_path: Path, make: Any, message: str) -> None:
    source, into = tmp_path / "b.tar.gz", tmp_path / "into"
    into.mkdir()
    make(source)
    with pytest.raises(BackupError, match=message):
        archive.read(source, into)
    assert not (tmp_path / "evil").exists()


def test_a_file_that_does_not_match_the_manifest_is_damaged(tmp_path: Path) -> None:
    doc = manifest({"tokens.csv": b"the original"})
    source = write_tar(tmp_path / "b.tar.gz", {
        archive.MANIFEST: json.dumps(doc).encode(), archive.SNAPSHOT: fake_snapshot(),
        "tokens.csv": b"changed since"})
    (tmp_path / "into").mkdir()
    with pytest.raises(BackupError, match=r"tokens.csv does not match its SHA-256"):
        archive.read(source, tmp_path / "into")


def test_a_listed_file_missing_from_the_archive_is_refused(tmp_path: Path) -> None:
    doc = manifest({"pki/ca.key": b"key"})
    source = write_tar(tmp_path / "b.tar.gz", {archive.MANIFEST: json.dumps(doc).encode(),
                                               archive.SNAPSHOT: fake_snapshot()})
    (tmp_path / "into").mkdir()
    with pytest.raises(BackupError, match=r"pki/ca.key is listed but missing"):
        archive.read(source, tmp_path / "into")


def test_restore_refuses_a_home_with_etcd_data_and_leaves_it_alone(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    (paths.etcd_data / "member").mkdir(parents=True)
    with pytest.raises(BackupError, match=r"already holds a cluster's data.*--force"):
        restore(paths, backup_file(tmp_path / "b.tar.gz"))
    assert (paths.etcd_data / "member").is_dir()
    assert not paths.tokens.exists()


def test_restore_of_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no such file"):
        restore(Paths(tmp_path / "home"), tmp_path / "nope.tar.gz")


def test_backup_refuses_to_replace_a_file_and_needs_a_running_etcd(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    dest = tmp_path / "b.tar.gz"
    dest.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="exists: choose another name, or --force"):
        archive.backup(paths, dest)
    assert dest.read_bytes() == b"keep me"
    with pytest.raises(BackupError, match=r"etcd of the cluster in .* is not running"):
        archive.backup(paths, dest, force=True)
    assert dest.read_bytes() == b"keep me"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    backup_cli.register(app)
    return app


@pytest.mark.parametrize("argv", [
    ["restore", "nope.tar.gz"],
    ["backup", "out.tar.gz"],
])
def test_cli_errors_are_one_line_and_exit_1(app: typer.Typer, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            argv: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [*argv, "--home", str(tmp_path / "home")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output


def test_backup_into_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="is not a directory"):
        archive.backup(Paths(tmp_path / "home"), tmp_path / "nowhere" / "b.tar.gz")


def test_the_schooner_app_has_both_commands_behind_its_error_boundary(tmp_path: Path) -> None:
    from cli.main import app as schooner_app

    result = CliRunner().invoke(schooner_app, ["restore", str(tmp_path),
                                               "--home", str(tmp_path / "home")])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {tmp_path} is not a file"
    help_text = CliRunner().invoke(schooner_app, ["--help"]).output
    assert "backup" in help_text and "restore" in help_text


def test_etcd_is_reached_over_tls_with_the_apiservers_client_certificate(tmp_path: Path
                                                                        ) -> None:
    tls = Paths(tmp_path).apiserver_etcd_client
    assert etcdsnapshot.tls_flags(tls) == [
        "--cacert", str(tmp_path / "pki/etcd/ca.crt"),
        "--cert", str(tmp_path / "pki/apiserver-etcd-client.crt"),
        "--key", str(tmp_path / "pki/apiserver-etcd-client.key")]
    assert etcdsnapshot.tls_flags(None) == []


def test_a_restore_records_the_peer_url_etcd_is_started_with(tmp_path: Path) -> None:
    """etcd's peers talk TLS: the restored member's peer URL is https, as `up` runs it."""
    ports = Ports(etcd=12379, etcd_peer=12380, etcd_metrics=12381)
    etcd = control_plane_components(Paths(tmp_path), ports)[0].argv
    advertised = etcd[etcd.index("--initial-advertise-peer-urls") + 1]
    assert advertised == etcd_peer_url(ports) == "https://127.0.0.1:12380"


def test_the_etcd_ca_is_kept_as_a_private_credential() -> None:
    assert {"pki/etcd/ca.crt", "pki/etcd/ca.key"} <= set(archive.CREDENTIALS)
    assert "pki/etcd/ca.key" in archive.PRIVATE
    # the leaf certificates are signed again by `up` from the kept CA
    assert not [n for n in archive.CREDENTIALS if "etcd-client" in n or "etcd/server" in n
                or "etcd/peer" in n]


def test_restore_puts_the_etcd_ca_key_into_the_home_0600(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setattr(etcdsnapshot, "status", lambda path: etcdsnapshot.SnapshotInfo(
        7, 3, 1, 4096, etcdsnapshot.check_sha256(path)))
    monkeypatch.setattr(etcdsnapshot, "restore", lambda path, data_dir, name, peer_url:
                        (data_dir / "member").mkdir(parents=True))
    files = {"pki/etcd/ca.crt": b"cert", "pki/etcd/ca.key": b"key"}
    paths = Paths(tmp_path / "home")
    restored = restore(paths, backup_file(tmp_path / "b.tar.gz", files))
    assert sorted(restored.files) == sorted(files)
    assert (paths.etcd_pki / "ca.key").read_bytes() == b"key"
    assert (paths.etcd_pki / "ca.key").stat().st_mode & 0o777 == 0o600
    assert (paths.etcd_pki / "ca.crt").stat().st_mode & 0o777 == 0o644
