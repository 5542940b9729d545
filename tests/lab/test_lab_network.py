"""Across hosts: pod CIDRs, spreading, pod-to-pod, Services by ClusterIP, DNS and NodePort."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import time

import httpx
import pytest

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import wait_for
from lab.testing import SchoonerCluster
from tests.lab.conftest import (
    deployment,
    fetch,
    pod_exec,
    ready_endpoints,
    ready_pods,
    service,
    wait_serving,
)


def test_nodes_ready_with_distinct_pod_cidrs(cluster: SchoonerCluster) -> None:
    rows = cluster.wait_for_nodes()
    assert [r.name for r in rows] == ["node1", "node2", "node3"]
    cidrs = [ipaddress.IPv4Network(r.pod_cidr) for r in rows]
    assert len(set(cidrs)) == 3
    cluster_cidr = ipaddress.IPv4Network(cluster.config.cluster_cidr)
    assert all(c.subnet_of(cluster_cidr) and c.prefixlen == 24 for c in cidrs)
    service_cidr = ipaddress.IPv4Network(cluster.config.service_cidr)
    assert not any(c.overlaps(service_cidr) for c in cidrs)


def test_pods_spread_and_reach_each_other_and_the_service(client: Client,
                                                         namespace: str) -> None:
    client.create("deployments", deployment("web", 6), namespace)
    client.create("services", service("web"), namespace)
    pods = ready_pods(client, namespace, "web", 6)
    by_node: dict[str, list[dict]] = {}
    for pod in pods:
        by_node.setdefault(pod["spec"]["nodeName"], []).append(pod)
    assert sorted(by_node) == ["node1", "node2", "node3"], {
        n: len(p) for n, p in by_node.items()}
    ready_endpoints(client, namespace, "web", 6)
    wait_serving(client, namespace, pods[0]["metadata"]["name"], pods)
    cluster_ip = client.get("services", "web", namespace)["spec"]["clusterIP"]
    for node, on_node in sorted(by_node.items()):
        me = on_node[0]
        others = [p for n, ps in by_node.items() if n != node for p in ps[:1]]
        urls = [f"http://{p['status']['podIP']}:8080/" for p in others]
        urls += [f"http://{cluster_ip}/", "http://web/", f"http://web.{namespace}/",
                 f"http://web.{namespace}.svc.cluster.local/"]
        answers = fetch(client, namespace, me["metadata"]["name"], urls)
        errors_seen = [a for a in answers if "error" in a]
        assert not errors_seen, f"from {me['metadata']['name']} on {node}: {errors_seen}"
        direct = {a["pod"] for a in answers[:len(others)]}
        assert direct == {p["metadata"]["name"] for p in others}


def test_service_balances_over_every_ready_replica(client: Client, namespace: str) -> None:
    client.create("deployments", deployment("lb", 3), namespace)
    client.create("services", service("lb"), namespace)
    pods = ready_pods(client, namespace, "lb", 3)
    ready_endpoints(client, namespace, "lb", 3)
    names = {p["metadata"]["name"] for p in pods}
    client_pod = sorted(names)[0]
    wait_serving(client, namespace, client_pod, pods)
    # The Endpoints are complete; each node's proxy applies them from its own watch.
    wait_for(lambda: "pod" in fetch(client, namespace, client_pod, ["http://lb/"])[0], 30,
             "a first answer through the service", 0.5)
    answers = fetch(client, namespace, client_pod, ["http://lb/"], count=60)
    failed = [a["error"] for a in answers if "error" in a]
    assert not failed, f"{len(failed)}/60 failed: {sorted(set(failed))}"
    seen = [a.get("pod") for a in answers]
    assert set(seen) == names, seen
    # Take one replica out of the Service (its label no longer matches): it keeps running,
    # and the proxies on every node stop sending it anything.
    victim = next(p for p in pods if p["metadata"]["name"] != client_pod)
    victim_name = victim["metadata"]["name"]
    client.patch("pods", victim_name, {"metadata": {"labels": {"app": "lb-out"}}}, namespace)
    wait_for(lambda: victim["status"]["podIP"] not in ready_endpoints(
        client, namespace, "lb", 3, timeout=60), 60, "the victim out of the Endpoints", 0.5)
    deadline = time.monotonic() + 10  # the proxies apply the change from their watches
    while True:
        answers = fetch(client, namespace, client_pod, ["http://lb/"], count=60)
        hit = [a for a in answers if a.get("pod") == victim_name]
        if not hit or time.monotonic() > deadline:
            break
    assert not hit, f"{len(hit)}/60 requests still reached {victim_name}"
    assert not [a for a in answers if "error" in a]


def test_nodeport_answers_on_every_node(cluster: SchoonerCluster, client: Client,
                                        namespace: str) -> None:
    client.create("deployments", deployment("np", 2), namespace)
    svc = client.create("services", service("np", type_="NodePort"), namespace)
    node_port = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    ready_pods(client, namespace, "np", 2)
    ready_endpoints(client, namespace, "np", 2)
    for node in cluster.config.node_names():
        url = f"http://{cluster.node_ip(node)}:{node_port}/"
        body = wait_for(lambda u=url: httpx.get(u, timeout=3).json(), 30, f"GET {url}", 0.5)
        assert body["pod"].startswith("np-")


def test_a_service_without_endpoints_refuses_at_once(cluster: SchoonerCluster,
                                                     client: Client, namespace: str) -> None:
    client.create("deployments", deployment("probe", 1), namespace)
    svc = client.create("services", service("nobody", selector={"app": "nobody"},
                                             type_="NodePort"), namespace)
    pod = ready_pods(client, namespace, "probe", 1)[0]["metadata"]["name"]
    wait_serving(client, namespace, pod, [client.get("pods", pod, namespace)])
    eps = wait_for(lambda: client.get("endpoints", "nobody", namespace), 30, "endpoints")
    assert not eps.get("subsets")
    answers = fetch(client, namespace, pod, [f"http://{svc['spec']['clusterIP']}/"])
    assert "ConnectionRefused" in answers[0]["error"] or "refused" in answers[0]["error"]
    assert answers[0]["seconds"] < 1.0, answers
    # From the host, the NodePort of a node refuses at once too.
    node_ip = cluster.node_ip("node1")
    started = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((node_ip, svc["spec"]["ports"][0]["nodePort"]), timeout=3)
    assert time.monotonic() - started < 1.0


def test_a_cluster_ip_outside_the_range_is_refused(client: Client, namespace: str) -> None:
    bad = service("bad")
    bad["spec"]["clusterIP"] = "10.0.0.10"
    with pytest.raises(errors.Invalid) as info:
        client.create("services", bad, namespace)
    assert info.value.code == 422 and "spec.clusterIP" in info.value.message


# Run inside a pod: GET /version of each URL over TLS, checking the apiserver's certificate
# against the cluster CA (mounted at /ca) and the URL's host name, as a pod's client does.
TLS_FETCH = """
import json, ssl, sys, urllib.request
context = ssl.create_default_context(cafile="/ca/ca.crt")
for url in sys.argv[1:]:
    try:
        with urllib.request.urlopen(url, context=context, timeout=5) as r:
            out = {"gitVersion": json.loads(r.read()).get("gitVersion")}
    except Exception as e:
        out = {"error": f"{type(e).__name__}: {e}"}
    out["url"] = url
    print(json.dumps(out))
"""


def test_pods_reach_the_apiservers_through_the_kubernetes_service(
        cluster: SchoonerCluster, client: Client, namespace: str) -> None:
    """default/kubernetes: its Endpoints and EndpointSlice name every apiserver's fixed
    address (lease reconciler); from each of 3 pods (spread over the nodes), `https://kubernetes.default.svc`
    (cluster DNS) and the ClusterIP answer /version with a
    certificate the cluster CA and the host name verify; the host reaches each apiserver
    at its advertised address."""
    config = cluster.config
    apiservers = sorted(config.apiserver_ip(i) for i in range(config.apiservers))

    def addresses() -> tuple[list[str], list[str]]:
        ep = client.get("endpoints", "kubernetes", "default")
        sl = client.get("endpointslices", "kubernetes", "default")
        return (sorted(a["ip"] for s in ep.get("subsets") or [] for a in s["addresses"]),
                sorted(a for e in sl.get("endpoints") or [] for a in e["addresses"]))
    wait_for(lambda: addresses() == (apiservers, apiservers), 30,
             f"default/kubernetes endpoints == {apiservers}", 0.5)
    cluster_ip = client.get("services", "kubernetes", "default")["spec"]["clusterIP"]
    assert cluster_ip == str(ipaddress.IPv4Network(config.service_cidr).network_address + 1)

    client.create("configmaps", {"metadata": {"name": "lab-ca"},
                                 "data": {"ca.crt": cluster.files.ca_cert.read_text()}},
                  namespace)
    app = deployment("incluster", 3)
    pod_spec = app["spec"]["template"]["spec"]
    pod_spec["volumes"] = [{"name": "ca", "configMap": {"name": "lab-ca"}}]
    pod_spec["containers"][0]["volumeMounts"] = [{"name": "ca", "mountPath": "/ca"}]
    client.create("deployments", app, namespace)
    pods = ready_pods(client, namespace, "incluster", 3)
    urls = ["https://kubernetes.default.svc/version",
            "https://kubernetes.default.svc.cluster.local/version",
            f"https://{cluster_ip}/version"]
    for pod in pods:
        name = pod["metadata"]["name"]
        code, out = pod_exec(client, namespace, name, ["python3", "-c", TLS_FETCH, *urls])
        answers = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert code == 0 and len(answers) == len(urls), out
        failed = [a for a in answers if "error" in a or not a.get("gitVersion")]
        assert not failed, f"from {name} on {pod['spec']['nodeName']}: {failed}"
    # Each apiserver serves its advertised address, with a certificate that names it (a
    # pod reaches it only through the Service: apiserver containers have no route back to
    # the pod CIDRs, so the host checks it).
    context = ssl.create_default_context(cafile=str(cluster.files.ca_cert))
    for ip in apiservers:
        answer = httpx.get(f"https://{ip}:6443/version", verify=context, timeout=5)
        assert answer.status_code == 200 and answer.json()["gitVersion"], answer.text
