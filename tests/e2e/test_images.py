"""The locally built images (deploy/images, `make images`) work on the real Docker engine.

Assumes `make images` ran. Every container started here listens on 127.0.0.1 only,
carries the label below and is removed in a `finally`.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import docker
import httpx
import pytest
from docker.errors import DockerException, ImageNotFound, NotFound
from docker.models.containers import Container

pytestmark = pytest.mark.e2e

BUSYBOX = "schooner/busybox:latest"
PYTHON = "schooner/python:3"
WEB = ("schooner/web-example:1", "schooner/web-example:2")
IMAGES = (BUSYBOX, PYTHON, *WEB)
TEST_LABEL = {"schooner.test": "e2e-images"}


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


def run_once(client: docker.DockerClient, image: str, command: list[str]) -> tuple[int, str]:
    """`docker run --rm IMAGE COMMAND`: (exit code, output)."""
    need_image(client, image)
    container = None
    try:
        container = client.containers.create(image, command, labels=TEST_LABEL)
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
