"""Where hollow nodes and their pods are: node names, each node's podCIDR, fake pod IPs.

Pure and deterministic, so a hollow process that restarts gives every node the
same name and podCIDR again and adopts the IPs its pods already report.
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class PodIPsExhausted(Exception):
    """A hollow node's podCIDR has no free address left."""


def node_names(prefix: str, count: int) -> list[str]:
    """`PREFIX-0` .. `PREFIX-(count-1)`: the names one hollow process stands for."""
    if count < 0:
        raise ValueError(f"node count must not be negative, got {count}")
    return [f"{prefix}{i}" for i in range(count)]


def node_pod_cidr(index: int, cluster_cidr: str, mask_size: int) -> str:
    """The `index`-th `/mask_size` subnet of `cluster_cidr`: node i's own podCIDR.

    Computed, not allocated, so every hollow node gets the same CIDR on every
    restart and no two share one (the node IPAM controller, when it runs,
    sees them set and marks them used).
    """
    network = ipaddress.ip_network(cluster_cidr, strict=False)
    if mask_size < network.prefixlen or mask_size > network.max_prefixlen:
        raise ValueError(f"mask size /{mask_size} does not fit in {network}")
    count = 1 << (mask_size - network.prefixlen)
    if not 0 <= index < count:
        raise ValueError(f"{network} holds {count} /{mask_size} subnets; node index {index} "
                         "is out of range")
    size = 1 << (network.max_prefixlen - mask_size)
    first = ipaddress.ip_address(int(network.network_address) + index * size)
    return str(ipaddress.ip_network(f"{first}/{mask_size}"))


class PodIPAllocator:
    """Fake pod IPs from one node's podCIDR, one per pod uid, reused after release.

    The first host address is left out (the bridge's gateway on a real node),
    as are the network and broadcast addresses. Allocation roams forward from
    the last address given, as Kubernetes' host-local IPAM does, so a released
    address is not handed out again at once.
    """

    def __init__(self, cidr: str) -> None:
        self.network: Network = ipaddress.ip_network(cidr, strict=False)
        self._base = int(self.network.network_address)
        self._first, self._last = 2, self.network.num_addresses - 2  # offsets
        self._by_uid: dict[str, int] = {}
        self._used: set[int] = set()
        self._cursor = self._first

    @property
    def capacity(self) -> int:
        return max(self._last - self._first + 1, 0)

    def __len__(self) -> int:
        return len(self._by_uid)

    def ip_of(self, uid: str) -> str | None:
        offset = self._by_uid.get(uid)
        return None if offset is None else str(ipaddress.ip_address(self._base + offset))

    def allocate(self, uid: str) -> str:
        """The pod's IP: the one it already holds, else the next free one."""
        if (held := self.ip_of(uid)) is not None:
            return held
        for step in range(self.capacity):
            offset = self._first + (self._cursor - self._first + step) % self.capacity
            if offset not in self._used:
                self._take(uid, offset)
                self._cursor = offset + 1 if offset < self._last else self._first
                return self.ip_of(uid) or ""
        raise PodIPsExhausted(f"no free pod IP left in {self.network}")

    def reserve(self, uid: str, ip: str) -> bool:
        """Adopt the IP a pod already reports (after a restart); False if it cannot be ours."""
        try:
            offset = int(ipaddress.ip_address(ip)) - self._base
        except ValueError:
            return False
        if not self._first <= offset <= self._last or self._by_uid.get(uid) == offset:
            return self._by_uid.get(uid) == offset
        if offset in self._used or uid in self._by_uid:
            return False
        self._take(uid, offset)
        return True

    def release(self, uid: str) -> None:
        offset = self._by_uid.pop(uid, None)
        if offset is not None:
            self._used.discard(offset)

    def _take(self, uid: str, offset: int) -> None:
        self._by_uid[uid] = offset
        self._used.add(offset)


__all__ = ["PodIPAllocator", "PodIPsExhausted", "node_names", "node_pod_cidr"]
