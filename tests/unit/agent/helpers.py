"""Builders for agent unit tests: pods as the apiserver stores them, containers as inspected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent.podsync.runspec import container_hash
from agent.runtime.container import ContainerRecord, State
from apimachinery.meta import Object

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
UID = "uid-1"


def spec_container(name: str, **extra: Any) -> Object:
    return {"name": name, "image": "schooner/busybox:latest", "imagePullPolicy": "Never",
            **extra}


def make_pod(*names: str, policy: str = "Always", phase: str = "Pending",
             deleting: bool = False, grace: int | None = None, **status: Any) -> Object:
    meta: Object = {"name": "p", "namespace": "ns", "uid": UID, "resourceVersion": "5"}
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T12:00:30Z"
        meta["deletionGracePeriodSeconds"] = 30 if grace is None else grace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": "n1", "restartPolicy": policy,
                     "terminationGracePeriodSeconds": 30,
                     "containers": [spec_container(n) for n in names]},
            "status": {"phase": phase, "qosClass": "BestEffort", **status}}


def rec(name: str, *, cid: str | None = None, state: State = State.RUNNING,
        exit_code: int | None = None, restarts: int = 0, sandbox: bool = False,
        ended_ago: float | None = None, oom: bool = False, error: str = "",
        spec: Object | None = None, ip: str = "", image_id: str = "sha256:img") -> ContainerRecord:
    """A container record; `ended_ago` seconds before NOW it finished (exited ones)."""
    finished = NOW - timedelta(seconds=ended_ago) if ended_ago is not None else None
    if state is State.EXITED and finished is None:
        finished = NOW - timedelta(seconds=1)
    return ContainerRecord(
        id=cid or f"{name}-{restarts}{'-sb' if sandbox else ''}", name=name, pod_uid=UID,
        pod_name="p", pod_namespace="ns", sandbox=sandbox, restart_count=restarts,
        state=state, exit_code=exit_code if exit_code is not None else (
            0 if state is State.RUNNING else None),
        oom_killed=oom, error=error,
        created_at=NOW - timedelta(seconds=100 - restarts),
        started_at=NOW - timedelta(seconds=90 - restarts) if state is not State.CREATED
        else None,
        finished_at=finished, image="schooner/busybox:latest", image_id=image_id, ip=ip,
        spec_hash=container_hash(spec) if spec is not None else "")


def sandbox(running: bool = True, attempt: int = 0) -> ContainerRecord:
    return rec("POD", sandbox=True, restarts=attempt, ip="10.0.0.5",
               state=State.RUNNING if running else State.EXITED,
               exit_code=None if running else 0)
