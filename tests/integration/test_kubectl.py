"""The real kubectl against Schooner through a generated kubeconfig (skipped without kubectl)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cli.cluster.processes import Apiserver

KUBECTL = shutil.which("kubectl")
pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
        env: [{name: A, value: "1"}]
      - name: sidecar
        image: busybox
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""


@pytest.fixture
def kubectl(apiserver: Apiserver, tmp_path: Path, namespace: str):
    """Run kubectl with its own HOME (no stale discovery cache) and our kubeconfig."""
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")

    def run(*args: str, stdin: str | None = None, ok: bool = True) -> str:
        proc = subprocess.run(
            [KUBECTL, "--kubeconfig", str(config), "-n", namespace, *args],
            input=stdin, capture_output=True, text=True, timeout=60,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        if ok:
            assert proc.returncode == 0, f"kubectl {args}: {proc.stderr}"
        return proc.stdout + proc.stderr

    return run


def test_kubectl_get_create_apply_delete(kubectl, tmp_path: Path) -> None:
    assert "default" in kubectl("get", "namespaces")
    manifest = tmp_path / "web.yaml"
    manifest.write_text(MANIFEST)
    out = kubectl("apply", "-f", str(manifest))
    assert "deployment.apps/web created" in out and "service/web created" in out
    assert "deployment.apps/web unchanged" in kubectl("apply", "-f", str(manifest))

    # An image change is a strategic merge patch: the sidecar, ports and env survive.
    manifest.write_text(MANIFEST.replace("nginx:1.25", "nginx:1.26"))
    assert "deployment.apps/web configured" in kubectl("apply", "-f", str(manifest))
    deploy = json.loads(kubectl("get", "deploy", "web", "-o", "json"))
    containers = deploy["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web", "sidecar"]
    assert containers[0]["image"] == "nginx:1.26"
    assert containers[0]["ports"][0]["containerPort"] == 80
    assert containers[0]["env"] == [{"name": "A", "value": "1"}]
    assert deploy["metadata"]["generation"] == 2

    table = kubectl("get", "deploy")
    assert "NAME" in table and "READY" in table and "web" in table
    assert "web" in kubectl("get", "svc", "-o", "wide")
    assert "Name:" in kubectl("describe", "deployment", "web")
    assert "scaled" in kubectl("scale", "deployment", "web", "--replicas=3")
    assert json.loads(kubectl("get", "deploy", "web", "-o", "json"))["spec"]["replicas"] == 3

    # `kubectl create -f` sends JSON; the `create configmap` generators send Kubernetes
    # protobuf, which the apiserver decodes (apiserver/protobuf/).
    cm = tmp_path / "cm.yaml"
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n")
    assert "configmap/cfg created" in kubectl("create", "-f", str(cm))
    assert "cfg" in kubectl("get", "cm")
    assert "configmap/gen created" in kubectl("create", "configmap", "gen",
                                              "--from-literal=a=b")
    kubectl("delete", "-f", str(manifest))
    kubectl("delete", "configmap", "cfg")
    assert "NotFound" in kubectl("get", "deploy", "web", ok=False)
    resources = kubectl("api-resources")
    assert "deployments" in resources and "deploy" in resources


UNKNOWN_FIELD_CM = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  foo: 1
data: {{a: b}}
bar: 2
"""


@pytest.mark.parametrize("validate,warned", [("warn", True), ("false", False)])
def test_kubectl_unknown_fields_are_dropped_with_or_without_warnings(
        kubectl, tmp_path: Path, validate: str, warned: bool) -> None:
    name = f"unknown-{validate}"
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(UNKNOWN_FIELD_CM.format(name=name))
    for verb in ("created", "configured"):  # a create, then a strategic merge patch
        if verb == "configured":
            manifest.write_text(UNKNOWN_FIELD_CM.format(name=name).replace("a: b", "a: c"))
        out = kubectl("apply", f"--validate={validate}", "-f", str(manifest))
        assert f"configmap/{name} {verb}" in out
        assert ('Warning: unknown field "metadata.foo"' in out) is warned, out
        assert ('Warning: unknown field "bar"' in out) is warned, out
    stored = json.loads(kubectl("get", "configmap", name, "-o", "json"))
    assert "bar" not in stored and "foo" not in stored["metadata"]
    assert stored["data"] == {"a": "c"}
    kubectl("delete", "configmap", name)


@pytest.mark.parametrize("flags", [(), ("--validate=strict",)])
def test_kubectl_validate_strict_refuses_unknown_fields(kubectl, tmp_path: Path,
                                                        flags: tuple[str, ...]) -> None:
    """kubectl sends fieldValidation=Strict by default (OpenAPI v3 lists the parameter)."""
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(UNKNOWN_FIELD_CM.format(name="unknown-strict"))
    out = kubectl("apply", *flags, "-f", str(manifest), ok=False)
    # kubectl sends the keys sorted, so `bar` comes before `metadata`.
    assert ('Error from server (BadRequest): error when creating "' in out
            and 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding '
            'error: unknown field "bar", unknown field "metadata.foo"' in out), out
    assert "NotFound" in kubectl("get", "configmap", "unknown-strict", ok=False)
