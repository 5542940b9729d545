"""find_etcd: a sound etcd is preferred, one from the withdrawn 3.5.0-3.5.2 line refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cli.cluster import components
from cli.cluster.supervisor import ClusterError


def fake_etcd(path: Path, version: str) -> str:
    """An executable that prints `etcd --version` as the real one does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho 'etcd Version: {version}'\necho 'Git SHA: x'\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Debian's path, a PATH directory and a venv's bin, all empty to start with."""
    where = {"debian": tmp_path / "usr" / "bin" / "etcd", "path": tmp_path / "path" / "etcd",
             "venv": tmp_path / "venv" / "bin" / "etcd"}
    for p in where.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(components, "DEBIAN_ETCD", str(where["debian"]))
    monkeypatch.setenv("PATH", str(where["path"].parent))
    monkeypatch.setattr(sys, "executable", str(where["venv"].parent / "python"))
    components.etcd_version.cache_clear()
    return where


def test_a_sound_etcd_is_preferred_to_a_withdrawn_one_beside_python(
        places: dict[str, Path]) -> None:
    fake_etcd(places["venv"], "3.5.1")
    sound = fake_etcd(places["path"], "3.4.23")
    assert components.find_etcd() == sound


def test_debians_etcd_comes_first(places: dict[str, Path]) -> None:
    debian = fake_etcd(places["debian"], "3.4.23")
    fake_etcd(places["path"], "3.5.6")
    assert components.find_etcd() == debian


@pytest.mark.parametrize("version", ["3.5.0", "3.5.1", "3.5.2"])
def test_only_a_withdrawn_etcd_is_refused_in_one_line(
        places: dict[str, Path], version: str) -> None:
    fake_etcd(places["venv"], version)
    with pytest.raises(ClusterError) as refused:
        components.find_etcd()
    message = str(refused.value)
    assert "\n" not in message
    assert f"etcd {version}" in message and "etcd-io/etcd#13766" in message
    # `status` and `down` only recognise a running etcd: nothing refused there.
    assert components.find_etcd(required=False) == str(places["venv"])


def test_no_etcd_at_all_says_what_to_install(places: dict[str, Path]) -> None:
    with pytest.raises(ClusterError, match="etcd-server"):
        components.find_etcd()
    assert components.find_etcd(required=False) == "etcd"
