"""CIDRSet: allocate in order, occupy, release, a full range, the service range skipped."""

from __future__ import annotations

import ipaddress
import re

import pytest

from controllers.nodeipam.cidrset import CIDRRangeFull, CIDRSet


def nets(*texts: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(t) for t in texts]


def test_allocates_the_subnets_in_order() -> None:
    cidrs = CIDRSet("172.30.128.0/17", 24)
    assert cidrs.max_cidrs == 128
    assert [cidrs.allocate_next() for _ in range(3)] == nets(
        "172.30.128.0/24", "172.30.129.0/24", "172.30.130.0/24")
    assert len(cidrs) == 3


def test_a_full_range_raises_until_a_subnet_is_released() -> None:
    cidrs = CIDRSet("10.0.0.0/22", 24)
    got = [cidrs.allocate_next() for _ in range(4)]
    assert got == nets("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24")
    with pytest.raises(CIDRRangeFull, match=re.escape(
            "no remaining CIDRs left to allocate in the accepted range 10.0.0.0/22")):
        cidrs.allocate_next()
    cidrs.release("10.0.1.0/24")
    assert cidrs.allocate_next() == ipaddress.ip_network("10.0.1.0/24")


def test_a_released_subnet_is_reused_last() -> None:
    cidrs = CIDRSet("10.0.0.0/22", 24)
    first = cidrs.allocate_next()
    cidrs.release(first)
    assert cidrs.allocate_next() == ipaddress.ip_network("10.0.1.0/24")
    assert [cidrs.allocate_next() for _ in range(3)] == nets(
        "10.0.2.0/24", "10.0.3.0/24", "10.0.0.0/24")  # wraps around to the freed one


def test_occupied_subnets_are_skipped() -> None:
    cidrs = CIDRSet("10.0.0.0/22", 24)
    cidrs.occupy("10.0.0.0/24")
    cidrs.occupy("10.0.1.0/24")
    assert cidrs.allocate_next() == ipaddress.ip_network("10.0.2.0/24")
    assert cidrs.is_used("10.0.1.0/24") and not cidrs.is_used("10.0.3.0/24")


def test_the_service_range_inside_the_cluster_cidr_is_never_handed_out() -> None:
    """The lab's plan: pods in 172.30.128.0/17, Services in its last /24."""
    cidrs = CIDRSet("172.30.128.0/17", 24)
    cidrs.occupy("172.30.255.0/24")
    got = [cidrs.allocate_next() for _ in range(127)]
    assert ipaddress.ip_network("172.30.255.0/24") not in got
    assert got[-1] == ipaddress.ip_network("172.30.254.0/24")
    with pytest.raises(CIDRRangeFull):
        cidrs.allocate_next()


def test_occupy_marks_every_subnet_a_larger_or_smaller_cidr_overlaps() -> None:
    cidrs = CIDRSet("10.0.0.0/16", 24)
    cidrs.occupy("10.0.4.0/22")  # four subnets
    assert [cidrs.is_used(f"10.0.{i}.0/24") for i in range(3, 9)] == [
        False, True, True, True, True, False]
    cidrs.occupy("10.0.9.128/25")  # part of one subnet: the whole subnet
    assert cidrs.is_used("10.0.9.0/24")
    cidrs.occupy("10.0.0.0/8")  # larger than the cluster CIDR: clamped to it
    assert len(cidrs) == 256
    cidrs.release("10.0.0.0/15")
    assert len(cidrs) == 0


def test_cidrs_outside_the_cluster_cidr_are_refused() -> None:
    cidrs = CIDRSet("10.0.0.0/16", 24)
    for outside in ("10.1.0.0/24", "192.0.2.0/24", "fd00::/64"):
        with pytest.raises(ValueError, match="outside the cluster CIDR"):
            cidrs.occupy(outside)


@pytest.mark.parametrize(("cluster", "mask", "message"), [
    ("10.0.0.0/16", 8, "must be between"),
    ("10.0.0.0/16", 33, "must be between"),
    ("10.0.0.0/8", 25, "more than 2"),
    ("10.0.0.1/16", 24, "host bits set"),
])
def test_bad_flags(cluster: str, mask: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CIDRSet(cluster, mask)


def test_ipv6() -> None:
    cidrs = CIDRSet("fd00:10::/56", 64)
    assert cidrs.max_cidrs == 256
    assert cidrs.allocate_next() == ipaddress.ip_network("fd00:10::/64")
    assert cidrs.allocate_next() == ipaddress.ip_network("fd00:10:0:1::/64")
