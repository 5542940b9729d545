"""`schooner-proxy` flags."""

from __future__ import annotations

import ipaddress

import pytest

from proxy.main import parse_args


def test_defaults() -> None:
    args = parse_args([])
    assert (args.kubeconfig, args.bind_address_lo, args.loopback_device, args.healthz_port,
            args.v) == (None, True, "lo", 10256, 0)
    assert args.service_range == ipaddress.ip_network("172.28.255.0/24")
    assert args.dial_timeout_seconds == 1.0
    assert (args.cluster_dns, args.dns_port, args.cluster_domain, args.node_addresses) == (
        "172.28.255.10", 53, "cluster.local", [])


def test_flags() -> None:
    args = parse_args(["--kubeconfig", "/tmp/kc", "--no-bind-address-lo", "--healthz-port", "0",
                       "--service-cluster-ip-range", "172.28.254.0/24", "-v", "2"])
    assert (args.kubeconfig, args.bind_address_lo, args.healthz_port, args.v) == (
        "/tmp/kc", False, 0, 2)
    assert str(args.service_range) == "172.28.254.0/24"
    assert args.cluster_dns == "172.28.254.10"  # the 10th address of whatever range


def test_dns_and_node_port_flags() -> None:
    args = parse_args(["--service-cluster-ip-range", "172.30.255.0/24",
                       "--nodeport-addresses", "172.30.0.5, 127.0.0.1,",
                       "--dns-port", "5353", "--cluster-domain", "lab.example"])
    assert (args.cluster_dns, args.dns_port, args.cluster_domain, args.node_addresses) == (
        "172.30.255.10", 5353, "lab.example", ["172.30.0.5", "127.0.0.1"])
    assert parse_args(["--cluster-dns", "127.0.0.1"]).cluster_dns == "127.0.0.1"


@pytest.mark.parametrize("argv, message", [
    (["--service-cluster-ip-range", "nope"], "--service-cluster-ip-range"),
    (["--dial-timeout-seconds", "0"], "--dial-timeout-seconds must be positive"),
    (["--nodeport-addresses", "127.0.0.1,nope"], "--nodeport-addresses"),
    (["--nodeport-addresses", "10.0.0.0/8"], "--nodeport-addresses"),
    (["--cluster-dns", "dns.local"], "--cluster-dns"),
    (["--dns-port", "70000"], "--dns-port must be between 0 and 65535"),
    (["--cluster-domain", "."], "--cluster-domain must not be empty"),
])
def test_bad_flags(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert message in capsys.readouterr().err
