"""Issue 16 item 5: the apiserver reaches agents over TLS as itself; agents authorize callers.

A real apiserver (RBAC, on an etcd of its own: its users and bindings are this
module's) with its kubelet client certificate, and real agents on Docker with
serving certificates of its CA. A user with `pods/log` reads logs through the
apiserver while the agent only ever sees the apiserver's identity; callers of
the agent's port without `nodes/proxy` get the kubelet's 403, without
credentials 401, over plain HTTP nothing; the apiserver dials no node whose
address is special and trusts no agent certificate its CA did not sign.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from apimachinery.meta import Object
from apimachinery.pki import TokenEntry, new_token, write_private
from apimachinery.usercert import make_client_cert
from cli.cluster.processes import Apiserver, Etcd, wait_for
from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
ALICE = new_token()
BOB = new_token()  # execs over the WebSocket stream
KUBELET_CLIENT_SAR = ("SubjectAccessReview user=kube-apiserver-kubelet-client verb={verb} "
                      "resource=nodes subresource=proxy allowed=true")


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    """This module's apiserver, with a token user (alice) the session's does not know."""
    workdir = tmp_path_factory.mktemp("agenttls")
    etcd = Etcd(workdir / "etcd")
    server = Apiserver(workdir / "apiserver", etcd.url,
                       extra_args=["--authorization-mode", "Node,RBAC"],
                       users=[TokenEntry(ALICE, "alice", "alice", ()),
                              TokenEntry(BOB, "bob", "bob", ())])
    try:
        etcd.start()
        server.start()
        yield server
    finally:
        server.stop()
        etcd.stop()


def talker(agent: AgentNode) -> str:
    """A running pod that said hello; its container is `app`."""
    agent.create_pod("talker", [{"name": "app", "image": "schooner/busybox:latest",
                                 "imagePullPolicy": "IfNotPresent",
                                 "command": ["sh", "-c", "echo hello-tls; sleep 3600"]}])
    agent.wait_pod("talker", lambda p: p["status"].get("phase") == "Running", "Running")
    return f"/api/v1/namespaces/{agent.namespace}/pods/talker"


def grant_pod_logs_and_exec(agent: AgentNode, user: str) -> None:
    """`user` may read pods and their logs and exec in the agent's namespace, no more."""
    rbac, ns = "rbac.authorization.k8s.io", agent.namespace
    agent.client.create("roles", {"apiVersion": f"{rbac}/v1", "kind": "Role",
                                  "metadata": {"name": "logs", "namespace": ns},
                                  "rules": [{"apiGroups": [""], "verbs": ["get"],
                                             "resources": ["pods", "pods/log"]},
                                            {"apiGroups": [""], "verbs": ["create"],
                                             "resources": ["pods/exec"]}]}, ns)
    agent.client.create("rolebindings", {
        "apiVersion": f"{rbac}/v1", "kind": "RoleBinding",
        "metadata": {"name": "logs", "namespace": ns},
        "roleRef": {"apiGroup": rbac, "kind": "Role", "name": "logs"},
        "subjects": [{"kind": "User", "apiGroup": rbac, "name": user}]}, ns)


def test_logs_and_exec_reach_the_agent_as_the_apiserver_never_as_the_caller(
        agent: AgentNode) -> None:
    pod = talker(agent)
    grant_pod_logs_and_exec(agent, "alice")
    with agent.apiserver.http(token=ALICE) as alice:
        logs = wait_for(lambda: (r := alice.get(f"{pod}/log")).status_code == 200
                        and "hello-tls" in r.text and r, 20, "alice reads the log")
        assert logs.text == "hello-tls\n"
        done = alice.post(f"{pod}/exec", params={"container": "app"},
                          json={"command": ["echo", "inside"]})
        assert done.status_code == 200, done.text
        assert done.json() == {"exitCode": 0, "output": "inside\n"}
        # RBAC here, before any agent: alice may not exec elsewhere, nor read Nodes
        assert alice.get("/api/v1/nodes").status_code == 403
    seen = agent.process.log_path.read_text()
    assert KUBELET_CLIENT_SAR.format(verb="get") in seen, seen
    assert KUBELET_CLIENT_SAR.format(verb="create") in seen, seen
    assert "alice" not in seen and ALICE not in seen  # her token never left the apiserver
    # alice's own token on the agent's port: authenticated (TokenReview), not authorized
    with agent.http(token=ALICE) as direct:
        refused = direct.get(f"/containerLogs/{agent.namespace}/talker/app")
    assert refused.status_code == 403
    assert refused.text.strip() == ("Forbidden (user=alice, verb=get, resource=nodes, "
                                    "subresource=proxy)")


def test_the_agent_port_refuses_callers_without_nodes_proxy(
        agent: AgentNode, tmp_path: Path) -> None:
    talker(agent)
    path = f"/containerLogs/{agent.namespace}/talker/app"
    cert, key = make_client_cert(agent.apiserver.ca_pem, agent.apiserver.ca_key_pem, "carol",
                                 ("developers",))
    (tmp_path / "carol.crt").write_bytes(cert)
    write_private(tmp_path / "carol.key", key)
    carol = (str(tmp_path / "carol.crt"), str(tmp_path / "carol.key"))
    with agent.http(token=None, cert=carol) as http:
        logs = http.get(path)
        exec_ = http.post(f"/exec/{agent.namespace}/talker/app", json={"command": ["id"]})
        assert http.get("/healthz").text == "ok"  # health needs no rights
    assert (logs.status_code, logs.text.strip()) == (403, "Forbidden (user=carol, verb=get, "
                                                     "resource=nodes, subresource=proxy)")
    assert (exec_.status_code, exec_.text.strip()) == (403, "Forbidden (user=carol, "
                                                       "verb=create, resource=nodes, "
                                                       "subresource=proxy)")
    with agent.http(token=None) as anonymous, agent.http(token="made-up") as wrong:
        assert anonymous.get(path).status_code == 401
        assert wrong.get(path).status_code == 401
    with pytest.raises(httpx.HTTPError):  # the port speaks TLS only
        httpx.get(f"http://127.0.0.1:{agent.port}/healthz", timeout=5)
    # The admin (system:masters) may: the SubjectAccessReview says so.
    with agent.http() as admin:
        assert wait_for(lambda: "hello-tls" in admin.get(path).text, 10, "admin reads")


def _node_at(agent: AgentNode, address: str) -> str:
    """A Node (no agent behind it) whose InternalIP is `address`, and a pod bound to it."""
    name = f"fake-{uuid.uuid4().hex[:6]}"
    agent.client.create("nodes", {"metadata": {"name": name}, "status": {
        "addresses": [{"type": "InternalIP", "address": address}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": agent.port}}}})
    body: Object = {"metadata": {"name": name, "namespace": agent.namespace},
                    "spec": {"nodeName": name, "containers": [
                        {"name": "app", "image": "schooner/busybox:latest"}]}}
    agent.client.create("pods", body, agent.namespace)
    return name


SPECIAL_ADDRESSES = [
    ("169.254.169.254", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
    ("0.0.0.0", "may not be unspecified (0.0.0.0)"),
    ("224.0.0.1", "may not be a multicast address"),
    ("fe80::1", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
]


def test_the_apiserver_dials_no_special_node_address(agent: AgentNode) -> None:
    """A node names its own address; the apiserver dials none of these (loopback it does
    dial, listening on loopback itself: kubeletclient.py)."""
    for address, why in SPECIAL_ADDRESSES:
        name = _node_at(agent, address)
        try:
            with agent.apiserver.http() as admin:
                pods = f"/api/v1/namespaces/{agent.namespace}/pods/{name}"
                for answer in (admin.get(f"{pods}/log"),
                               admin.post(f"{pods}/exec", json={"command": ["id"]})):
                    assert answer.status_code == 503, answer.text
                    assert answer.json()["message"] == (
                        f"node {name}: address {address} is not allowed: {why}")
        finally:
            agent.client.delete("nodes", name)


def test_the_apiserver_trusts_no_agent_certificate_but_its_cas(
        agent_factory: Callable[..., AgentNode]) -> None:
    """An agent with a self-signed certificate (no --tls-cert-file) is not reached."""
    agent = agent_factory("--tls-cert-file", "", "--tls-private-key-file", "")
    pod = talker(agent)
    with agent.apiserver.http() as admin:
        answer = admin.get(f"{pod}/log")
    assert answer.status_code == 503, answer.text
    assert "cannot reach the node agent" in answer.json()["message"]
    assert "CERTIFICATE_VERIFY_FAILED" in answer.json()["message"]


UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
           "Sec-WebSocket-Protocol": "v5.channel.k8s.io"}


def _stream_exec(agent: AgentNode, token: str, command: list[str]) -> tuple[bytes, Object]:
    """stdout and the final Status of an exec over the WebSocket stream (v5), as `token`."""
    from urllib.parse import urlencode

    from websockets.sync.client import connect

    from apimachinery import wsstream
    query = urlencode([("command", c) for c in command] + [("container", "app"),
                                                           ("stdout", "1")])
    url = (f"{agent.apiserver.url.replace('https', 'wss', 1)}/api/v1/namespaces/"
           f"{agent.namespace}/pods/talker/exec?{query}")
    out, status = b"", {}
    with connect(url, ssl=agent.apiserver._ssl(), subprotocols=[wsstream.V5],  # type: ignore[list-item]
                 additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        assert ws.subprotocol == wsstream.V5
        for message in ws:
            channel, data = wsstream.unframe(bytes(message) if isinstance(message, bytes)
                                             else message.encode())
            if channel == wsstream.STDOUT:
                out += data
            elif channel == wsstream.ERROR:
                import json
                status = json.loads(data)
    return out, status


def _port_forward_error(agent: AgentNode, token: str, port: int) -> str:
    """What the error channel of a channel-pair port-forward to `port` says, as `token`."""
    from websockets.sync.client import connect

    from apimachinery import wsstream
    url = (f"{agent.apiserver.url.replace('https', 'wss', 1)}/api/v1/namespaces/"
           f"{agent.namespace}/pods/talker/portforward?ports={port}")
    with connect(url, ssl=agent.apiserver._ssl(), subprotocols=["v4.channel.k8s.io"],  # type: ignore[list-item]
                 additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        error = b""
        for message in ws:
            channel, data = wsstream.unframe(bytes(message) if isinstance(message, bytes)
                                             else message.encode())
            if channel == 1:
                error += data
                if len(error) > 2 and error.endswith(b"refused"):
                    break
    return error[2:].decode()  # after the port's 2-byte prefix


def test_exec_streams_are_authorized_per_user_and_reach_the_agent_as_the_apiserver(
        agent: AgentNode) -> None:
    talker(agent)
    rbac, ns = "rbac.authorization.k8s.io", agent.namespace
    role: Object = {"apiVersion": f"{rbac}/v1", "kind": "Role",
                    "metadata": {"name": "stream", "namespace": ns},
                    "rules": [{"apiGroups": [""], "verbs": ["get"], "resources": ["pods"]}]}
    agent.client.create("roles", role, ns)
    agent.client.create("rolebindings", {
        "apiVersion": f"{rbac}/v1", "kind": "RoleBinding",
        "metadata": {"name": "stream", "namespace": ns},
        "roleRef": {"apiGroup": rbac, "kind": "Role", "name": "stream"},
        "subjects": [{"kind": "User", "apiGroup": rbac, "name": "bob"}]}, ns)
    try:
        for verbs, refused in (([], "get"), (["get"], "create")):
            role["rules"][1:] = [{"apiGroups": [""], "verbs": verbs,
                                  "resources": ["pods/exec"]}] if verbs else []
            agent.client.patch("roles", "stream", {"rules": role["rules"]}, ns)
            with agent.apiserver.http(token=BOB) as bob:  # the upgrade, answered over HTTP
                response = bob.get(f"/api/v1/namespaces/{ns}/pods/talker/exec",
                                   params={"command": "id", "stdout": "1"}, headers=UPGRADE)
            assert response.status_code == 403
            assert response.json()["message"] == (
                f'pods "talker" is forbidden: User "bob" cannot {refused} resource '
                f'"pods/exec" in API group "" in the namespace "{ns}"')
        role["rules"][1]["verbs"] = ["get", "create"]
        agent.client.patch("roles", "stream", {"rules": role["rules"]}, ns)
        out, status = wait_for(lambda: _stream_exec(agent, BOB, ["sh", "-c", "echo in; exit 4"]),
                               10, "bob's exec")
        assert out == b"in\n"
        assert status["reason"] == "NonZeroExitCode"
        assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "4"}]
        # a port-forward rides the same channel: nothing listens on port 1 of the pod,
        # and the agent says so in the kubelet's words, having dialled it for bob
        role["rules"].append({"apiGroups": [""], "verbs": ["get", "create"],
                              "resources": ["pods/portforward"]})
        agent.client.patch("roles", "stream", {"rules": role["rules"]}, ns)
        error = wait_for(lambda: _port_forward_error(agent, BOB, 1), 10, "bob's port-forward")
        assert error.startswith("error forwarding port 1 to pod "), error
        assert error.endswith(":1: connect: connection refused"), error
        seen = agent.process.log_path.read_text()
        assert KUBELET_CLIENT_SAR.format(verb="get") in seen, seen
        assert "bob" not in seen and BOB not in seen  # his token never left the apiserver
        with agent.apiserver.http(token=BOB) as bob:  # refusals before the upgrade: Statuses
            missing = bob.get(f"/api/v1/namespaces/{ns}/pods/nope/exec",
                              params={"command": "id", "stdout": "1"}, headers=UPGRADE)
            no_command = bob.get(f"/api/v1/namespaces/{ns}/pods/talker/exec",
                                 params={"stdout": "1"}, headers=UPGRADE)
        assert (missing.status_code, missing.json()["message"]) == (404, 'pods "nope" not found')
        assert (no_command.status_code, no_command.json()["message"]) == (
            400, "you must specify at least one command for the container")
    finally:
        agent.client.delete("rolebindings", "stream", ns)
        agent.client.delete("roles", "stream", ns)
