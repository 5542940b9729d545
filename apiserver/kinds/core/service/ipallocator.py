"""The Service ClusterIP range (`--service-cluster-ip-range`) and its rules.

Mirrors Kubernetes' `pkg/registry/core/service/ipallocator`: the network and
broadcast addresses are never handed out, the first address belongs to the
`kubernetes` Service (the bootstrap controller asks for it explicitly), and an
explicit request must lie inside the range and be free, with Kubernetes'
messages. Each allocated address is one etcd key under `PREFIX`, as the
IPAddress objects of KEP-1880 are one object per address.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Collection
from dataclasses import dataclass

from apiserver.allocator import pick_free, range_offset

PREFIX = "/registry/ranges/serviceips/"

# Kubernetes' ipallocator: the static band is size/16, at least 16, at most 256.
_BAND_MIN, _BAND_MAX, _BAND_STEP = 16, 256, 16


def key(ip: str) -> str:
    """The etcd key that holds `ip` while a Service has it."""
    return PREFIX + ip


def normalize(ip: str) -> str | None:
    """`ip` in canonical dotted form, or None if it is not an IPv4 address."""
    try:
        return str(ipaddress.IPv4Address(ip))
    except ValueError:
        return None


@dataclass(frozen=True)
class ServiceIPRange:
    """An IPv4 CIDR Services take their ClusterIPs from."""

    network: ipaddress.IPv4Network

    @classmethod
    def parse(cls, cidr: str) -> ServiceIPRange:
        """The range for a `--service-cluster-ip-range` value; ValueError says what is wrong."""
        try:
            network = ipaddress.ip_network(cidr.strip(), strict=True)
        except ValueError as exc:
            raise ValueError(f"invalid service cluster IP range {cidr!r}: {exc}") from None
        if not isinstance(network, ipaddress.IPv4Network):
            raise ValueError(f"service cluster IP range {cidr!r}: only IPv4 is supported")
        if network.prefixlen > 30:
            raise ValueError(f"service cluster IP range {cidr!r} is too small: it needs at "
                             "least a /30 (the kubernetes Service's address and one more)")
        return cls(network)

    def __str__(self) -> str:
        return str(self.network)

    @property
    def kubernetes_ip(self) -> str:
        """The first address: the `kubernetes` Service's ClusterIP, never allocated dynamically."""
        return str(self.network.network_address + 1)

    def contains(self, ip: str) -> bool:
        """Whether `ip` is an address of the range a Service may hold (not network, broadcast)."""
        canonical = normalize(ip)
        if canonical is None:
            return False
        value = int(ipaddress.IPv4Address(canonical))
        return self._first <= value < self._broadcast

    def check(self, ip: str, taken: Collection[str]) -> str | None:
        """Why an explicitly requested `ip` cannot be had, or None if it can."""
        if not self.contains(ip):
            return ("provided IP is not in the valid range. The range of valid IPs is "
                    f"{self.network}")
        if normalize(ip) in taken:
            return "provided IP is already allocated"
        return None

    def allocate_next(self, taken: Collection[str], rng: random.Random) -> str | None:
        """A free address for a Service that asked for none, or None when the range is full.

        Skips the first address (the `kubernetes` Service's) and prefers the upper
        band, leaving the lower one to explicit requests.
        """
        taken_ints = {int(ipaddress.IPv4Address(ip)) for ip in taken if normalize(ip)}
        band = range_offset(self.network.num_addresses, minimum=_BAND_MIN, maximum=_BAND_MAX,
                            step=_BAND_STEP)
        found = pick_free(self._first + 1, self._broadcast, band, taken_ints, rng)
        return None if found is None else str(ipaddress.IPv4Address(found))

    @property
    def _first(self) -> int:
        return int(self.network.network_address) + 1

    @property
    def _broadcast(self) -> int:
        return int(self.network.broadcast_address)
