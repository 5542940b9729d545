"""Kubeconfig loading and writing: path resolution, the fields we read, the errors we give."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from apimachinery.kubeconfig import (
    ClusterConfig,
    KubeconfigError,
    default_kubeconfig_path,
    load_kubeconfig,
    write_kubeconfig,
)

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("SCHOONER_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "kubeconfig"
    write_kubeconfig(str(path), "https://127.0.0.1:6443", CA, "s3cret", namespace="team-a")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_kubeconfig(str(path)) == ClusterConfig(
        server="https://127.0.0.1:6443", token="s3cret", ca_data=CA, insecure=False,
        namespace="team-a", path=str(path))
    assert [p.name for p in path.parent.iterdir()] == ["kubeconfig"]  # no temp files left


def test_rewrite_keeps_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("old")
    path.chmod(0o644)
    write_kubeconfig(str(path), "https://h:1", CA, "t")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_kubeconfig(str(path)).server == "https://h:1"


def test_written_file_is_a_standard_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    write_kubeconfig(str(path), "https://h:1", CA, "t", cluster="c", user="u", context="x")
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == "x"
    assert doc["contexts"][0] == {"name": "x", "context": {
        "cluster": "c", "user": "u", "namespace": "default"}}
    assert doc["users"][0] == {"name": "u", "user": {"token": "t"}}


def _write(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def _two_contexts(tmp_path: Path) -> Path:
    (tmp_path / "ca.crt").write_bytes(CA)
    (tmp_path / "token").write_text("from-file\n")
    return _write(tmp_path / "config", {
        "current-context": "one",
        "clusters": [
            {"name": "a", "cluster": {"server": "https://a:6443",
                                      "certificate-authority": "ca.crt"}},
            {"name": "b", "cluster": {"server": "https://b:6443",
                                      "insecure-skip-tls-verify": True}},
        ],
        "users": [{"name": "ua", "user": {"tokenFile": "token"}},
                  {"name": "ub", "user": {"token": "tb"}}],
        "contexts": [{"name": "one", "context": {"cluster": "a", "user": "ua"}},
                     {"name": "two", "context": {"cluster": "b", "user": "ub",
                                                 "namespace": "kube-system"}}],
    })


def test_current_context_with_files_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    cfg = load_kubeconfig(str(_two_contexts(tmp_path)))
    assert (cfg.server, cfg.token, cfg.ca_data) == ("https://a:6443", "from-file", CA)
    assert (cfg.insecure, cfg.namespace) == (False, "default")


def test_explicit_context(tmp_path: Path) -> None:
    cfg = load_kubeconfig(str(_two_contexts(tmp_path)), context="two")
    assert (cfg.server, cfg.token, cfg.ca_data) == ("https://b:6443", "tb", None)
    assert (cfg.insecure, cfg.namespace) == (True, "kube-system")


def test_unknown_context(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="context 'three' not found"):
        load_kubeconfig(str(_two_contexts(tmp_path)), context="three")


def test_missing_file_message_names_the_default_path() -> None:
    with pytest.raises(KubeconfigError) as info:
        load_kubeconfig()
    assert str(info.value) == (
        "no kubeconfig at ~/.schooner/kubeconfig: run 'make up' or pass --kubeconfig")


def test_path_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = os.environ["HOME"]
    assert default_kubeconfig_path() == os.path.join(home, ".schooner", "kubeconfig")
    monkeypatch.setenv("SCHOONER_HOME", str(tmp_path / "sh"))
    assert default_kubeconfig_path() == str(tmp_path / "sh" / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path}/first:{tmp_path}/second")
    assert default_kubeconfig_path() == f"{tmp_path}/first"


def test_kubeconfig_env_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "kc"
    write_kubeconfig(str(path), "https://env:1", CA, "t")
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert load_kubeconfig().server == "https://env:1"


@pytest.mark.parametrize(("text", "message"), [
    ("a: [", "is not valid YAML"),
    ("- 1\n", "is not a mapping"),
    ("clusters: []\n", "has no current-context"),
])
def test_malformed(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "kc"
    path.write_text(text)
    with pytest.raises(KubeconfigError, match=message):
        load_kubeconfig(str(path))


def test_bad_ca_data(tmp_path: Path) -> None:
    path = _write(tmp_path / "kc", {
        "current-context": "c",
        "clusters": [{"name": "a", "cluster": {"server": "https://a",
                                               "certificate-authority-data": "!!notb64"}}],
        "contexts": [{"name": "c", "context": {"cluster": "a"}}],
    })
    with pytest.raises(KubeconfigError, match="not valid base64"):
        load_kubeconfig(str(path))


def test_a_kubeconfig_list_merges_first_file_wins(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    """clientcmd's rules: each name from the first file that has it, the first non-empty
    current-context, and relative paths against the directory of their own file."""
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "ca.crt").write_bytes(CA)
    first = _write(tmp_path / "first", {
        "users": [{"name": "u", "user": {"token": "from-first"}}]})
    second = _write(tmp_path / "b" / "second", {
        "current-context": "x",
        "clusters": [{"name": "c", "cluster": {"server": "https://b:6443",
                                               "certificate-authority": "ca.crt"}}],
        "users": [{"name": "u", "user": {"token": "from-second"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}]})
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'missing'}:{second}")
    cfg = load_kubeconfig()
    assert (cfg.server, cfg.token, cfg.ca_data) == ("https://b:6443", "from-first", CA)
