"""Which Node addresses the apiserver dials for logs and exec, and how a Node's are validated."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from apimachinery import errors
from apimachinery.pki import make_ca, write_private
from apimachinery.usercert import make_client_cert
from apiserver.kinds.core.node import validate_node
from apiserver.kubeletclient import KubeletClientConfig, address_problem, agent_url


def node(address: str, port: object = 10250, kind: str = "InternalIP") -> dict[str, object]:
    return {"metadata": {"name": "n1"}, "status": {
        "addresses": [{"type": "Hostname", "address": "n1"}, {"type": kind, "address": address}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}}


@pytest.mark.parametrize(("address", "loopback", "url"), [
    ("10.0.0.7", False, "https://10.0.0.7:10250"),
    ("2001:db8::7", False, "https://[2001:db8::7]:10250"),
    ("127.0.0.1", True, "https://127.0.0.1:10250"),
    ("::1", True, "https://[::1]:10250"),
])
def test_an_ordinary_internal_ip_is_dialled_over_https(address: str, loopback: bool,
                                                       url: str) -> None:
    assert agent_url(node(address), KubeletClientConfig(allow_loopback=loopback)) == url


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
    ("::ffff:127.0.0.2", "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
    ("0.0.0.0", "may not be unspecified (0.0.0.0)"),
    ("::", "may not be unspecified (::)"),
    ("169.254.169.254", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
    ("fe80::1", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
    ("224.0.0.251", "may not be a multicast address"),
    ("ff02::1", "may not be a multicast address"),
    ("255.255.255.255", "may not be the broadcast address"),
    ("node1.example", "must be a valid IP address"),
    ("10.0.0.1:2379", "must be a valid IP address"),
])
def test_a_special_address_is_refused(address: str, why: str) -> None:
    assert address_problem(address, allow_loopback=False) == why
    with pytest.raises(errors.ServiceUnavailable) as caught:
        agent_url(node(address), KubeletClientConfig())
    assert caught.value.message == f"node n1: address {address} is not allowed: {why}"


def test_loopback_is_dialled_only_by_an_apiserver_on_loopback() -> None:
    assert address_problem("127.0.0.1", allow_loopback=True) == ""
    assert address_problem("169.254.1.1", allow_loopback=True) != ""  # still link-local


@pytest.mark.parametrize("port", [0, None, 65536, -1, "10250", True])
def test_a_port_outside_1_to_65535_is_not_dialled(port: object) -> None:
    with pytest.raises(errors.ServiceUnavailable):
        agent_url(node("10.0.0.7", port), KubeletClientConfig())


def test_no_internal_ip_is_not_dialled() -> None:
    with pytest.raises(errors.ServiceUnavailable) as caught:
        agent_url(node("10.0.0.7", kind="ExternalIP"), KubeletClientConfig())
    assert caught.value.message == "node n1 does not advertise its agent address and port"


def test_the_tls_context_verifies_the_agent_and_presents_the_apiservers_certificate(
        tmp_path: Path) -> None:
    ca, ca_key = make_ca()
    cert, key = make_client_cert(ca, ca_key, "kube-apiserver-kubelet-client")
    (tmp_path / "ca.crt").write_bytes(ca)
    (tmp_path / "c.crt").write_bytes(cert)
    write_private(tmp_path / "c.key", key)
    verified = KubeletClientConfig(str(tmp_path / "c.crt"), str(tmp_path / "c.key"),
                                   str(tmp_path / "ca.crt")).ssl_context()
    assert verified.verify_mode == ssl.CERT_REQUIRED and verified.check_hostname
    assert len(verified.get_ca_certs()) == 1
    unverified = KubeletClientConfig().ssl_context()  # Kubernetes' default without a CA
    assert unverified.verify_mode == ssl.CERT_NONE and not unverified.check_hostname


def messages(obj: dict[str, object]) -> list[str]:
    return [f"{e.path}: {e.message}" for e in validate_node(obj, None)]


def test_node_addresses_and_port_are_validated_on_write() -> None:
    assert messages(node("10.0.0.7")) == []
    assert messages(node("10.0.0.7", port=0)) == []  # Kubernetes' zero value: none
    assert messages(node("n1.example", kind="InternalDNS")) == []
    assert messages(node("10.0.0.7", kind="PublicIP")) == [
        'status.addresses[1].type: Unsupported value: "PublicIP": supported values: '
        '"Hostname", "InternalIP", "ExternalIP", "InternalDNS", "ExternalDNS"']
    assert messages(node("not-an-ip")) == [
        'status.addresses[1].address: Invalid value: "not-an-ip": must be a valid IP address']
    assert messages(node("")) == ["status.addresses[1].address: Required value"]
    assert messages(node("10.0.0.7", port=70000)) == [
        "status.daemonEndpoints.kubeletEndpoint.Port: Invalid value: 70000: must be between "
        "0 and 65535, inclusive"]
    twice = node("10.0.0.7")
    twice["status"]["addresses"].append({"type": "InternalIP", "address": "10.0.0.7"})  # type: ignore[index]
    assert messages(twice) == [
        'status.addresses[2]: Duplicate value: {"address":"10.0.0.7","type":"InternalIP"}']
