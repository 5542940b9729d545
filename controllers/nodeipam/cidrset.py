"""A set of equal-size subnets of one cluster CIDR: which are free, which are used (pure).

Kubernetes' pkg/controller/nodeipam/ipam/cidrset/cidr_set.go. The cluster CIDR
(say 172.30.128.0/17) is cut into 2^(mask - prefix) subnets of `node_mask_size`
bits (128 /24s); subnet i is used or not. `allocate_next()` hands out the first
free subnet at or after the one after the last allocated, wrapping around, so
a subnet just released is the last to be reused (a stale route towards it has
time to go). `occupy()` marks every subnet overlapping a CIDR as used: a
Node's podCIDR found already set, or the service range, which must never be
handed to a Node. `release()` frees them again.
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# cidr_set.go refuses more than 2^16 subnets: the bitmap would be too large.
MAX_PREFIX_DIFFERENCE = 16


class CIDRRangeFull(Exception):
    """ErrCIDRRangeNoCIDRsRemaining."""

    def __init__(self, cluster_cidr: Network) -> None:
        super().__init__("CIDR allocation failed; there are no remaining CIDRs left to "
                         f"allocate in the accepted range {cluster_cidr}")


def parse_cidr(text: str) -> Network:
    """A network in CIDR notation; host bits must be zero (ValueError otherwise)."""
    return ipaddress.ip_network(text.strip(), strict=True)


class CIDRSet:
    """The subnets of `cluster_cidr` of prefix length `node_mask_size`, used or free."""

    def __init__(self, cluster_cidr: Network | str, node_mask_size: int) -> None:
        cidr = parse_cidr(cluster_cidr) if isinstance(cluster_cidr, str) else cluster_cidr
        if not cidr.prefixlen <= node_mask_size <= cidr.max_prefixlen:
            raise ValueError(f"node CIDR mask size /{node_mask_size} must be between the "
                             f"cluster CIDR's /{cidr.prefixlen} and /{cidr.max_prefixlen}")
        if node_mask_size - cidr.prefixlen > MAX_PREFIX_DIFFERENCE:
            raise ValueError(f"cluster CIDR {cidr} with node mask /{node_mask_size} makes more "
                             f"than 2^{MAX_PREFIX_DIFFERENCE} subnets; use a larger node mask")
        self.cluster_cidr = cidr
        self.node_mask_size = node_mask_size
        self.max_cidrs = 1 << (node_mask_size - cidr.prefixlen)
        self._used: set[int] = set()
        self._next_candidate = 0

    def __len__(self) -> int:
        """How many subnets are used."""
        return len(self._used)

    def _subnet(self, index: int) -> Network:
        size = 1 << (self.cluster_cidr.max_prefixlen - self.node_mask_size)
        base = int(self.cluster_cidr.network_address) + index * size
        return type(self.cluster_cidr)((base, self.node_mask_size))

    def _indices(self, cidr: Network) -> range:
        """The subnets overlapping `cidr` (getBeginningAndEndIndices); ValueError if none."""
        if cidr.version != self.cluster_cidr.version or not cidr.overlaps(self.cluster_cidr):
            raise ValueError(f"CIDR {cidr} is outside the cluster CIDR {self.cluster_cidr}")
        shift = self.cluster_cidr.max_prefixlen - self.node_mask_size
        base = int(self.cluster_cidr.network_address)
        first = max(int(cidr.network_address), base)
        last = min(int(cidr.broadcast_address), int(self.cluster_cidr.broadcast_address))
        return range((first - base) >> shift, ((last - base) >> shift) + 1)

    def allocate_next(self) -> Network:
        """The next free subnet, now used; CIDRRangeFull when every one is taken."""
        for step in range(self.max_cidrs):
            index = (self._next_candidate + step) % self.max_cidrs
            if index not in self._used:
                self._used.add(index)
                self._next_candidate = (index + 1) % self.max_cidrs
                return self._subnet(index)
        raise CIDRRangeFull(self.cluster_cidr)

    def occupy(self, cidr: Network | str) -> None:
        """Mark every subnet overlapping `cidr` as used (ValueError if it is outside)."""
        net = parse_cidr(cidr) if isinstance(cidr, str) else cidr
        self._used.update(self._indices(net))

    def release(self, cidr: Network | str) -> None:
        """Free every subnet overlapping `cidr` (ValueError if it is outside)."""
        net = parse_cidr(cidr) if isinstance(cidr, str) else cidr
        self._used.difference_update(self._indices(net))

    def is_used(self, cidr: Network | str) -> bool:
        """Whether any subnet overlapping `cidr` is used."""
        net = parse_cidr(cidr) if isinstance(cidr, str) else cidr
        return any(i in self._used for i in self._indices(net))
