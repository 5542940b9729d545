"""Kubernetes' ValidateEndpointIP: the ranges no endpoint may be in, in its words."""

from __future__ import annotations

import pytest

from apimachinery.specialip import is_special_ip, special_ip_problems


@pytest.mark.parametrize(("ip", "problem"), [
    ("0.0.0.0", "may not be unspecified (0.0.0.0)"),
    ("::", "may not be unspecified (::)"),
    ("127.0.0.1", "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
    ("127.255.0.9", "may not be in the loopback range"),
    ("::1", "may not be in the loopback range"),
    ("::ffff:127.0.0.1", "may not be in the loopback range"),
    ("169.254.169.254", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
    ("fe80::1", "may not be in the link-local range"),
    ("224.0.0.251", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),
    ("ff02::fb", "may not be in the link-local multicast range"),
])
def test_special_addresses_are_refused(ip: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in special_ip_problems(ip)), special_ip_problems(ip)
    assert is_special_ip(ip)


@pytest.mark.parametrize("ip", ["10.64.0.5", "172.28.0.1", "192.168.1.1", "8.8.8.8",
                                "224.0.1.1", "ff05::1", "2001:db8::1", "fd00::1", "bogus"])
def test_ordinary_addresses_pass(ip: str) -> None:
    assert special_ip_problems(ip) == []
