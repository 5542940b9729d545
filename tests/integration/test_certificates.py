"""CertificateSigningRequests on a real apiserver (RBAC), etcd and controller-manager: who
asked is the apiserver's to say, the spec never changes, approving and signing need their
verbs on the signer, a bad request is a 422 naming the field; csrapproving approves a
joining node's client request and a node's own serving request, csrsigning signs them
with the cluster CA."""

from __future__ import annotations

import base64
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from apimachinery import csr
from apimachinery.pki import TokenEntry, make_cert, new_token
from cli.cluster.processes import Apiserver, Etcd, Process, wait_for
from tests.integration.signing_manager import signing_manager

pytestmark = pytest.mark.integration

CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
ALICE, MANAGER, JOINER, NODE1 = new_token(), new_token(), new_token(), new_token()
# The signer the controllers leave alone, for the tests that approve and sign by hand.
MANUAL = "example.com/manual"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """An apiserver on an etcd of its own (see test_rbac.py for why)."""
    etcd = Etcd(tmp_path_factory.mktemp("csr-etcd")).start()
    apiserver = Apiserver(tmp_path_factory.mktemp("csr"), etcd.url,
                          extra_args=["--authorization-mode", "Node,RBAC"],
                          users=[TokenEntry(ALICE, "alice", "alice-uid", ("devs",)),
                                 TokenEntry(MANAGER, "system:kube-controller-manager", "kcm",
                                            ()),
                                 TokenEntry(JOINER, "system:bootstrap:joiner", "", (
                                     "system:bootstrappers",
                                     "system:bootstrappers:kubeadm:default-node-token")),
                                 TokenEntry(NODE1, "system:node:n1", "", ("system:nodes",))]
                          ).start()
    yield apiserver
    apiserver.stop()
    etcd.stop()


@pytest.fixture(scope="module")
def manager(server: Apiserver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """csrapproving and csrsigning, signing with the apiserver's CA."""
    with signing_manager(server, MANAGER, tmp_path_factory.mktemp("csr-kcm"),
                         "csrapproving,csrsigning", "--cluster-signing-duration", "2h") as kcm:
        yield kcm


def request_body(name: str, node: str = "n1", signer: str = MANUAL,
                 usages: tuple[str, ...] = csr.CLIENT_USAGES, pem: bytes | None = None,
                 **spec: object) -> dict[str, object]:
    pem = pem or csr.node_client_request(csr.new_key(), node)
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": name},
            "spec": {"request": base64.b64encode(pem).decode(), "signerName": signer,
                     "usages": list(usages), **spec}}


def _name() -> str:
    return f"csr-{uuid.uuid4().hex[:8]}"


def _approve(http: httpx.Client, name: str) -> httpx.Response:
    obj = http.get(f"{CSRS}/{name}").json()
    obj.setdefault("status", {})["conditions"] = [
        {"type": "Approved", "status": "True", "reason": "Test", "message": "ok"}]
    return http.put(f"{CSRS}/{name}/approval", json=obj)


def _let_alice_request_certificates(server: Apiserver, name: str) -> None:
    """Bind alice to `system:node-bootstrapper`: she may create CSRs, no more."""
    with server.http() as admin:
        admin.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json={
            "metadata": {"name": f"alice-bootstrap-{name}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "system:node-bootstrapper"},
            "subjects": [{"kind": "User", "name": "alice"}]}).raise_for_status()


def test_requester_comes_from_authentication_not_the_body(server: Apiserver) -> None:
    name = _name()
    _let_alice_request_certificates(server, name)
    with server.http(ALICE) as alice:
        made = alice.post(CSRS, json=request_body(name, username="system:admin",
                                                  groups=["system:masters"]))
        assert made.status_code == 201, made.text
        spec = made.json()["spec"]
        assert spec["username"] == "alice" and spec["uid"] == "alice-uid"
        assert spec["groups"] == ["devs", "system:authenticated"]
        # alice may create and read, but approving needs `approve` on the signer
        refused = _approve(alice, name)
        assert refused.status_code == 403, refused.text


def test_approve_then_sign_through_the_subresources(server: Apiserver) -> None:
    name = _name()
    with server.http() as admin:
        assert admin.post(CSRS, json=request_body(name)).status_code == 201
        early = admin.get(f"{CSRS}/{name}").json()
        early["status"] = {"certificate": base64.b64encode(b"x").decode()}
        unapproved = admin.put(f"{CSRS}/{name}/status", json=early)
        assert unapproved.status_code == 422
        assert "status.certificate" in unapproved.json()["message"]
        approved = _approve(admin, name)
        assert approved.status_code == 200, approved.text
        condition = approved.json()["status"]["conditions"][0]
        assert condition["type"] == "Approved" and condition["lastUpdateTime"]
        # the status subresource cannot take the decision back
        obj = approved.json()
        obj["status"]["conditions"] = []
        kept = admin.put(f"{CSRS}/{name}/status", json=obj).json()
        assert [c["type"] for c in kept["status"]["conditions"]] == ["Approved"]
        cert, _ = make_cert(server.ca_pem, server.ca_key_pem, common_name="system:node:n1",
                            client=True)
        kept["status"]["certificate"] = base64.b64encode(cert).decode()
        signed = admin.put(f"{CSRS}/{name}/status", json=kept)
        assert signed.status_code == 200, signed.text
        again = signed.json()
        again["status"]["certificate"] = base64.b64encode(cert + cert).decode()
        changed = admin.put(f"{CSRS}/{name}/status", json=again)
        assert changed.status_code == 422
        assert "updates may not modify existing certificate content" in changed.text
        # a plain update keeps the spec
        plain = admin.get(f"{CSRS}/{name}").json()
        plain["spec"]["signerName"] = "example.com/other"
        assert admin.put(f"{CSRS}/{name}", json=plain).json()["spec"]["signerName"] == MANUAL


@pytest.mark.parametrize(("change", "field"), [
    ({"signerName": ""}, "spec.signerName"),
    ({"signerName": "nodomain"}, "spec.signerName"),
    ({"usages": ["client auth", "flying"]}, "spec.usages[1]"),
    ({"usages": []}, "spec.usages"),
    ({"request": base64.b64encode(b"not a request").decode()}, "spec.request"),
    ({"expirationSeconds": 60}, "spec.expirationSeconds"),
])
def test_bad_requests_are_422_naming_the_field(server: Apiserver, change: dict[str, object],
                                               field: str) -> None:
    body = request_body(_name())
    body["spec"].update(change)  # type: ignore[attr-defined]
    with server.http() as admin:
        answer = admin.post(CSRS, json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["message"]


def test_kube_apiserver_client_may_not_ask_for_system_masters(server: Apiserver) -> None:
    pem = csr.make_request(csr.new_key(), "mallory", ("system:masters",))
    body = request_body(_name(), signer=csr.KUBE_APISERVER_CLIENT)
    body["spec"]["request"] = base64.b64encode(pem).decode()  # type: ignore[index]
    with server.http() as admin:
        answer = admin.post(CSRS, json=body)
    assert answer.status_code == 403
    assert "system:masters" in answer.json()["message"]


@pytest.mark.compat("kubectl get csr", "kubectl certificate approve, deny")
def test_kubectl_get_and_approve(server: Apiserver, tmp_path: Path) -> None:
    name = _name()
    with server.http() as admin:
        assert admin.post(CSRS, json=request_body(name)).status_code == 201
    kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")
    kubectl = ["kubectl", "--kubeconfig", str(kubeconfig)]
    listed = subprocess.run([*kubectl, "get", "csr", name], capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "Pending" in listed.stdout and MANUAL in listed.stdout
    approved = subprocess.run([*kubectl, "certificate", "approve", name], capture_output=True,
                              text=True, timeout=60)
    assert approved.returncode == 0, approved.stderr
    assert f"certificatesigningrequest.certificates.k8s.io/{name} approved" in approved.stdout
    shown = subprocess.run([*kubectl, "get", "csr", name], capture_output=True, text=True,
                           timeout=60)
    assert "Approved" in shown.stdout
    refused = _name()
    with server.http() as admin:
        assert admin.post(CSRS, json=request_body(refused)).status_code == 201
    denied = subprocess.run([*kubectl, "certificate", "deny", refused], capture_output=True,
                            text=True, timeout=60)
    assert denied.returncode == 0, denied.stderr
    with server.http() as admin:
        conditions = admin.get(f"{CSRS}/{refused}").json()["status"]["conditions"]
    assert [c["type"] for c in conditions] == ["Denied"]


def test_an_unknown_token_may_not_create(server: Apiserver) -> None:
    with server.http("not-a-token") as nobody:
        assert nobody.post(CSRS, json=request_body(_name())).status_code == 401


def _wait_signed(http: httpx.Client, name: str) -> dict[str, object]:
    seen: dict[str, object] = {}

    def signed() -> bool:
        seen.update(http.get(f"{CSRS}/{name}").json())
        return bool((seen.get("status") or {}).get("certificate"))  # type: ignore[attr-defined]
    wait_for(signed, 20, f"CSR {name} signed (last seen: {seen})")
    return seen


def test_a_joining_node_client_request_is_approved_and_signed(
        server: Apiserver, manager: Process) -> None:
    name = _name()
    body = request_body(name, node="joined", signer=csr.KUBE_APISERVER_CLIENT_KUBELET,
                        expirationSeconds=3600)
    with server.http(JOINER) as joiner:
        assert joiner.post(CSRS, json=body).status_code == 201
        done = _wait_signed(joiner, name)
    status = done["status"]
    assert isinstance(status, dict)
    assert [(c["type"], c["reason"]) for c in status["conditions"]] == [
        ("Approved", "AutoApproved")]
    cert = x509.load_pem_x509_certificate(base64.b64decode(status["certificate"]))
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(server.ca_pem))
    assert cert.subject.rfc4514_string() == "CN=system:node:joined,O=system:nodes"
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert 3600 <= lifetime.total_seconds() <= 3600 + 301  # asked 1h (cap 2h), backdated 5m


def test_a_user_without_the_nodeclient_right_is_left_pending(
        server: Apiserver, manager: Process) -> None:
    """alice may create CSRs (a binding above) but holds no nodeclient right."""
    name = _name()
    _let_alice_request_certificates(server, name)
    with server.http(ALICE) as alice:
        body = request_body(name, signer=csr.KUBE_APISERVER_CLIENT_KUBELET)
        assert alice.post(CSRS, json=body).status_code == 201
    pending = _name()
    with server.http(JOINER) as joiner:  # a later request by a joiner goes through first
        joiner.post(CSRS, json=request_body(pending, signer=csr.KUBE_APISERVER_CLIENT_KUBELET))
        _wait_signed(joiner, pending)
        assert "status" not in joiner.get(f"{CSRS}/{name}").json()


def test_a_nodes_serving_request_for_its_own_addresses_only(
        server: Apiserver, manager: Process) -> None:
    with server.http() as admin:
        admin.post("/api/v1/nodes", json={"metadata": {"name": "n1"}, "status": {
            "addresses": [{"type": "InternalIP", "address": "10.1.2.3"},
                          {"type": "Hostname", "address": "n1"}]}})
    own, foreign = _name(), _name()
    key = csr.new_key()
    with server.http(NODE1) as node:
        for name, hosts in ((own, ["n1", "10.1.2.3"]), (foreign, ["n1", "10.9.9.9"])):
            made = node.post(CSRS, json=request_body(
                name, signer=csr.KUBELET_SERVING, usages=csr.SERVING_USAGES,
                pem=csr.node_serving_request(key, "n1", hosts)))
            assert made.status_code == 201, made.text
        done = _wait_signed(node, own)
        cert = x509.load_pem_x509_certificate(
            base64.b64decode(done["status"]["certificate"]))  # type: ignore[index]
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.DNSName) == ["n1"]
        assert "status" not in node.get(f"{CSRS}/{foreign}").json()


def test_approving_needs_the_approve_verb_on_the_signer(server: Apiserver) -> None:
    """Kubernetes' CertificateApproval admission: `update` on the approval subresource is
    not enough; `approve` on `signers` named the signerName (or `domain/*`) is also needed."""
    name = _name()
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    with server.http() as admin:
        assert admin.post(CSRS, json=request_body(name)).status_code == 201
        admin.post(f"{rbac}/clusterroles", json={
            "metadata": {"name": f"approval-only-{name}"},
            "rules": [{"apiGroups": ["certificates.k8s.io"], "verbs": ["get", "update"],
                       "resources": ["certificatesigningrequests",
                                     "certificatesigningrequests/approval"]}]}
                   ).raise_for_status()
        admin.post(f"{rbac}/clusterrolebindings", json={
            "metadata": {"name": f"alice-approval-{name}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": f"approval-only-{name}"},
            "subjects": [{"kind": "User", "name": "alice"}]}).raise_for_status()
    with server.http(ALICE) as alice:
        refused = _approve(alice, name)
        assert refused.status_code == 403, refused.text
        assert refused.json()["message"] == (
            f'certificatesigningrequests.certificates.k8s.io "{name}" is forbidden: user not '
            f'permitted to approve requests with signerName "{MANUAL}"')
    with server.http() as admin:
        admin.post(f"{rbac}/clusterroles", json={
            "metadata": {"name": f"approver-{name}"},
            "rules": [{"apiGroups": ["certificates.k8s.io"], "verbs": ["approve"],
                       "resources": ["signers"], "resourceNames": ["example.com/*"]}]}
                   ).raise_for_status()
        admin.post(f"{rbac}/clusterrolebindings", json={
            "metadata": {"name": f"alice-approver-{name}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": f"approver-{name}"},
            "subjects": [{"kind": "User", "name": "alice"}]}).raise_for_status()
    with server.http(ALICE) as alice:
        wait_for(lambda: _approve(alice, name).status_code == 200, 10,
                 "alice may approve once she holds approve on example.com/*")
