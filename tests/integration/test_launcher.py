"""`schooner up|down|status` for real: a real etcd (and apiserver), a tmp home, free ports."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from apimachinery import bootstraptoken
from apimachinery.kubeconfig import load_kubeconfig
from apimachinery.pki import make_cert
from cli import cluster
from cli.cluster import ClusterError, Component, Paths, Ports
from cli.cluster.components import (
    SOURCE_ROOT,
    advertise_address,
    apiserver_service_names,
    control_plane_components,
    find_etcd,
)
from cli.cluster.processes import free_port, wait_for
from tests.integration.test_cli import SCHOONER

pytestmark = pytest.mark.integration

APISERVER_MAIN = SOURCE_ROOT / "apiserver" / "__main__.py"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cluster home whose processes are all stopped at the end, whatever the test did."""
    for var in ("SCHOONER_HOME", "SCHOONER_ETCD_PORT", "SCHOONER_ETCD_PEER_PORT",
                "SCHOONER_ETCD_METRICS_PORT", "SCHOONER_APISERVER_PORT"):
        monkeypatch.delenv(var, raising=False)
    # The node components get free ports and a pod network of this test's own.
    for var in ("SCHOONER_CONTROLLER_MANAGER_PORT", "SCHOONER_SCHEDULER_PORT",
                "SCHOONER_AGENT_PORT", "SCHOONER_PROXY_PORT"):
        monkeypatch.setenv(var, str(free_port()))
    monkeypatch.setenv("SCHOONER_SERVICE_CIDR", f"172.28.{100 + os.getpid() % 40}.0/24")
    network = f"schooner-launcher-{os.getpid()}"
    monkeypatch.setenv("SCHOONER_POD_NETWORK", network)
    monkeypatch.setenv("SCHOONER_NODE_NAME", network)
    monkeypatch.setenv("SCHOONER_POD_CIDR", f"172.28.{200 + os.getpid() % 50}.0/24")
    home = tmp_path / "schooner"
    yield home
    cluster.down(home)
    subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)


@pytest.fixture
def ports() -> Ports:
    return Ports(etcd=free_port(), etcd_peer=free_port(), apiserver=free_port(),
                 etcd_metrics=free_port())


def etcd_only(home: Path, ports: Ports) -> list[Component]:
    return control_plane_components(Paths(home), ports, find_etcd())[:1]


def up_etcd(home: Path, ports: Ports) -> cluster.ClusterStatus:
    return cluster.up(home, etcd_port=ports.etcd, etcd_peer_port=ports.etcd_peer,
                      etcd_metrics_port=ports.etcd_metrics, apiserver_port=ports.apiserver,
                      components=etcd_only(home, ports))


def etcd_http(home: Path, cert: tuple[Path, Path] | None = None,
              *, apiserver: bool = True) -> httpx.Client:
    """A client of etcd's JSON gRPC gateway (no etcd client library needed): trusting the
    etcd CA of `home`, presenting `cert`, else the apiserver's etcd client certificate
    (none when `apiserver` is False)."""
    tls = Paths(home).apiserver_etcd_client
    context = ssl.create_default_context(cafile=str(tls.ca))
    if cert is None and apiserver:
        cert = (Path(tls.cert), Path(tls.key))
    if cert is not None:
        context.load_cert_chain(*map(str, cert))
    return httpx.Client(verify=context, timeout=5, trust_env=False)


def etcd_put(home: Path, port: int, key: str, value: str) -> None:
    body = {"key": base64.b64encode(key.encode()).decode(),
            "value": base64.b64encode(value.encode()).decode()}
    with etcd_http(home) as http:
        http.post(f"https://127.0.0.1:{port}/v3/kv/put", json=body).raise_for_status()


def etcd_get(home: Path, port: int, key: str) -> str | None:
    body = {"key": base64.b64encode(key.encode()).decode()}
    with etcd_http(home) as http:
        response = http.post(f"https://127.0.0.1:{port}/v3/kv/range", json=body)
    kvs = response.raise_for_status().json().get("kvs") or []
    return base64.b64decode(kvs[0]["value"]).decode() if kvs else None


def process_exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_etcd_up_status_down_and_data_survives(home: Path, ports: Ports) -> None:
    st = up_etcd(home, ports)
    etcd = st.components[0]
    assert (etcd.name, etcd.alive, etcd.healthy) == ("etcd", True, True)
    assert etcd.pid is not None
    paths = Paths(home)
    assert paths.pid("etcd").read_text().strip() == str(etcd.pid)
    tokens, kubeconfig, ca = (p.read_bytes() for p in (paths.tokens, paths.kubeconfig,
                                                          paths.ca_cert))
    assert load_kubeconfig(str(paths.kubeconfig)).server == f"https://127.0.0.1:{ports.apiserver}"

    etcd_put(home, ports.etcd, "/registry/test/survivor", "still here")
    seen = {c.name: c for c in cluster.status(home).components}
    assert seen["etcd"].healthy and not seen["apiserver"].alive

    assert cluster.down(home) == ["etcd"]
    assert not paths.pid("etcd").exists()
    assert not process_exists(etcd.pid)
    assert not cluster.status(home).components[0].alive

    # The ports come back from cluster.json; PKI, tokens and kubeconfig are kept.
    st = cluster.up(home, components=etcd_only(home, ports))
    assert st.components[0].healthy
    assert etcd_get(home, ports.etcd, "/registry/test/survivor") == "still here"
    assert (paths.tokens.read_bytes(), paths.kubeconfig.read_bytes(),
            paths.ca_cert.read_bytes()) == (tokens, kubeconfig, ca)


def test_the_local_etcd_is_private(home: Path, ports: Ports) -> None:
    """`schooner up`'s etcd answers only TLS with a client certificate of its own CA:
    not plain HTTP, not a client without a certificate, not one the cluster CA signed
    (as a user's or a node's); its health port in the clear serves no data."""
    up_etcd(home, ports)
    paths = Paths(home)
    etcd_put(home, ports.etcd, "/registry/test/private", "yes")  # the apiserver's cert opens it
    user_cert, user_key = make_cert(paths.ca_cert.read_bytes(), paths.ca_key.read_bytes(),
                                    common_name="jane", organization="system:masters",
                                    client=True)
    (home / "jane.crt").write_bytes(user_cert)
    (home / "jane.key").write_bytes(user_key)
    body = {"key": base64.b64encode(b"/registry/test/private").decode()}
    for cert in (None, (home / "jane.crt", home / "jane.key")):
        with etcd_http(home, cert, apiserver=False) as http, pytest.raises(
                httpx.TransportError, match=r"(?i)bad certificate|EOF occurred|connection reset"):
            http.post(f"https://127.0.0.1:{ports.etcd}/v3/kv/range", json=body)
    log = paths.log("etcd").read_text(errors="replace")
    assert "client didn't provide a certificate" in log
    assert "certificate signed by unknown authority" in log
    with httpx.Client(timeout=5, trust_env=False) as plain:
        with pytest.raises(httpx.TransportError):
            plain.post(f"http://127.0.0.1:{ports.etcd}/v3/kv/range", json=body)
        health = f"http://127.0.0.1:{ports.etcd_metrics}"
        assert plain.get(f"{health}/health").status_code == 200
        assert plain.post(f"{health}/v3/kv/range", json=body).status_code == 404


def test_up_is_idempotent(home: Path, ports: Ports) -> None:
    first = up_etcd(home, ports).components[0].pid
    assert up_etcd(home, ports).components[0].pid == first


def test_stale_pid_file_is_replaced_without_touching_its_process(
    home: Path, ports: Ports
) -> None:
    paths = Paths(home)
    paths.run.mkdir(parents=True)
    paths.pid("etcd").write_text(f"{os.getpid()}\n")  # a "recycled" pid: this test
    st = up_etcd(home, ports)
    assert st.components[0].healthy
    assert st.components[0].pid != os.getpid()


def test_port_taken_by_a_stranger_is_reported(home: Path, ports: Ports) -> None:
    with socket.create_server(("127.0.0.1", ports.etcd)), pytest.raises(
        ClusterError, match=f"port {ports.etcd} is in use"
    ):
        up_etcd(home, ports)


def test_changing_ports_of_a_running_cluster_is_refused(home: Path, ports: Ports) -> None:
    up_etcd(home, ports)
    with pytest.raises(ClusterError, match="schooner down"):
        cluster.up(home, etcd_port=free_port(), components=etcd_only(home, ports))


def test_a_component_that_exits_fails_up_with_its_log_tail(home: Path) -> None:
    script = "for i in range(30): print(f'line {i}')\nraise SystemExit(3)"
    crasher = Component("crasher", [sys.executable, "-c", script],
                        f"http://127.0.0.1:{free_port()}/healthz")
    with pytest.raises(ClusterError) as caught:
        cluster.up(home, components=[crasher])
    message = str(caught.value)
    assert message.startswith("crasher exited with code 3")
    assert message.splitlines()[-10:] == [f"line {i}" for i in range(20, 30)]
    assert not Paths(home).pid("crasher").exists()


def test_a_component_never_healthy_is_stopped_and_reported(home: Path) -> None:
    marker = f"schooner-test-sleeper-{os.getpid()}"
    sleeper = Component("sleeper", [sys.executable, "-c", "import time; time.sleep(120)", marker],
                        f"http://127.0.0.1:{free_port()}/healthz")
    with pytest.raises(ClusterError, match=r"was not healthy .* within 1s"):
        cluster.up(home, components=[sleeper], timeout=1.0)
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit()
                 and marker.encode() in _read(p / "cmdline")]
    assert leftovers == []


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


TLS_STUB = """
import http.server, ssl, sys
class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/readyz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ready)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""


def test_https_health_is_checked_against_the_cluster_ca(home: Path, ports: Ports) -> None:
    """A stand-in apiserver serving the launcher's certificate: up, then down in reverse order."""
    paths = Paths(home)
    stub = Component("apiserver", [sys.executable, "-c", TLS_STUB, str(ports.apiserver),
                                   str(paths.apiserver_cert), str(paths.apiserver_key)],
                     f"https://127.0.0.1:{ports.apiserver}/readyz", ports=(ports.apiserver,))
    st = cluster.up(home, etcd_port=ports.etcd, etcd_peer_port=ports.etcd_peer,
                    etcd_metrics_port=ports.etcd_metrics, apiserver_port=ports.apiserver,
                    components=[*etcd_only(home, ports), stub])
    assert [(c.name, c.healthy) for c in st.components] == [("etcd", True), ("apiserver", True)]
    assert cluster.down(home, components=[*etcd_only(home, ports), stub]) == ["apiserver", "etcd"]


@pytest.mark.skipif(not APISERVER_MAIN.exists(),
                    reason="apiserver/__main__.py is not written yet (python -m apiserver)")
def test_full_control_plane(home: Path, ports: Ports) -> None:
    st = cluster.up(home, etcd_port=ports.etcd, etcd_peer_port=ports.etcd_peer,
                    etcd_metrics_port=ports.etcd_metrics, apiserver_port=ports.apiserver)
    proxy = [("proxy", True)] if os.geteuid() == 0 else []
    assert [(c.name, c.healthy) for c in st.components] == [
        ("etcd", True), ("apiserver", True), ("controller-manager", True), ("scheduler", True),
        ("agent", True), *proxy]
    config = load_kubeconfig(str(st.kubeconfig))
    assert config.server == st.server == f"https://127.0.0.1:{ports.apiserver}"
    assert config.ca_data is not None
    tls = ssl.create_default_context(cadata=config.ca_data.decode())
    with httpx.Client(base_url=config.server, verify=tls, trust_env=False, timeout=10) as api:
        assert api.get("/readyz").status_code == 200
        assert api.get("/api/v1/namespaces").status_code == 401
        authorized = api.get("/api/v1/namespaces",
                             headers={"Authorization": f"Bearer {config.token}"})
        assert authorized.status_code == 200, authorized.text
        made = api.post("/api/v1/namespaces/default/secrets",
                        headers={"Authorization": f"Bearer {config.token}"},
                        json={"metadata": {"name": "up-secret"}, "data": {"k": "dXAtc2VjcmV0"}})
        assert made.status_code == 201, made.text
    # `up` turned on encryption at rest and the audit log (docs/security.md).
    with etcd_http(home) as http:
        raw = http.post(f"https://127.0.0.1:{ports.etcd}/v3/kv/range", json={
            "key": base64.b64encode(b"/registry/secrets/default/up-secret").decode()}).json()
    assert base64.b64decode(raw["kvs"][0]["value"]).startswith(b"k8s:enc:aesgcm:v1:key1:")
    audit = home / "logs" / "audit.log"
    wait_for(lambda: b'"up-secret"' in audit.read_bytes() if audit.exists() else False, 5,
             "the Secret's create in the audit log")
    event = next(orjson.loads(line) for line in audit.read_bytes().splitlines()
                 if b'"up-secret"' in line)
    assert (event["verb"], event["responseStatus"]["code"], event["level"]) == (
        "create", 201, "Metadata")
    assert cluster.status(home).healthy
    check_kubernetes_service(config.server, tls, str(config.token), ports.apiserver,
                             config.ca_data.decode(), in_pod=bool(proxy))
    assert cluster.down(home) == [*(["proxy"] if proxy else []), "agent", "scheduler",
                                  "controller-manager", "apiserver", "etcd"]
    assert not any(c.alive for c in cluster.status(home).components)


def test_init_publishes_signed_cluster_info_and_a_join_line(
        home: Path, ports: Ports, monkeypatch: pytest.MonkeyPatch) -> None:
    """`schooner init` on loopback: anonymous may read cluster-info, signed with the token
    printed, whose CA hash is the one in the join line; nothing else is open."""
    for var, port in (("SCHOONER_ETCD_PORT", ports.etcd),
                      ("SCHOONER_ETCD_PEER_PORT", ports.etcd_peer),
                      ("SCHOONER_ETCD_METRICS_PORT", ports.etcd_metrics)):
        monkeypatch.setenv(var, str(port))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = subprocess.run([SCHOONER, "init", "--apiserver-advertise-address", "127.0.0.1",
                          "--apiserver-port", str(ports.apiserver), "--home", str(home)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    line = next(x.strip() for x in run.stdout.splitlines() if "schooner join" in x)
    words = line.split()
    assert words[:3] == ["schooner", "join", f"127.0.0.1:{ports.apiserver}"]
    token, pinned = words[words.index("--token") + 1], words[-1]
    assert pinned == bootstraptoken.ca_cert_hash((home / "pki" / "ca.crt").read_bytes())
    token_id, secret = bootstraptoken.parse(token)
    info_path = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
    with httpx.Client(base_url=f"https://127.0.0.1:{ports.apiserver}", verify=False,
                      trust_env=False, timeout=10) as anonymous:
        seen: dict[str, str] = {}

        def signed() -> bool:
            seen.update(anonymous.get(info_path).json().get("data") or {})
            return f"jws-kubeconfig-{token_id}" in seen
        wait_for(signed, 30, f"cluster-info signed (last seen {sorted(seen)})")
        assert bootstraptoken.verify(seen["kubeconfig"], seen[f"jws-kubeconfig-{token_id}"],
                                     token_id, secret)
        assert anonymous.get("/api/v1/namespaces").status_code == 403


# Run in a pod: GET /version over TLS, checking the certificate against the cluster CA
# (mounted at /ca) and the URL's host name, as an in-cluster client does.
TLS_FETCH = """
import json, ssl, sys, urllib.request
context = ssl.create_default_context(cafile="/ca/ca.crt")
for url in sys.argv[1:]:
    try:
        with urllib.request.urlopen(url, context=context, timeout=5) as r:
            print(json.dumps({"url": url, "gitVersion": json.loads(r.read())["gitVersion"]}))
    except Exception as e:
        print(json.dumps({"url": url, "error": f"{type(e).__name__}: {e}"}))
"""


def check_kubernetes_service(server: str, tls: ssl.SSLContext, token: str, port: int,
                             ca: str, *, in_pod: bool) -> None:
    """The apiserver advertises the pod bridge's gateway: its lease reconciler names it in
    default/kubernetes, it serves there (bound before the agent made the bridge) with a
    certificate naming it, and, with the proxy (root), a pod reaches
    https://kubernetes.default.svc through the ClusterIP and the cluster DNS."""
    gateway = advertise_address()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, verify=tls, trust_env=False, timeout=10,
                      headers=headers) as api:
        def endpoint_ips() -> list[str]:
            ep = api.get("/api/v1/namespaces/default/endpoints/kubernetes").json()
            return [a["ip"] for s in ep.get("subsets") or [] for a in s["addresses"]]
        wait_for(lambda: endpoint_ips() == [gateway], 15, f"kubernetes endpoints [{gateway}]")
        ep = api.get("/api/v1/namespaces/default/endpoints/kubernetes").json()
        assert ep["subsets"][0]["ports"] == [{"name": "https", "port": port, "protocol": "TCP"}]
        wait_for(lambda: httpx.get(f"https://{gateway}:{port}/version", verify=tls,
                                   trust_env=False, timeout=3).status_code == 200, 30,
                 f"the apiserver at https://{gateway}:{port}")
        if not in_pod:
            return
        api.post("/api/v1/namespaces/default/configmaps",
                 json={"metadata": {"name": "launcher-ca"}, "data": {"ca.crt": ca}})
        made = api.post("/api/v1/namespaces/default/pods", json={
            "metadata": {"name": "incluster"},
            "spec": {"containers": [{
                "name": "c", "image": "schooner/web-example:1", "imagePullPolicy": "Never",
                "volumeMounts": [{"name": "ca", "mountPath": "/ca"}]}],
                "volumes": [{"name": "ca", "configMap": {"name": "launcher-ca"}}]}})
        assert made.status_code == 201, made.text
        wait_for(lambda: api.get("/api/v1/namespaces/default/pods/incluster").json()
                 ["status"].get("phase") == "Running", 60, "pod incluster Running")
        urls = ["https://kubernetes.default.svc/version",
                "https://kubernetes.default.svc.cluster.local/version",
                f"https://{apiserver_service_names()[0]}/version"]

        def fetched() -> list[dict[str, str]] | None:
            out = api.post("/api/v1/namespaces/default/pods/incluster/exec", json={
                "command": ["python3", "-c", TLS_FETCH, *urls]}).json()
            answers = [json.loads(line) for line in str(out.get("output", "")).splitlines()
                       if line.startswith("{")]
            return answers if answers and all("gitVersion" in a for a in answers) else None
        # the proxy applies the Service from its own watch: give it a moment
        try:
            wait_for(fetched, 20, "/version from the pod through the kubernetes Service", 0.5)
        finally:  # the agent removes the pod's containers before `down` stops it
            api.delete("/api/v1/namespaces/default/pods/incluster",
                       params={"gracePeriodSeconds": "0"})
            wait_for(lambda: api.get("/api/v1/namespaces/default/pods/incluster")
                     .status_code == 404, 30, "pod incluster gone")
