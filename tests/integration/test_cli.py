"""The real `schooner` executable against a real apiserver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.cluster.processes import Apiserver, free_port

SCHOONER = str(Path(sys.executable).parent / "schooner")

WEB = """\
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
        image: schooner/busybox:latest
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hello
"""


@pytest.fixture
def schooner(apiserver: Apiserver, tmp_path: Path, namespace: str):
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")

    def run(*args: str, stdin: str | None = None, config_path: Path | None = None,
            ns: str = namespace) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SCHOONER, "--kubeconfig", str(config_path or config), "-n", ns, *args],
            input=stdin, capture_output=True, text=True, timeout=60)

    return run


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _fails_cleanly(proc: subprocess.CompletedProcess[str], text: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert text in lines[0], lines[0]


def test_apply_is_idempotent_and_get_describe_delete(schooner, tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(WEB)
    out = _ok(schooner("apply", "-f", str(manifest)))
    assert "deployment.apps/web created" in out and "configmap/settings created" in out
    out = _ok(schooner("apply", "-f", str(manifest)))
    assert "deployment.apps/web unchanged" in out and "configmap/settings unchanged" in out
    manifest.write_text(WEB.replace("replicas: 2", "replicas: 3"))
    assert "deployment.apps/web configured" in _ok(schooner("apply", "-f", str(manifest)))
    assert "configmap/settings unchanged" in _ok(schooner("apply", "-f", "-",
                                                          stdin=WEB.split("---")[1]))

    table = _ok(schooner("get", "deployments"))
    assert table.splitlines()[0].split()[:4] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE"]
    assert "web" in table
    assert '"replicas": 3' in _ok(schooner("get", "deploy", "web", "-o", "json"))
    assert "greeting: hello" in _ok(schooner("get", "cm", "settings", "-o", "yaml"))
    assert _ok(schooner("get", "deploy", "-o", "name")).strip() == "deployment.apps/web"
    both = _ok(schooner("get", "deploy,cm"))  # kubectl's comma-separated kinds
    assert "UP-TO-DATE" in both and "settings" in both and "DATA" in both
    described = _ok(schooner("describe", "deployment", "web"))
    assert "Name:" in described and "web" in described and "Replicas:" in described

    assert "scaled" in _ok(schooner("scale", "deployment/web", "--replicas", "5"))
    assert '"replicas": 5' in _ok(schooner("get", "deploy", "web", "-o", "json"))
    out = _ok(schooner("delete", "-f", str(manifest)))
    assert 'deployment.apps "web" deleted' in out
    _fails_cleanly(schooner("get", "deploy", "web"), 'deployments.apps "web" not found')


def test_errors_are_one_line_without_traceback(schooner, tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n")
    _fails_cleanly(schooner("apply", "-f", str(bad_yaml)), "bad.yaml:")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
    _fails_cleanly(schooner("apply", "-f", str(unknown)), "Widget")
    missing_ns = tmp_path / "ns.yaml"
    missing_ns.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: "
                          "nowhere}\n")
    _fails_cleanly(schooner("apply", "-f", str(missing_ns), ns="nowhere"),
                   'namespaces "nowhere" not found')
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(WEB.split("---")[0].replace("replicas: 2", "replicas: -2"))
    _fails_cleanly(schooner("apply", "-f", str(invalid)), "spec.replicas")
    _fails_cleanly(schooner("get", "widgets"), "widgets")


def test_unreachable_server_hints_make_up(schooner, tmp_path: Path) -> None:
    dead = tmp_path / "dead-kubeconfig"
    from apimachinery.kubeconfig import write_kubeconfig
    write_kubeconfig(str(dead), f"https://127.0.0.1:{free_port()}", b"", "token")
    _fails_cleanly(schooner("get", "pods", config_path=dead), "make up")


def test_missing_kubeconfig_is_one_line(schooner, tmp_path: Path) -> None:
    _fails_cleanly(schooner("get", "pods", config_path=tmp_path / "nope"), "kubeconfig")


def test_api_resources_and_version(schooner) -> None:
    resources = _ok(schooner("api-resources"))
    assert "deployments" in resources and "deploy" in resources and "apps/v1" in resources
    assert "v1.32" in _ok(schooner("version"))


pytestmark = pytest.mark.integration
