"""Every line the apiserver logs says who logs it: `component=apiserver`, as the others do."""

from __future__ import annotations

from pathlib import Path

import apiserver
from tests.unit.log_calls import unlabelled


def test_every_apiserver_log_line_starts_with_its_component() -> None:
    count, missing = unlabelled(Path(apiserver.__file__).parent, "apiserver")
    assert count > 10  # the scan sees the apiserver's log calls
    assert missing == {}
