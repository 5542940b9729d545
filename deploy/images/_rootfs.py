"""Debian root filesystems by debootstrap, cached as tarballs, for `docker import`.

One rootfs per package list: ``rootfs("postgres", ("postgresql",))`` runs
``debootstrap --variant=minbase --include=postgresql bookworm`` once and keeps
the result as ``$SCHOONER_IMAGE_CACHE/postgres-rootfs-<key>.tar``. The key is
the suite, architecture, mirror and sorted package list (and the paths pruned
from the tree, when there are any), so a changed list is a new tarball and an
unchanged one is never bootstrapped twice.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from _lib import CACHE_DIR, LABEL, BuildError, ensure_deb, run

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("SCHOONER_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Package caches, indexes and documentation: no image needs them.
SLIM = (
    "var/cache/apt/archives/*.deb",
    "var/cache/apt/*.bin",
    "var/lib/apt/lists/*",
    "usr/share/doc/*",
    "usr/share/man/*",
    "usr/share/info/*",
    "var/log/*.log",
    "var/log/apt/*",
)


def rootfs_key(packages: Sequence[str], prune: Sequence[str] = ()) -> str:
    """``<suite>-<arch>-<hash of what goes into the tree>``."""
    arch = run(["dpkg", "--print-architecture"]).strip()
    spec = f"{DEBIAN_SUITE} {arch} minbase {DEBIAN_MIRROR} {','.join(sorted(packages))}"
    if prune:
        spec += f" prune={','.join(sorted(prune))}"
    return f"{DEBIAN_SUITE}-{arch}-" + hashlib.sha256(spec.encode()).hexdigest()[:16]


def check_mirror() -> None:
    url = f"{DEBIAN_MIRROR}/dists/{DEBIAN_SUITE}/Release"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=15):
            pass
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BuildError(
            f"cannot reach the Debian mirror {url} ({reason}); "
            "debootstrap needs it (set SCHOONER_DEBIAN_MIRROR to use another)"
        ) from None


def unmount_below(root: Path) -> None:
    """Lazily unmount anything mounted at or below root (deepest first)."""
    prefix = str(root.resolve())
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for target in sorted(mounts, key=len, reverse=True):
        if target == prefix or target.startswith(prefix + "/"):
            subprocess.run(["umount", "-l", target], check=False, capture_output=True)


def _remove(rootfs: Path, patterns: Sequence[str]) -> None:
    for pattern in patterns:
        for path in rootfs.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def _debootstrap(rootfs: Path, packages: Sequence[str]) -> None:
    try:
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(packages)}",
                DEBIAN_SUITE,
                str(rootfs),
                DEBIAN_MIRROR,
            ],
            what="debootstrap",
        )
    except BuildError as exc:
        if "Failed getting release file" in str(exc) or "Couldn't download" in str(exc):
            raise BuildError(
                f"debootstrap cannot download from the Debian mirror {DEBIAN_MIRROR}"
            ) from None
        raise
    finally:
        unmount_below(rootfs)  # a failed debootstrap can leave /proc, /sys mounted


def rootfs(name: str, packages: Sequence[str], prune: Sequence[str] = ()) -> tuple[Path, bool]:
    """The cached debootstrap tarball for one package list: (path, was_cached).

    ``prune`` are globs (relative to /) removed from the tree before it is tarred,
    e.g. the cluster a package's postinst made that the image does not want.
    """
    tarball = CACHE_DIR / f"{name}-rootfs-{rootfs_key(packages, prune)}.tar"
    if tarball.exists():
        return tarball, True
    ensure_deb("debootstrap", "/usr/sbin/debootstrap")
    check_mirror()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    print(
        f"  debootstrap {DEBIAN_SUITE} minbase + {','.join(packages)} (cached at {tarball})",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=CACHE_DIR) as tmp:
        tree = Path(tmp) / "rootfs"
        _debootstrap(tree, packages)
        # Docker bind-mounts its own; do not ship the build host's.
        (tree / "etc" / "resolv.conf").unlink(missing_ok=True)
        (tree / "etc" / "resolv.conf").write_text("")
        (tree / "etc" / "hostname").write_text("localhost\n")
        _remove(tree, [*SLIM, *prune])
        partial = Path(tmp) / "rootfs.tar"
        run(
            ["tar", "--numeric-owner", "--xattrs", "-C", str(tree), "-cf", str(partial), "."],
            what="tar rootfs",
        )
        partial.rename(tarball)  # atomic: a half-written tarball is never cached
    for stale in CACHE_DIR.glob(f"{name}-rootfs-*.tar"):
        if stale != tarball:  # superseded by a changed package list: hundreds of MB each
            stale.unlink(missing_ok=True)
    return tarball, False


def docker_import(
    tarball: Path, ref: str, message: str, changes: Sequence[str], content_hash: str = ""
) -> str:
    """``docker import`` a rootfs tarball with Dockerfile-style ``changes``; the image ID.

    With a ``ref`` and a ``content_hash`` it is a finished image; without them, an
    untagged base for a scripted layer on top (build.py's postgres and node images).
    """
    cmd = ["docker", "import", "--message", message]
    labels = [f"LABEL {LABEL}={content_hash}"] if content_hash else []
    for change in [*changes, *labels]:
        cmd += ["--change", change]
    cmd += ["-", ref] if ref else ["-"]
    out = run(cmd, input_file=tarball, what=f"docker import {ref or tarball.name}")
    return out.strip()
