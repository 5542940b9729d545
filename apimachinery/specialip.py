"""Addresses no endpoint may have: Kubernetes' `ValidateEndpointIP` (formerly
`ValidateNonSpecialIP`), shared by the apiserver's validation and the proxy.

An endpoint at the unspecified address, in loopback or link-local space would make
each node's proxy forward a Service's traffic to the node itself (or its metadata
service at 169.254.169.254) rather than to a pod, so Kubernetes refuses them in
Endpoints and EndpointSlices, and Schooner's proxy skips any that got into storage
before.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_special_ip", "special_ip_problems"]

_LINK_LOCAL_MULTICAST_V4 = ipaddress.ip_network("224.0.0.0/24")


def special_ip_problems(value: str) -> list[str]:
    """Kubernetes' messages for an IP in a special range ([] for an ordinary one, or for
    no IP at all: that is the IP syntax check's to report). An IPv4-mapped IPv6 address
    is judged as its IPv4 address, as Go's net.IP is."""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return []
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    problems = []
    if ip.is_unspecified:
        problems.append(f"may not be unspecified ({value})")
    if ip.is_loopback:
        problems.append("may not be in the loopback range (127.0.0.0/8, ::1/128)")
    if ip.is_link_local:
        problems.append("may not be in the link-local range (169.254.0.0/16, fe80::/10)")
    if _link_local_multicast(ip):
        problems.append("may not be in the link-local multicast range (224.0.0.0/24, "
                        "ff02::/10)")
    return problems


def is_special_ip(value: str) -> bool:
    """True for an address an endpoint may not have (see `special_ip_problems`)."""
    return bool(special_ip_problems(value))


def _link_local_multicast(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Go's IsLinkLocalMulticast: 224.0.0.0/24, or IPv6 multicast of link-local scope."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip in _LINK_LOCAL_MULTICAST_V4
    return ip.packed[0] == 0xFF and ip.packed[1] & 0x0F == 0x02
