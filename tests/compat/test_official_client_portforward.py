"""The official Python client's `kubernetes.stream.portforward`: the kubelet's WebSocket
channel-pair form (`?ports=`, `v4.channel.k8s.io`) through the apiserver and the agent."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from typing import Any

import pytest

from tests.compat.conftest import Cluster
from tests.compat.readkit import make, wait_pod_ready
from tests.compat.test_kubectl_port_forward import BIG, expected_big, web_pod

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def http_get(sock: Any, path: str) -> bytes:
    """One HTTP/1.0 GET on a forwarded socket: the body (by Content-Length: the channel
    stays open while the request's other port runs, as the kubelet's does)."""
    sock.setblocking(True)
    sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"the forward ended after {len(body)} of {length} bytes"
        body += chunk
    return body


def close(forward: Any) -> None:
    """Close the forward, let the client's proxy thread end, then close its WebSocket's
    socket: the client leaves the socket of a WebSocket the server closed to the garbage
    collector (a ResourceWarning in whichever test collects it)."""
    forward.close()
    for thread in threading.enumerate():
        if thread.name.startswith("Kubernetes port forward proxy"):
            thread.join(10)
    forward.websocket.shutdown()


@pytest.mark.compat("portforward(connect_get_namespaced_pod_portforward)")
def test_two_ports_a_large_body_and_a_refused_port(cluster: Cluster, namespace: str,
                                                   official: Any) -> None:
    from kubernetes import client
    from kubernetes.stream import portforward

    make(cluster, namespace, "pods", web_pod("web"))
    wait_pod_ready(cluster, namespace, "web")
    api = client.CoreV1Api(official)
    forward = portforward(api.connect_get_namespaced_pod_portforward, "web", namespace,
                          ports="80,8080")
    try:
        body = http_get(forward.socket(80), "/big")
        assert len(body) == BIG and hashlib.sha256(body).hexdigest() == expected_big()
        assert http_get(forward.socket(8080), "/alt.html") == b"eighty-eighty\n"
        assert forward.error(80) is None and forward.error(8080) is None
    finally:
        close(forward)
    refused = portforward(api.connect_get_namespaced_pod_portforward, "web", namespace,
                          ports="81")
    try:
        sock = refused.socket(81)
        sock.setblocking(True)
        sock.settimeout(20)
        with contextlib.suppress(ConnectionError, TimeoutError):
            assert sock.recv(10) == b""
        error = refused.error(81) or ""
        assert "error forwarding port 81 to pod" in error and "connection refused" in error
    finally:
        close(refused)
