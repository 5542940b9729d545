"""`schooner-scheduler` flags."""

from __future__ import annotations

import pytest

from scheduler.main import parse_args


def test_defaults() -> None:
    args = parse_args([])
    assert (args.kubeconfig, args.scheduler_name, args.workers, args.v) == (
        None, "default-scheduler", 1, 0)
    assert (args.pod_initial_backoff_seconds, args.pod_max_backoff_seconds) == (1.0, 10.0)


def test_flags() -> None:
    args = parse_args(["--kubeconfig", "/tmp/kc", "--scheduler-name", "gpu", "--workers", "4",
                       "-v", "2"])
    assert (args.kubeconfig, args.scheduler_name, args.workers, args.v) == (
        "/tmp/kc", "gpu", 4, 2)


def test_workers_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--workers", "0"])
    assert "--workers must be at least 1" in capsys.readouterr().err
