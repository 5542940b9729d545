"""The client's verified certificate, carried from the TLS connection into the ASGI scope.

uvicorn verifies a client certificate when asked (`ssl_cert_reqs=CERT_OPTIONAL`
with `ssl_ca_certs`: one may be sent, and if sent it must chain to the CA, be in
its validity period and allow clientAuth), but puts nothing of it in the scope.
This protocol reads the leaf certificate from the connection's `ssl_object` once,
after the handshake, and gives each request on the connection the ASGI TLS
extension (`scope["extensions"]["tls"]`, asgiref's spec): `client_cert_chain`
(PEM, leaf first) and `client_cert_name` (the subject, RFC 4514). The
authenticator reads the certificate from there (auth.py).

A certificate that does not verify fails the handshake itself, so a request never
sees an unverified one (kube-apiserver, in Go, completes the handshake and answers
401; here the client gets a TLS alert instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Mapping
from typing import Any, cast

from cryptography import x509
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol


class ClientCertHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus the ASGI TLS extension for each request."""

    _tls: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._tls = tls_extension(transport.get_extra_info("ssl_object"))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            self.scope["extensions"] = {"tls": cast("dict[object, object]", self._tls)}


def tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> dict[str, Any] | None:
    """The ASGI TLS extension of a connection: None on plain HTTP; an empty chain when
    the client sent no certificate (the handshake already verified any it sent)."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    chain: list[str] = []
    name: str | None = None
    if der:
        cert = x509.load_der_x509_certificate(der)
        chain = [ssl.DER_cert_to_PEM_cert(der)]
        name = cert.subject.rfc4514_string()
    return {"server_cert": None, "client_cert_chain": chain, "client_cert_name": name,
            "client_cert_error": None, "tls_version": None, "cipher_suite": None}


def peer_certificate(scope: Mapping[str, Any]) -> str | None:
    """The verified client certificate (PEM) of the request's connection, if it sent one."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return chain[0] if chain else None


class ClientCertWebSocketProtocol(WSProtocol):
    """uvicorn's WebSocket protocol (the `wsproto` one), plus the ASGI TLS extension: an
    upgraded connection gets a scope of its own, which uvicorn builds without it, so a
    client certificate would otherwise not authenticate a WebSocket request. wsproto, as
    `websockets` refuses kubectl's sub-protocol `SPDY/3.1+portforward.k8s.io` (a `/` is
    not a token character) before the application sees the request."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        nodelay(transport)

    async def run_asgi(self) -> None:
        tls = tls_extension(self.transport.get_extra_info("ssl_object"))
        if tls is not None:
            extensions = cast("dict[str, Any]", self.scope.setdefault("extensions", {}))
            extensions["tls"] = tls
        await super().run_asgi()


def nodelay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once (TCP_NODELAY): a stream relay's frames are small and
    latency-bound, and Nagle's wait for an ACK met with the peer's delayed ACK costs
    40 ms a round trip. uvloop's transports leave it off."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
