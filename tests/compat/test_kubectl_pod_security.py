"""kubectl and Pod Security admission: the refusal and the warning as kubectl prints them.

A namespace without labels is `baseline` in Schooner; kubectl shows the 403 for a pod
with a hostPath volume and prints the `Warning` header a Deployment with one gets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.conftest import Cluster, Kubectl

pytestmark = [pytest.mark.integration]

POD = """apiVersion: v1
kind: Pod
metadata: {name: x}
spec:
  containers: [{name: c, image: busybox}]
  volumes: [{name: root, hostPath: {path: /}}]
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers: [{name: c, image: busybox}]
      volumes: [{name: sock, hostPath: {path: /var/run/docker.sock}}]
"""


@pytest.mark.compat("kubectl and PodSecurity")
def test_kubectl_prints_the_refusal_and_the_warning(kubectl: Kubectl, cluster: Cluster,
                                                    namespace: str, tmp_path: Path) -> None:
    pod, deployment = tmp_path / "pod.yaml", tmp_path / "deployment.yaml"
    pod.write_text(POD)
    deployment.write_text(DEPLOYMENT)
    refused = kubectl("create", "-f", str(pod), ok=False)
    assert refused.code == 1
    assert refused.stderr == (
        f'Error from server (Forbidden): error when creating "{pod}": pods "x" is '
        'forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "root")\n')
    warned = kubectl("apply", "-f", str(deployment))
    assert warned.stdout == "deployment.apps/d created\n"
    assert warned.stderr == ('Warning: would violate PodSecurity "baseline:latest": '
                             'hostPath volumes (volume "sock")\n')
    assert cluster.client.get("deployments", "d", namespace)["spec"]["template"]["spec"][
        "volumes"][0]["hostPath"]["path"] == "/var/run/docker.sock"
