"""The locally built images (deploy/images, `make images`) work on the real Docker engine.

Assumes `make images` ran; the postgres, flask-postgres and node images are also
built here, once per session, by build.py (a no-op when they are current, a few
minutes for a cold node image). Every container started here publishes on
127.0.0.1 only, carries the label below and is removed in a `finally`, with the
networks and volumes the test made.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import random
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from docker.models.networks import Network
from docker.models.volumes import Volume
from docker.types import EndpointConfig, IPAMConfig, IPAMPool, Mount

from apiserver.kinds import registry
from apiserver.validation import validate
from cli.cluster.processes import wait_for
from cli.manifests import load_manifests

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "deploy" / "images" / "build.py"
BUSYBOX = "schooner/busybox:latest"
PYTHON = "schooner/python:3"
WEB = ("schooner/web-example:1", "schooner/web-example:2")
POSTGRES = "schooner/postgres:15"
FLASK_POSTGRES = "schooner/flask-postgres:1"
NODE = "schooner/node:latest"
IMAGES = (BUSYBOX, PYTHON, *WEB, POSTGRES, FLASK_POSTGRES)
TEST_LABEL = {"schooner.test": "e2e-images"}
PGDATA = "/var/lib/postgresql/data"
DB_ENV = {"DB_HOST": "postgres", "DB_PORT": "5432", "DB_NAME": "fleet", "DB_USER": "fleet",
          "DB_PASSWORD": "e2e-password"}
POSTGRES_ENV = {"POSTGRES_PASSWORD": "e2e-password", "POSTGRES_USER": "fleet",
                "POSTGRES_DB": "fleet"}
# What an inner dockerd needs (RECIPES.md, "Docker-in-Docker nodes"; --privileged is refused).
# The recipe's `systempaths=unconfined` is a CLI-only option (the API has no field for it):
# /proc/sys stays read-only, so the one sysctl a node needs is set at create, as lab/ does.
DOCKER_IN_DOCKER: dict[str, Any] = {
    "cap_add": ["ALL"],
    "cap_drop": ["SYS_RESOURCE"],
    "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
    "sysctls": {"net.ipv4.ip_forward": "1"},
    "tmpfs": {"/run": ""},
}


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    try:
        yield client
    finally:
        client.close()


def need_image(client: docker.DockerClient, ref: str) -> None:
    try:
        client.images.get(ref)
    except ImageNotFound:
        pytest.fail(f"image {ref} is missing: run `make images` first")


def remove(container: Container | None) -> None:
    if container is None:
        return
    with contextlib.suppress(NotFound):
        container.remove(force=True)


def run_once(
    client: docker.DockerClient, image: str, command: list[str], **kwargs: Any
) -> tuple[int, str]:
    """`docker run --rm IMAGE COMMAND`: (exit code, output)."""
    need_image(client, image)
    container = None
    try:
        container = client.containers.create(image, command, labels=TEST_LABEL, **kwargs)
        container.start()
        status = container.wait(timeout=60)
        return int(status["StatusCode"]), container.logs().decode(errors="replace")
    finally:
        remove(container)


def published_url(container: Container, port: str) -> str:
    container.reload()
    bindings = container.ports.get(port) or []
    assert bindings, f"{port} not published: {container.ports!r}"
    return f"http://127.0.0.1:{bindings[0]['HostPort']}"


def get_within(url: str, container: Container, timeout: float = 30.0) -> httpx.Response:
    """GET url until it answers 200, or fail with the container's state and log."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return response
            last = response
        except httpx.TransportError as exc:
            last = exc
        container.reload()
        if container.status == "exited":
            break
        time.sleep(0.1)
    logs = container.logs().decode(errors="replace")[-2000:]
    raise AssertionError(
        f"GET {url} did not answer 200 (last: {last!r}); container {container.status}:\n{logs}"
    )


def run_server(client: docker.DockerClient, image: str, port: str, **kwargs: Any) -> Container:
    need_image(client, image)
    return client.containers.run(
        image,
        detach=True,
        name=f"schooner-e2e-images-{uuid.uuid4().hex[:8]}",
        labels=TEST_LABEL,
        ports={port: ("127.0.0.1", None)},
        **kwargs,
    )


@pytest.mark.parametrize("ref", IMAGES)
def test_image_exists_with_content_hash(client: docker.DockerClient, ref: str) -> None:
    need_image(client, ref)
    labels = client.images.get(ref).labels or {}
    assert labels.get("schooner.content-hash"), f"{ref} has no schooner.content-hash label"


def test_busybox_echo(client: docker.DockerClient) -> None:
    code, output = run_once(client, BUSYBOX, ["echo", "hi"])
    assert (code, output.strip()) == (0, "hi")


def test_busybox_can_be_the_pause_container(client: docker.DockerClient) -> None:
    need_image(client, BUSYBOX)
    container = None
    try:
        container = client.containers.run(
            BUSYBOX, ["sleep", "2147483647"], detach=True, init=True, labels=TEST_LABEL
        )
        time.sleep(0.5)
        container.reload()
        assert container.status == "running", container.logs()
    finally:
        remove(container)


def test_busybox_httpd_serves_www(client: docker.DockerClient) -> None:
    container = None
    try:
        container = run_server(
            client, BUSYBOX, "8080/tcp", command=["httpd", "-f", "-p", "8080", "-h", "/www"]
        )
        response = get_within(published_url(container, "8080/tcp") + "/", container)
        assert "schooner busybox" in response.text
    finally:
        remove(container)


def test_python_has_flask_and_psycopg2(client: docker.DockerClient) -> None:
    code, output = run_once(client, PYTHON, ["python3", "-c", "import flask, psycopg2"])
    assert code == 0, output


@pytest.mark.parametrize("version", ["1", "2"])
def test_web_example_answers(client: docker.DockerClient, version: str) -> None:
    container = None
    try:
        container = run_server(
            client,
            f"schooner/web-example:{version}",
            "8080/tcp",
            environment={"MESSAGE": "hello from e2e"},
            hostname="web-e2e",
            init=True,
        )
        base = published_url(container, "8080/tcp")
        health = get_within(base + "/healthz", container)
        assert health.text == "ok"
        body = httpx.get(base + "/", timeout=5.0).json()
        assert body == {"version": version, "pod": "web-e2e", "message": "hello from e2e"}
    finally:
        remove(container)


# --------------------------------------------------------------------------- built here


@pytest.fixture(scope="session")
def build() -> Callable[[str], None]:
    """`build.py NAME`, at most once per session (the slow builds are the cold ones)."""
    done: set[str] = set()

    def build_once(name: str) -> None:
        if name in done:
            return
        proc = subprocess.run([sys.executable, str(BUILD), name], capture_output=True,
                              text=True, check=False, timeout=900)
        if proc.returncode != 0:
            pytest.fail(f"build.py {name} failed:\n{proc.stdout}{proc.stderr}")
        done.add(name)

    return build_once


@pytest.fixture
def postgres_image(build: Callable[[str], None]) -> str:
    build("postgres")
    return POSTGRES


@pytest.fixture
def flask_postgres_image(build: Callable[[str], None]) -> str:
    build("flask-postgres")
    return FLASK_POSTGRES


@pytest.fixture
def node_image(build: Callable[[str], None]) -> str:
    build("node")
    return NODE


def free_subnet(client: docker.DockerClient) -> str:
    """A /24 in 172.27.0.0/16 that no Docker network uses yet."""
    used = [ipaddress.ip_network(cfg["Subnet"]) for net in client.api.networks()
            for cfg in (net.get("IPAM") or {}).get("Config") or [] if cfg.get("Subnet")]
    for third in random.sample(range(1, 255), 254):
        subnet = ipaddress.ip_network(f"172.27.{third}.0/24")
        if not any(subnet.overlaps(u) for u in used):
            return str(subnet)
    raise RuntimeError("no free /24 left in 172.27.0.0/16")


class Made:
    """What one test made (containers, networks, volumes), removed in reverse afterwards."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.suffix = uuid.uuid4().hex[:8]
        self.containers: list[Container] = []
        self.networks: list[Network] = []
        self.volumes: list[Volume] = []

    def network(self) -> Network:
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=free_subnet(self.client))])
        net = self.client.networks.create(f"schooner-e2e-images-{self.suffix}-{len(self.networks)}",
                                          driver="bridge", ipam=ipam, labels=TEST_LABEL)
        self.networks.append(net)
        return net

    def volume(self) -> Volume:
        vol = self.client.volumes.create(f"schooner-e2e-images-{self.suffix}-{len(self.volumes)}",
                                         labels=TEST_LABEL)
        self.volumes.append(vol)
        return vol

    def create(self, image: str, command: list[str] | None = None, *,
               network: Network | None = None, aliases: tuple[str, ...] = (),
               **kwargs: Any) -> Container:
        """A labelled container; on `network` under `aliases`, or with no network at all."""
        need_image(self.client, image)
        name = f"schooner-e2e-images-{self.suffix}-{len(self.containers)}"
        if network is None:
            kwargs["network_mode"] = "none"
        else:
            kwargs["network"] = network.name
            if aliases:
                config = EndpointConfig(self.client.api._version, aliases=list(aliases))
                kwargs["networking_config"] = {network.name: config}
        container = self.client.containers.create(image, command, name=name,
                                                  labels=TEST_LABEL, **kwargs)
        self.containers.append(container)
        return container

    def run(self, image: str, command: list[str] | None = None, **kwargs: Any) -> Container:
        container = self.create(image, command, **kwargs)
        container.start()
        return container

    def remove_all(self) -> None:
        for container in reversed(self.containers):
            with contextlib.suppress(NotFound):
                container.remove(force=True, v=True)
        for net in reversed(self.networks):
            with contextlib.suppress(NotFound):
                net.remove()
        for vol in reversed(self.volumes):
            with contextlib.suppress(NotFound):
                vol.remove(force=True)


@pytest.fixture
def made(client: docker.DockerClient) -> Iterator[Made]:
    made = Made(client)
    try:
        yield made
    finally:
        made.remove_all()


def exec_ok(container: Container, command: list[str], user: str = "") -> str:
    """`docker exec`: the output, or an AssertionError with the exit code and output."""
    code, output = container.exec_run(command, user=user)
    text = output.decode(errors="replace")
    assert code == 0, f"{command} exited {code}: {text[-1000:]}"
    return text.strip()


def psql(container: Container, sql: str) -> str:
    return exec_ok(container, ["psql", "-U", "fleet", "-d", "fleet", "-v", "ON_ERROR_STOP=1",
                               "-tAc", sql], user="postgres")


def wait_for_postgres(container: Container, timeout: float = 60.0) -> None:
    """Until the real server (not the socket-only one initdb scripts run against) answers TCP."""
    def ready() -> bool:
        container.reload()
        if container.status == "exited":
            logs = container.logs().decode(errors="replace")[-2000:]
            raise AssertionError(f"postgres exited:\n{logs}")
        code, _ = container.exec_run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"])
        return code == 0

    wait_for(ready, timeout, "postgres to accept TCP connections", interval=0.2)


def tar_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# --------------------------------------------------------------------------- postgres


def test_postgres_initialises_a_fresh_volume_once(made: Made, postgres_image: str) -> None:
    volume = made.volume()
    # nocopy: the volume's root is root's, as a claim's fresh volume is; the entrypoint chowns it
    db = made.create(postgres_image, environment=POSTGRES_ENV,
                     mounts=[Mount(PGDATA, volume.name, no_copy=True)])
    init_sql = "CREATE TABLE ships (name text); INSERT INTO ships VALUES ('Bluenose'), ('America');"
    assert db.put_archive("/docker-entrypoint-initdb.d", tar_of({"10-ships.sql": init_sql}))
    db.start()
    wait_for_postgres(db)

    assert psql(db, "SELECT current_user || ' ' || current_database()") == "fleet fleet"
    assert psql(db, "SELECT count(*) FROM ships") == "2"
    assert exec_ok(db, ["stat", "-c", "%U %a", PGDATA]) == "postgres 700"
    hba = exec_ok(db, ["tail", "-n", "1", f"{PGDATA}/pg_hba.conf"])
    assert hba == "host all all all scram-sha-256"

    started = time.monotonic()
    db.stop(timeout=20)  # SIGTERM: postgres is PID 1 and shuts down by itself
    stopped_in = time.monotonic() - started
    db.reload()
    logs = db.logs().decode(errors="replace")
    assert db.attrs["State"]["ExitCode"] == 0, logs[-2000:]
    assert stopped_in < 10, f"stop took {stopped_in:.1f}s"
    assert "database system is shut down" in logs.splitlines()[-1]

    db.start()  # the data stays, and the scripts do not run again
    wait_for_postgres(db)
    assert psql(db, "SELECT count(*) FROM ships") == "2"
    logs = db.logs().decode(errors="replace")
    assert logs.count("initialising a cluster") == 1, logs[-2000:]


def test_postgres_refuses_to_initialise_without_a_password(postgres_image: str,
                                                           client: docker.DockerClient) -> None:
    code, output = run_once(client, postgres_image, ["postgres"], network_mode="none")
    assert code == 1, output
    assert "POSTGRES_PASSWORD is not set" in output


# --------------------------------------------------------------------------- flask-postgres


def test_flask_postgres_waits_for_the_database_then_serves_its_rows(
    made: Made, postgres_image: str, flask_postgres_image: str
) -> None:
    """Two replicas and the database on one network, as the example's pods and Service are."""
    net = made.network()
    apps = [
        made.run(flask_postgres_image, network=net, hostname=f"web-{i}", init=True,
                 environment={**DB_ENV, "POD_NAME": f"web-{i}", "NODE_NAME": "node-e2e"},
                 ports={"8080/tcp": ("127.0.0.1", None)})
        for i in range(2)
    ]
    urls = [published_url(app, "8080/tcp") for app in apps]

    def status(url: str) -> int:
        return httpx.get(url, timeout=5.0).status_code

    # Before there is a database: up, not ready, not crashing.
    for app, url in zip(apps, urls, strict=True):
        wait_for(lambda url=url: status(url + "/healthz") == 503, 30, f"{url}/healthz 503")
        assert status(url + "/") == 503
        app.reload()
        assert app.status == "running"

    db = made.run(postgres_image, network=net, aliases=("postgres",), environment=POSTGRES_ENV)
    for app, url in zip(apps, urls, strict=True):
        get_within(url + "/healthz", app, timeout=60)

    for i, url in enumerate(urls):
        body = httpx.get(url + "/", timeout=5.0).json()
        assert body["pod"] == f"web-{i}"
        assert body["node"] == "node-e2e"
        assert body["database"] == "postgres:5432/fleet"
        assert [ship["name"] for ship in body["ships"]][:2] == ["Bluenose", "America"]
        assert len(body["ships"]) == 5
    assert psql(db, "SELECT count(*) FROM ships") == "5"  # seeded once, by both replicas

    top = apps[0].top(ps_args="-o pid,uid,comm")
    uids = {row[top["Titles"].index("UID")] for row in top["Processes"]}
    assert uids == {"65534"}, top

    db.stop(timeout=20)  # readiness follows the database
    wait_for(lambda: status(urls[0] + "/healthz") == 503, 30, "healthz 503 without a database")


def test_flask_postgres_manifests_are_valid_and_use_the_built_images() -> None:
    """The example's manifests pass the apiserver's defaulting and validation, as on create."""
    manifests = load_manifests([str(REPO / "examples" / "flask-postgres")])
    kinds = sorted((m.resource.kind, m.name) for m in manifests)
    assert kinds == [("ConfigMap", "db"), ("Deployment", "web"), ("Secret", "db"),
                     ("Service", "postgres"), ("Service", "postgres-headless"),
                     ("Service", "web"), ("StatefulSet", "postgres")]
    images = set()
    for manifest in manifests:
        obj = {**manifest.obj, "metadata": {**manifest.obj["metadata"], "namespace": "default"}}
        kind = registry().get(manifest.resource)
        kind.strategy.prepare_for_create(obj)
        kind.defaulted(obj)
        assert validate(kind, obj, None) == []  # every field at fault, named
        template = (obj.get("spec") or {}).get("template") or {}
        images |= {c["image"] for c in (template.get("spec") or {}).get("containers") or []}
    assert images == {POSTGRES, FLASK_POSTGRES}


# --------------------------------------------------------------------------- node


@pytest.mark.timeout(900)  # a cold node image is a debootstrap and a wheelhouse: minutes
def test_node_image_runs_dockerd_schooner_and_a_registry(
    client: docker.DockerClient, made: Made, node_image: str
) -> None:
    net = made.network()
    node = made.run(node_image, ["dockerd"], network=net, hostname="node1", init=True,
                    volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
                             made.volume().name: {"bind": "/var/lib/docker", "mode": "rw"}},
                    ports={"5000/tcp": ("127.0.0.1", None)}, **DOCKER_IN_DOCKER)

    def docker_info() -> str:
        code, out = node.exec_run(["docker", "info", "--format", "{{.ServerVersion}} {{.Driver}}"])
        return out.decode().strip() if code == 0 else ""

    info = wait_for(docker_info, 60, "the inner dockerd", interval=0.2)
    assert info.endswith("overlay2"), info

    assert exec_ok(node, ["sh", "-c", "command -v etcd"]) == "/usr/bin/etcd"
    assert exec_ok(node, ["etcd", "--version"]).startswith("etcd Version: 3.4.23")
    for entrypoint in ("schooner-agent", "schooner-proxy", "schooner-apiserver",
                       "schooner-scheduler", "schooner-controller-manager", "schooner-node"):
        assert f"usage: {entrypoint}" in exec_ok(node, [entrypoint, "--help"])

    # Debian's docker-registry with the image's open config, pushed to from the host.
    node.exec_run(["docker-registry", "serve", "/etc/docker/registry/config.yml"], detach=True)
    registry = published_url(node, "5000/tcp")
    get_within(registry + "/v2/", node)
    pushed = f"{registry.removeprefix('http://')}/schooner/busybox:e2e-{made.suffix}"
    client.images.get(BUSYBOX).tag(pushed)
    try:
        for line in client.images.push(pushed, stream=True, decode=True):
            assert "error" not in line, line
    finally:
        with contextlib.suppress(APIError):
            client.images.remove(pushed)

    # The inner engine pulls it back (a loopback registry needs no insecure-registries) and runs it.
    inner = f"127.0.0.1:5000/schooner/busybox:e2e-{made.suffix}"
    exec_ok(node, ["docker", "pull", "-q", inner])
    echoed = exec_ok(node, ["docker", "run", "--rm", inner, "echo", "hi from node1"])
    assert echoed == "hi from node1"
