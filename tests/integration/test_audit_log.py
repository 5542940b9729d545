"""The audit log on a real apiserver and etcd: the default policy, then a Request one."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from apimachinery.auditpolicy import DEFAULT_POLICY
from apimachinery.pki import TokenEntry, new_token
from cli.cluster.processes import Apiserver, Etcd

pytestmark = pytest.mark.integration

PASSWORD = b"audit-must-not-see-this"


def events(path: Path, want: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The log's events once it holds at least `want` (the writer is a thread of its own)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [orjson.loads(x) for x in path.read_bytes().splitlines()] if path.exists() \
            else []
        if len(found) >= want or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def start(tmp_path: Path, policy: str, **kwargs: Any) -> tuple[Etcd, Apiserver, Path]:
    etcd = Etcd(tmp_path / "etcd").start()
    (tmp_path / "policy.yaml").write_text(policy)
    log = tmp_path / "audit" / "audit.log"
    # AlwaysAllow: these tests are about what the log holds, and bob writes without a role
    server = Apiserver(tmp_path / "apiserver", etcd.url, extra_args=[
        "--audit-policy-file", str(tmp_path / "policy.yaml"), "--audit-log-path", str(log),
        "--authorization-mode", "AlwaysAllow"],
        **kwargs)
    try:
        server.start()
    except BaseException:
        etcd.stop()
        raise
    return etcd, server, log


def test_default_policy_one_event_per_write_with_user_and_code(tmp_path: Path) -> None:
    bob = new_token()
    etcd, server, log = start(tmp_path, DEFAULT_POLICY, users=[
        TokenEntry(bob, "bob", "uid-bob", ("devs",))])
    try:
        with server.client() as admin:
            admin.create("namespaces", {"metadata": {"name": "audited"}})
            admin.create("secrets", {"metadata": {"name": "s"},
                                     "data": {"p": base64.b64encode(PASSWORD).decode()}},
                         "audited")
            admin.get("secrets", "s", "audited")
            admin.list("pods", "audited")
            with pytest.raises(Exception):  # noqa: B017 - a 409, audited with its code
                admin.create("namespaces", {"metadata": {"name": "audited"}})
            admin.delete("secrets", "s", "audited")
        with httpx_client(server, bob) as http:
            made = http.post("/api/v1/namespaces/audited/configmaps",
                             json={"metadata": {"name": "c"}, "data": {"k": "v"}})
            assert made.status_code == 201
            audit_id = made.headers["Audit-Id"]
            assert http.get("/api/v1/namespaces/audited/configmaps/c").status_code == 200
        found = events(log, 5)
        time.sleep(0.3)  # nothing more may come: reads are not logged
        found = events(log, 5)
        assert [(e["verb"], e["objectRef"]["resource"], e["responseStatus"]["code"])
                for e in found] == [("create", "namespaces", 201), ("create", "secrets", 201),
                                    ("create", "namespaces", 409), ("delete", "secrets", 200),
                                    ("create", "configmaps", 201)]
        assert {e["stage"] for e in found} == {"ResponseComplete"}
        conflict = found[2]["responseStatus"]
        assert (conflict["status"], conflict["reason"]) == ("Failure", "AlreadyExists")
        assert conflict["message"] == 'namespaces "audited" already exists'
        assert all(e["level"] == "Metadata" and "requestObject" not in e for e in found)
        secret = found[1]
        assert secret["objectRef"] == {"resource": "secrets", "namespace": "audited",
                                       "name": "s", "apiVersion": "v1"}
        assert secret["user"] == {"username": "admin", "uid": "admin",
                                  "groups": ["system:masters", "system:authenticated"]}
        assert secret["requestURI"] == "/api/v1/namespaces/audited/secrets"
        assert secret["sourceIPs"] == ["127.0.0.1"]
        assert secret["kind"] == "Event" and secret["apiVersion"] == "audit.k8s.io/v1"
        assert secret["requestReceivedTimestamp"] <= secret["stageTimestamp"]
        configmap = found[4]
        assert configmap["user"] == {"username": "bob", "uid": "uid-bob",
                                     "groups": ["devs", "system:authenticated"]}
        assert configmap["auditID"] == audit_id
        assert configmap["userAgent"].startswith("python-httpx")
        assert PASSWORD not in log.read_bytes()
        assert base64.b64encode(PASSWORD) not in log.read_bytes()
        assert log.stat().st_mode & 0o777 == 0o600
    finally:
        server.stop()
        etcd.stop()


REQUEST_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
    resources: [{group: "", resources: ["secrets"]}]
  - level: Request
    resources: [{group: "", resources: ["configmaps"]}]
  - level: Metadata
    verbs: ["watch"]
"""


def test_request_level_stages_and_watch(tmp_path: Path) -> None:
    etcd, server, log = start(tmp_path, REQUEST_POLICY)
    try:
        with server.client() as c:
            c.create("configmaps", {"metadata": {"name": "cm"}, "data": {"k": "v"}}, "default")
            c.create("secrets", {"metadata": {"name": "s"},
                                 "data": {"p": base64.b64encode(PASSWORD).decode()}}, "default")
            for _ in c.watch("pods", "default", timeout_seconds=1):
                pass
        found = events(log, 8)
        by_resource: dict[str, list[dict[str, Any]]] = {}
        for e in found:
            by_resource.setdefault(e["objectRef"]["resource"], []).append(e)
        cm = by_resource["configmaps"]
        assert [e["stage"] for e in cm] == ["RequestReceived", "ResponseComplete"]
        assert cm[0]["auditID"] == cm[1]["auditID"]
        assert cm[1]["requestObject"]["data"] == {"k": "v"}
        assert cm[1]["level"] == "Request"
        assert [e["stage"] for e in by_resource["secrets"]] == ["RequestReceived",
                                                                "ResponseComplete"]
        assert all("requestObject" not in e for e in by_resource["secrets"])
        assert [e["stage"] for e in by_resource["pods"]] == [
            "RequestReceived", "ResponseStarted", "ResponseComplete"]
        assert by_resource["pods"][1]["responseStatus"]["code"] == 200
        assert PASSWORD not in log.read_bytes()
    finally:
        server.stop()
        etcd.stop()


def test_pod_security_annotations_in_the_event(tmp_path: Path) -> None:
    """PodSecurity's audit annotations (admission's notes) reach the request's event, for a
    pod admitted and for one refused."""
    etcd, server, log = start(tmp_path, DEFAULT_POLICY)
    plain = {"containers": [{"name": "c", "image": "busybox"}]}
    try:
        with server.client() as c:
            c.create("namespaces", {"metadata": {"name": "ps", "labels": {
                "pod-security.kubernetes.io/audit": "restricted"}}})
            c.create("pods", {"metadata": {"name": "loud"}, "spec": plain}, "ps")
            c.create("namespaces", {"metadata": {"name": "strict", "labels": {
                "pod-security.kubernetes.io/enforce": "baseline"}}})
            with pytest.raises(Exception):  # noqa: B017 - a 403, audited with the annotation
                c.create("pods", {"metadata": {"name": "refused"},
                                  "spec": {**plain, "hostNetwork": True}}, "strict")
        pods = [e for e in events(log, 4) if e["objectRef"]["resource"] == "pods"]
        assert [(e["objectRef"]["namespace"], e["responseStatus"]["code"]) for e in pods] == [
            ("ps", 201), ("strict", 403)]
        admitted, refused = (e.get("annotations", {}) for e in pods)
        # the default enforce level (docs/security.md, Pod Security Admission)
        assert admitted["pod-security.kubernetes.io/enforce-policy"] == "baseline:latest"
        assert admitted["pod-security.kubernetes.io/audit-violations"].startswith(
            'would violate PodSecurity "restricted:latest": ')
        assert refused["pod-security.kubernetes.io/enforce-policy"] == "baseline:latest"
    finally:
        server.stop()
        etcd.stop()


def httpx_client(server: Apiserver, token: str) -> Any:
    import httpx
    return httpx.Client(base_url=server.url, verify=server._ssl(), timeout=10,
                        headers={"Authorization": f"Bearer {token}"})


def test_bad_policy_stops_the_apiserver_with_one_line(tmp_path: Path) -> None:
    import subprocess
    bad = tmp_path / "policy.yaml"
    bad.write_text(yaml.safe_dump({"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                                   "rules": [{"level": "Loud"}]}))
    proc = subprocess.run(["/work/main/.venv/bin/python", "-m", "apiserver",
                           "--audit-policy-file", str(bad)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "error: rules[0].level: Unsupported value: 'Loud': supported values: 'None', "
        "'Metadata', 'Request', 'RequestResponse'"]
