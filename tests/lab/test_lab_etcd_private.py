"""etcd is private in the lab: only etcd and the apiservers hold etcd's certificates, and
etcd answers only TLS with a client certificate of its own CA. Each control-plane
container holds only its role's cluster files: no scheduler or controller-manager has
the token file, the admin's credentials, the serving key or another component's
kubeconfig, and only the controller-managers have the CA key.

The files are looked for where a container could read them: every folder the host
mounts into it, and its /etc, are searched (inside the container) for the etcd CA's
certificate and for every etcd key and certificate, as PEM and as the base64 of a PEM
(how a kubeconfig embeds one). Then a node tries etcd over plain HTTP and over TLS
without a certificate, and an apiserver with its etcd client certificate.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from lab.testing import SchoonerCluster

# Run inside a container: which files under the given folders contain any needle.
FIND = """
import json, os, sys
needles, roots = json.loads(sys.argv[1]), sys.argv[2:]
found = []
for root in roots:
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            try:
                if not os.path.isfile(path) or os.path.getsize(path) > 4 << 20:
                    continue
                data = open(path, "rb").read().decode("latin-1")
            except OSError:
                continue
            found += [[path, n] for n in needles if n in data]
print(json.dumps(found))
"""

# Run inside a container: what etcd1 answers a range request, each way of asking.
ASK_ETCD = """
import json, ssl, sys, urllib.request
mode = sys.argv[1]
body = json.dumps({"key": "AA=="}).encode()
url = ("http" if mode == "plain" else "https") + "://etcd1:2379/v3/kv/range"
try:
    context = None
    if mode == "no-cert":
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    elif mode == "client-cert":
        context = ssl.create_default_context(cafile="/etc/schooner-etcd/ca.crt")
        context.load_cert_chain("/etc/schooner-etcd/apiserver-etcd-client.crt",
                                "/etc/schooner-etcd/apiserver-etcd-client.key")
    with urllib.request.urlopen(urllib.request.Request(url, body), timeout=5,
                                context=context) as r:
        print(json.dumps({"status": r.status, "body": r.read().decode()[:200]}))
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code, "body": e.read().decode()[:200]}))
except Exception as e:
    print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
"""


REFUSED = (r"(?i)bad certificate|certificate required|EOF occurred in violation of protocol"
           r"|connection reset")


def needles(pki: Path) -> dict[str, list[str]]:
    """For each etcd file (CA, keys, certificates), strings its copies must contain: the
    first base64 line of its PEM, and the start of the PEM's base64 (as in a kubeconfig);
    each maps to the files of that content (the CA's certificate is in several folders)."""
    out: dict[str, list[str]] = {}
    for path in sorted(p for p in pki.rglob("*") if p.is_file()):
        pem, name = path.read_bytes(), str(path.relative_to(pki))
        for needle in (pem.decode().splitlines()[1], base64.b64encode(pem).decode()[:60]):
            out.setdefault(needle, []).append(name)
    return out


def run(cluster: SchoonerCluster, service: str, *cmd: str) -> str:
    code, out = cluster.container(service).exec_run(list(cmd))
    assert code == 0, (service, out.decode(errors="replace"))
    return str(out.decode(errors="replace")).strip().splitlines()[-1]


def held_files(cluster: SchoonerCluster, service: str, wanted: dict[str, list[str]]
               ) -> tuple[set[str], list[str]]:
    """The etcd files whose content `service`'s container can read under /etc or any folder
    the host mounts into it, and the host folders of the etcd PKI it mounts."""
    mounts = [m for m in cluster.container(service).attrs["Mounts"] if m["Type"] == "bind"
              and m["Destination"] != "/sys/fs/cgroup"]
    roots = sorted({"/etc", *(m["Destination"] for m in mounts)})
    found = json.loads(run(cluster, service, "python3", "-c", FIND, json.dumps(list(wanted)),
                           *roots))
    pki = str(cluster.files.etcd_pki)
    return ({name for _, needle in found for name in wanted[needle]},
            [m["Source"] for m in mounts if m["Source"].startswith(pki)])


def test_no_node_scheduler_or_controller_manager_holds_any_etcd_file(
        cluster: SchoonerCluster) -> None:
    wanted = needles(cluster.files.etcd_pki)
    cfg = cluster.config
    # the CA's certificate and key; each member's CA, server and peer pairs; the apiservers'
    # CA and client pair (one folder for every apiserver)
    assert len({n for names in wanted.values() for n in names}) == 2 + 5 * cfg.etcd_members + 3
    others = [*cfg.node_names(), *cfg.scheduler_names(), *cfg.controller_manager_names()]
    for service in others:
        files, mounts = held_files(cluster, service, wanted)
        assert (files, mounts) == (set(), []), service
    etcd, _ = held_files(cluster, "etcd1", wanted)
    assert {"etcd1/server.key", "etcd1/peer.key", "etcd1/ca.crt"} <= etcd
    assert {f for f in etcd if f.endswith(".key")} == {"etcd1/server.key", "etcd1/peer.key"}
    api, _ = held_files(cluster, "apiserver1", wanted)
    assert {"apiserver/apiserver-etcd-client.key", "apiserver/ca.crt"} <= api
    assert {f for f in api if f.endswith(".key")} == {"apiserver/apiserver-etcd-client.key"}


def test_etcd_answers_only_tls_with_a_client_certificate(cluster: SchoonerCluster) -> None:
    plain = json.loads(run(cluster, "node1", "python3", "-c", ASK_ETCD, "plain"))
    # closed without an answer (or reset, when the close races the request)
    assert plain.get("error", "").startswith(("RemoteDisconnected", "ConnectionResetError",
                                              "URLError")) and "status" not in plain, plain
    no_cert = json.loads(run(cluster, "node1", "python3", "-c", ASK_ETCD, "no-cert"))
    # etcd ends the handshake: the client reads its bad_certificate alert, or, when the
    # close wins the race, an EOF; etcd's log says why either way
    assert re.search(REFUSED, no_cert.get("error", "")), no_cert
    assert "client didn't provide a certificate" in cluster.container("etcd1").logs().decode(
        errors="replace")
    with_cert = json.loads(run(cluster, "apiserver1", "python3", "-c", ASK_ETCD,
                               "client-cert"))
    assert with_cert["status"] == 200 and "header" in with_cert["body"], with_cert
    # the node has no such files to try with
    no_files = json.loads(run(cluster, "node1", "python3", "-c", ASK_ETCD, "client-cert"))
    assert no_files["error"].startswith("FileNotFoundError"), no_files


def mounted_roots(cluster: SchoonerCluster, service: str) -> list[str]:
    """/etc and every folder the host mounts into `service`'s container."""
    mounts = [m for m in cluster.container(service).attrs["Mounts"] if m["Type"] == "bind"
              and m["Destination"] != "/sys/fs/cgroup"]
    return sorted({"/etc", *(m["Destination"] for m in mounts)})


def cluster_secrets(cluster: SchoonerCluster) -> dict[str, str]:
    """What-it-is -> a string any copy of it contains: each static token (the admin's is
    in the host's kubeconfig too), the serving key, the CA key, and each component
    kubeconfig's token-and-server pair as its own file holds them."""
    files = cluster.files
    secrets = {"the serving key": files.serving_key.read_bytes().decode().splitlines()[1],
               "the CA key": files.ca_key.read_bytes().decode().splitlines()[1]}
    for line in files.tokens.read_text().splitlines():
        token, user = line.split(",")[:2]
        secrets[f"the token of {user}"] = token
    for kubeconfig in files.etc.glob("*.kubeconfig"):
        secrets[kubeconfig.name] = kubeconfig.read_text()
    return secrets


def test_each_control_plane_container_holds_only_its_roles_files(
        cluster: SchoonerCluster) -> None:
    cfg = cluster.config
    secrets = cluster_secrets(cluster)
    wanted = {needle: what for what, needle in secrets.items()}
    users = {"scheduler": "system:kube-scheduler",
             "controller-manager": "system:kube-controller-manager"}
    for service in [*cfg.scheduler_names(), *cfg.controller_manager_names()]:
        role = service.rstrip("0123456789")
        found = json.loads(run(cluster, service, "python3", "-c", FIND,
                               json.dumps(list(wanted)), *mounted_roots(cluster, service)))
        held = {wanted[needle] for _, needle in found}
        command = cluster.container(service).attrs["Config"]["Cmd"]
        own = command[command.index("--kubeconfig") + 1].rsplit("/", 1)[1]
        expected = {own, f"the token of {users[role]}"}
        if role == "controller-manager":  # csrsigning: kube-controller-manager's own too
            expected.add("the CA key")
        assert held == expected, (service, sorted(found))
        listed = run(cluster, service, "python3", "-c",
                     "import os; print(sorted(os.listdir('/etc/schooner')))")
        assert listed == str(sorted([own] + (["ca.crt"] if role != "scheduler" else []))), \
            (service, listed)
    for service in cfg.apiserver_names():
        listed = run(cluster, service, "python3", "-c",
                     "import os; print(sorted(os.listdir('/etc/schooner')))")
        assert listed == str(["apiserver.crt", "apiserver.key", "ca.crt", "tokens.csv"]), \
            (service, listed)
        found = json.loads(run(cluster, service, "python3", "-c", FIND,
                               json.dumps(list(wanted)), *mounted_roots(cluster, service)))
        held = {wanted[needle] for _, needle in found}
        # the token file (the admin's token included: the host's kubeconfig calls with
        # it) and the serving key; no component's kubeconfig, never the CA key
        assert held == {"the serving key", *(f"the token of {u}" for u in
                                             ("admin", *users.values()))}, (service, held)


def test_nodes_hold_no_cluster_secret(cluster: SchoonerCluster) -> None:
    """What joining gave a node is all it holds: its own keys and certificates and the CA
    certificate; not the CA key, no static token (the admin's or a component's), no
    kubeconfig of anyone else's, no encryption key."""
    files = cluster.files
    key_line = next(line for line in files.encryption_config.read_text().splitlines()
                    if "secret:" in line)
    secrets = {"the CA key": files.ca_key.read_bytes().decode().splitlines()[1],
               "the encryption key": key_line.split("secret:")[1].strip()}
    for line in files.tokens.read_text().splitlines():
        token, user = line.split(",")[:2]
        secrets[f"the token of {user}"] = token
    wanted = {needle: [what] for what, needle in secrets.items()}
    for node in cluster.config.node_names():
        mounts = [m for m in cluster.container(node).attrs["Mounts"] if m["Type"] == "bind"
                  and m["Destination"] != "/sys/fs/cgroup"]
        assert mounts == [], node
        found = json.loads(run(cluster, node, "python3", "-c", FIND, json.dumps(list(wanted)),
                               "/etc", "/var/lib/schooner", "/root", "/tmp"))
        assert found == [], (node, [(path, wanted[needle]) for path, needle in found])
        code, held = cluster.node_exec(node, "ls", "/var/lib/schooner/pki")
        assert code == 0 and sorted(held.split()) == [
            "agent-serving.crt", "agent-serving.key", "ca.crt", "node-client.crt",
            "node-client.key"], (node, held)
