"""The Flask + PostgreSQL example across hosts: rows from PostgreSQL, and a database pod
that comes back on its node with its data."""

from __future__ import annotations

import copy
from pathlib import Path

import httpx

from apimachinery.client import Client
from cli.cluster.processes import wait_for
from cli.manifests import load_manifests
from lab.testing import SchoonerCluster
from tests.lab.conftest import pod_exec, ready_pods

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flask-postgres"
NODE_PORT = 30080


def apply_example(client: Client, namespace: str) -> None:
    for manifest in load_manifests([str(EXAMPLE)]):
        obj = copy.deepcopy(manifest.obj)
        obj["metadata"].pop("namespace", None)
        client.create(manifest.resource, obj, namespace)


def ships(url: str) -> dict:
    resp = httpx.get(url, timeout=5)
    return resp.json() if resp.status_code == 200 else {}


def test_flask_postgres_reads_rows_and_survives_its_database_pod(
        cluster: SchoonerCluster, client: Client, namespace: str) -> None:
    apply_example(client, namespace)
    ready_pods(client, namespace, "postgres", 1, timeout=240)
    pods = ready_pods(client, namespace, "web", 3, timeout=240)
    web_names = {p["metadata"]["name"] for p in pods}
    for node in cluster.config.node_names():
        url = f"http://{cluster.node_ip(node)}:{NODE_PORT}/"
        body = wait_for(lambda u=url: ships(u).get("ships") and ships(u), 60, f"rows at {url}", 1)
        assert body["pod"] in web_names and body["node"] in cluster.config.node_names()
        assert body["database"].startswith("postgres:5432/")

    # Each pod got its ServiceAccount's projected files from its own node's agent (a
    # TokenRequest as that node) and the controller-manager's kube-root-ca.crt.
    sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount"
    code, out = pod_exec(client, namespace, "postgres-0", [
        "sh", "-c", f"cat {sa_dir}/namespace; echo; head -c 3 {sa_dir}/token; echo; "
        f"head -1 {sa_dir}/ca.crt"])
    assert code == 0 and out.split() == [namespace, "eyJ", "-----BEGIN", "CERTIFICATE-----"], out

    # A row only PostgreSQL knows, written straight into the database.
    db = client.get("pods", "postgres-0", namespace)
    code, out = pod_exec(client, namespace, "postgres-0", [
        "sh", "-c", "PGPASSWORD=$POSTGRES_PASSWORD psql -h 127.0.0.1 -U $POSTGRES_USER "
        "-d $POSTGRES_DB -c \"INSERT INTO ships (id, name, built) VALUES (999, 'marker', 2026)\""])
    assert code == 0, out

    client.delete("pods", "postgres-0", namespace)

    def replaced() -> dict | None:
        pod = client.get("pods", "postgres-0", namespace)
        ready = any(c["type"] == "Ready" and c["status"] == "True"
                    for c in pod.get("status", {}).get("conditions", []))
        return pod if ready and pod["metadata"]["uid"] != db["metadata"]["uid"] else None
    new_db = wait_for(replaced, 180, "a new postgres-0 Ready", 1)
    assert new_db["spec"]["nodeName"] == db["spec"]["nodeName"]
    url = f"http://{cluster.node_ip('node1')}:{NODE_PORT}/"
    wait_for(lambda: any(s["name"] == "marker" for s in ships(url).get("ships", [])),
             90, "the marker row through the app", 1)
