"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.cluster.processes import Apiserver, Etcd


@pytest.fixture(scope="session")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Etcd]:
    """One real etcd for the session; tests keep apart by namespace."""
    server = Etcd(tmp_path_factory.mktemp("etcd")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def apiserver(etcd: Etcd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """One real apiserver process (TLS, token auth) on the session etcd."""
    server = Apiserver(tmp_path_factory.mktemp("apiserver"), etcd.url).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_apiserver(tmp_path: Path) -> Iterator[tuple[Etcd, Apiserver]]:
    """An etcd and apiserver of this test's own, for tests that kill or compact."""
    etcd = Etcd(tmp_path / "etcd").start()
    server = Apiserver(tmp_path / "apiserver", etcd.url)
    try:
        server.start()
        yield etcd, server
    finally:
        server.stop()
        etcd.stop()
