"""How a `docker inspect` document becomes a ContainerRecord."""

from __future__ import annotations

from agent.runtime.container import State
from agent.runtime.docker_runtime import record_from_inspect


def test_record_from_inspect() -> None:
    data = {"Id": "abc", "Created": "2024-01-01T11:00:00.123456789Z", "Image": "sha256:i",
            "Config": {"Image": "schooner/busybox:latest", "Labels": {
                "schooner.pod.uid": "u", "schooner.pod.name": "p", "schooner.pod.namespace": "ns",
                "schooner.container.name": "a", "schooner.container.restart-count": "2",
                "schooner.container.hash": "h"}},
            "State": {"Status": "exited", "ExitCode": 137, "OOMKilled": True, "Error": "",
                      "StartedAt": "2024-01-01T11:00:01Z",
                      "FinishedAt": "2024-01-01T11:00:02.5Z"},
            "NetworkSettings": {"Networks": {"pods": {"IPAddress": "10.0.0.9"}}}}
    record = record_from_inspect(data, "pods")
    assert (record.name, record.pod_uid, record.restart_count) == ("a", "u", 2)
    assert record.state is State.EXITED and record.dead and record.oom_killed
    assert (record.exit_code, record.ip, record.spec_hash) == (137, "10.0.0.9", "h")
    assert record.finished_at is not None and record.finished_at.microsecond == 500000
    never = record_from_inspect({**data, "State": {"Status": "created",
                                                   "FinishedAt": "0001-01-01T00:00:00Z"}},
                                "pods")
    assert never.pending and never.finished_at is None
