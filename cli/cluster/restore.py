"""`schooner restore`: a backup (cli.cluster.archive) into a fresh local cluster's home.

etcd's data comes back through `etcdctl snapshot restore`: a new member and
cluster ID, the same keys at the same revisions, so every object keeps its uid
and resourceVersion and the agent finds its running containers' pods again
(it knows them by pod uid). The PKI and tokens come back beside it, so the
cluster keeps its identity. The components are not started here: `schooner up`
starts them on the restored data, each client with a fresh list (none of them
holds a watch across the restore, since the cluster was down).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cli.cluster import archive, etcdsnapshot
from cli.cluster.archive import PORTS, PRIVATE, SNAPSHOT, BackupError, Manifest
from cli.cluster.components import (
    control_plane_components,
    etcd_peer_url,
    find_etcd,
    service_cidr,
)
from cli.cluster.layout import Paths, resolve_ports, saved_ports
from cli.cluster.supervisor import locked, running_pid


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    files: list[str]  # archive names written into the home, the snapshot excluded
    set_aside: Path | None  # the etcd data moved away by --force
    warnings: list[str]


def refuse_unless_fresh(paths: Paths, force: bool) -> None:
    """Nothing of the home may run; its etcd data dir must be empty unless `force`."""
    ports = resolve_ports(saved_ports(paths), {})
    running = [c.name for c in control_plane_components(paths, ports, find_etcd(False))
               if running_pid(paths, c) is not None]
    if running:
        raise BackupError(f"the cluster in {paths.home} is running ({', '.join(running)}): "
                          "`schooner down` first")
    if _has_data(paths.etcd_data) and not force:
        raise BackupError(f"{paths.etcd_data} already holds a cluster's data: restore only "
                          "into a fresh cluster, or --force to set that data aside")


def _has_data(path: Path) -> bool:
    if path.is_dir():
        return any(path.iterdir())
    return path.exists()


def _credential_conflicts(paths: Paths, unpacked: Path, manifest: Manifest) -> list[str]:
    """The home's credentials that differ from the backup's (a restore would replace them)."""
    return [name for name in manifest.files if name != PORTS
            and archive.home_file(paths, name).is_file()
            and archive.home_file(paths, name).read_bytes() != (unpacked / name).read_bytes()]


def restore(paths: Paths, source: Path, *, force: bool = False) -> Restored:
    """Check everything, then restore etcd's data and the credentials into the home."""
    paths.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    with locked(paths):
        refuse_unless_fresh(paths, force)
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=paths.home) as tmp:
            unpacked = Path(tmp)
            manifest = archive.read(source, unpacked)
            conflicts = _credential_conflicts(paths, unpacked, manifest)
            if conflicts and not force:
                raise BackupError(f"{archive.home_file(paths, conflicts[0])} differs from the "
                                  "backup's: --force to replace the home's credentials")
            if PORTS in manifest.files and not paths.cluster_json.exists():
                shutil.copyfile(unpacked / PORTS, paths.cluster_json)
            aside = _restore_etcd(paths, unpacked / SNAPSHOT)
            written = _put_files(paths, unpacked, manifest)
    warnings = []
    if manifest.service_cidr and manifest.service_cidr != service_cidr():
        warnings.append(f"the backup's Services are in {manifest.service_cidr}, this cluster's "
                        f"range is {service_cidr()}: set SCHOONER_SERVICE_CIDR="
                        f"{manifest.service_cidr} before `schooner up`")
    return Restored(manifest, written, aside, warnings)


def _restore_etcd(paths: Paths, snapshot: Path) -> Path | None:
    """Restore into a sibling dir, then move it into place (setting any old data aside)."""
    ports = resolve_ports(saved_ports(paths), os.environ)
    staging = paths.etcd_data.with_name(f"{paths.etcd_data.name}.restoring")
    shutil.rmtree(staging, ignore_errors=True)
    etcdsnapshot.restore(snapshot, staging, archive.ETCD_MEMBER, etcd_peer_url(ports))
    staging.chmod(0o700)
    aside = None
    if _has_data(paths.etcd_data):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = paths.etcd_data.with_name(f"{paths.etcd_data.name}.before-restore-{stamp}")
        paths.etcd_data.rename(aside)
    elif paths.etcd_data.is_dir():
        paths.etcd_data.rmdir()
    staging.rename(paths.etcd_data)
    return aside


def _put_files(paths: Paths, unpacked: Path, manifest: Manifest) -> list[str]:
    """The credentials into the home (keys and tokens 0600); the kubeconfig is dropped so
    `schooner up` writes it again from the restored CA and admin token."""
    written = []
    for name in manifest.files:
        if name == PORTS:
            continue
        target = archive.home_file(paths, name)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.restoring")
        shutil.copyfile(unpacked / name, tmp)
        tmp.chmod(0o600 if name in PRIVATE else 0o644)
        os.replace(tmp, target)
        written.append(name)
    if written:
        paths.kubeconfig.unlink(missing_ok=True)
    return written
