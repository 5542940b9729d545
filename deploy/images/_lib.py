"""What every image recipe in build.py uses: commands, content hashes, image layers.

Standard library only, like build.py (it runs before the project's venv exists).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LABEL = "schooner.content-hash"
CACHE_DIR = Path(
    os.environ.get("SCHOONER_IMAGE_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "schooner" / "images"
)


class BuildError(Exception):
    """A failure worth one clear line, not a traceback."""


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
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def docker_build(context: Path, tag: str, content_hash: str) -> None:
    cmd = ["docker", "build", "--quiet", "--label", f"{LABEL}={content_hash}", "-t", tag]
    # The engine is 20.10 without the buildx plugin: use the classic builder.
    run([*cmd, str(context)], env={"DOCKER_BUILDKIT": "0"}, what=f"docker build {tag}")


def write_layer(layer: Path, files: Mapping[str, Path]) -> None:
    """A tarball of ``files`` (image path -> host file): root-owned, mtime 0, reproducible.

    A host file with any execute bit becomes 0755 in the image, any other 0644;
    the parent directories are created 0755.
    """
    dirs: set[str] = set()
    for dest in files:
        parent = Path(dest).parent
        while str(parent) != "/":
            dirs.add(str(parent))
            parent = parent.parent
    with tarfile.open(layer, "w") as tar:
        for name in [*sorted(dirs), *sorted(files)]:
            info = tarfile.TarInfo(name.lstrip("/"))
            info.uid = info.gid = 0
            info.mtime = 0
            if name in files:
                source = files[name]
                info.size = source.stat().st_size
                info.mode = 0o755 if source.stat().st_mode & 0o111 else 0o644
                with source.open("rb") as data:
                    tar.addfile(info, data)
            else:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)


def _commit(container: str, tag: str, content_hash: str, changes: list[str]) -> None:
    cmd = ["docker", "commit"]
    for change in [*changes, f"LABEL {LABEL}={content_hash}"]:
        cmd += ["--change", change]
    run([*cmd, container, tag], what=f"docker commit {tag}")


def docker_commit_layer(
    base: str, tag: str, content_hash: str, files: Mapping[str, Path], changes: list[str]
) -> None:
    """``base`` plus one layer holding ``files`` (image path -> host file), with ``changes``.

    The classic builder commits a container per Dockerfile instruction, and every
    commit diffs the whole tree (about 2 s each on fuse-overlayfs with a 160 MB base).
    One container, one copy and one commit give the same image in about 1.5 s.
    """
    docker_commit_script(base, tag, content_hash, files, "", changes)


def docker_commit_script(
    base: str,
    tag: str,
    content_hash: str,
    files: Mapping[str, Path],
    script: str,
    changes: list[str],
) -> None:
    """``base`` plus one layer: ``files`` copied in, then ``script`` run by /bin/sh, committed.

    The Dockerfile ``COPY ...`` + ``RUN ...`` pair in one container and one commit.
    The script runs without a network (everything it needs is in ``files``), and
    whatever it deletes (e.g. the copied-in wheels) is not in the layer. ``changes``
    must set CMD when a script runs, or the image would keep the script as its CMD.
    """
    if script and not any(change.startswith("CMD ") for change in changes):
        raise BuildError(f"{tag}: a scripted layer needs a CMD in its changes")
    command = ["/bin/sh", "-ec", script] if script else []
    create = ["docker", "create", "--network", "none", base, *command]
    container = run(create, what=f"docker create {base}").strip()
    try:
        if files:
            with tempfile.TemporaryDirectory(prefix="schooner-layer-") as tmp:
                layer = Path(tmp) / "layer.tar"
                write_layer(layer, files)
                run(["docker", "cp", "-", f"{container}:/"], input_file=layer, what="docker cp")
        if script:
            # `docker start --attach` exits with the script's code; run() reports its tail.
            run(["docker", "start", "--attach", container], what=f"{tag}: the build script")
        _commit(container, tag, content_hash, changes)
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
