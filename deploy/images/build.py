#!/usr/bin/env python3
"""Build Schooner's local images reproducibly, cached by content.

No image can be pulled from a registry, so every image is built here from
Debian packages on the host (DESIGN.md section 6):

- schooner/busybox:latest   FROM scratch + Debian's static busybox
- schooner/python:3         debootstrap'ed bookworm minbase, `docker import`ed
- schooner/web-example:1/2  the examples/web Flask app on schooner/python:3

Each image carries the label ``schooner.content-hash``: a hash of everything
that goes into it (files, build recipe, base image ID). When the label on the
existing image matches, nothing is built. The debootstrap root filesystem is
cached as a tarball under ``$SCHOONER_IMAGE_CACHE`` (default
``~/.cache/schooner/images``), keyed by suite, architecture, mirror and
package list, so a rebuild after ``docker rmi`` only re-imports.

Usage: build.py [all|busybox|python|web]...   (stdlib only; run from anywhere)
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LABEL = "schooner.content-hash"

BUSYBOX_IMAGE = "schooner/busybox:latest"
PYTHON_IMAGE = "schooner/python:3"
WEB_REPO = "schooner/web-example"
WEB_VERSIONS = ("1", "2")

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("SCHOONER_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PYTHON_PACKAGES = ("python3", "python3-flask", "python3-psycopg2", "iproute2", "ca-certificates")
CACHE_DIR = Path(
    os.environ.get("SCHOONER_IMAGE_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "schooner" / "images"
)


class BuildError(Exception):
    """A failure worth one clear line, not a traceback."""


# --------------------------------------------------------------------------- helpers


def run(
    cmd: list[str],
    *,
    input_file: Path | None = None,
    env: dict[str, str] | None = None,
    what: str = "",
) -> str:
    """Run a command quietly; on failure raise BuildError with its output's tail."""
    stdin = input_file.open("rb") if input_file else subprocess.DEVNULL
    try:
        proc = subprocess.run(
            cmd,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            check=False,
        )
    finally:
        if input_file:
            stdin.close()  # type: ignore[union-attr]
    out = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(out.strip().splitlines()[-15:])
        raise BuildError(f"{what or cmd[0]} failed (exit {proc.returncode}):\n{tail}")
    return out


def current(ref: str) -> tuple[str, str] | None:
    """(image ID, content-hash label) of a local image, or None if there is no such image."""
    proc = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            f'{{{{.Id}}}} {{{{index .Config.Labels "{LABEL}"}}}}',
            ref,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        if "No such image" in proc.stderr or "No such object" in proc.stderr:
            return None
        raise BuildError(f"docker image inspect {ref} failed: {proc.stderr.strip()}")
    image, _, content_hash = proc.stdout.strip().partition(" ")
    return image, content_hash


def image_id(ref: str) -> str:
    return run(["docker", "image", "inspect", "--format", "{{.Id}}", ref]).strip()


def drop_superseded(previous: tuple[str, str] | None) -> None:
    """Remove the image a rebuild replaced, if this script made it and nothing uses it.

    Only an untagged image with our label goes; ``docker rmi`` by ID (without -f)
    refuses images that containers or child images still use.
    """
    if previous is None or not previous[1]:
        return
    tags = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{len .RepoTags}}", previous[0]],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if tags == "0":
        subprocess.run(["docker", "rmi", previous[0]], capture_output=True, check=False)


def hash_inputs(
    *, recipe: Callable[..., object], files: Iterable[Path] = (), extra: Iterable[str] = ()
) -> str:
    """sha256 over a build function's source, some files (path + bytes) and strings."""
    h = hashlib.sha256()
    h.update(inspect.getsource(recipe).encode())
    for path in sorted(files):
        h.update(
            b"\0file\0"
            + str(path.relative_to(REPO) if path.is_relative_to(REPO) else path).encode()
            + b"\0"
        )
        h.update(path.read_bytes())
    for item in extra:
        h.update(b"\0str\0" + item.encode())
    return h.hexdigest()[:32]


def tree(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def docker_build(context: Path, tag: str, content_hash: str) -> None:
    cmd = ["docker", "build", "--quiet", "--label", f"{LABEL}={content_hash}", "-t", tag]
    # The engine is 20.10 without the buildx plugin: use the classic builder.
    run([*cmd, str(context)], env={"DOCKER_BUILDKIT": "0"}, what=f"docker build {tag}")


def docker_commit_layer(
    base: str, tag: str, content_hash: str, files: dict[str, Path], changes: list[str]
) -> None:
    """``base`` plus one layer holding ``files`` (image path -> host file), with ``changes``.

    The classic builder commits a container per Dockerfile instruction, and every
    commit diffs the whole tree (about 2 s each on fuse-overlayfs with a 160 MB base).
    One container, one copy and one commit give the same image in about 1.5 s.
    """
    with tempfile.TemporaryDirectory(prefix="schooner-layer-") as tmp:
        layer = Path(tmp) / "layer.tar"
        with tarfile.open(layer, "w") as tar:  # root-owned, fixed mtime: reproducible
            dirs = sorted({str(Path(dest).parent) for dest in files} - {"/"})
            for name in [*dirs, *sorted(files)]:
                info = tarfile.TarInfo(name.lstrip("/"))
                info.uid = info.gid = 0
                info.mtime = 0
                if name in files:
                    data = files[name].read_bytes()
                    info.size, info.mode = len(data), 0o644
                    tar.addfile(info, io.BytesIO(data))
                else:
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
        container = run(["docker", "create", base], what=f"docker create {base}").strip()
        try:
            run(["docker", "cp", "-", f"{container}:/"], input_file=layer, what="docker cp")
            cmd = ["docker", "commit"]
            for change in [*changes, f"LABEL {LABEL}={content_hash}"]:
                cmd += ["--change", change]
            run([*cmd, container, tag], what=f"docker commit {tag}")
        finally:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)


def ensure_deb(package: str, path: str) -> None:
    """Install a host Debian package with apt-get when it is missing."""
    status = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Status}", package],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if status.endswith("install ok installed") and Path(path).exists():
        return
    print(
        f"  {package} is not installed on this host: installing it with apt-get "
        f"(needed for {path})",
        flush=True,
    )
    if os.geteuid() != 0:
        raise BuildError(f"run as root, or `sudo apt-get install {package}` first")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    try:
        run(install, env=env, what=f"apt-get install {package}")
    except BuildError:
        run(["apt-get", "update", "-q"], env=env, what="apt-get update")
        run(install, env=env, what=f"apt-get install {package}")
    if not Path(path).exists():
        raise BuildError(f"{package} installed but {path} is missing")


def report(ref: str, state: str, started: float, detail: str = "") -> None:
    elapsed = time.monotonic() - started
    print(f"{ref:<28} {state:<7} {elapsed:6.2f}s{'  ' + detail if detail else ''}", flush=True)


# --------------------------------------------------------------------------- images


def build_busybox() -> None:
    """schooner/busybox:latest: FROM scratch + Debian's static busybox + /www."""
    started = time.monotonic()
    ensure_deb("busybox-static", "/bin/busybox")
    binary = Path("/bin/busybox").resolve()
    src = HERE / "busybox"
    content_hash = hash_inputs(recipe=build_busybox, files=[binary, *tree(src)])
    previous = current(BUSYBOX_IMAGE)
    if previous and previous[1] == content_hash:
        report(BUSYBOX_IMAGE, "cached", started)
        return
    with tempfile.TemporaryDirectory(prefix="schooner-busybox-") as tmp:
        context = Path(tmp) / "ctx"
        shutil.copytree(src, context)
        (context / "rootfs" / "bin").mkdir(exist_ok=True)
        shutil.copy2(binary, context / "rootfs" / "bin" / "busybox")
        (context / "rootfs" / "bin" / "busybox").chmod(0o755)
        docker_build(context, BUSYBOX_IMAGE, content_hash)
    drop_superseded(previous)
    report(BUSYBOX_IMAGE, "built", started)


def python_rootfs_key() -> str:
    arch = run(["dpkg", "--print-architecture"]).strip()
    spec = f"{DEBIAN_SUITE} {arch} minbase {DEBIAN_MIRROR} {','.join(sorted(PYTHON_PACKAGES))}"
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


def python_rootfs() -> tuple[Path, bool]:
    """The cached debootstrap tarball for the Python image: (path, was_cached)."""
    tarball = CACHE_DIR / f"python-rootfs-{python_rootfs_key()}.tar"
    if tarball.exists():
        return tarball, True
    ensure_deb("debootstrap", "/usr/sbin/debootstrap")
    check_mirror()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    print(
        f"  debootstrap {DEBIAN_SUITE} minbase + {','.join(PYTHON_PACKAGES)} "
        f"(about 40 s, cached at {tarball})",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=CACHE_DIR) as tmp:
        rootfs = Path(tmp) / "rootfs"
        try:
            run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(PYTHON_PACKAGES)}",
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
        # Docker bind-mounts its own; do not ship the build host's.
        (rootfs / "etc" / "resolv.conf").unlink(missing_ok=True)
        (rootfs / "etc" / "resolv.conf").write_text("")
        (rootfs / "etc" / "hostname").write_text("localhost\n")
        # Slim the image: package caches, indexes and documentation.
        for pattern in (
            "var/cache/apt/archives/*.deb",
            "var/cache/apt/*.bin",
            "var/lib/apt/lists/*",
            "usr/share/doc/*",
            "usr/share/man/*",
            "usr/share/info/*",
            "var/log/*.log",
            "var/log/apt/*",
        ):
            for path in rootfs.glob(pattern):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        partial = Path(tmp) / "rootfs.tar"
        run(
            ["tar", "--numeric-owner", "--xattrs", "-C", str(rootfs), "-cf", str(partial), "."],
            what="tar rootfs",
        )
        partial.rename(tarball)  # atomic: a half-written tarball is never cached
    return tarball, False


@functools.cache  # build_web asks for it too: check (and print) once per run
def build_python() -> None:
    """schooner/python:3: Debian bookworm minbase with python3, flask, psycopg2."""
    started = time.monotonic()
    key = python_rootfs_key()
    changes = [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        'CMD ["python3"]',
    ]
    content_hash = hash_inputs(recipe=build_python, extra=[key, *changes])
    previous = current(PYTHON_IMAGE)
    if previous and previous[1] == content_hash:
        report(PYTHON_IMAGE, "cached", started)
        return
    tarball, was_cached = python_rootfs()
    cmd = ["docker", "import", "--message", f"schooner debootstrap {key}"]
    for change in [*changes, f"LABEL {LABEL}={content_hash}"]:
        cmd += ["--change", change]
    run([*cmd, "-", PYTHON_IMAGE], input_file=tarball, what=f"docker import {PYTHON_IMAGE}")
    drop_superseded(previous)
    report(
        PYTHON_IMAGE,
        "built",
        started,
        "(imported the cached rootfs)" if was_cached else "(debootstrap + import)",
    )


def build_web() -> None:
    """schooner/web-example:1 and :2: the examples/web Flask app on schooner/python:3.

    Equivalent to this Dockerfile, built with --build-arg APP_VERSION=1 (and 2):
        FROM schooner/python:3
        COPY app.py /app/app.py
        ENV APP_VERSION=$APP_VERSION PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
        WORKDIR /app
        USER 65534:65534
        EXPOSE 8080
        CMD ["python3", "/app/app.py"]
    """
    build_python()
    src = REPO / "examples" / "web" / "app"
    files = {"/app/app.py": src / "app.py"}
    base = image_id(PYTHON_IMAGE)
    for version in WEB_VERSIONS:
        started = time.monotonic()
        ref = f"{WEB_REPO}:{version}"
        changes = [
            f"ENV APP_VERSION={version}",
            "ENV PYTHONUNBUFFERED=1",
            "ENV PYTHONDONTWRITEBYTECODE=1",
            "WORKDIR /app",
            "USER 65534:65534",
            "EXPOSE 8080/tcp",
            'CMD ["python3", "/app/app.py"]',
        ]
        content_hash = hash_inputs(
            recipe=build_web, files=files.values(), extra=[base, version, *changes]
        )
        previous = current(ref)
        if previous and previous[1] == content_hash:
            report(ref, "cached", started)
            continue
        docker_commit_layer(base, ref, content_hash, files, changes)
        drop_superseded(previous)
        report(ref, "built", started)


BUILDERS: dict[str, Callable[[], None]] = {
    "busybox": build_busybox,
    "python": build_python,
    "web": build_web,
}


def main(argv: list[str]) -> int:
    names = argv or ["all"]
    if "all" in names:
        names = list(BUILDERS)
    unknown = [n for n in names if n not in BUILDERS]
    if unknown:
        print(
            f"usage: build.py [all|{'|'.join(BUILDERS)}]... (unknown: {', '.join(unknown)})",
            file=sys.stderr,
        )
        return 2
    if shutil.which("docker") is None:
        print("build.py: the docker CLI is not installed", file=sys.stderr)
        return 1
    try:
        for name in dict.fromkeys(names):
            BUILDERS[name]()
    except BuildError as exc:
        print(f"build.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
