"""A local cluster's backup: an etcd snapshot plus what the cluster keeps outside etcd.

As kubeadm operators keep `/etc/kubernetes/pki` beside `etcdctl snapshot save`,
a Schooner backup is one gzip tar archive holding:

- `schooner-backup.json`, the manifest: format, when, the snapshot's revision,
  key count, etcd hash and SHA-256, and the SHA-256 of every other file;
- `etcd/snapshot.db`, the snapshot as etcd streamed it (SHA-256 appended);
- `pki/ca.crt`, `pki/ca.key`, `pki/apiserver.crt`, `pki/apiserver.key` and
  `tokens.csv`: the cluster's identity, so a restored cluster is the same
  cluster to every kubeconfig and token handed out (left out with
  `credentials=False`; then the restored cluster keeps or makes its own);
- `pki/etcd/ca.crt` and `pki/etcd/ca.key`: etcd's own CA (kubeadm's
  `pki/etcd/ca`), kept with the other credentials. etcd's serving and peer
  certificates and the apiserver's etcd client certificate are not kept:
  `schooner up` signs them again from the kept CA (they name this host, and
  nothing outside the cluster holds them);
- `pki/encryption-config.yaml`, the key Secrets are encrypted with in etcd
  (apiserver/encryption.py), without which the snapshot's Secrets cannot be read;
- `cluster.json`, the ports.

The archive holds the CA key, the tokens and the key that opens every Secret in
the snapshot: it is written 0600 and must be stored as a secret. The
kubeconfig is not kept; `schooner up` writes it again from the CA and token.

A restore goes only into a fresh cluster: nothing of the home running, no etcd
data (or `force`, which moves the old data aside), credentials absent or equal
to the backup's (or `force`). Everything is checked before the home is touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.cluster import etcdsnapshot
from cli.cluster.components import (
    control_plane_components,
    etcd_client_url,
    find_etcd,
    service_cidr,
)
from cli.cluster.layout import Paths, resolve_ports, saved_ports
from cli.cluster.supervisor import ClusterError, running_pid

KIND, FORMAT = "SchoonerBackup", 1
MANIFEST = "schooner-backup.json"
SNAPSHOT = "etcd/snapshot.db"
ETCD_MEMBER = "schooner"  # the member name components.control_plane_components gives etcd
CREDENTIALS = ("pki/ca.crt", "pki/ca.key", "pki/apiserver.crt", "pki/apiserver.key",
               "pki/etcd/ca.crt", "pki/etcd/ca.key", "tokens.csv")
# The key Secrets are encrypted with in etcd: a snapshot's Secrets are unreadable
# without it. Kept when the home has it (homes made before encryption at rest have not).
ENCRYPTION = "pki/encryption-config.yaml"
PRIVATE = {"pki/ca.key", "pki/apiserver.key", "pki/etcd/ca.key", "tokens.csv", ENCRYPTION}
PORTS = "cluster.json"


class BackupError(ClusterError):
    """A file is no usable backup, or the target is no fresh cluster; the message says why."""


@dataclass(frozen=True)
class Manifest:
    created: str
    snapshot: etcdsnapshot.SnapshotInfo
    files: dict[str, str]  # archive name -> SHA-256, the snapshot excluded
    service_cidr: str

    def to_json(self) -> dict[str, Any]:
        s = self.snapshot
        return {"kind": KIND, "format": FORMAT, "created": self.created,
                "etcd": {"revision": s.revision, "totalKeys": s.total_keys, "hash": s.hash,
                         "bytes": s.size, "sha256": s.sha256},
                "files": self.files, "serviceClusterIPRange": self.service_cidr}


def home_file(paths: Paths, name: str) -> Path:
    """Where an archive member (other than the snapshot) lives in a home."""
    return paths.home / name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def etcd_endpoint(paths: Paths) -> str:
    """The client URL of the home's etcd; a one-line error when it is not running or
    the apiserver's etcd client certificate, which the snapshot is taken with, is missing."""
    ports = resolve_ports(saved_ports(paths), {})
    etcd = control_plane_components(paths, ports, find_etcd(required=False))[0]
    if running_pid(paths, etcd) is None:
        raise BackupError(f"etcd of the cluster in {paths.home} is not running: "
                          "`schooner up` first (a backup is taken from the running etcd)")
    tls = paths.apiserver_etcd_client
    if missing := [p for p in (tls.ca, tls.cert, tls.key) if not Path(p).is_file()]:
        raise BackupError(f"{missing[0]} is missing: etcd takes only clients with a "
                          "certificate of its CA (`schooner up` makes it)")
    return etcd_client_url(ports)


def backup(paths: Paths, dest: Path, *, credentials: bool = True,
           force: bool = False) -> Manifest:
    """Snapshot the home's etcd, check it, and write the archive to `dest` (mode 0600)."""
    if not dest.parent.is_dir():
        raise BackupError(f"cannot write {dest}: {dest.parent} is not a directory")
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists: choose another name, or --force to replace it")
    endpoint = etcd_endpoint(paths)
    names = [n for n in (*((*CREDENTIALS, ENCRYPTION) if credentials else ()), PORTS)
             if home_file(paths, n).is_file()]
    if credentials and (missing := [n for n in CREDENTIALS if n not in names]):
        raise BackupError(f"{paths.home} has no {missing[0]}: is it a Schooner cluster's home?")
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=dest.parent) as tmp:
        snap = Path(tmp) / "snapshot.db"
        etcdsnapshot.save(endpoint, snap, paths.apiserver_etcd_client)
        info = etcdsnapshot.status(snap)
        manifest = Manifest(datetime.now(UTC).isoformat(timespec="seconds"), info,
                            {n: _sha256(home_file(paths, n)) for n in names}, service_cidr())
        _write_archive(dest, manifest, snap, {n: home_file(paths, n) for n in names})
    return manifest


def _write_archive(dest: Path, manifest: Manifest, snap: Path, files: dict[str, Path]) -> None:
    """The tar.gz, made 0600 before its first byte and renamed into place when whole."""
    part = dest.with_name(f".{dest.name}.partial")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file left by a failed run
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            body = (json.dumps(manifest.to_json(), indent=2) + "\n").encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(body), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(body))
            for name, path in {SNAPSHOT: snap, **files}.items():
                tar.add(path, arcname=name, recursive=False, filter=_private)
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def read(source: Path, into: Path) -> Manifest:
    """Unpack a backup into the directory `into` and check it whole; its manifest.

    Only the known member names are read (a member named otherwise, a link or a
    directory is refused, so nothing lands outside `into`); every file must match
    the manifest's SHA-256, and the snapshot its own and etcd's reading of it.
    """
    def bad(why: str) -> BackupError:
        return BackupError(f"{source} is not a Schooner backup: {why}")

    if not source.exists():
        raise BackupError(f"{source}: no such file")
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    try:
        with tarfile.open(source, mode="r:gz") as tar:
            members = tar.getmembers()
            allowed = {MANIFEST, SNAPSHOT, PORTS, ENCRYPTION, *CREDENTIALS}
            if stray := [m.name for m in members if m.name not in allowed or not m.isfile()]:
                raise bad(f"unexpected member {stray[0]!r}")
            for member in members:
                target = into / member.name
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                src = tar.extractfile(member)
                assert src is not None  # a regular file, checked above
                with src, os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                            0o600), "wb") as out:
                    shutil.copyfileobj(src, out)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise bad(f"{exc}") from None
    manifest = _manifest(into / MANIFEST, bad)
    for name, digest in manifest.files.items():
        if not (into / name).is_file():
            raise bad(f"{name} is listed but missing")
        if _sha256(into / name) != digest:
            raise bad(f"{name} does not match its SHA-256 (the file is damaged)")
    if not (into / SNAPSHOT).is_file():
        raise bad(f"{SNAPSHOT} is missing")
    try:
        etcdsnapshot.check_sha256(into / SNAPSHOT)
    except ClusterError as exc:
        raise bad(str(exc)) from None
    info = etcdsnapshot.status(into / SNAPSHOT)  # bolt's reading; etcdctl's errors as they are
    if info.sha256 != manifest.snapshot.sha256 or info.revision != manifest.snapshot.revision:
        raise bad(f"{SNAPSHOT} is not the snapshot the manifest describes")
    return manifest


def _manifest(path: Path, bad: Callable[[str], BackupError]) -> Manifest:
    """The manifest, refused unless it is this format's."""
    try:
        doc = json.loads(path.read_text())
        if doc.get("kind") != KIND:
            raise bad(f"{MANIFEST} is not a {KIND}")
        if doc.get("format") != FORMAT:
            raise bad(f"format {doc.get('format')!r}, this schooner reads format {FORMAT}")
        etcd = doc["etcd"]
        files = {str(k): str(v) for k, v in dict(doc["files"]).items()}
        if stray := [n for n in files if n not in {PORTS, ENCRYPTION, *CREDENTIALS}]:
            raise bad(f"{MANIFEST} lists unexpected file {stray[0]!r}")
        return Manifest(str(doc["created"]), etcdsnapshot.SnapshotInfo(
            revision=int(etcd["revision"]), total_keys=int(etcd["totalKeys"]),
            hash=int(etcd["hash"]), size=int(etcd["bytes"]), sha256=str(etcd["sha256"])),
            files, str(doc.get("serviceClusterIPRange", "")))
    except OSError:
        raise bad(f"{MANIFEST} is missing") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise bad(f"{MANIFEST} is malformed") from None
