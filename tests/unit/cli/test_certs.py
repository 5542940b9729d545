"""`schooner certs create`: a user's certificate from the cluster CA, and a kubeconfig of it."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from apimachinery.kubeconfig import load_kubeconfig, write_kubeconfig
from apimachinery.pki import make_ca
from apimachinery.usercert import certificate_names, still_good
from cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cluster home with a CA and the admin's kubeconfig trusting it."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("SCHOONER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    pki = tmp_path / "home" / "pki"
    pki.mkdir(parents=True)
    cert, key = make_ca()
    (pki / "ca.crt").write_bytes(cert)
    (pki / "ca.key").write_bytes(key)
    write_kubeconfig(str(tmp_path / "home" / "kubeconfig"), "https://127.0.0.1:6443", cert,
                     "admin-token", cluster="schooner")
    return tmp_path / "home"


def run(*args: str) -> Any:
    return CliRunner().invoke(main.app, list(args))


def test_a_certificate_and_a_kubeconfig_holding_only_that_user(home: Path,
                                                              tmp_path: Path) -> None:
    result = run("certs", "create", "alice", "--group", "dev", "-g", "qa", "--days", "30",
                 "--out-dir", "out", "--kubeconfig-out", "alice.kubeconfig", "-n", "team")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('Certificate for user "alice" (groups: dev, qa) valid until')
    crt, key = tmp_path / "out" / "alice.crt", tmp_path / "out" / "alice.key"
    for path in (crt, key, tmp_path / "alice.kubeconfig"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ca = (home / "pki" / "ca.crt").read_bytes()
    assert certificate_names(crt.read_bytes()) == ("alice", ("dev", "qa"))
    assert still_good(crt.read_bytes(), ca, margin=timedelta(days=29))
    assert not still_good(crt.read_bytes(), ca, margin=timedelta(days=31))
    usage = x509.load_pem_x509_certificate(crt.read_bytes()).extensions.get_extension_for_class(
        x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    doc = yaml.safe_load((tmp_path / "alice.kubeconfig").read_text())
    assert [u["name"] for u in doc["users"]] == ["alice"]
    assert "token" not in doc["users"][0]["user"]
    assert doc["contexts"] == [{"name": "alice@schooner", "context": {
        "cluster": "schooner", "user": "alice", "namespace": "team"}}]
    cfg = load_kubeconfig(str(tmp_path / "alice.kubeconfig"))
    assert (cfg.server, cfg.ca_data, cfg.token) == ("https://127.0.0.1:6443", ca, None)
    assert cfg.client_cert == crt.read_bytes() and cfg.client_key == key.read_bytes()


def test_existing_files_are_not_overwritten(home: Path, tmp_path: Path) -> None:
    (tmp_path / "bob.key").write_text("keep me")
    result = run("certs", "create", "bob")
    assert result.exit_code == 1 and result.stderr == \
        "error: bob.key exists: remove it or choose another --out-dir\n"
    assert (tmp_path / "bob.key").read_text() == "keep me"


def test_without_the_ca_key_it_is_one_line(home: Path) -> None:
    (home / "pki" / "ca.key").unlink()
    result = run("certs", "create", "carol")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"error: cannot read the cluster CA {home}/pki/ca.key: ")
    assert len(result.stderr.splitlines()) == 1


def test_a_kubeconfig_of_another_cluster_is_refused(home: Path, tmp_path: Path) -> None:
    other, _ = make_ca("other")
    write_kubeconfig(str(tmp_path / "other"), "https://elsewhere:6443", other, "t")
    result = run("--kubeconfig", str(tmp_path / "other"), "certs", "create", "dan",
                 "--kubeconfig-out", "dan.kubeconfig")
    assert result.exit_code == 1
    assert "is not the CA this certificate is signed by" in result.stderr
    assert not (tmp_path / "dan.crt").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["../evil"], 'invalid user name "../evil"'),
    (["eve", "--days", "0"], "--days must be at least 1"),
    (["eve", "--group", ""], "--group must not be empty"),
])
def test_bad_arguments(home: Path, args: list[str], message: str) -> None:
    result = run("certs", "create", *args)
    assert result.exit_code == 1 and message in result.stderr
