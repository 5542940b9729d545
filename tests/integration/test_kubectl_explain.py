"""kubectl explain and strict validation against Schooner's generated OpenAPI (real kubectl)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apiserver import kinds
from cli.cluster.processes import Apiserver

KUBECTL = shutil.which("kubectl")
pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]

MANIFEST = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        env: [{name: A, value: "1"}, {name: B, value: "1"}]
      - name: sidecar
        image: busybox
"""


@pytest.fixture
def kubectl(apiserver: Apiserver, tmp_path: Path, namespace: str):
    """Run kubectl with its own HOME (no stale discovery or OpenAPI cache)."""
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")

    def run(*args: str, ok: bool = True) -> str:
        proc = subprocess.run(
            [KUBECTL, "--kubeconfig", str(config), "-n", namespace, *args],
            capture_output=True, text=True, timeout=60,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        if ok:
            assert proc.returncode == 0, f"kubectl {args}: {proc.stderr}"
        return proc.stdout + proc.stderr

    return run


def _resource_names() -> list[str]:
    return [r.group_resource for r in kinds.registry().resources]


@pytest.mark.parametrize("resource", _resource_names())
def test_explain_every_served_kind(kubectl, resource: str) -> None:
    r = next(r for r in kinds.registry().resources if r.group_resource == resource)
    out = kubectl("explain", resource)
    assert f"KIND:       {r.kind}" in out
    assert f"VERSION:    {r.version}" in out
    assert f"GROUP:      {r.group}" in out or not r.group
    assert "DESCRIPTION:" in out and "FIELDS:" in out
    assert "metadata\t<ObjectMeta>" in out
    recursive = kubectl("explain", resource, "--recursive")
    assert "    uid\t<string>" in recursive  # metadata.uid, two levels down


def test_explain_a_nested_field(kubectl) -> None:
    out = kubectl("explain", "pods.spec.containers.ports")
    assert "FIELD: ports <[]ContainerPort>" in out
    assert "containerPort\t<integer> -required-" in out
    assert "protocol\t<string>" in out
    out = kubectl("explain", "deployments.spec.strategy.rollingUpdate.maxSurge")
    assert "FIELD: maxSurge <IntOrString>" in out
    out = kubectl("explain", "pods.spec.containers.resources")
    assert "limits\t<map[string]Quantity>" in out


def test_explain_recursive(kubectl) -> None:
    out = kubectl("explain", "deployments.apps.spec", "--recursive")
    for line in ("template\t<PodTemplateSpec> -required-", "containers\t<[]Container>",
                 "containerPort\t<integer> -required-", "matchLabels\t<map[string]string>"):
        assert line in out, line


def test_apply_sends_strict_field_validation(kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "objects.yaml"
    manifest.write_text(MANIFEST)
    out = kubectl("apply", "-f", str(manifest), "-v=6")
    assert "configmap/settings created" in out and "deployment.apps/web created" in out
    assert out.count("fieldValidation=Strict") == 2
    # The update's strategic merge patch is computed from the v3 schemas' merge keys.
    manifest.write_text(MANIFEST.replace('"1"', '"2"'))
    out = kubectl("apply", "-f", str(manifest), "-v=8")
    assert "configmap/settings configured" in out and "deployment.apps/web configured" in out
    assert out.count("fieldValidation=Strict") >= 2
    assert "error calculating patch" not in out
    assert '$setElementOrder/containers' in out
    deploy = json.loads(kubectl("get", "deploy", "web", "-o", "json"))
    containers = deploy["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web", "sidecar"]
    assert containers[0]["env"] == [{"name": "A", "value": "2"}, {"name": "B", "value": "2"}]


def test_the_openapi_routes(client: Client) -> None:
    index = client.request("GET", "/openapi/v3").json()["paths"]
    assert set(index) >= {"api/v1", "apis/apps/v1", "apis/scheduling.k8s.io/v1"}
    doc = client.request("GET", index["apis/apps/v1"]["serverRelativeURL"]).json()
    assert "io.k8s.api.apps.v1.Deployment" in doc["components"]["schemas"]
    with pytest.raises(errors.NotFound):
        client.request("GET", "/openapi/v3/apis/nope/v1")

    v2 = client.request("GET", "/openapi/v2", headers={"Accept": "application/json"})
    assert v2.headers["content-type"].startswith("application/json")
    assert v2.json()["swagger"] == "2.0"
    assert client.request("GET", "/openapi/v2").json()["swagger"] == "2.0"
    with pytest.raises(errors.APIError) as refused:  # kubectl's protobuf-only fallback
        client.request("GET", "/openapi/v2", headers={
            "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert refused.value.code == 406


@pytest.mark.parametrize(("path", "field", "lines"), [
    ("pod.spec.securityContext", "securityContext <PodSecurityContext>",
     ("runAsUser\t<integer>", "sysctls\t<[]Sysctl>", "seccompProfile\t<SeccompProfile>",
      "Pod-wide users, groups and profiles, applied by the agent")),
    ("pod.spec.containers.securityContext.capabilities", "capabilities <Capabilities>",
     ("add\t<[]string>", "drop\t<[]string>")),
    ("pod.spec.affinity.podAntiAffinity", "podAntiAffinity <PodAntiAffinity>",
     ("requiredDuringSchedulingIgnoredDuringExecution\t<[]PodAffinityTerm>",
      "preferredDuringSchedulingIgnoredDuringExecution\t<[]WeightedPodAffinityTerm>")),
    ("pod.spec.affinity.nodeAffinity", "nodeAffinity <NodeAffinity>",
     ("requiredDuringSchedulingIgnoredDuringExecution\t<NodeSelector>",)),
    ("pod.spec.topologySpreadConstraints",
     "topologySpreadConstraints <[]TopologySpreadConstraint>",
     ("maxSkew\t<integer>", "whenUnsatisfiable\t<string>", "labelSelector\t<LabelSelector>")),
    ("statefulset.spec.volumeClaimTemplates", "volumeClaimTemplates <[]PersistentVolumeClaim>",
     ("metadata\t<ObjectMeta>", "spec\t<PersistentVolumeClaimSpec>",
      "status\t<PersistentVolumeClaimStatus>")),
    ("statefulset.spec.volumeClaimTemplates.spec.resources",
     "resources <VolumeResourceRequirements>", ("requests\t<map[string]Quantity>",)),
    ("node.status.nodeInfo", "nodeInfo <NodeSystemInfo>",
     ("kernelVersion\t<string>", "containerRuntimeVersion\t<string>", "machineID\t<string>")),
    ("node.status.daemonEndpoints.kubeletEndpoint", "kubeletEndpoint <DaemonEndpoint>",
     ("Port\t<integer>",)),
    ("endpointslice.endpoints", "endpoints <[]Endpoint>",
     ("addresses\t<[]string> -required-", "conditions\t<EndpointConditions>",
      "targetRef\t<ObjectReference>", "zone\t<string>")),
    ("endpointslice.ports", "ports <[]EndpointPort>",
     ("appProtocol\t<string>", "port\t<integer>", "protocol\t<string>")),
])
def test_explain_the_fields_schooner_only_stores(kubectl, path: str, field: str,
                                                  lines: tuple[str, ...]) -> None:
    """Typed as Kubernetes' types, these are described down to their leaves."""
    out = kubectl("explain", path)
    assert f"FIELD: {field}" in out, out
    for line in lines:
        assert line in out, f"{line!r} not in:\n{out}"
