"""Every line the agent logs says who logs it: `component=agent`, as the other components do."""

from __future__ import annotations

from pathlib import Path

import agent
from tests.unit.log_calls import unlabelled


def test_every_agent_log_line_starts_with_its_component() -> None:
    count, missing = unlabelled(Path(agent.__file__).parent, "agent")
    assert count > 40  # the scan sees the agent's log calls
    assert missing == {}
