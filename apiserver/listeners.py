"""The apiserver's listening sockets: the bind address, and the advertised one too.

kube-apiserver listens on one `--bind-address` (often 0.0.0.0) and advertises
another address for the `kubernetes` Service. Schooner never binds the
wildcard on a machine it shares (its traffic stays on loopback and on networks
the project made), so an apiserver bound to a specific address also listens on
the address it advertises: otherwise the endpoint it names would refuse
connections. That address may not exist yet when the apiserver starts (the
local cluster advertises the pod bridge's gateway, made by the agent later), so
its socket is bound with IP_FREEBIND: it accepts connections from the moment the
address appears on an interface (docs/architecture.md, "The kubernetes Service").
"""

from __future__ import annotations

import ipaddress
import socket

# Linux's IP_FREEBIND (include/uapi/linux/in.h); the socket module lacks the constant
# on some builds. Needs no privilege, unlike IP_TRANSPARENT.
IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)


def addresses(bind_address: str, advertise_address: str) -> list[str]:
    """The addresses to listen on: the bind address, then the advertised one when it is
    another specific address (a wildcard bind address already covers it)."""
    if not advertise_address or ipaddress.ip_address(bind_address).is_unspecified:
        return [bind_address]
    if ipaddress.ip_address(advertise_address) == ipaddress.ip_address(bind_address):
        return [bind_address]
    return [bind_address, advertise_address]


def listen(ips: list[str], port: int) -> list[socket.socket]:
    """A TCP socket bound to each of `ips` at `port`; all closed if one fails.

    Bound, not yet listening: the server's loop listens once start-up is done, so a
    client is refused (not left waiting) while the apiserver connects to etcd, as
    with uvicorn's own binding. A port taken is an OSError here, before start-up.
    """
    sockets: list[socket.socket] = []
    try:
        for ip in ips:
            sockets.append(_listen(ip, port, freebind=ip != ips[0]))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listen(ip: str, port: int, *, freebind: bool) -> socket.socket:
    family = socket.AF_INET6 if ipaddress.ip_address(ip).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if freebind:  # at SOL_IP for IPv6 sockets too: Linux's inet6_bind honours it
            sock.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        sock.bind((ip, port))
    except OSError:
        sock.close()
        raise
    return sock
