"""EndpointSlice against a real apiserver and etcd: CRUD, validation with field paths,
discovery, and the same through kubectl and the official Python client."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import Apiserver

pytestmark = pytest.mark.integration
ES = "endpointslices.discovery.k8s.io"


def slice_(name: str = "manual", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": "ext"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["192.0.2.10"], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 8080}]}
    body.update(fields)
    return body


def test_create_get_list_update_delete(client: Client, namespace: str) -> None:
    created = client.create(ES, slice_(), namespace)
    assert created["ports"] == [{"name": "http", "protocol": "TCP", "port": 8080}]
    assert client.get(ES, "manual", namespace)["metadata"]["uid"] == created["metadata"]["uid"]
    listed = client.list(ES, namespace, label_selector="kubernetes.io/service-name=ext")
    assert [o["metadata"]["name"] for o in listed["items"]] == ["manual"]
    created["endpoints"].append({"addresses": ["192.0.2.11"]})
    updated = client.update(ES, created)
    assert [e["addresses"] for e in updated["endpoints"]] == [["192.0.2.10"], ["192.0.2.11"]]
    client.delete(ES, "manual", namespace)
    with pytest.raises(errors.NotFound):
        client.get(ES, "manual", namespace)


def test_bad_slices_are_422_naming_the_field(client: Client, namespace: str) -> None:
    with pytest.raises(errors.Invalid, match=r"addressType: Unsupported value: \"IPv5\""):
        client.create(ES, slice_(addressType="IPv5"), namespace)
    with pytest.raises(errors.Invalid,
                       match=r"endpoints\[0\]\.addresses\[0\]: Invalid value: \"fd00::1\": "
                             r"must be a valid IPv4 address"):
        client.create(ES, slice_(endpoints=[{"addresses": ["fd00::1"]}]), namespace)
    with pytest.raises(errors.Invalid, match=r"endpoints\[0\]\.addresses: Required value"):
        client.create(ES, slice_(endpoints=[{"addresses": []}]), namespace)
    created = client.create(ES, slice_(), namespace)
    with pytest.raises(errors.Invalid, match="addressType: Invalid value: \"FQDN\": field is "
                                             "immutable"):
        client.update(ES, {**created, "addressType": "FQDN"})


def test_discovery_serves_the_group(apiserver: Apiserver) -> None:
    with apiserver.http() as http:
        resources = http.get("/apis/discovery.k8s.io/v1").json()["resources"]
    (es,) = [r for r in resources if r["name"] == "endpointslices"]
    assert (es["kind"], es["namespaced"], es.get("shortNames", [])) == (
        "EndpointSlice", True, [])


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_prints_the_table(apiserver: Apiserver, client: Client, namespace: str,
                                  tmp_path: Path) -> None:
    client.create(ES, slice_(), namespace)
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")
    out = subprocess.run(["kubectl", "--kubeconfig", str(config), "-n", namespace, "get",
                          "endpointslices"], capture_output=True, text=True, timeout=60,
                         env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    header, row = out.stdout.splitlines()
    assert header.split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert row.split()[:4] == ["manual", "IPv4", "8080", "192.0.2.10"]


def test_the_official_python_client_writes_and_reads_them(apiserver: Apiserver,
                                                         namespace: str,
                                                         tmp_path: Path) -> None:
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")
    api = k8s.DiscoveryV1Api(k8s_config.new_client_from_config(str(config)))
    api.create_namespaced_endpoint_slice(namespace, k8s.V1EndpointSlice(
        metadata=k8s.V1ObjectMeta(name="typed"), address_type="IPv4",
        endpoints=[k8s.V1Endpoint(addresses=["192.0.2.20"],
                                  conditions=k8s.V1EndpointConditions(ready=True))],
        ports=[k8s.DiscoveryV1EndpointPort(port=53, protocol="UDP", name="dns")]))
    read = api.read_namespaced_endpoint_slice("typed", namespace)
    assert read.address_type == "IPv4" and read.endpoints[0].addresses == ["192.0.2.20"]
    assert read.ports[0].port == 53 and read.ports[0].protocol == "UDP"
