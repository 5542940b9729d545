"""A tiny recording endpoint: what kubectl's typed `create` commands send, byte for byte.

Plain HTTP on localhost (kubectl sends no token there, and the recorder checks
none). It answers discovery minimally for the core and apps groups, records every
POST body with its path and content type, and answers the POST with a small JSON
object so kubectl finishes normally. `python -m tests.unit.apiserver.protobuf.recorder`
regenerates the golden files next to it with the kubectl on PATH.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).parent / "golden"

# name -> the kubectl arguments (after `--server URL -n default`)
COMMANDS: dict[str, tuple[str, ...]] = {
    "namespace": ("create", "namespace", "x"),
    "configmap": ("create", "configmap", "settings", "--from-literal=color=blue",
                  "--from-literal=size=10"),
    "secret": ("create", "secret", "generic", "creds", "--from-literal=user=admin",
               "--from-literal=password=s3cr\u00e9t"),
    "deployment": ("create", "deployment", "web", "--image=nginx:1.25", "--replicas=2",
                   "--port=80"),
    "service": ("create", "service", "nodeport", "np", "--tcp=80:http", "--tcp=443:8443"),
    "priorityclass": ("create", "priorityclass", "zero", "--value=0",
                      "--preemption-policy=Never", "--description=none"),
}

_RESOURCES = {
    "v1": [("namespaces", "Namespace", False), ("configmaps", "ConfigMap", True),
           ("secrets", "Secret", True), ("services", "Service", True)],
    "apps/v1": [("deployments", "Deployment", True)],
    "scheduling.k8s.io/v1": [("priorityclasses", "PriorityClass", False)],
}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    content_type: str
    accept: str
    body: bytes


def _resource_list(group_version: str) -> dict[str, Any]:
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [{"name": plural, "singularName": kind.lower(), "kind": kind,
                           "namespaced": namespaced,
                           "verbs": ["create", "delete", "get", "list", "update", "watch"]}
                          for plural, kind, namespaced in _RESOURCES[group_version]]}


_DISCOVERY: dict[str, Any] = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": group, "versions": [{"groupVersion": f"{group}/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": f"{group}/v1", "version": "v1"}}
        for group in ("apps", "scheduling.k8s.io")]},
    "/api/v1": _resource_list("v1"),
    "/apis/apps/v1": _resource_list("apps/v1"),
    "/apis/scheduling.k8s.io/v1": _resource_list("scheduling.k8s.io/v1"),
    "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.0"},
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, code: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> bytes:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.recorded.append(Recorded(
            self.command, self.path, self.headers.get("Content-Type", ""),
            self.headers.get("Accept", ""), body))
        return body

    def do_GET(self) -> None:
        self._record()
        path = self.path.split("?")[0]
        if path in _DISCOVERY:
            self._answer(200, _DISCOVERY[path])
        else:
            self._answer(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                               "reason": "NotFound", "code": 404})

    def do_POST(self) -> None:
        self._record()
        parts = self.path.split("?")[0].strip("/").split("/")
        plural = parts[-1]
        kinds = {p: (gv, k) for gv, rs in _RESOURCES.items() for p, k, _ in rs}
        group_version, kind = kinds.get(plural, ("v1", "Unknown"))
        self._answer(201, {"apiVersion": group_version, "kind": kind,
                           "metadata": {"name": "recorded"}})


class _Server(ThreadingHTTPServer):
    recorded: list[Recorded]


@contextmanager
def recording() -> Iterator[tuple[str, list[Recorded]]]:
    """A running recorder: (its URL, the requests it received so far)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.recorded = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.recorded
    finally:
        server.shutdown()
        server.server_close()


def capture(kubectl: str, home: Path, args: tuple[str, ...]) -> list[Recorded]:
    """The POSTs one kubectl command sends to a fresh recorder."""
    with recording() as (url, recorded):
        proc = subprocess.run(
            [kubectl, "--server", url, "-n", "default", *args], capture_output=True,
            text=True, timeout=60, env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
        if proc.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {proc.stderr}")
        return [r for r in recorded if r.method == "POST"]


def main() -> None:
    import tempfile

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl is not on PATH")
    with tempfile.TemporaryDirectory() as home:
        for name, args in COMMANDS.items():
            (post,) = capture(kubectl, Path(home), args)
            (GOLDEN / f"{name}.pb").write_bytes(post.body)
            (GOLDEN / f"{name}.request.json").write_text(json.dumps(
                {"command": ["kubectl", *args], "path": post.path,
                 "contentType": post.content_type, "accept": post.accept}, indent=2) + "\n")
            print(name, post.path, post.content_type, len(post.body), "bytes")


if __name__ == "__main__":
    main()
