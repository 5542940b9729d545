"""The lab's Secrets at rest and audit log: the key only in the apiservers, etcd holding
no clear text, a secret volume read from a node's memory, the audit log written."""

from __future__ import annotations

import base64
import json

from apimachinery.client import Client
from cli.cluster.processes import wait_for
from lab.testing import SchoonerCluster
from tests.lab.conftest import deployment, pod_exec, ready_pods

PASSWORD = b"lab-secret-never-on-disk"

# Run in an apiserver container: etcd takes only a client certificate of its CA, which
# the apiservers alone hold (at /etc/schooner-etcd).
READ_ETCD = """
import base64, json, ssl, sys, urllib.request
body = json.dumps({"key": base64.b64encode(sys.argv[1].encode()).decode()}).encode()
context = ssl.create_default_context(cafile="/etc/schooner-etcd/ca.crt")
context.load_cert_chain("/etc/schooner-etcd/apiserver-etcd-client.crt",
                        "/etc/schooner-etcd/apiserver-etcd-client.key")
reply = json.load(urllib.request.urlopen("https://etcd1:2379/v3/kv/range", body, timeout=5,
                                         context=context))
sys.stdout.write(reply["kvs"][0]["value"])
"""


def test_secret_encrypted_in_etcd_read_from_memory_and_audited(
        cluster: SchoonerCluster, client: Client, namespace: str) -> None:
    client.create("secrets", {"metadata": {"name": "db"},
                              "data": {"password": base64.b64encode(PASSWORD).decode()}},
                  namespace)
    code, out = cluster.container("apiserver1").exec_run(
        ["python3", "-c", READ_ETCD, f"/registry/secrets/{namespace}/db"])
    stored = base64.b64decode(out)
    assert code == 0 and stored.startswith(b"k8s:enc:aesgcm:v1:key1:"), out[:200]
    assert PASSWORD not in stored

    # Only the apiservers have the key.
    config = cluster.config
    for service in config.apiserver_names():
        code, _ = cluster.container(service).exec_run(
            ["test", "-s", "/etc/schooner-apiserver/encryption-config.yaml"])
        assert code == 0, service
    for service in (*config.node_names(), *config.scheduler_names(),
                    *config.controller_manager_names()):
        code, out = cluster.container(service).exec_run(
            ["sh", "-c", "ls /etc/schooner-apiserver; grep -rl aesgcm /etc/schooner"])
        assert code != 0 and b"encryption" not in out, (service, out)

    spec = deployment("reader", 1)
    pod_spec = spec["spec"]["template"]["spec"]
    pod_spec["volumes"] = [{"name": "db", "secret": {"secretName": "db"}}]
    pod_spec["containers"][0]["volumeMounts"] = [{"name": "db", "mountPath": "/etc/db"}]
    client.create("deployments", spec, namespace)
    pod = ready_pods(client, namespace, "reader", 1)[0]
    code, out = pod_exec(client, namespace, pod["metadata"]["name"],
                         ["cat", "/etc/db/password"])
    assert (code, out) == (0, PASSWORD.decode())
    node = pod["spec"]["nodeName"]
    code, out = cluster.node_exec(
        node, "sh", "-c", f"grep -rl {PASSWORD.decode()} /var/lib/schooner /dev/shm || true")
    assert out.strip() and all(p.startswith("/dev/shm/") for p in out.split()), out

    def audited() -> bool:
        _, out = cluster.container("apiserver1").exec_run(
            ["cat", "/var/log/schooner/audit.log"])
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        return any(e["verb"] == "create" and e["objectRef"].get("resource") == "secrets"
                   and e["objectRef"].get("namespace") == namespace
                   and e["responseStatus"]["code"] == 201 for e in events) and \
            PASSWORD not in out and base64.b64encode(PASSWORD) not in out
    wait_for(audited, 10, "the Secret's create in apiserver1's audit log")
