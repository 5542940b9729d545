"""The flags that keep a node up for months: names, defaults and checks as the kubelet's."""

from __future__ import annotations

import pytest

from agent.imagegc.manager import ImageGCConfig
from agent.imagegc.policy import Thresholds
from agent.main import config_from, parse_args


def test_log_rotation_flags() -> None:
    args = parse_args([])
    assert (args.container_log_max_size, args.container_log_max_files) == (10 * 1024**2, 5)
    small = parse_args(["--container-log-max-size", "16Ki", "--container-log-max-files", "3"])
    assert (small.container_log_max_size, small.container_log_max_files) == (16384, 3)


def test_image_gc_flags() -> None:
    config = config_from(parse_args([]))
    assert config.image_gc == ImageGCConfig(Thresholds(85, 80, 120.0), 300.0, "")
    off = config_from(parse_args(["--image-gc-high-threshold", "100",
                                  "--image-gc-low-threshold", "90",
                                  "--minimum-image-gc-age", "1m"]))
    assert off.image_gc.thresholds == Thresholds(100, 90, 60.0)


@pytest.mark.parametrize(("argv", "words"), [
    (["--image-gc-high-threshold", "101"], "must be between 0 and 100"),
    (["--image-gc-low-threshold", "-1"], "must be between 0 and 100"),
    (["--image-gc-high-threshold", "70"],
     "--image-gc-low-threshold (80) must not be above --image-gc-high-threshold (70)"),
    (["--container-log-max-files", "1"], "--container-log-max-files must be at least 2"),
    (["--container-log-max-size", "10"], "--container-log-max-size must be at least 1Ki"),
    (["--container-log-max-size", "ten"], "invalid quantity"),
])
def test_bad_node_health_flags(argv: list[str], words: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert words in capsys.readouterr().err
