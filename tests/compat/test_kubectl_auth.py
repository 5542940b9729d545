"""kubectl's identity commands against Schooner: `auth whoami` with a client certificate
signed by the cluster's CA and with the admin's static token."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from apimachinery.kubeconfig import load_kubeconfig, write_kubeconfig
from apimachinery.usercert import make_client_cert
from cli.cluster.processes import wait_for
from tests.compat.conftest import KUBECTL, Cluster, Kubectl

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def _cert_kubeconfig(cluster: Cluster, path: Path, user: str, groups: list[str]) -> Path:
    """A kubeconfig whose user is a client certificate from the cluster CA (as kubeadm's)."""
    pki = cluster.kubeconfig.parent / "pki"
    cert, key = make_client_cert((pki / "ca.crt").read_bytes(), (pki / "ca.key").read_bytes(),
                                 user, groups)
    admin = load_kubeconfig(str(cluster.kubeconfig))
    write_kubeconfig(str(path), admin.server, admin.ca_data or b"", None, user=user,
                     client_cert=cert, client_key=key)
    return path


@pytest.mark.compat("kubectl auth whoami")
def test_whoami_with_a_client_certificate(cluster: Cluster, tmp_path: Path) -> None:
    kubeconfig = _cert_kubeconfig(cluster, tmp_path / "alice", "alice", ["dev", "qa"])
    proc = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "auth", "whoami",
                           "-o", "jsonpath={.status.userInfo.username}|"
                           "{.status.userInfo.groups}"],
                          capture_output=True, text=True, timeout=60,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == 'alice|["dev","qa","system:authenticated"]'


@pytest.mark.compat("kubectl auth whoami")
def test_whoami_with_the_admin_token(kubectl: Kubectl) -> None:
    table = kubectl("auth", "whoami", namespaced=False).stdout.split()
    assert table[:2] == ["ATTRIBUTE", "VALUE"]
    assert "admin" in table and "system:masters" in " ".join(table)


@pytest.mark.compat("kubectl auth whoami")
def test_each_component_calls_as_itself(cluster: Cluster, tmp_path: Path) -> None:
    """`schooner up` gave each component a certificate kubeconfig; the node is Ready, so
    the agent's works, and the apiserver takes each for its own identity."""
    seen = {}
    for component in ("scheduler", "controller-manager", "agent"):
        kubeconfig = cluster.kubeconfig.parent / "kubeconfigs" / f"{component}.kubeconfig"
        proc = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "auth", "whoami",
                               "-o", "jsonpath={.status.userInfo.username}"],
                              capture_output=True, text=True, timeout=60,
                              env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert proc.returncode == 0, proc.stderr
        seen[component] = proc.stdout
    assert seen == {"scheduler": "system:kube-scheduler",
                    "controller-manager": "system:kube-controller-manager",
                    "agent": f"system:node:{cluster.node}"}


@pytest.mark.compat("kubectl create serviceaccount", "kubectl create token")
def test_create_token_and_whoami_as_the_service_account(cluster: Cluster, kubectl: Kubectl,
                                                        namespace: str,
                                                        tmp_path: Path) -> None:
    assert kubectl("create", "serviceaccount", "ci").stdout.strip() == \
        "serviceaccount/ci created"
    token = kubectl("create", "token", "ci", "--duration", "10m").stdout.strip()
    short = kubectl("create", "token", "ci", "--duration", "5m", ok=False)
    assert short.code != 0 and "less than 10 minutes" in short.out
    admin = load_kubeconfig(str(cluster.kubeconfig))
    path = tmp_path / "ci"
    write_kubeconfig(str(path), admin.server, admin.ca_data or b"", token, user="ci")
    proc = subprocess.run([str(KUBECTL), "--kubeconfig", str(path), "auth", "whoami",
                           "-o", "jsonpath={.status.userInfo.username}|"
                           "{.status.userInfo.groups}"],
                          capture_output=True, text=True, timeout=60,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (f"system:serviceaccount:{namespace}:ci|"
                           f'["system:serviceaccounts","system:serviceaccounts:{namespace}",'
                           '"system:authenticated"]')
    kubectl("delete", "serviceaccount", "ci")
    gone = subprocess.run([str(KUBECTL), "--kubeconfig", str(path), "auth", "whoami"],
                          capture_output=True, text=True, timeout=60,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert gone.returncode != 0 and "Unauthorized" in gone.stderr


@pytest.mark.compat("kubectl create serviceaccount")
def test_the_controller_gives_each_namespace_a_default_account(kubectl: Kubectl) -> None:
    wait_for(lambda: kubectl("get", "serviceaccount", "default", ok=False).code == 0, 15,
             "the default ServiceAccount")
    assert kubectl("get", "sa", "-o", "name").stdout.split() == ["serviceaccount/default"]
