"""The agent's serving certificate without --tls-cert-file, its TLS flags and --node-ip."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from agent.agent import AgentConfig
from agent.main import config_from, parse_args
from agent.server.servingcert import ensure_self_signed
from apimachinery.pki import cert_names


def test_without_a_certificate_the_agent_signs_its_own_once(tmp_path: Path) -> None:
    cert, key = ensure_self_signed(tmp_path / "pki", "node1", "10.0.0.7")
    made = x509.load_pem_x509_certificate(cert.read_bytes())
    assert cert_names(made) == {"node1", "10.0.0.7"}
    assert made.issuer != made.subject  # its own CA signs it, as the kubelet's
    assert key.stat().st_mode & 0o777 == 0o600
    before = cert.read_bytes()
    assert ensure_self_signed(tmp_path / "pki", "node1", "10.0.0.7") == (cert, key)
    assert cert.read_bytes() == before  # kept across restarts


def test_the_tls_flags_reach_the_server(tmp_path: Path) -> None:
    args = parse_args(["--tls-cert-file", "/c.crt", "--tls-private-key-file", "/c.key",
                       "--client-ca-file", "/ca.crt", "--root-dir", str(tmp_path)])
    tls = config_from(args).serving_tls()
    assert (tls.cert_file, tls.key_file, tls.client_ca_file) == ("/c.crt", "/c.key", "/ca.crt")
    own = AgentConfig(node_name="n1", root_dir=tmp_path).serving_tls()
    assert own.cert_file == str(tmp_path / "pki" / "agent.crt") and own.client_ca_file is None


def test_a_certificate_without_its_key_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--tls-cert-file", "/c.crt"])
    assert "--tls-cert-file and --tls-private-key-file go together" in capsys.readouterr().err


@pytest.mark.parametrize(("ip", "message"), [
    ("node1", "nodeIP must be a valid IP address"),
    ("224.0.0.1", "nodeIP can't be a multicast address"),
    ("169.254.169.254", "nodeIP can't be a link-local unicast address"),
    ("fe80::1", "nodeIP can't be a link-local unicast address"),
    ("0.0.0.0", "nodeIP can't be an all zeros address"),
])
def test_the_node_ip_is_checked_as_the_kubelet_checks_it(
        ip: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--node-ip", ip])
    assert message in capsys.readouterr().err


def test_a_loopback_node_ip_serves_a_one_host_cluster() -> None:
    assert parse_args(["--node-ip", "127.0.0.1"]).node_ip == "127.0.0.1"
    assert parse_args(["--node-ip", "10.0.0.7"]).node_ip == "10.0.0.7"
