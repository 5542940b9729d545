"""Schooner and its dependencies as wheels, built on the host for the node image.

The node image installs Schooner with ``pip install --no-index`` (DESIGN.md
section 6), from two cached folders under ``$SCHOONER_IMAGE_CACHE``:

- ``wheelhouse-<key>/``: every dependency, by ``pip wheel`` of the project;
  keyed by pyproject.toml and the Python version, so it is built once (and
  goes into the image schooner/node-base);
- ``schooner-wheel-<source hash>/``: the project's own wheel, keyed by the
  hash of its source files, so a lab always runs the current code (the thin
  top layer of schooner/node).

The wheels are built from a copy of the source (the files
:func:`source_files` names), so the build leaves no ``build/`` or egg-info in
the work tree and the wheel holds exactly what was hashed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path

from _lib import CACHE_DIR, REPO, BuildError, run, tree

# Debian bookworm's python3 in the node image; the wheels must be built for it.
IMAGE_PYTHON = "3.11"


def source_files() -> list[Path]:
    """What goes into Schooner's wheel: pyproject.toml, README.md and the packages."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    files = [REPO / "pyproject.toml", REPO / "README.md"]
    for top in sorted(REPO.iterdir()):
        if (top / "__init__.py").is_file() and any(fnmatch.fnmatch(top.name, p) for p in include):
            files += tree(top)
    return files


def source_hash(files: list[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(b"\0" + str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def builder_python() -> str:
    """The project's venv Python (as `make venv` made it), which must match the image's."""
    for candidate in (REPO / ".venv" / "bin" / "python", Path(shutil.which("python3") or "")):
        if not candidate.name or not candidate.exists():
            continue
        version = subprocess.run(
            [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if version == IMAGE_PYTHON:
            return str(candidate)
    raise BuildError(
        f"building the node image's wheels needs Python {IMAGE_PYTHON} with pip "
        "(the node image's python3): run `make venv` first"
    )


def _copy_source(files: list[Path], dest: Path) -> None:
    for path in files:
        target = dest / path.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _pip_wheel(python: str, files: list[Path], out: Path, *, deps: bool) -> None:
    """``pip wheel`` a copy of the source: with its dependencies (build isolation), or
    only the project, with the cached builder venv (three times quicker than isolation)."""
    with tempfile.TemporaryDirectory(prefix="schooner-src-") as src:
        _copy_source(files, Path(src))
        if not deps:
            python = wheel_builder(python)
        cmd = [python, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
        if not deps:
            cmd += ["--no-deps", "--no-build-isolation"]
        run([*cmd, "--wheel-dir", str(out), src], what="pip wheel")


def wheel_builder(python: str) -> str:
    """A venv with pyproject.toml's build requirements, made once: its python.

    What pip's build isolation makes for every build (a fresh venv with
    setuptools), kept in the cache and used with ``--no-build-isolation``.
    """
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    key = hashlib.sha256("\0".join([IMAGE_PYTHON, *requires]).encode()).hexdigest()[:16]
    final = CACHE_DIR / f"wheel-builder-{key}"
    if not (final / "bin" / "python").exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"{final.name}-", dir=CACHE_DIR) as tmp:
            venv = Path(tmp) / "venv"
            run([python, "-m", "venv", str(venv)], what="python -m venv (wheel builder)")
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            run([*pip, "--disable-pip-version-check", *requires], what="pip install (builder)")
            venv.rename(final)  # `bin/python -m pip` works from the moved venv
    return str(final / "bin" / "python")


def _cached_dir(final: Path, build: Callable[[Path], None]) -> tuple[Path, bool]:
    """``final`` if it exists, else filled by ``build(tmpdir)`` and renamed atomically."""
    if final.is_dir():
        return final, True
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{final.name}-", dir=CACHE_DIR) as tmp:
        out = Path(tmp) / "wheels"
        out.mkdir()
        build(out)
        out.rename(final)
    return final, False


def dependency_key() -> str:
    """The dependency wheelhouse's key: pyproject.toml and the image's Python version."""
    data = (REPO / "pyproject.toml").read_bytes() + IMAGE_PYTHON.encode()
    return hashlib.sha256(data).hexdigest()[:16]


def dependency_wheels(files: list[Path]) -> tuple[list[Path], bool]:
    """Every wheel Schooner needs but its own, resolved once per pyproject: (wheels, cached)."""
    python = builder_python()

    def build(out: Path) -> None:
        _pip_wheel(python, files, out, deps=True)
        for own in out.glob("schooner-*.whl"):
            own.unlink()  # cached by source, in project_wheel

    folder, cached = _cached_dir(CACHE_DIR / f"wheelhouse-{dependency_key()}", build)
    for stale in CACHE_DIR.glob("wheelhouse-*"):
        if stale != folder and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    return sorted(folder.glob("*.whl")), cached


def project_wheel(files: list[Path]) -> tuple[Path, bool]:
    """Schooner's own wheel, from exactly ``files``: (wheel, cached)."""
    python = builder_python()
    folder, cached = _cached_dir(
        CACHE_DIR / f"schooner-wheel-{source_hash(files)}",
        lambda out: _pip_wheel(python, files, out, deps=False),
    )
    for stale in CACHE_DIR.glob("schooner-wheel-*"):
        if stale != folder and stale.is_dir():  # a wheel per source change adds up
            shutil.rmtree(stale, ignore_errors=True)
    found = sorted(folder.glob("schooner-*.whl"))
    if len(found) != 1:
        raise BuildError(f"expected one schooner wheel in {folder}, found {len(found)}")
    return found[0], cached
