"""The ClusterIP and NodePort ranges: parsing, explicit requests, and picking a free value."""

from __future__ import annotations

import ipaddress
import random

import pytest

from apiserver.allocator import pick_free, range_offset
from apiserver.kinds.core.service.ipallocator import ServiceIPRange
from apiserver.kinds.core.service.portallocator import PortRange

RANGE = ServiceIPRange.parse("172.28.255.0/24")


def all_but(rng: ServiceIPRange, *keep: str) -> set[str]:
    """Every address of the range a Service could hold, except `keep`."""
    return {str(ip) for ip in rng.network.hosts()} - set(keep)


# -- the shared picking -------------------------------------------------------------


@pytest.mark.parametrize(("size", "offset"), [
    (8, 0),        # smaller than the minimum: no static band
    (256, 16),     # a /24: size/16 = 16
    (4096, 256),   # a /20: 256, the maximum
    (1 << 20, 256),
])
def test_ip_range_offset_is_kubernetes_calculate_range_offset(size: int, offset: int) -> None:
    assert range_offset(size, minimum=16, maximum=256, step=16) == offset


def test_pick_free_prefers_the_dynamic_band_then_falls_back() -> None:
    rng = random.Random(7)
    picks = {pick_free(0, 100, 20, set(), rng) for _ in range(200)}
    assert picks and all(20 <= p < 100 for p in picks)  # type: ignore[operator]
    upper_full = set(range(20, 100))
    assert pick_free(0, 100, 20, upper_full, rng) in range(0, 20)
    assert pick_free(0, 100, 20, set(range(100)), rng) is None


def test_pick_free_finds_the_last_free_value() -> None:
    taken = set(range(1000)) - {613}
    assert pick_free(0, 1000, 0, taken, random.Random(1)) == 613


# -- ServiceIPRange -----------------------------------------------------------------


def test_parse_rejects_what_kube_apiserver_would() -> None:
    for bad, why in (("nonsense", "invalid"), ("172.28.255.1/24", "invalid"),
                     ("fd00::/108", "only IPv4"), ("10.0.0.0/31", "too small")):
        with pytest.raises(ValueError, match=why):
            ServiceIPRange.parse(bad)
    assert str(ServiceIPRange.parse("10.96.0.0/12")) == "10.96.0.0/12"


def test_network_and_broadcast_are_never_in_range() -> None:
    assert RANGE.kubernetes_ip == "172.28.255.1"
    assert RANGE.contains("172.28.255.1") and RANGE.contains("172.28.255.254")
    for outside in ("172.28.255.0", "172.28.255.255", "10.0.0.1", "not-an-ip", "fd00::1"):
        assert not RANGE.contains(outside)


def test_explicit_requests_get_kubernetes_messages() -> None:
    assert RANGE.check("10.0.0.1", set()) == (
        "provided IP is not in the valid range. The range of valid IPs is 172.28.255.0/24")
    assert RANGE.check("172.28.255.10", {"172.28.255.10"}) == "provided IP is already allocated"
    assert RANGE.check("172.28.255.10", {"172.28.255.11"}) is None
    assert RANGE.check("172.28.255.1", set()) is None  # explicit may ask for the first


def test_dynamic_allocation_skips_the_first_address_and_prefers_the_upper_band() -> None:
    rng = random.Random(3)
    seen = {RANGE.allocate_next(set(), rng) for _ in range(500)}
    ints = {int(ipaddress.IPv4Address(ip)) - int(RANGE.network.network_address)
            for ip in seen if ip}
    assert min(ints) >= 18 and max(ints) <= 254  # .2-.17 is the static band


def test_dynamic_allocation_uses_the_static_band_when_the_upper_is_full() -> None:
    taken = all_but(RANGE, "172.28.255.5", "172.28.255.1")
    assert RANGE.allocate_next(taken, random.Random(0)) == "172.28.255.5"


def test_a_full_range_allocates_nothing_and_never_the_first_address() -> None:
    assert RANGE.allocate_next(all_but(RANGE, "172.28.255.1"), random.Random(0)) is None
    tiny = ServiceIPRange.parse("10.0.0.0/30")  # .1 kubernetes, .2 the only other
    assert tiny.allocate_next(set(), random.Random(0)) == "10.0.0.2"
    assert tiny.allocate_next({"10.0.0.2"}, random.Random(0)) is None


def test_allocations_never_repeat_as_the_taken_set_grows() -> None:
    rng, taken = random.Random(11), set[str]()
    while (ip := RANGE.allocate_next(taken, rng)) is not None:
        assert ip not in taken
        taken.add(ip)
    assert taken == all_but(RANGE, "172.28.255.1")


# -- PortRange ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "base", "size", "shown"), [
    ("30000-32767", 30000, 2768, "30000-32767"),
    ("30000+100", 30000, 101, "30000-30100"),
    ("31000", 31000, 1, "31000-31000"),
])
def test_port_range_forms(text: str, base: int, size: int, shown: str) -> None:
    ports = PortRange.parse(text)
    assert (ports.base, ports.size, str(ports)) == (base, size, shown)


@pytest.mark.parametrize("bad", ["", "a-b", "32767-30000", "0-10", "60000-70000"])
def test_port_range_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid port range"):
        PortRange.parse(bad)


def test_explicit_node_ports_get_kubernetes_messages() -> None:
    ports = PortRange.parse("30000-32767")
    assert ports.check(80, set()) == (
        "provided port is not in the valid range. The range of valid ports is 30000-32767")
    assert ports.check(30080, {30080}) == "provided port is already allocated"
    assert ports.check(30080, set()) is None


def test_dynamic_node_ports_prefer_the_upper_band_and_stop_when_full() -> None:
    ports, rng = PortRange.parse("30000-32767"), random.Random(5)
    picks = {ports.allocate_next(set(), rng) for _ in range(300)}
    assert all(p is not None and 30086 <= p <= 32767 for p in picks)  # 2768/32 = 86
    small = PortRange.parse("30000-30003")
    assert small.allocate_next({30000, 30001, 30003}, rng) == 30002
    assert small.allocate_next({30000, 30001, 30002, 30003}, rng) is None
