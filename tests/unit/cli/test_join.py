"""`schooner join`'s discovery checks and the units it writes, without a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from apimachinery import bootstraptoken as bt
from apimachinery.pki import make_ca
from cli.cluster.supervisor import Component
from cli.join.discovery import JoinError, check_hash, server_url, trusted
from cli.join.services import HostNetwork, host_components, unit_file
from cli.join.tlsbootstrap import NodeFiles

TOKEN = "abcdef.0123456789abcdef"


def _info(ca_pem: bytes, token: str = TOKEN) -> dict[str, str]:
    content = bt.cluster_info_kubeconfig("https://10.0.0.1:6443", ca_pem)
    token_id, secret = bt.parse(token)
    return {"kubeconfig": content, bt.JWS_PREFIX + token_id: bt.sign(content, token_id, secret)}


def test_trusted_when_signature_and_pin_match() -> None:
    ca_pem, _ = make_ca()
    found = trusted(_info(ca_pem), TOKEN, bt.ca_cert_hash(ca_pem))
    assert (found.server, found.ca_pem) == ("https://10.0.0.1:6443", ca_pem)


@pytest.mark.parametrize(("token", "pin_other_ca", "message"), [
    ("abcdef.ffffffffffffffff", False, "failed to verify JWS signature"),
    ("zzzzzz.0123456789abcdef", False, 'token id "zzzzzz" is invalid'),
    (TOKEN, True, "not pinned"),
])
def test_refused(token: str, pin_other_ca: bool, message: str) -> None:
    ca_pem, _ = make_ca()
    pinned = bt.ca_cert_hash(make_ca()[0] if pin_other_ca else ca_pem)
    with pytest.raises(JoinError, match=message):
        trusted(_info(ca_pem), token, pinned)


def test_a_tampered_kubeconfig_fails_the_signature() -> None:
    ca_pem, _ = make_ca()
    info = _info(ca_pem)
    info["kubeconfig"] = info["kubeconfig"].replace("10.0.0.1", "10.6.6.6")
    with pytest.raises(JoinError, match="JWS"):
        trusted(info, TOKEN, bt.ca_cert_hash(ca_pem))


def test_hash_and_server_forms() -> None:
    assert check_hash("SHA256:" + "A" * 64) == "sha256:" + "a" * 64
    for bad in ("sha256:abc", "md5:" + "a" * 64, "a" * 64):
        with pytest.raises(JoinError, match="expected"):
            check_hash(bad)
    assert server_url("10.0.0.1:6443") == "https://10.0.0.1:6443"
    assert server_url("https://h:6443/") == "https://h:6443"
    with pytest.raises(JoinError):
        server_url("http://h:6443")


def test_unit_file_runs_the_command_and_restarts() -> None:
    unit = unit_file(Component("agent", ["/usr/bin/python3", "-m", "agent", "--node-name", "a b"],
                               "http://127.0.0.1:10250/healthz", env={"PYTHONUNBUFFERED": "1"}))
    assert "ExecStart=/usr/bin/python3 -m agent --node-name 'a b'\n" in unit
    assert "Restart=always" in unit and "WantedBy=multi-user.target" in unit
    assert "Environment=PYTHONUNBUFFERED=1" in unit


def test_the_agent_serves_its_csr_certificate_and_takes_the_discovered_cas_clients(
        tmp_path: Path) -> None:
    """The apiserver verifies the agent against the CA and the address it dials: the agent
    serves the kubelet-serving certificate `join` got, its health checked the same way."""
    files = NodeFiles(tmp_path)
    agent, proxy = host_components(files, "n1", "10.0.0.7",
                                   HostNetwork("10.244.0.0/16", "10.96.0.0/12", "10.96.0.10"))
    flags = dict(zip(agent.argv, agent.argv[1:], strict=False))
    assert (flags["--tls-cert-file"], flags["--tls-private-key-file"],
            flags["--client-ca-file"], flags["--node-ip"]) == (
        str(files.serving_cert), str(files.serving_key), str(files.ca_cert), "10.0.0.7")
    assert agent.health_url == "https://10.0.0.7:10250/healthz"
    assert proxy.argv[proxy.argv.index("--kubeconfig") + 1] == str(files.kubeconfig)
