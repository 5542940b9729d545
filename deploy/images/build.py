#!/usr/bin/env python3
"""Build Schooner's local images reproducibly, cached by content.

No image can be pulled from a registry, so every image is built here from
Debian packages and wheels made on the host (DESIGN.md section 6):

- schooner/busybox:latest      FROM scratch + Debian's static busybox
- schooner/python:3            debootstrap'ed bookworm minbase, `docker import`ed
- schooner/web-example:1/2     the examples/web Flask app on schooner/python:3
- schooner/postgres:15         bookworm minbase + postgresql-15 + an entrypoint
                               that initialises $PGDATA (deploy/images/postgres)
- schooner/flask-postgres:1    the examples/flask-postgres app on schooner/python:3
- schooner/in-cluster-example:1  examples/in-cluster's program on a rootfs of its own
                               (bookworm minbase + python3-kubernetes), so the
                               python image's cached rootfs stays as it is
- schooner/node:latest         a lab host: dockerd, docker-registry, Debian's
                               etcd-server (3.4.23) and Schooner in /opt/schooner/venv
                               (not in `all`: `make image-node`), on
                               schooner/node-base:latest (all but Schooner's code)

Each image carries the label ``schooner.content-hash``: a hash of everything
that goes into it (files, build recipe, base image ID, Schooner's source for
the node). When the label on the existing image matches, nothing is built. The
debootstrap root filesystems and the node's wheels are cached under
``$SCHOONER_IMAGE_CACHE`` (default ``~/.cache/schooner/images``), keyed by
their inputs (_rootfs.py, _wheels.py), so a rebuild after ``docker rmi`` only
re-imports.

`build.py host-etcd` is no image: it installs Debian's etcd-server and etcd-client on this host
with apt-get when missing (`make up` and `make test` run it), as the images'
builds install debootstrap.

Usage: build.py [all|busybox|python|web|postgres|flask-postgres|in-cluster|node|host-etcd]...
(stdlib only; run from anywhere)
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _lib import (
    HERE,
    REPO,
    BuildError,
    current,
    docker_build,
    docker_commit_layer,
    docker_commit_script,
    drop_superseded,
    ensure_deb,
    hash_inputs,
    image_id,
    report,
    tree,
)
from _rootfs import docker_import, rootfs, rootfs_key
from _wheels import dependency_key, dependency_wheels, project_wheel, source_files

BUSYBOX_IMAGE = "schooner/busybox:latest"
PYTHON_IMAGE = "schooner/python:3"
WEB_REPO = "schooner/web-example"
WEB_VERSIONS = ("1", "2")
POSTGRES_IMAGE = "schooner/postgres:15"
FLASK_POSTGRES_IMAGE = "schooner/flask-postgres:1"
IN_CLUSTER_IMAGE = "schooner/in-cluster-example:1"
# python3-cffi-backend by name: cryptography (google-auth's) depends on virtual packages
# it provides, which debootstrap does not resolve
IN_CLUSTER_PACKAGES = ("python3", "python3-kubernetes", "python3-cffi-backend", "ca-certificates")
IN_CLUSTER_PRUNE = ("usr/share/locale/*",)
# SCHOONER_NODE_IMAGE names another tag, so two checkouts (git worktrees) can each
# build and run a lab of their own code side by side; lab/topology.py reads it too.
NODE_IMAGE = os.environ.get("SCHOONER_NODE_IMAGE", "schooner/node:latest")
NODE_BASE_IMAGE = "schooner/node-base:latest"

PYTHON_PACKAGES = ("python3", "python3-flask", "python3-psycopg2", "iproute2", "ca-certificates")
POSTGRES_PACKAGES = ("postgresql-15",)
POSTGRES_PRUNE = (
    # postgresql-15's postinst creates a cluster "main"; the entrypoint makes its own.
    "var/lib/postgresql/15/main",
    "etc/postgresql/15/main",
    # The JIT (LLVM and z3, 157 MB): without its provider, PostgreSQL runs without JIT.
    "usr/lib/postgresql/15/lib/llvmjit*",
    "usr/lib/postgresql/15/lib/bitcode",
    "usr/lib/*/libLLVM-*",
    "usr/lib/*/libz3.so*",
    # Message translations (52 MB).
    "usr/share/locale/*",
)
NODE_PACKAGES = (
    "docker.io",
    "iptables",
    "iproute2",
    "ca-certificates",
    "python3",
    "python3-venv",
    "docker-registry",
    "procps",
    "etcd-server",  # the lab's etcd members: Debian's 3.4.23, not the withdrawn 3.5.0-3.5.2
)
NODE_PRUNE = (
    "usr/share/locale/*",  # message translations
    "usr/bin/dnet",  # libnetwork's test tools, shipped by docker.io
    "usr/sbin/ovrouter",
)
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The environment of a debootstrap'ed Python rootfs: schooner/python:3's, and the in-cluster
# example's, which is the same recipe on a rootfs of its own (other packages).
PYTHON_ENV = (f"ENV PATH={BASE_PATH}", "ENV LANG=C.UTF-8")
# An example program's layer on such a rootfs (web, flask-postgres, in-cluster): output
# unbuffered, no .pyc written, run from /app as nobody.
APP_ENV = (
    "ENV PYTHONUNBUFFERED=1",
    "ENV PYTHONDONTWRITEBYTECODE=1",
    "WORKDIR /app",
    "USER 65534:65534",
)
NODE_CHANGES = [
    f"ENV PATH=/opt/schooner/venv/bin:{BASE_PATH}",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONUNBUFFERED=1",
    'CMD ["dockerd"]',
]


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


@functools.cache  # build_web and build_flask_postgres ask for it too: check (and print) once
def build_python() -> None:
    """schooner/python:3: Debian bookworm minbase with python3, flask, psycopg2."""
    started = time.monotonic()
    key = rootfs_key(PYTHON_PACKAGES)
    changes = [*PYTHON_ENV, 'CMD ["python3"]']
    content_hash = hash_inputs(recipe=build_python, extra=[key, *changes])
    previous = current(PYTHON_IMAGE)
    if previous and previous[1] == content_hash:
        report(PYTHON_IMAGE, "cached", started)
        return
    tarball, was_cached = rootfs("python", PYTHON_PACKAGES)
    docker_import(tarball, PYTHON_IMAGE, f"schooner debootstrap {key}", changes, content_hash)
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
            *APP_ENV,
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


def rootfs_image(
    ref: str,
    name: str,
    packages: Sequence[str],
    prune: Sequence[str],
    content_hash: str,
    files: dict[str, Path],
    script: str,
    changes: list[str],
) -> str:
    """A debootstrap rootfs imported as an untagged base, plus one scripted layer.

    The Dockerfile equivalent is ``FROM <rootfs>``, ``COPY``, ``RUN script``; the
    base is removed with the image that replaces this one (``docker rmi`` takes
    untagged parents along). Returns how the rootfs was had, for the report.
    """
    tarball, was_cached = rootfs(name, packages, prune)
    base = docker_import(tarball, "", f"schooner debootstrap {tarball.name}", [])
    try:
        docker_commit_script(base, ref, content_hash, files, script, changes)
    finally:  # refused (and harmless) once ref is built on it; removes it on failure
        subprocess.run(["docker", "rmi", base], capture_output=True, check=False)
    return "(imported the cached rootfs)" if was_cached else "(debootstrap + import)"


def build_postgres() -> None:
    """schooner/postgres:15: bookworm minbase + postgresql-15, initialised by its entrypoint.

    No STOPSIGNAL (Docker 20.10's commit cannot set one): SIGTERM makes postgres
    do a smart shutdown, which is prompt when clients hold no long sessions.

    Equivalent to, on the debootstrap'ed rootfs:
        COPY docker-entrypoint.sh /usr/local/bin/
        RUN <script below>
        ENV PATH=/usr/lib/postgresql/15/bin:... PGDATA=/var/lib/postgresql/data
        ENTRYPOINT ["docker-entrypoint.sh"]
        EXPOSE 5432
        CMD ["postgres"]
    """
    started = time.monotonic()
    files = {"/usr/local/bin/docker-entrypoint.sh": HERE / "postgres" / "docker-entrypoint.sh"}
    script = (
        "mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data /run/postgresql\n"
        "chown postgres:postgres /var/lib/postgresql /var/lib/postgresql/data /run/postgresql\n"
        "chmod 700 /var/lib/postgresql/data\n"
        "chmod 3777 /run/postgresql\n"
        "/usr/lib/postgresql/15/bin/postgres --version\n"
    )
    changes = [
        f"ENV PATH=/usr/lib/postgresql/15/bin:{BASE_PATH}",
        "ENV PGDATA=/var/lib/postgresql/data",
        "ENV LANG=C.UTF-8",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        "EXPOSE 5432/tcp",
        'CMD ["postgres"]',
    ]
    key = rootfs_key(POSTGRES_PACKAGES, POSTGRES_PRUNE)
    content_hash = hash_inputs(
        recipe=build_postgres, files=files.values(), extra=[key, script, *changes]
    )
    previous = current(POSTGRES_IMAGE)
    if previous and previous[1] == content_hash:
        report(POSTGRES_IMAGE, "cached", started)
        return
    how = rootfs_image(
        POSTGRES_IMAGE,
        "postgres",
        POSTGRES_PACKAGES,
        POSTGRES_PRUNE,
        content_hash,
        files,
        script,
        changes,
    )
    drop_superseded(previous)
    report(POSTGRES_IMAGE, "built", started, how)


def build_flask_postgres() -> None:
    """schooner/flask-postgres:1: the examples/flask-postgres app on schooner/python:3.

    Equivalent to this Dockerfile:
        FROM schooner/python:3
        COPY app.py /app/app.py
        ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
        WORKDIR /app
        USER 65534:65534
        EXPOSE 8080
        CMD ["python3", "/app/app.py"]
    """
    build_python()
    started = time.monotonic()
    files = {"/app/app.py": REPO / "examples" / "flask-postgres" / "app" / "app.py"}
    base = image_id(PYTHON_IMAGE)
    changes = [*APP_ENV, "EXPOSE 8080/tcp", 'CMD ["python3", "/app/app.py"]']
    content_hash = hash_inputs(
        recipe=build_flask_postgres, files=files.values(), extra=[base, *changes]
    )
    previous = current(FLASK_POSTGRES_IMAGE)
    if previous and previous[1] == content_hash:
        report(FLASK_POSTGRES_IMAGE, "cached", started)
        return
    docker_commit_layer(base, FLASK_POSTGRES_IMAGE, content_hash, files, changes)
    drop_superseded(previous)
    report(FLASK_POSTGRES_IMAGE, "built", started)


def build_in_cluster() -> None:
    """schooner/in-cluster-example:1: examples/in-cluster's program with the official
    client (Debian's python3-kubernetes), run as nobody.

    schooner/python:3's recipe (PYTHON_ENV) on a rootfs of its own, so the python
    image's cached rootfs stays as it is, with the examples' app layer (APP_ENV):
        COPY list_pods.py /app/list_pods.py
        RUN python3 -c "import kubernetes.config"
        ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
        WORKDIR /app
        USER 65534:65534
        CMD ["python3", "/app/list_pods.py"]
    """
    started = time.monotonic()
    files = {"/app/list_pods.py": REPO / "examples" / "in-cluster" / "app" / "list_pods.py"}
    script = 'python3 -c "import kubernetes.config"\n'
    changes = [*PYTHON_ENV, *APP_ENV, 'CMD ["python3", "/app/list_pods.py"]']
    key = rootfs_key(IN_CLUSTER_PACKAGES, IN_CLUSTER_PRUNE)
    content_hash = hash_inputs(
        recipe=build_in_cluster, files=files.values(), extra=[key, script, *changes]
    )
    previous = current(IN_CLUSTER_IMAGE)
    if previous and previous[1] == content_hash:
        report(IN_CLUSTER_IMAGE, "cached", started)
        return
    how = rootfs_image(IN_CLUSTER_IMAGE, "in-cluster", IN_CLUSTER_PACKAGES, IN_CLUSTER_PRUNE,
                       content_hash, files, script, changes)
    drop_superseded(previous)
    report(IN_CLUSTER_IMAGE, "built", started, how)


@functools.cache  # build_node asks for it; check once per run
def build_node_base() -> None:
    """schooner/node-base:latest: the node image without Schooner's own code.

    Bookworm minbase with dockerd, iptables, Debian's docker-registry (with an
    open config) and etcd-server (the lab's etcd members), and a venv holding
    Schooner's dependencies, installed without an index from the wheelhouse
    built on the host (_wheels.py). Rebuilt only
    when the package list or pyproject.toml changes. Equivalent to, on the rootfs:
        COPY registry-config.yml /etc/docker/registry/config.yml
        COPY wheelhouse/ /wheels/
        RUN python3 -m venv /opt/schooner/venv \\
            && /opt/schooner/venv/bin/pip install --no-index --no-deps /wheels/*.whl \\
            && rm -rf /wheels
        ENV PATH=/opt/schooner/venv/bin:...
        CMD ["dockerd"]
    """
    started = time.monotonic()
    config = {"/etc/docker/registry/config.yml": HERE / "node" / "registry-config.yml"}
    script = (
        "python3 -m venv /opt/schooner/venv\n"
        "/opt/schooner/venv/bin/pip install --quiet --no-index --no-deps --no-cache-dir"
        " --disable-pip-version-check /wheels/*.whl\n"
        "rm -rf /wheels\n"
        "etcd --version | grep -q 'etcd Version: 3.4'\n"
        "dockerd --version\n"
    )
    key = rootfs_key(NODE_PACKAGES, NODE_PRUNE)
    content_hash = hash_inputs(
        recipe=build_node_base,
        files=config.values(),
        extra=[key, dependency_key(), script, *NODE_CHANGES],
    )
    previous = current(NODE_BASE_IMAGE)
    if previous and previous[1] == content_hash:
        report(NODE_BASE_IMAGE, "cached", started)
        return
    found, cached = dependency_wheels(source_files())
    files = {**config, **{f"/wheels/{wheel.name}": wheel for wheel in found}}
    how = rootfs_image(
        NODE_BASE_IMAGE,
        "node",
        NODE_PACKAGES,
        NODE_PRUNE,
        content_hash,
        files,
        script,
        NODE_CHANGES,
    )
    drop_superseded(previous)
    wheelhouse = "wheelhouse cached" if cached else "wheelhouse built"
    report(NODE_BASE_IMAGE, "built", started, f"{how[:-1]}; {wheelhouse})")


def build_node() -> None:
    """schooner/node:latest: a lab host (Docker-in-Docker node, or a control-plane container).

    schooner/node-base plus Schooner's wheel, built on the host from the current
    source: the content hash covers every source file, so the image is rebuilt
    (in seconds: one thin layer) whenever the code changes. Equivalent to:
        FROM schooner/node-base:latest
        COPY schooner-*.whl /wheels/
        RUN /opt/schooner/venv/bin/pip install --no-index --no-deps /wheels/*.whl \\
            && rm -rf /wheels
    Run it with the Docker-in-Docker flags (RECIPES.md) and a volume at /var/lib/docker.
    """
    build_node_base()
    started = time.monotonic()
    sources = source_files()
    base = image_id(NODE_BASE_IMAGE)
    script = (
        "/opt/schooner/venv/bin/pip install --quiet --no-index --no-deps --no-cache-dir"
        " --disable-pip-version-check /wheels/*.whl\n"
        "rm -rf /wheels\n"
        "/opt/schooner/venv/bin/schooner-agent --help >/dev/null\n"
    )
    content_hash = hash_inputs(
        recipe=build_node, files=sources, extra=[base, script, *NODE_CHANGES]
    )
    previous = current(NODE_IMAGE)
    if previous and previous[1] == content_hash:
        report(NODE_IMAGE, "cached", started)
        return
    wheel, cached = project_wheel(sources)
    files = {f"/wheels/{wheel.name}": wheel}
    docker_commit_script(base, NODE_IMAGE, content_hash, files, script, NODE_CHANGES)
    drop_superseded(previous)
    report(NODE_IMAGE, "built", started, "(wheel cached)" if cached else "(wheel built)")


def install_host_etcd() -> None:
    """Debian's etcd-server and etcd-client on this host, for `make up`, `schooner backup`
    and `restore` (etcdctl) and the tests (apt-get if missing).

    Only the binary is wanted. Where systemd runs, the package also starts a
    system etcd on 127.0.0.1:2379, the port `schooner up` takes: when this
    installed the package, that service is stopped and disabled again.
    """
    started = time.monotonic()
    was_there = Path("/usr/bin/etcd").exists()
    ensure_deb("etcd-server", "/usr/bin/etcd")
    ensure_deb("etcd-client", "/usr/bin/etcdctl")
    if not was_there and Path("/run/systemd/system").is_dir():
        print("  stopping the system etcd service etcd-server started (schooner runs its own)",
              flush=True)
        subprocess.run(["systemctl", "disable", "--now", "etcd"], check=False)
    report("/usr/bin/etcd", "present", started)


BUILDERS: dict[str, Callable[[], None]] = {
    "busybox": build_busybox,
    "python": build_python,
    "web": build_web,
    "postgres": build_postgres,
    "flask-postgres": build_flask_postgres,
    "in-cluster": build_in_cluster,
    "node": build_node,
    "host-etcd": install_host_etcd,
}
# `make images` (run by `make up`) stays quick: the node image is for the lab only.
ALL = ("busybox", "python", "web", "postgres", "flask-postgres", "in-cluster")


def main(argv: list[str]) -> int:
    names = argv or ["all"]
    if "all" in names:
        i = names.index("all")
        names = [*names[:i], *ALL, *names[i + 1 :]]
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
