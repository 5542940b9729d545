"""Adding a user as the README says: `schooner certs create`, a RoleBinding, and the user's
kubeconfig with kubectl v1.32 and with schooner's own CLI — exactly the rights RBAC gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compat.conftest import KUBECTL, Cluster, Kubectl, Result

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]


def _schooner(*args: str, env: dict[str, str]) -> Result:
    """The `schooner` CLI of this tree, as a separate process."""
    proc = subprocess.run([sys.executable, "-c", "from cli.main import main; main()", *args],
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                               "PYTHONPATH": str(ROOT), **env})
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _kubectl_as(kubeconfig: Path, home: Path, *args: str) -> Result:
    proc = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), *args],
                          capture_output=True, text=True, timeout=60,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.compat("schooner certs create", "kubectl with a user's certificate kubeconfig")
def test_a_user_bound_to_view_in_one_namespace(cluster: Cluster, kubectl: Kubectl,
                                               namespace: str, tmp_path: Path) -> None:
    admin = {"SCHOONER_HOME": str(cluster.kubeconfig.parent), "HOME": str(tmp_path),
             "KUBECONFIG": str(cluster.kubeconfig)}
    issued = _schooner("certs", "create", "alice", "--group", "dev", "--out-dir",
                       str(tmp_path / "alice"), "--kubeconfig-out", str(tmp_path / "alice.kc"),
                       "-n", namespace, env=admin)
    assert issued.code == 0, issued.out
    kubectl("create", "rolebinding", "alice-view", "--clusterrole", "view", "--user", "alice")
    alice = tmp_path / "alice.kc"

    who = _kubectl_as(alice, tmp_path, "auth", "whoami", "-o",
                      "jsonpath={.status.userInfo.username}|{.status.userInfo.groups}")
    assert (who.code, who.stdout) == (0, 'alice|["dev","system:authenticated"]'), who.out
    reads = _kubectl_as(alice, tmp_path, "get", "pods,configmaps")  # the context's namespace
    assert reads.code == 0, reads.out
    elsewhere = _kubectl_as(alice, tmp_path, "get", "pods", "-n", "default")
    assert elsewhere.code == 1 and 'User "alice" cannot list resource "pods" in API group "" ' \
        'in the namespace "default"' in elsewhere.stderr
    write = _kubectl_as(alice, tmp_path, "create", "configmap", "x", "--from-literal=a=b")
    assert write.code == 1 and 'User "alice" cannot create resource "configmaps"' \
        in write.stderr

    as_alice = {"HOME": str(tmp_path), "KUBECONFIG": str(alice)}
    assert _schooner("get", "pods", env=as_alice).code == 0
    denied = _schooner("get", "pods", "-n", "default", env=as_alice)
    assert denied.code == 1 and denied.stderr.count("\n") == 1 and "Traceback" not in denied.out
    assert 'User "alice" cannot list resource "pods"' in denied.stderr
    assert _schooner("auth", "can-i", "create", "configmaps", env=as_alice).stdout == "no\n"
