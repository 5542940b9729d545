"""The agent's flags: Kubernetes-style names, Go-style durations, the hidden back-off knobs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from agent.main import config_from, default_root_dir, duration, parse_args


@pytest.mark.parametrize(("text", "seconds"), [
    ("10s", 10.0), ("1m", 60.0), ("500ms", 0.5), ("2", 2.0), ("1.5h", 5400.0)])
def test_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration("ten seconds")


def test_defaults_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHOONER_HOME", str(tmp_path))
    assert default_root_dir() == str(tmp_path / "agent")
    config = config_from(parse_args(["--node-name", "n1", "--root-dir", str(tmp_path)]))
    assert (config.node_ip, config.port, config.pod_cidr) == ("127.0.0.1", 10250,
                                                              "172.28.1.0/24")
    assert (config.network_name, config.backoff_base, config.backoff_max) == (
        "schooner-pods", 10.0, 300.0)
    assert config.node_status_update_frequency == 10.0
    fast = config_from(parse_args(["--node-name", "n1", "--backoff-base", "1s",
                                   "--sync-frequency", "2s", "--port", "0"]))
    assert (fast.backoff_base, fast.sync_frequency, fast.port) == (1.0, 2.0, 0)


def test_network_and_dns_flags_are_off_by_default() -> None:
    config = config_from(parse_args(["--node-name", "n1"]))
    assert (config.cluster_cidr, config.cluster_dns, config.cluster_domain) == (
        "", (), "cluster.local")
    assert config.pod_cidr_timeout == 300.0
    lab = config_from(parse_args([
        "--node-name", "n1", "--cluster-cidr", "172.30.128.0/17",
        "--cluster-dns", "172.30.255.10", "--cluster-domain", "lab.local",
        "--pod-cidr-timeout", "1m"]))
    assert (lab.cluster_cidr, lab.cluster_dns, lab.cluster_domain, lab.pod_cidr_timeout) == (
        "172.30.128.0/17", ("172.30.255.10",), "lab.local", 60.0)
    two = parse_args(["--cluster-dns", "10.0.0.10, 10.0.0.11"])
    assert two.cluster_dns == ("10.0.0.10", "10.0.0.11")


@pytest.mark.parametrize("argv", [["--cluster-cidr", "172.30.128.1/17"],
                                  ["--cluster-cidr", "nope"],
                                  ["--cluster-dns", "dns.example"]])
def test_bad_network_flags(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert "invalid" in capsys.readouterr().err
