"""A minimal valid object of every kind, for tests that go over them all."""

from __future__ import annotations

import base64
import functools
from typing import Any

from apimachinery import csr


def pod(name: str, labels: dict[str, str] | None = None, image: str = "busybox") -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name,
                         "labels": {"app": "web"} if labels is None else labels},
            "spec": {"containers": [{"name": "main", "image": image}]}}


def deployment(name: str, replicas: int = 2) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1",
                                                           "ports": [{"containerPort": 80}]}]}}}}


@functools.cache
def _node_request() -> str:
    return base64.b64encode(csr.node_client_request(csr.new_key(), "sample")).decode()


def certificate_signing_request(name: str) -> dict[str, Any]:
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": name},
            "spec": {"request": _node_request(), "signerName": csr.KUBE_APISERVER_CLIENT_KUBELET,
                     "usages": list(csr.CLIENT_USAGES)}}


def every_kind(name: str, namespace: str = "default") -> list[tuple[str, dict[str, Any]]]:
    """(plural, manifest) for each kind the apiserver serves."""
    template = deployment(name)["spec"]
    return [
        ("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        ("nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}),
        ("pods", pod(name)),
        ("services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                      "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
        ("endpoints", {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name},
                       "subsets": []}),
        ("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                        "data": {"k": "v"}}),
        ("secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                     "data": {"password": "aHVudGVyMg=="}}),
        ("events", {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name},
                    "involvedObject": {"kind": "Pod", "name": "x", "namespace": namespace},
                    "reason": "Test", "message": "hello", "type": "Normal"}),
        ("deployments", deployment(name)),
        ("replicasets", {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                         "metadata": {"name": name}, "spec": template}),
        ("statefulsets", {"apiVersion": "apps/v1", "kind": "StatefulSet",
                          "metadata": {"name": name},
                          "spec": {**template, "serviceName": name}}),
        ("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                             "metadata": {"name": name}}),
        ("leases", {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name},
                    "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}),
        ("certificatesigningrequests", certificate_signing_request(name)),
    ]
