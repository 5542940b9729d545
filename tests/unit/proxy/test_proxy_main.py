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


def test_flags() -> None:
    args = parse_args(["--kubeconfig", "/tmp/kc", "--no-bind-address-lo", "--healthz-port", "0",
                       "--service-cluster-ip-range", "172.28.254.0/24", "-v", "2"])
    assert (args.kubeconfig, args.bind_address_lo, args.healthz_port, args.v) == (
        "/tmp/kc", False, 0, 2)
    assert str(args.service_range) == "172.28.254.0/24"


@pytest.mark.parametrize("argv, message", [
    (["--service-cluster-ip-range", "nope"], "--service-cluster-ip-range"),
    (["--dial-timeout-seconds", "0"], "--dial-timeout-seconds must be positive"),
])
def test_bad_flags(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert message in capsys.readouterr().err
