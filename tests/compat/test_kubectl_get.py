"""kubectl get: every output format, the label, field and sort options, several kinds
at once, `get all` and paging, each checked against what the API holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.cluster.processes import wait_for
from tests.compat.conftest import ROOT_CA, Cluster, Kubectl
from tests.compat.readkit import deployment, make, pods_of, service, wait_available

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def configmap(name: str, labels: dict[str, str], **data: str) -> dict[str, object]:
    return {"metadata": {"name": name, "labels": labels}, "data": data}


@pytest.fixture
def web(cluster: Cluster, namespace: str) -> dict[str, object]:
    """A Deployment `web` with two available replicas and its Service."""
    make(cluster, namespace, "deployments", deployment("web", 2, labels={"tier": "front"}))
    make(cluster, namespace, "services", service("web"))
    return wait_available(cluster, namespace, "web")


@pytest.mark.compat("kubectl get -o json", "kubectl get -o yaml")
def test_json_and_yaml_are_the_stored_objects(kubectl: Kubectl, cluster: Cluster,
                                              namespace: str, web: dict[str, object]) -> None:
    stored = cluster.client.get("deployments", "web", namespace)
    one = json.loads(kubectl("get", "deployment", "web", "-o", "json").stdout)
    assert one["kind"] == "Deployment" and one["apiVersion"] == "apps/v1"
    assert one["metadata"]["uid"] == stored["metadata"]["uid"]
    assert one["spec"] == stored["spec"]
    as_yaml = yaml.safe_load(kubectl("get", "deploy/web", "-o", "yaml").stdout)
    assert as_yaml["metadata"]["uid"] == stored["metadata"]["uid"]
    assert as_yaml["status"]["availableReplicas"] == 2
    many = json.loads(kubectl("get", "pods", "-o", "json").stdout)
    assert many["kind"] == "List" and many["apiVersion"] == "v1"
    assert {p["metadata"]["name"] for p in many["items"]} == {
        p["metadata"]["name"] for p in pods_of(cluster, namespace, "app=web")}


@pytest.mark.compat("kubectl get -o wide", "kubectl get -o name", "kubectl get --no-headers")
def test_wide_name_and_no_headers(kubectl: Kubectl, cluster: Cluster, namespace: str,
                                  web: dict[str, object]) -> None:
    pods = {p["metadata"]["name"]: p for p in pods_of(cluster, namespace, "app=web")}
    lines = kubectl("get", "pods", "-o", "wide").stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                                "NOMINATED", "NODE", "READINESS", "GATES"]
    for line in lines[1:]:
        name, ready, status, restarts, _age, ip, node = line.split()[:7]
        assert (ready, status, restarts) == ("1/1", "Running", "0")
        assert ip == pods[name]["status"]["podIP"] and node == cluster.node
    deploy = kubectl("get", "deploy", "-o", "wide").stdout.splitlines()
    assert deploy[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE",
                                 "CONTAINERS", "IMAGES", "SELECTOR"]
    assert deploy[1].split()[:4] == ["web", "2/2", "2", "2"]
    assert deploy[1].split()[5:] == ["main", "schooner/busybox:latest", "app=web"]
    names = kubectl("get", "pods,deploy,svc", "-o", "name").stdout.split()
    assert sorted(names) == sorted([f"pod/{n}" for n in pods]
                                   + ["deployment.apps/web", "service/web"])
    bare = kubectl("get", "pods", "--no-headers").stdout.splitlines()
    assert sorted(line.split()[0] for line in bare) == sorted(pods)


@pytest.mark.compat("kubectl get -o custom-columns", "kubectl get -o custom-columns-file")
def test_custom_columns_inline_and_from_a_file(kubectl: Kubectl, cluster: Cluster,
                                               namespace: str, web: dict[str, object],
                                               tmp_path: Path) -> None:
    pods = pods_of(cluster, namespace, "app=web")
    out = kubectl("get", "pods", "-o",
                  "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,"
                  "IMAGE:.spec.containers[0].image").stdout.splitlines()
    assert out[0].split() == ["NAME", "NODE", "IMAGE"]
    assert sorted(line.split() for line in out[1:]) == sorted(
        [p["metadata"]["name"], cluster.node, "schooner/busybox:latest"] for p in pods)
    spec = tmp_path / "cols.txt"
    spec.write_text("NAME          REPLICAS             UID\n"
                    "metadata.name spec.replicas .metadata.uid\n")
    out = kubectl("get", "deploy", "-o", f"custom-columns-file={spec}").stdout.splitlines()
    assert out[0].split() == ["NAME", "REPLICAS", "UID"]
    assert out[1].split() == ["web", "2", web["metadata"]["uid"]]  # type: ignore[index]


@pytest.mark.compat("kubectl get -o jsonpath", "kubectl get -o jsonpath-as-json")
def test_jsonpath_range_items_and_as_json(kubectl: Kubectl, cluster: Cluster,
                                          namespace: str, web: dict[str, object]) -> None:
    pods = pods_of(cluster, namespace, "app=web")
    names = sorted(p["metadata"]["name"] for p in pods)
    star = kubectl("get", "pods", "-o", "jsonpath={.items[*].metadata.name}").stdout
    assert sorted(star.split()) == names
    ranged = kubectl("get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}"
                     "{\"\\t\"}{.status.podIP}{\"\\n\"}{end}").stdout.splitlines()
    assert sorted(ranged) == sorted(f"{p['metadata']['name']}\t{p['status']['podIP']}"
                                    for p in pods)
    one = kubectl("get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}").stdout
    assert one == "2"
    filtered = kubectl("get", "svc", "web", "-o",
                       "jsonpath={.spec.ports[?(@.port==80)].targetPort}").stdout
    assert filtered == "80"
    as_json = json.loads(kubectl("get", "pods", "-o",
                                 "jsonpath-as-json={.items[*].metadata.name}").stdout)
    assert sorted(as_json) == names


@pytest.mark.compat("kubectl get -o go-template", "kubectl get -o go-template-file")
def test_go_template_inline_and_from_a_file(kubectl: Kubectl, cluster: Cluster,
                                            namespace: str, web: dict[str, object],
                                            tmp_path: Path) -> None:
    pods = pods_of(cluster, namespace, "app=web")
    out = kubectl("get", "pods", "-o", "go-template={{range .items}}{{.metadata.name}} "
                  "{{.status.phase}}\n{{end}}").stdout.splitlines()
    assert sorted(out) == sorted(f"{p['metadata']['name']} Running" for p in pods)
    template = tmp_path / "t.tmpl"
    template.write_text('{{.metadata.name}}={{index .metadata.labels "tier"}}'
                        "/{{len .spec.template.spec.containers}}")
    assert kubectl("get", "deploy", "web", "-o",
                   f"go-template-file={template}").stdout == "web=front/1"


@pytest.mark.compat("kubectl get --show-labels", "kubectl get -L", "kubectl get --sort-by",
                    "kubectl get -l")
def test_labels_columns_sorting_and_selectors(kubectl: Kubectl, cluster: Cluster,
                                              namespace: str) -> None:
    for name, env, size in [("b", "prod", "3"), ("a", "dev", "10"), ("c", "test", "1")]:
        make(cluster, namespace, "configmaps",
             configmap(name, {"env": env, "team": "x" if name != "c" else "y"}, size=size))
    shown = kubectl("get", "cm", "a", "b", "--show-labels").stdout.splitlines()
    assert shown[0].split() == ["NAME", "DATA", "AGE", "LABELS"]
    assert shown[1].split()[0] == "a" and shown[1].split()[-1] == "env=dev,team=x"
    columns = kubectl("get", "cm", "-l", "team", "-L", "env", "-L", "team").stdout.splitlines()
    assert columns[0].split() == ["NAME", "DATA", "AGE", "ENV", "TEAM"]
    assert [line.split()[0::4] for line in columns[1:]] == [["a", "x"], ["b", "x"], ["c", "y"]]
    by_env = kubectl("get", "cm", "-l", "env", "--sort-by=.metadata.labels.env",
                     "-o", "name").stdout.split()
    assert by_env == ["configmap/a", "configmap/b", "configmap/c"]
    by_size = kubectl("get", "cm", "-l", "env", "--sort-by={.data.size}",
                      "--no-headers").stdout.splitlines()
    assert [line.split()[0] for line in by_size] == ["c", "b", "a"]  # natural order: 1, 3, 10
    assert kubectl("get", "cm", "-l", "env=prod", "-o", "name").stdout.split() == [
        "configmap/b"]
    assert kubectl("get", "cm", "-l", "env!=prod,team=x", "-o", "name").stdout.split() == [
        "configmap/a"]
    assert kubectl("get", "cm", "-l", "env in (dev,test)", "-o", "name").stdout.split() == [
        "configmap/a", "configmap/c"]
    assert kubectl("get", "cm", "-l", "env notin (dev),!missing", "-o",
                   "name").stdout.split() == ["configmap/b", "configmap/c",
                                              f"configmap/{ROOT_CA}"]  # no env: not in
    none = kubectl("get", "cm", "-l", "env=nope")
    assert none.stdout == "" and f"No resources found in {namespace} namespace." in none.stderr


@pytest.mark.compat("kubectl get --field-selector", "kubectl get -A")
def test_field_selector_and_all_namespaces(kubectl: Kubectl, cluster: Cluster,
                                           namespace: str, web: dict[str, object]) -> None:
    pods = sorted(p["metadata"]["name"] for p in pods_of(cluster, namespace, "app=web"))
    running = kubectl("get", "pods", "--field-selector", "status.phase=Running",
                      "-o", "name").stdout.split()
    assert running == [f"pod/{p}" for p in pods]
    first = kubectl("get", "pods", "--field-selector",
                    f"metadata.name={pods[0]},spec.nodeName={cluster.node}", "-o", "name")
    assert first.stdout.split() == [f"pod/{pods[0]}"]
    other = kubectl("get", "pods", "--field-selector", "metadata.name!=" + pods[0], "-o", "name")
    assert other.stdout.split() == [f"pod/{p}" for p in pods[1:]]
    bad = kubectl("get", "pods", "--field-selector", "spec.bogus=x", ok=False)
    assert bad.code == 1
    assert ('Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match '
            'label selector "", field selector "spec.bogus=x": field label not supported: '
            "spec.bogus") in bad.stderr
    everywhere = kubectl("get", "pods", "-A", namespaced=False).stdout.splitlines()
    assert everywhere[0].split()[:2] == ["NAMESPACE", "NAME"]
    mine = [line.split()[1] for line in everywhere[1:] if line.split()[0] == namespace]
    assert sorted(mine) == pods
    assert kubectl("get", "deploy", "-A", "--field-selector", f"metadata.namespace={namespace}",
                   "-o", "name", namespaced=False).stdout.split() == ["deployment.apps/web"]


@pytest.mark.compat("kubectl get KIND,KIND", "kubectl get all")
def test_several_kinds_at_once_and_get_all(kubectl: Kubectl, cluster: Cluster,
                                           namespace: str, web: dict[str, object]) -> None:
    out = kubectl("get", "deploy,svc").stdout
    blocks = out.strip().split("\n\n")
    assert blocks[0].splitlines()[0].split()[:4] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE"]
    assert blocks[0].splitlines()[1].split()[0] == "deployment.apps/web"
    svc = cluster.client.get("services", "web", namespace)
    assert blocks[1].splitlines()[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP",
                                                 "PORT(S)", "AGE"]
    assert blocks[1].splitlines()[1].split()[:5] == [
        "service/web", "ClusterIP", svc["spec"]["clusterIP"], "<none>", "80/TCP"]
    every = kubectl("get", "all").stdout
    names = {line.split()[0] for line in every.splitlines()
             if line and not line.startswith("NAME")}
    rs = cluster.client.list("replicasets", namespace)["items"]
    pods = pods_of(cluster, namespace, "app=web")
    assert names == ({f"pod/{p['metadata']['name']}" for p in pods}
                     | {"service/web", "deployment.apps/web"}
                     | {f"replicaset.apps/{r['metadata']['name']}" for r in rs})


@pytest.mark.compat("kubectl get endpointslices -l kubernetes.io/service-name=X")
def test_endpointslices_of_a_service(kubectl: Kubectl, cluster: Cluster, namespace: str,
                                     web: dict[str, object]) -> None:
    ips = sorted(p["status"]["podIP"] for p in pods_of(cluster, namespace, "app=web"))
    selector = "kubernetes.io/service-name=web"

    def slices() -> list[dict[str, Any]]:
        return list(cluster.client.list("endpointslices", namespace,
                                        label_selector=selector)["items"])

    wait_for(lambda: sorted(e["addresses"][0] for s in slices()
                            for e in s.get("endpoints") or []) == ips,
             60, f"the EndpointSlice of web listing {ips}")
    (stored,) = slices()
    name = stored["metadata"]["name"]
    lines = kubectl("get", "endpointslices", "-l", selector).stdout.splitlines()
    assert lines[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    row = lines[1].split()
    assert row[:3] == [name, "IPv4", "80"] and len(lines) == 2
    assert sorted(row[3].split(",")) == ips
    as_json = json.loads(kubectl("get", "endpointslice", name, "-o", "json").stdout)
    assert as_json["apiVersion"] == "discovery.k8s.io/v1"
    assert as_json["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == \
        "endpointslice-controller.k8s.io"
    assert as_json["metadata"]["ownerReferences"][0]["kind"] == "Service"
    assert {e["conditions"]["ready"] for e in as_json["endpoints"]} == {True}
    assert {e["nodeName"] for e in as_json["endpoints"]} == {cluster.node}
    assert kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=nope",
                   "-o", "name").stdout == ""


@pytest.mark.compat("kubectl get --chunk-size")
def test_chunk_size_pages_through_every_object(kubectl: Kubectl, cluster: Cluster,
                                               namespace: str) -> None:
    for i in range(7):
        make(cluster, namespace, "configmaps", configmap(f"cm-{i}", {"page": "yes"}))
    paged = kubectl("get", "cm", "-l", "page", "--chunk-size=2", "-o", "name",
                    "-v=6").out
    assert [line for line in paged.splitlines() if line.startswith("configmap/")] == [
        f"configmap/cm-{i}" for i in range(7)]
    requests = [line for line in paged.splitlines() if "GET" in line and "configmaps" in line]
    assert len(requests) == 4 and all("limit=2" in r for r in requests)
    assert sum("continue=" in r for r in requests) == 3
    table = kubectl("get", "cm", "-l", "page", "--chunk-size=3").stdout.splitlines()
    assert table[0].split() == ["NAME", "DATA", "AGE"] and len(table) == 8
