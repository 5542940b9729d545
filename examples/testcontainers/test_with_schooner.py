"""An integration test of your own against a throwaway three-node Schooner cluster.

Run it from the repository root after `make image-node`:

    .venv/bin/python -m pytest examples/testcontainers -q

`SchoonerCluster` starts the containers `make lab` runs (etcd, apiserver,
scheduler, controller-manager, a registry and Docker-in-Docker nodes) on a network
and ports of its own, pushes the locally built example images into its registry,
and removes everything when the `with` block ends. `cluster.kubeconfig` works with
`schooner --kubeconfig` and `kubectl --kubeconfig` too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from apimachinery.client import Client
from lab.testing import SchoonerCluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[SchoonerCluster]:
    with SchoonerCluster(nodes=3) as lab:
        yield lab


def test_my_app_answers_on_every_node(cluster: SchoonerCluster) -> None:
    client: Client = cluster.client()
    labels = {"app": "hello"}
    client.create("deployments", {
        "metadata": {"name": "hello"},
        "spec": {"replicas": 3, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "web", "image": "schooner/web-example:1",
                                     "ports": [{"name": "http", "containerPort": 8080}]}]}}}},
        "default")
    svc = client.create("services", {
        "metadata": {"name": "hello"},
        "spec": {"type": "NodePort", "selector": labels,
                 "ports": [{"port": 80, "targetPort": "http"}]}}, "default")
    node_port = svc["spec"]["ports"][0]["nodePort"]

    deadline = time.monotonic() + 180
    for node in cluster.config.node_names():
        url = f"http://{cluster.node_ip(node)}:{node_port}/"
        while True:
            try:
                assert httpx.get(url, timeout=3).json()["pod"].startswith("hello-")
                break
            except (httpx.HTTPError, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
