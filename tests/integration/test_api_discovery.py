"""Aggregated discovery over HTTP, and the real kubectl taking it instead of the legacy lists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from apimachinery.client import Client
from cli.cluster.processes import Apiserver
from tests.integration.sample_objects import deployment

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.integration

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


@pytest.mark.parametrize(("accept", "content_type"), [
    (f"{V2},{V2BETA1},application/json", V2),
    (f"{V2BETA1},application/json", V2BETA1),
])
def test_aggregated_form_when_asked_for(apiserver: Apiserver, accept: str,
                                        content_type: str) -> None:
    version = content_type.split(";v=")[1].split(";")[0]
    with apiserver.http() as http:
        core = http.get("/api", headers={"Accept": accept})
        groups = http.get("/apis", headers={"Accept": accept})
    for response in (core, groups):
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert response.json()["kind"] == "APIGroupDiscoveryList"
        assert response.json()["apiVersion"] == f"apidiscovery.k8s.io/{version}"
    (core_item,) = core.json()["items"]
    assert core_item["metadata"].get("name", "") == ""
    pods = {r["resource"]: r for r in core_item["versions"][0]["resources"]}["pods"]
    assert pods["responseKind"]["kind"] == "Pod" and pods["scope"] == "Namespaced"
    names = [item["metadata"]["name"] for item in groups.json()["items"]]
    assert "apps" in names and "" not in names


@pytest.mark.parametrize("accept", [None, "application/json", "*/*"])
def test_legacy_form_otherwise(apiserver: Apiserver, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    with apiserver.http() as http:
        core = http.get("/api", headers=headers)
        groups = http.get("/apis", headers=headers)
    assert core.headers["content-type"] == "application/json"
    assert core.json()["kind"] == "APIVersions" and core.json()["versions"] == ["v1"]
    assert groups.headers["content-type"] == "application/json"
    assert groups.json()["kind"] == "APIGroupList"
    assert "apps" in [g["name"] for g in groups.json()["groups"]]


# Legacy discovery GETs one APIResourceList per group version: `/api/v1`, `/apis/apps/v1`.
_LEGACY_LIST = re.compile(r"GET https://\S+?/api(?:s/[^/?\s]+)?/v[^/?\s]+\?timeout=")
_ROOT = re.compile(r"GET https://\S+?/apis?\?timeout=\S+ 200 OK")


def _kubectl(apiserver: Apiserver, home: Path, namespace: str, *args: str
             ) -> subprocess.CompletedProcess[str]:
    """The real kubectl with a HOME of its own (no discovery cache), its requests logged."""
    assert KUBECTL is not None
    home.mkdir(parents=True, exist_ok=True)
    config = apiserver.kubeconfig(home / "kubeconfig")
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "-n", namespace, "-v=6", *args],
        capture_output=True, text=True, timeout=60,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"})


def _took_aggregated(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr
    assert len(_ROOT.findall(proc.stderr)) >= 2, proc.stderr  # /api and /apis, both 200
    assert _LEGACY_LIST.findall(proc.stderr) == [], proc.stderr


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
@pytest.mark.parametrize("args", [
    ("api-resources",),
    ("get", "pods"),
    ("get", "deploy"),
    ("get", "all"),
])
def test_kubectl_discovers_through_the_aggregated_form(apiserver: Apiserver, tmp_path: Path,
                                                       namespace: str, args: tuple[str, ...]
                                                       ) -> None:
    """A fresh HOME (no discovery cache): kubectl asks `/api` and `/apis` for the aggregated
    form first; taking it, it never GETs a group version's legacy APIResourceList."""
    proc = _kubectl(apiserver, tmp_path, namespace, *args)
    _took_aggregated(proc)
    if args == ("api-resources",):
        rows = proc.stdout.splitlines()
        assert re.search(r"^pods\s+po\s+v1\s+true\s+Pod$", proc.stdout, re.M), proc.stdout
        assert re.search(r"^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$",
                         proc.stdout, re.M), proc.stdout
        assert re.search(r"^nodes\s+no\s+v1\s+false\s+Node$", proc.stdout, re.M), proc.stdout
        assert not any("/" in row.split()[0] for row in rows[1:])  # no subresource rows
    else:
        assert "No resources found" in proc.stdout + proc.stderr


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_finds_subresource_kinds_in_the_aggregated_form(
        apiserver: Apiserver, client: Client, tmp_path: Path, namespace: str) -> None:
    """`scale --current-replicas` reads the Scale kind of `deployments/scale` from discovery
    ("could not find scale subresource ... in discovery information" without it)."""
    client.create("deployments", deployment("web", replicas=1), namespace)
    proc = _kubectl(apiserver, tmp_path / "scale", namespace, "scale", "deployment/web",
                    "--current-replicas=1", "--replicas=2")
    _took_aggregated(proc)
    assert "scaled" in proc.stdout
    assert client.get("deployments", "web", namespace)["spec"]["replicas"] == 2

    wide = _kubectl(apiserver, tmp_path / "wide", namespace, "api-resources", "-o", "wide")
    _took_aggregated(wide)
    assert re.search(r"^deployments\s+deploy\s+apps/v1\s+true\s+Deployment\s+"
                     r"create,delete,deletecollection,get,list,patch,update,watch\s+all$",
                     wide.stdout, re.M), wide.stdout
