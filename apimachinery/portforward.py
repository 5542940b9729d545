"""The WebSocket port-forward protocol's framing (the kubelet's channel-pair form).

`GET .../portforward?ports=80&ports=8080` (or `ports=80,8080`), sub-protocol
`v4.channel.k8s.io` (or `portforward.k8s.io`): every binary message is one channel
byte and data, framed as exec's channels are (`wsstream.frame`, `wsstream.unframe`).
Port i of the query has the data channel 2i and the error channel 2i+1; the server's
first message on each channel carries the port as 2 bytes, little-endian (kubelet
pkg/kubelet/cri/streaming/portforward/websocket.go; the official Python client's
`portforward` reads them so). The client sends plain `channel + data` on the data
channels. An error channel carries a text message. The agent serves this form (and
kubectl's SPDY), the apiserver relays it, and `schooner port-forward` speaks it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

CHANNEL_PROTOCOLS = ("v4.channel.k8s.io", "portforward.k8s.io")
SPDY_TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"  # kubectl's SPDY inside WebSocket
# The same tunnelled session between the apiserver and an agent, named in token characters
# only: RFC 6455 sub-protocols are tokens, which `/` is not, and the `websockets` client
# (the apiserver's towards agents) refuses to offer or read such a name.
SPDY_RELAY_PROTOCOL = "SPDY-3.1+portforward.k8s.io"
SPDY_PROTOCOLS = (SPDY_TUNNEL_PROTOCOL, SPDY_RELAY_PROTOCOL)
MAX_PORTS = 128  # ports of one request (a bound on the channels: 2 each, 255 is close)


class InvalidPorts(ValueError):
    """The `ports` query is missing or names something that is not a port."""


def parse_ports(values: Iterable[str]) -> list[int]:
    """The `ports` query values (repeated, or comma-separated as the kubelet reads them)."""
    ports: list[int] = []
    for value in values:
        for part in value.split(","):
            text = part.strip()
            if not text.isdigit() or not 1 <= int(text) <= 65535:
                raise InvalidPorts(f"invalid port {text!r}: must be 1-65535")
            ports.append(int(text))
    if not ports:
        raise InvalidPorts("query parameter \"ports\" is required")
    if len(ports) > MAX_PORTS:
        raise InvalidPorts(f"at most {MAX_PORTS} ports may be forwarded at once")
    return ports


def data_channel(index: int) -> int:
    return 2 * index


def error_channel(index: int) -> int:
    return 2 * index + 1


def port_prefix(port: int) -> bytes:
    """The 2-byte little-endian port each channel's first message starts with."""
    return struct.pack("<H", port)
