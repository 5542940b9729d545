"""terminationMessagePath and FallbackToLogsOnError for real: the agent, Docker, the apiserver.

One pod, two containers that exit at once: one writes its message to a custom path as a
non-root user with a read-only root filesystem, the other writes nothing and fails, so
its last log lines stand in (FallbackToLogsOnError)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from apimachinery.meta import Object

if TYPE_CHECKING:
    from tests.e2e.conftest import AgentNode

pytestmark = pytest.mark.e2e
IMAGE = "schooner/busybox:latest"


def _terminated(pod: Object) -> dict[str, Object]:
    return {cs["name"]: cs["state"]["terminated"]
            for cs in pod["status"].get("containerStatuses") or []
            if "terminated" in cs.get("state", {})}


def test_termination_messages_reach_the_status(agent: AgentNode) -> None:
    agent.create_pod("bye", [
        {"name": "file", "image": IMAGE, "imagePullPolicy": "Never",
         "command": ["sh", "-c", "echo -n 'wrote my own' > /tmp/msg; exit 3"],
         "terminationMessagePath": "/tmp/msg",
         "securityContext": {"runAsUser": 1000, "readOnlyRootFilesystem": True}},
        {"name": "logs", "image": IMAGE, "imagePullPolicy": "Never",
         "command": ["sh", "-c", "for i in $(seq 1 100); do echo line $i; done; exit 1"],
         "terminationMessagePolicy": "FallbackToLogsOnError"},
    ], restartPolicy="Never")
    pod = agent.wait_pod("bye", lambda p: len(_terminated(p)) == 2 and p,
                         "both containers terminated")
    done = _terminated(pod)
    assert (done["file"]["exitCode"], done["file"].get("message")) == (3, "wrote my own")
    lines = done["logs"]["message"].splitlines()
    assert done["logs"]["exitCode"] == 1
    assert (lines[0], lines[-1], len(lines)) == ("line 21", "line 100", 80)
