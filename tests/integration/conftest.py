"""Integration tests: a real etcd and a real apiserver process, no mocks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from apimachinery.client import Client
from cli.cluster.processes import Apiserver

pytestmark = pytest.mark.integration


@pytest.fixture
def client(apiserver: Apiserver) -> Iterator[Client]:
    with apiserver.client() as c:
        yield c


@pytest.fixture
def namespace(client: Client) -> str:
    """A fresh namespace per test, so tests on the shared apiserver never collide."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    client.create("namespaces", {"metadata": {"name": name}})
    return name
