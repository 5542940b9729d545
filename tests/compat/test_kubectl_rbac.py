"""The real kubectl against RBAC: the `create role`/`rolebinding`/`clusterrole` generators
(protobuf bodies), `auth can-i` and `auth can-i --list` (access reviews), `get clusterroles`,
and the 403 kubectl prints. An apiserver of this module's own with
`--authorization-mode=RBAC`; `admin` is in system:masters, `alice` in no group but the
authenticated."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.pki import TokenEntry, new_token
from cli.cluster.processes import Apiserver, Etcd
from tests.compat.conftest import KUBECTL, Result

pytestmark = [pytest.mark.integration]

ALICE = new_token()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """An apiserver on an etcd of its own: one on the session's would make the
    `default/kubernetes` Service its own (its port) under the session apiserver's tests."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    etcd = Etcd(tmp_path_factory.mktemp("kubectl-rbac-etcd")).start()
    apiserver = Apiserver(tmp_path_factory.mktemp("kubectl-rbac"), etcd.url,
                          extra_args=["--authorization-mode", "RBAC"],
                          users=[TokenEntry(ALICE, "alice", "alice", ())]).start()
    yield apiserver
    apiserver.stop()
    etcd.stop()


class Kubectl:
    """kubectl as `admin` or `alice`, with a HOME of its own (no discovery cache kept)."""

    def __init__(self, server: Apiserver, tmp: Path, namespace: str) -> None:
        self.home, self.namespace = tmp / "home", namespace
        self.home.mkdir()
        self.configs = {}
        for user, token in (("admin", server.token), ("alice", ALICE)):
            path = tmp / f"{user}.kubeconfig"
            write_kubeconfig(str(path), server.url, server.ca_pem, token, user=user,
                             namespace=namespace)
            self.configs[user] = path

    def __call__(self, *args: str, user: str = "admin", ok: bool = True) -> Result:
        proc = subprocess.run([str(KUBECTL), "--kubeconfig", str(self.configs[user]), *args],
                              capture_output=True, text=True, timeout=60,
                              env={"HOME": str(self.home), "PATH": "/usr/bin:/bin"})
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if ok:
            assert result.code == 0, f"kubectl {' '.join(args)}: {result.out}"
        return result


@pytest.fixture
def kubectl(server: Apiserver, tmp_path: Path) -> Iterator[Kubectl]:
    namespace = f"c-auth-{uuid.uuid4().hex[:6]}"
    run = Kubectl(server, tmp_path, namespace)
    run("create", "namespace", namespace)
    yield run
    run("delete", "namespace", namespace, "--wait=false")


@pytest.mark.compat("kubectl create role", "kubectl create rolebinding",
                    "kubectl auth can-i")
def test_create_role_and_binding_then_can_i(kubectl: Kubectl) -> None:
    assert kubectl("auth", "can-i", "list", "pods", user="alice", ok=False).out == "no\n"
    assert kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods,pods/log",
                   ).stdout == "role.rbac.authorization.k8s.io/reader created\n"
    assert kubectl("create", "rolebinding", "alice-reads", "--role=reader", "--user=alice",
                   ).stdout == "rolebinding.rbac.authorization.k8s.io/alice-reads created\n"
    assert kubectl("auth", "can-i", "list", "pods", user="alice").out == "yes\n"
    assert kubectl("auth", "can-i", "get", "pods", "--subresource=log",
                   user="alice").out == "yes\n"
    assert kubectl("auth", "can-i", "delete", "pods", user="alice", ok=False).out == "no\n"
    assert kubectl("auth", "can-i", "list", "pods", "-n", "default",
                   user="alice", ok=False).out == "no\n"
    assert kubectl("get", "pods", user="alice").code == 0
    refused = kubectl("get", "pods", "-n", "default", user="alice", ok=False)
    assert refused.code == 1
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource '
        '"pods" in API group "" in the namespace "default"')
    # system:masters may do anything (kubectl warns that nodes are cluster-scoped)
    assert kubectl("auth", "can-i", "delete", "nodes").stdout == "yes\n"


@pytest.mark.compat("kubectl auth can-i --list")
def test_can_i_list(kubectl: Kubectl) -> None:
    kubectl("create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice")
    listed = kubectl("auth", "can-i", "--list", user="alice").stdout
    lines = listed.splitlines()
    assert lines[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names",
                                "Verbs"]
    rows = {line.split()[0]: line for line in lines[1:] if not line.startswith(" ")}
    assert "[get list watch]" in rows["pods"]
    assert "[create]" in rows["selfsubjectaccessreviews.authorization.k8s.io"]
    assert any(line.split() == ["[/api/*]", "[]", "[get]"] for line in lines[1:])


@pytest.mark.compat("kubectl create clusterrole", "kubectl get clusterroles")
def test_create_and_get_clusterroles(kubectl: Kubectl) -> None:
    name = f"c-role-{uuid.uuid4().hex[:6]}"
    try:
        assert kubectl("create", "clusterrole", name, "--verb=get", "--resource=nodes",
                       "--resource-name=n1").stdout == \
            f"clusterrole.rbac.authorization.k8s.io/{name} created\n"
        got = kubectl("get", "clusterroles").stdout.splitlines()
        assert got[0].split() == ["NAME", "CREATED", "AT"]
        names = {line.split()[0] for line in got[1:]}
        assert {name, "cluster-admin", "admin", "edit", "view", "system:node"} <= names
        rule = kubectl("get", "clusterrole", name, "-o",
                       "jsonpath={.rules[0].resourceNames}").stdout
        assert rule == '["n1"]'
    finally:
        kubectl("delete", "clusterrole", name, ok=False)


@pytest.mark.compat("kubectl create clusterrolebinding")
def test_create_clusterrolebinding(kubectl: Kubectl) -> None:
    name = f"c-crb-{uuid.uuid4().hex[:6]}"
    assert kubectl("auth", "can-i", "list", "pods", "-A", user="alice", ok=False).out == "no\n"
    try:
        assert kubectl("create", "clusterrolebinding", name, "--clusterrole=view",
                       "--user=alice").stdout == \
            f"clusterrolebinding.rbac.authorization.k8s.io/{name} created\n"
        assert kubectl("auth", "can-i", "list", "pods", "-A", user="alice").out == "yes\n"
        assert kubectl("get", "pods", "-A", user="alice").code == 0
        assert kubectl("auth", "can-i", "create", "pods", user="alice", ok=False).out == "no\n"
    finally:
        kubectl("delete", "clusterrolebinding", name, ok=False)
