"""kubectl port-forward against Schooner: kubectl v1.32's SPDY tunnelled in WebSocket (and
never its plain-SPDY fallback), to a pod, a Service and a Deployment, two ports, five
connections at once, 5 MB intact, a pod deleted mid-stream, and the 403 of a user
without `pods/portforward`. The pod runs busybox's httpd on 80 and 8080 and an endless
stream (`yes | nc`) on 9000."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from apimachinery.kubeconfig import load_kubeconfig, write_kubeconfig
from apimachinery.usercert import make_client_cert
from tests.compat.conftest import KUBECTL, Cluster
from tests.compat.readkit import (
    Stream,
    container,
    kubectl_stream,
    make,
    pod,
    wait_available,
    wait_pod_ready,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

BIG = 5 * 1024 * 1024
# 5 MiB the pod writes and the test knows: `yes LINE | head -c` (LINE + "\n" repeated)
LINE = "port-forward-" * 7
WEB = ("mkdir -p /www && echo hello > /www/index.html && echo eighty-eighty > /www/alt.html"
       f" && yes {LINE} | head -c {BIG} > /www/big && httpd -p 8080 -h /www"
       " && exec httpd -f -p 80 -h /www")
# 9000 an endless stream; 9100 counts its input and answers once the input ends
STREAM = "(nc -ll -p 9100 -e wc -c &); while true; do yes | nc -l -p 9000; done"


def expected_big() -> str:
    line = (LINE + "\n").encode()
    return hashlib.sha256((line * (BIG // len(line) + 1))[:BIG]).hexdigest()


def web_pod(name: str, labels: dict[str, str] | None = None) -> dict[str, object]:
    main = {**container("main", ["sh", "-c", WEB]),
            "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 8080}]}
    stream = {**container("stream", ["sh", "-c", STREAM]),
              "ports": [{"containerPort": 9000}, {"containerPort": 9100}]}
    return pod(name, labels, main, stream)


def forwarded(stream: Stream, remote: int) -> int:
    """The local port kubectl printed for `remote` (`Forwarding from 127.0.0.1:N -> R`)."""
    pattern = re.compile(rf"Forwarding from 127\.0\.0\.1:(\d+) -> {remote}$")
    lines = stream.wait_until(lambda out: any(pattern.search(x) for x in out),
                              f"kubectl to forward port {remote}")
    return int(next(m.group(1) for x in lines if (m := pattern.search(x))))


def fetch(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
        return bytes(answer.read())


def tunnelled_only(stream: Stream) -> None:
    """kubectl negotiated the WebSocket tunnel and never fell back to a SPDY upgrade."""
    text = "\n".join(stream.stderr)
    assert "negotiated protocol: portforward.k8s.io" in text or re.search(
        r"portforward 101 Switching Protocols", text), text[-2000:]
    assert "fallback to secondary dialer" not in text
    assert "POST" not in " ".join(x for x in stream.stderr if "portforward" in x)


@pytest.mark.compat("kubectl port-forward pod", "kubectl port-forward several ports",
                    "kubectl port-forward concurrent connections",
                    "kubectl port-forward large transfer", "kubectl port-forward half-close")
def test_pod_two_ports_five_connections_and_5mb(cluster: Cluster, namespace: str,
                                                tmp_path: Path) -> None:
    make(cluster, namespace, "pods", web_pod("web"))
    wait_pod_ready(cluster, namespace, "web")
    with kubectl_stream(cluster, namespace, tmp_path / "home", "port-forward", "pod/web",
                        ":80", ":8080", ":9100") as stream:
        with socket.create_connection(("127.0.0.1", forwarded(stream, 9100)), 20) as conn:
            conn.sendall(b"hello")
            conn.shutdown(socket.SHUT_WR)  # wc answers only once its input has ended
            assert _drain_bytes(conn).strip() == b"5"
        port, alt = forwarded(stream, 80), forwarded(stream, 8080)
        assert fetch(port, "/index.html") == b"hello\n"
        assert fetch(alt, "/alt.html") == b"eighty-eighty\n"
        with ThreadPoolExecutor(5) as pool:
            bodies = list(pool.map(lambda _: fetch(port, "/big"), range(5)))
        assert [hashlib.sha256(b).hexdigest() for b in bodies] == [expected_big()] * 5
        tunnelled_only(stream)


@pytest.mark.compat("kubectl port-forward svc", "kubectl port-forward deploy")
def test_service_and_deployment(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    """kubectl picks a pod itself: the Service's selector and its named targetPort, the
    Deployment's selector."""
    make(cluster, namespace, "pods", web_pod("web", {"app": "web"}))
    make(cluster, namespace, "services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "websvc"},
        "spec": {"selector": {"app": "web"},
                 "ports": [{"name": "h", "port": 8088, "targetPort": "http"}]}})
    make(cluster, namespace, "deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "webdep"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "webdep"}},
                 "template": {"metadata": {"labels": {"app": "webdep"}},
                              "spec": {"containers": [container("main", ["sh", "-c", WEB])],
                                       "terminationGracePeriodSeconds": 1}}}})
    wait_pod_ready(cluster, namespace, "web")
    wait_available(cluster, namespace, "webdep", replicas=1)
    with kubectl_stream(cluster, namespace, tmp_path / "svc", "port-forward", "svc/websvc",
                        ":8088") as svc, \
            kubectl_stream(cluster, namespace, tmp_path / "dep", "port-forward",
                           "deploy/webdep", ":8080") as dep:
        assert fetch(forwarded(svc, 80), "/index.html") == b"hello\n"  # 8088 -> http = 80
        assert fetch(forwarded(dep, 8080), "/alt.html") == b"eighty-eighty\n"


@pytest.mark.compat("kubectl port-forward pod deleted mid-stream")
def test_a_pod_deleted_mid_stream_ends_the_forward(cluster: Cluster, namespace: str,
                                                   tmp_path: Path) -> None:
    make(cluster, namespace, "pods", web_pod("web"))
    wait_pod_ready(cluster, namespace, "web")
    with kubectl_stream(cluster, namespace, tmp_path / "home", "port-forward", "pod/web",
                        ":9000") as stream:
        conn = socket.create_connection(("127.0.0.1", forwarded(stream, 9000)), timeout=20)
        received = 0
        while received < 1 << 20:  # the stream flows
            received += len(conn.recv(65536))
        cluster.client.delete("pods", "web", namespace)
        deleted = time.monotonic()
        ended = _drain(conn)
        assert ended in ("eof", "reset"), ended
        assert time.monotonic() - deleted < 20
        assert stream.finish(timeout=20) != 0  # kubectl exits: the pod is gone
        assert "lost connection to pod" in "\n".join(stream.stderr)


def _drain_bytes(conn: socket.socket) -> bytes:
    received = b""
    while chunk := conn.recv(65536):
        received += chunk
    return received


def _drain(conn: socket.socket) -> str:
    """Read to the end: how the local connection ended."""
    try:
        while conn.recv(65536):
            pass
        return "eof"
    except ConnectionResetError:
        return "reset"
    except TimeoutError:
        return "still open after 20 s"
    finally:
        conn.close()


@pytest.mark.compat("kubectl port-forward forbidden")
def test_a_user_without_pods_portforward_gets_403(cluster: Cluster, namespace: str,
                                                  tmp_path: Path) -> None:
    """Every user may read pods (kubectl GETs the pod first); only alice may forward:
    carol's `get` on `pods/portforward` is not enough, as a WebSocket upgrade also needs
    `create` (the verb of the same request over SPDY). The users are client
    certificates: a WebSocket authenticates by its TLS connection too."""
    make(cluster, namespace, "pods", web_pod("web"))
    make(cluster, namespace, "roles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "read"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]})
    make(cluster, namespace, "roles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "forward"},
        "rules": [{"apiGroups": [""], "resources": ["pods/portforward"],
                   "verbs": ["get", "create"]}]})
    make(cluster, namespace, "roles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "forward-get"},
        "rules": [{"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get"]}]})
    for role, users in (("read", ["alice", "bob", "carol"]), ("forward", ["alice"]),
                        ("forward-get", ["carol"])):
        make(cluster, namespace, "rolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": role},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            "subjects": [{"kind": "User", "name": u, "apiGroup": "rbac.authorization.k8s.io"}
                         for u in users]})
    wait_pod_ready(cluster, namespace, "web")
    for name in ("bob", "carol"):
        refused = _user_stream(cluster, tmp_path, name, namespace)
        try:
            assert refused.finish(timeout=30) == 1
        finally:
            refused.stop()
        # The WebSocket's 403 sends kubectl to its SPDY fallback, a POST, whose 403
        # (verb create) it prints, as against Kubernetes.
        assert (f'pods "web" is forbidden: User "{name}" cannot create resource '
                '"pods/portforward"' in "\n".join(refused.stderr))
    alice = _user_stream(cluster, tmp_path, "alice", namespace)
    try:
        assert fetch(forwarded(alice, 80), "/index.html") == b"hello\n"
    finally:
        alice.stop()


def _user_stream(cluster: Cluster, tmp: Path, user: str, namespace: str) -> Stream:
    """`kubectl port-forward pod/web :80` as `user`, a client certificate of the CA."""
    pki = cluster.kubeconfig.parent / "pki"
    cert, key = make_client_cert((pki / "ca.crt").read_bytes(), (pki / "ca.key").read_bytes(),
                                 user, [])
    admin = load_kubeconfig(str(cluster.kubeconfig))
    path = tmp / f"{user}.kubeconfig"
    write_kubeconfig(str(path), admin.server, admin.ca_data or b"", None, user=user,
                     client_cert=cert, client_key=key)
    home = tmp / f"{user}-home"
    home.mkdir()
    return Stream([str(KUBECTL), "--kubeconfig", str(path), "-n", namespace, "port-forward",
                   "pod/web", ":80"], {"HOME": str(home), "PATH": "/usr/bin:/bin"})


@pytest.mark.compat("schooner port-forward")
def test_schooners_own_port_forward(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    """Schooner's CLI, in the channel-pair form: a pod's two ports, and a Service's named
    targetPort resolved as kubectl does."""
    make(cluster, namespace, "pods", web_pod("web", {"app": "web"}))
    make(cluster, namespace, "services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "websvc"},
        "spec": {"selector": {"app": "web"},
                 "ports": [{"name": "h", "port": 8088, "targetPort": "http"}]}})
    wait_pod_ready(cluster, namespace, "web")
    cli = [sys.executable, "-c", "from cli.main import main; main()", "--kubeconfig",
           str(cluster.kubeconfig), "port-forward", "-n", namespace]
    env = {**os.environ, "HOME": str(tmp_path)}
    pod = Stream([*cli, "pod/web", ":80", ":8080"], env)
    svc = Stream([*cli, "svc/websvc", "0:8088"], env)
    try:
        port, alt = forwarded(pod, 80), forwarded(pod, 8080)
        with ThreadPoolExecutor(3) as threads:
            bodies = list(threads.map(lambda _: fetch(port, "/big"), range(3)))
        assert [hashlib.sha256(b).hexdigest() for b in bodies] == [expected_big()] * 3
        assert fetch(alt, "/alt.html") == b"eighty-eighty\n"
        assert fetch(forwarded(svc, 80), "/index.html") == b"hello\n"
    finally:
        pod.stop()
        svc.stop()
    missing = subprocess.run([*cli, "pod/nope", "80"], capture_output=True, text=True,
                             timeout=60, env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'error: pods "nope" not found'
