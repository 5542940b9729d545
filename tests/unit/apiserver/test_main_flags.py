"""kube-apiserver's flags: service ranges, etcd and kubelet TLS; bad values refused."""

from __future__ import annotations

import logging

import pytest

from apiserver.main import listens_on_loopback, main, parse_args


def test_service_range_defaults() -> None:
    args = parse_args([])
    assert args.service_cluster_ip_range == "172.28.255.0/24"
    assert args.service_node_port_range == "30000-32767"


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--service-cluster-ip-range", "10.0.0.0/33", "invalid service cluster IP range"),
    ("--service-cluster-ip-range", "fd00::/112", "only IPv4"),
    ("--service-node-port-range", "32767-30000", "invalid port range"),
])
def test_bad_service_ranges_stop_the_apiserver_before_it_listens(
        flag: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)  # leave pytest's logging be
    with pytest.raises(SystemExit, match=message):
        main([flag, value])


@pytest.mark.parametrize(("argv", "message"), [
    (["--etcd-certfile", "/x.crt"], "--etcd-certfile and --etcd-keyfile go together"),
    (["--etcd-keyfile", "/x.key"], "--etcd-certfile and --etcd-keyfile go together"),
    (["--etcd-cafile", "/nonexistent/ca.crt"], "--etcd-cafile /nonexistent/ca.crt: cannot be read"),
])
def test_bad_etcd_tls_flags_stop_the_apiserver_in_one_line(
        argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kubernetes' --etcd-cafile/--etcd-certfile/--etcd-keyfile: refused before listening."""
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    with pytest.raises(SystemExit, match=message):
        main(["--etcd-servers", "https://127.0.0.1:2379", *argv])


@pytest.mark.parametrize(("argv", "message"), [
    (["--advertise-address", "127.0.0.1:6443"], "--advertise-address '127.0.0.1:6443': must be "
                                               "an IP address"),
    (["--bind-address", "localhost"], "--bind-address 'localhost': must be an IP address"),
])
def test_addresses_are_ips_as_kube_apiservers_are(
        argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    with pytest.raises(SystemExit, match=message):
        main(argv)


@pytest.mark.parametrize(("argv", "message"), [
    (["--kubelet-client-certificate", "/x.crt"],
     "--kubelet-client-certificate and --kubelet-client-key go together"),
    (["--kubelet-client-key", "/x.key"],
     "--kubelet-client-certificate and --kubelet-client-key go together"),
    (["--kubelet-certificate-authority", "/nonexistent/ca.crt"],
     "--kubelet-certificate-authority /nonexistent/ca.crt: cannot be read"),
])
def test_bad_kubelet_client_flags_stop_the_apiserver_in_one_line(
        argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    with pytest.raises(SystemExit, match=message):
        main(argv)


@pytest.mark.parametrize(("address", "loopback"), [
    ("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.1.2.3", True),
    ("0.0.0.0", False), ("172.30.0.5", False), ("apiserver1", False)])
def test_agents_on_loopback_are_dialled_only_by_an_apiserver_on_loopback(
        address: str, loopback: bool) -> None:
    assert listens_on_loopback(address) is loopback
