"""The lab's address plan and containers, and their compose rendering (no Docker needed)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from apimachinery.kubeconfig import load_kubeconfig
from apimachinery.pki import read_token_file
from apimachinery.usercert import certificate_names
from cli.join.tlsbootstrap import NodeFiles
from lab import compose
from lab.files import LabFiles
from lab.joining import NodeJoin
from lab.node import agent_command, dockerd_command, parse_args, proxy_command
from lab.topology import LabConfig, lab_containers

JOIN = ("abcdef.0123456789abcdef", "sha256:" + "0" * 64)


def test_address_plan_stays_inside_the_lab_subnet() -> None:
    cfg = LabConfig()
    net = ipaddress.IPv4Network(cfg.subnet)
    for cidr in (cfg.container_range, cfg.cluster_cidr, cfg.service_cidr):
        assert ipaddress.IPv4Network(cidr).subnet_of(net)
    assert cfg.container_range == "172.30.0.0/24"
    assert cfg.cluster_cidr == "172.30.128.0/17"
    assert cfg.service_cidr == "172.30.255.0/24"
    assert cfg.cluster_dns == "172.30.255.10"
    # Node addresses never overlap the pod network.
    assert not ipaddress.IPv4Network(cfg.container_range).overlaps(
        ipaddress.IPv4Network(cfg.cluster_cidr))


def test_another_subnet_moves_every_range() -> None:
    cfg = LabConfig(subnet="172.31.0.0/16")
    assert (cfg.cluster_cidr, cfg.service_cidr, cfg.cluster_dns) == (
        "172.31.128.0/17", "172.31.255.0/24", "172.31.255.10")


@pytest.mark.parametrize("kwargs", [{"subnet": "172.30.0.0/24"}, {"nodes": 0},
                                    {"etcd_members": 2}, {"apiservers": 0},
                                    {"schedulers": 0}, {"controller_managers": 4}])
def test_bad_shapes_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        LabConfig(**kwargs)  # type: ignore[arg-type]


def test_containers_of_the_default_lab() -> None:
    specs = {s.service: s for s in lab_containers(LabConfig(), *JOIN)}
    assert list(specs) == ["etcd1", "etcd2", "etcd3", "apiserver1", "apiserver2", "registry",
                           "scheduler1", "scheduler2", "controller-manager1",
                           "controller-manager2", "node1", "node2", "node3"]
    assert "etcd1=https://etcd1:2380,etcd2=https://etcd2:2380,etcd3=https://etcd3:2380" in \
        specs["etcd2"].command
    assert specs["apiserver1"].ports == {6443: 16443}
    assert specs["apiserver2"].ports == {6443: 16444}
    cm = specs["controller-manager1"].command
    assert cm[cm.index("--cluster-cidr") + 1] == "172.30.128.0/17"
    assert "--allocate-node-cidrs" in cm
    # the CA's certificate, for every namespace's kube-root-ca.crt (never the key)
    assert cm[cm.index("--root-ca-file") + 1] == "/etc/schooner/ca.crt"
    # Two of each control-plane component elect a leader, spread over both apiservers,
    # and Docker restarts one that exits on losing its Lease.
    for pair in (("scheduler1", "scheduler2"), ("controller-manager1", "controller-manager2")):
        commands = [specs[s].command for s in pair]
        assert all("--leader-elect" in c for c in commands)
        who = pair[0].removesuffix("1")
        assert {c[c.index("--kubeconfig") + 1] for c in commands} == {
            f"/etc/schooner/{who}-apiserver1.kubeconfig",
            f"/etc/schooner/{who}-apiserver2.kubeconfig"}
        assert all(specs[s].restart == "unless-stopped" for s in pair)
    assert "--leader-elect" not in specs["node1"].command
    # Nodes are spread over both apiservers and join through theirs with the token and
    # the CA's hash, mounting no cluster file; only the controller-managers hold the CA key.
    node2 = specs["node2"].command
    assert node2[node2.index("--join") + 1] == "apiserver2:6443"
    assert (node2[node2.index("--token") + 1],
            node2[node2.index("--discovery-token-ca-cert-hash") + 1]) == JOIN
    assert not any(s.config_files for n, s in specs.items() if n.startswith("node"))
    assert [n for n, s in specs.items() if s.signing_mount] == [
        "controller-manager1", "controller-manager2"]
    assert cm[cm.index("--cluster-signing-key-file") + 1] == "/etc/schooner-signing/ca.key"
    api = specs["apiserver1"].command
    assert api[api.index("--enable-bootstrap-token-auth") + 1] == "true"
    assert api[api.index("--anonymous-auth") + 1] == "true"
    assert specs["node1"].docker_in_docker and not specs["etcd1"].docker_in_docker
    assert specs["node1"].extra_hosts["registry-1.docker.io"] == "127.0.0.1"


def test_compose_document(tmp_path: Path) -> None:
    cfg = LabConfig(nodes=5)
    doc = compose.render(cfg, tmp_path / "etc", tmp_path / "etcd-pki", NodeJoin(*JOIN))
    assert len([s for s in doc["services"] if s.startswith("node")]) == 5
    lab_net = doc["networks"]["schooner-lab"]
    assert lab_net["internal"] is True
    assert lab_net["ipam"]["config"][0]["subnet"] == "172.30.0.0/16"
    api = doc["services"]["apiserver1"]
    assert api["ports"] == ["127.0.0.1:16443:6443"]
    # each container its own config folder; none mounts the lab's whole etc/
    for name, service in doc["services"].items():
        config = [v for v in service.get("volumes", []) if v.endswith(":/etc/schooner:ro")]
        assert config == ([f"{tmp_path}/config/{name}:/etc/schooner:ro"]
                          if name.startswith(("apiserver", "scheduler", "controller-manager"))
                          else []), name
    assert doc["services"]["scheduler2"]["restart"] == "unless-stopped"
    assert "restart" not in api
    assert f"{tmp_path / 'signing'}:/etc/schooner-signing:ro" in \
        doc["services"]["controller-manager1"]["volumes"]
    # each apiserver at its fixed address, outside Docker's ip_range, and advertising it
    assert api["networks"] == {"schooner-lab": {"ipv4_address": "172.30.1.1"},
                               "schooner-lab-edge": {}}
    assert doc["services"]["apiserver2"]["networks"]["schooner-lab"] == {
        "ipv4_address": "172.30.1.2"}
    command = api["command"]
    assert command[command.index("--advertise-address") + 1] == "172.30.1.1"
    assert {"172.30.1.1", "172.30.1.2", "172.30.255.1", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local"} <= set(cfg.server_names())
    node = doc["services"]["node3"]
    assert not any(v.endswith(":ro") for v in node["volumes"])
    assert node["cap_drop"] == ["SYS_RESOURCE"] and "seccomp=unconfined" in node["security_opt"]
    # never on the edge network; at the fixed address its certificate names
    assert node["networks"] == {"schooner-lab": {"ipv4_address": "172.30.1.12"}}
    assert "node3-docker:/var/lib/docker" in node["volumes"]
    assert set(doc["volumes"]) >= {"etcd1-data", "registry-data", "node3-docker"}


def test_etcd_is_private_and_its_certificates_reach_only_etcd_and_the_apiservers(
        tmp_path: Path) -> None:
    cfg = LabConfig()
    specs = {s.service: s for s in lab_containers(cfg, *JOIN)}
    etcd = specs["etcd2"].command
    for url_flag in ("--listen-client-urls", "--advertise-client-urls", "--listen-peer-urls",
                     "--initial-advertise-peer-urls"):
        assert etcd[etcd.index(url_flag) + 1].startswith("https://"), url_flag
    for flag, path in (("--cert-file", "server.crt"), ("--key-file", "server.key"),
                       ("--trusted-ca-file", "ca.crt"), ("--peer-cert-file", "peer.crt"),
                       ("--peer-key-file", "peer.key"), ("--peer-trusted-ca-file", "ca.crt")):
        assert etcd[etcd.index(flag) + 1] == f"/etc/schooner-etcd/{path}"
    assert {"--client-cert-auth=true", "--peer-client-cert-auth=true"} <= set(etcd)
    api = specs["apiserver1"].command
    assert api[api.index("--etcd-servers") + 1] == \
        "https://etcd1:2379,https://etcd2:2379,https://etcd3:2379"
    assert api[api.index("--etcd-cafile") + 1] == "/etc/schooner-etcd/ca.crt"
    assert api[api.index("--etcd-certfile") + 1] == \
        "/etc/schooner-etcd/apiserver-etcd-client.crt"
    assert api[api.index("--etcd-keyfile") + 1] == \
        "/etc/schooner-etcd/apiserver-etcd-client.key"
    pki = tmp_path / "etcd-pki"
    doc = compose.render(cfg, tmp_path / "etc", pki, NodeJoin(*JOIN))
    mounts = {name: [v for v in service.get("volumes", []) if v.startswith(str(pki))]
              for name, service in doc["services"].items()}
    assert {n: m for n, m in mounts.items() if m} == {
        **{f"etcd{i}": [f"{pki}/etcd{i}:/etc/schooner-etcd:ro"] for i in (1, 2, 3)},
        **{f"apiserver{i}": [f"{pki}/apiserver:/etc/schooner-etcd:ro"] for i in (1, 2)}}
    # and no container mounts the whole etcd PKI (the CA's key lives in its ca/ folder)
    assert not any(v.split(":")[0] == str(pki) for s in doc["services"].values()
                   for v in s.get("volumes", []))


def test_lab_files_give_each_etcd_container_its_own_folder_without_the_ca_key(
        tmp_path: Path) -> None:
    from lab.files import LabFiles
    files = LabFiles(tmp_path)
    files.ensure(LabConfig(etcd_members=3))
    etcd_ca = (files.etcd_ca / "ca.crt").read_bytes()
    assert etcd_ca != files.ca_cert.read_bytes()
    for name in ("etcd1", "etcd2", "etcd3"):
        folder = files.etcd_pki_dir(name)
        assert sorted(p.name for p in folder.iterdir()) == [
            "ca.crt", "peer.crt", "peer.key", "server.crt", "server.key"]
        assert (folder / "ca.crt").read_bytes() == etcd_ca
    assert sorted(p.name for p in files.etcd_pki_dir("apiserver").iterdir()) == [
        "apiserver-etcd-client.crt", "apiserver-etcd-client.key", "ca.crt"]
    # the cluster's config folder holds nothing of etcd's
    assert not any(etcd_ca in p.read_bytes() for p in files.etc.iterdir())
    assert files.etcd_pki.stat().st_mode & 0o077 == 0


NODE_ARGS = ["--join", "apiserver1:6443", "--token", JOIN[0],
             "--discovery-token-ca-cert-hash", JOIN[1], "--node-name", "node1",
             "--cluster-cidr", "172.30.128.0/17", "--service-cluster-ip-range",
             "172.30.255.0/24", "--cluster-dns", "172.30.255.10"]


def test_node_init_commands(tmp_path: Path) -> None:
    args = parse_args([*NODE_ARGS, "--registry-mirror", "registry:5000"])
    assert "http://registry:5000" in dockerd_command(args)
    files = NodeFiles(tmp_path)
    agent = agent_command(args, files, "172.30.0.9")
    assert agent[agent.index("--node-ip") + 1] == "172.30.0.9"
    assert agent[agent.index("--kubeconfig") + 1] == str(files.kubeconfig)
    assert agent[agent.index("--cluster-cidr") + 1] == "172.30.128.0/17"
    # the serving certificate of its kubelet-serving CSR; the discovered CA's clients
    assert [agent[agent.index(f) + 1] for f in ("--tls-cert-file", "--tls-private-key-file",
                                                "--client-ca-file")] == [
        str(files.serving_cert), str(files.serving_key), str(files.ca_cert)]
    proxy = proxy_command(args, files, "172.30.0.9")
    assert proxy[proxy.index("--nodeport-addresses") + 1] == "172.30.0.9"
    # the proxy calls as the node too: a joined host has no other identity
    assert proxy[proxy.index("--kubeconfig") + 1] == str(files.kubeconfig)


def test_every_lab_etcd_has_the_stated_quota_and_no_auto_compaction() -> None:
    from cli.cluster.components import ETCD_QUOTA_BACKEND_BYTES, etcd_command
    from lab.topology import ETCD_QUOTA_BACKEND_BYTES as LAB_QUOTA
    assert LAB_QUOTA == ETCD_QUOTA_BACKEND_BYTES == 2 * 1024 ** 3
    local = etcd_command("etcd", "m", Path("/d"), 1, 2)
    members = [c.command for c in lab_containers(LabConfig(), *JOIN)
               if c.service.startswith("etcd")]
    assert len(members) == 3
    for argv in (local, *members):
        flags = dict(zip(argv[1::2], argv[2::2], strict=False))
        assert flags["--quota-backend-bytes"] == str(2 * 1024 ** 3)
        assert flags["--auto-compaction-retention"] == "0"


def test_every_lab_client_is_given_the_other_apiserver_to_fail_over_to() -> None:
    specs = lab_containers(LabConfig(), *JOIN)
    clients = [s for s in specs if "--kubeconfig" in s.command or "--join" in s.command]
    assert len(clients) == 7
    for spec in clients:
        cmd = spec.command
        own = cmd[cmd.index("--join") + 1].split(":")[0] if "--join" in cmd else \
            cmd[cmd.index("--kubeconfig") + 1].removesuffix(".kubeconfig").rsplit("-", 1)[1]
        other = "apiserver2" if own == "apiserver1" else "apiserver1"
        assert cmd[cmd.index("--apiserver-urls") + 1] == f"https://{other}:6443", spec.service
    single = lab_containers(LabConfig(apiservers=1), *JOIN)
    assert not any("--apiserver-urls" in s.command for s in single)


def test_lab_files_give_each_client_its_own_identity(tmp_path: Path) -> None:
    """Each identity has a token of its own and a kubeconfig per apiserver; no client
    container is handed the admin's."""
    cfg = LabConfig(nodes=2)
    files = LabFiles(tmp_path)
    admin = files.ensure(cfg)
    entries = read_token_file(files.tokens)
    seen = {}
    for spec in lab_containers(cfg, *JOIN):
        for flag in ("--kubeconfig", "--proxy-kubeconfig"):
            if flag in spec.command:
                path = spec.command[spec.command.index(flag) + 1]
                local = files.config_dir(spec.service) / path.removeprefix("/etc/schooner/")
                token = load_kubeconfig(str(local)).token
                assert token is not None and token != admin
                seen[spec.service, flag] = entries[token].user, entries[token].groups
    assert not any(service.startswith("node") for service, _ in seen)  # nodes join
    assert not (files.etc / "ca.key").exists() and files.ca_key.exists()
    assert files.ca_key.parent.stat().st_mode & 0o077 == 0
    assert seen["scheduler1", "--kubeconfig"] == ("system:kube-scheduler", ())
    assert seen["controller-manager2", "--kubeconfig"] == ("system:kube-controller-manager", ())
    assert files.ensure(cfg) == admin  # tokens are kept


def test_node_init_passes_the_failover_urls_to_agent_and_proxy(tmp_path: Path) -> None:
    args = parse_args([*NODE_ARGS, "--apiserver-urls", "https://apiserver2:6443"])
    files = NodeFiles(tmp_path)
    for cmd in (agent_command(args, files, "172.30.0.9"),
                proxy_command(args, files, "172.30.0.9")):
        assert cmd[cmd.index("--apiserver-urls") + 1] == "https://apiserver2:6443"
    bare = parse_args(NODE_ARGS)
    assert "--apiserver-urls" not in agent_command(bare, files, "172.30.0.9")


def test_agents_serve_tls_with_their_joined_certificate_and_apiservers_reach_them_as_themselves(
        tmp_path: Path) -> None:
    cfg = LabConfig(subnet="172.31.0.0/16")
    specs = {s.service: s for s in lab_containers(cfg, *JOIN)}
    node2 = specs["node2"].command
    assert node2[node2.index("--node-ip") + 1] == "172.31.1.11"
    assert specs["node2"].ipv4_address == "172.31.1.11"
    assert not specs["node2"].config_files  # its serving certificate comes from its CSR
    api = specs["apiserver2"].command
    assert api[api.index("--kubelet-client-certificate") + 1] == \
        "/etc/schooner-apiserver/apiserver-kubelet-client.crt"
    assert api[api.index("--kubelet-certificate-authority") + 1] == "/etc/schooner/ca.crt"
    files = LabFiles(tmp_path)
    (tmp_path / "node-pki" / "node2").mkdir(parents=True)  # a lab made before nodes joined
    files.ensure(cfg)
    assert certificate_names((files.apiserver / "apiserver-kubelet-client.crt").read_bytes()) \
        == ("kube-apiserver-kubelet-client", ())
    assert not (tmp_path / "node-pki").exists()  # no host-signed serving certificate


def test_the_apiservers_share_a_token_signing_key_no_other_container_sees(
        tmp_path: Path) -> None:
    """Pods' projected tokens: both apiservers sign and verify with one key, made once in
    the folder only they mount."""
    from lab.files import LabFiles
    files = LabFiles(tmp_path)
    files.ensure(LabConfig())
    key = files.service_account_key.read_bytes()
    assert b"PRIVATE KEY" in key and files.service_account_key.stat().st_mode & 0o077 == 0
    files.ensure(LabConfig())
    assert files.service_account_key.read_bytes() == key
    specs = {s.service: s for s in lab_containers(LabConfig(), *JOIN)}
    for name, spec in specs.items():
        has = "--service-account-signing-key-file" in spec.command
        assert has == name.startswith("apiserver"), name
        if has:
            flag = spec.command.index("--service-account-signing-key-file")
            assert spec.command[flag + 1] == "/etc/schooner-apiserver/sa.key"
    assert not any(key in p.read_bytes() for p in files.etc.iterdir() if p.is_file())


def test_each_container_mounts_only_the_files_its_role_reads(tmp_path: Path) -> None:
    """As kubeadm lays out a control-plane host: the apiservers hold the serving pair and
    the token file, a scheduler its kubeconfig alone, a controller-manager its kubeconfig
    and the CA certificate (its key in its own mount); no other container has a folder."""
    cfg = LabConfig(nodes=1)
    files = LabFiles(tmp_path)
    admin = files.ensure(cfg)
    specs = {s.service: s for s in lab_containers(cfg, *JOIN)}
    held = {p.name: sorted(f.name for f in p.iterdir()) for p in files.config.iterdir()}
    assert held == {
        "apiserver1": ["apiserver.crt", "apiserver.key", "ca.crt", "tokens.csv"],
        "apiserver2": ["apiserver.crt", "apiserver.key", "ca.crt", "tokens.csv"],
        "scheduler1": ["scheduler-apiserver1.kubeconfig"],
        "scheduler2": ["scheduler-apiserver2.kubeconfig"],
        "controller-manager1": ["ca.crt", "controller-manager-apiserver2.kubeconfig"],
        "controller-manager2": ["ca.crt", "controller-manager-apiserver1.kubeconfig"]}
    # every file a command names under /etc/schooner is in that container's folder
    for name, spec in specs.items():
        named = {a.removeprefix("/etc/schooner/") for a in spec.command
                 if a.startswith("/etc/schooner/")}
        assert named == set(held.get(name, [])), name
    assert all((files.etc / n).read_bytes() == (files.config_dir(s) / n).read_bytes()
               for s, names in held.items() for n in names)
    secrets = (admin.encode(), files.serving_key.read_bytes(), files.ca_key.read_bytes())
    for service in ("scheduler1", "scheduler2", "controller-manager1", "controller-manager2"):
        for path in files.config_dir(service).iterdir():
            assert not any(secret in path.read_bytes() for secret in secrets), path
    assert files.config.stat().st_mode & 0o777 == 0o700
    for service in held:
        assert files.config_dir(service).stat().st_mode & 0o777 == 0o700
        for path in files.config_dir(service).iterdir():
            assert path.stat().st_mode & 0o777 == (0o644 if path.suffix == ".crt" else 0o600)
    # a smaller lab: the folders of containers it no longer has, and stray files, go
    (files.config_dir("scheduler1") / "stray").write_text("x")
    files.ensure(LabConfig(nodes=1, schedulers=1, controller_managers=1))
    assert sorted(p.name for p in files.config.iterdir()) == [
        "apiserver1", "apiserver2", "controller-manager1", "scheduler1"]
    assert sorted(p.name for p in files.config_dir("scheduler1").iterdir()) == [
        "scheduler-apiserver1.kubeconfig"]
