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
