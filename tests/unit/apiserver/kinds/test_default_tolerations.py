"""DefaultTolerationSeconds admission: a new pod tolerates a failed node for 300 s."""

from __future__ import annotations

import asyncio
from typing import Any

from apiserver.config import ServerConfig
from apiserver.kinds import registry
from apiserver.kinds.core.pod.tolerations import (
    admit_default_tolerations,
    remember_toleration_defaults,
)

PODS = registry().by_plural("pods").resource
NODES = registry().by_plural("nodes").resource
NOT_READY = {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300}
UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
               "effect": "NoExecute", "tolerationSeconds": 300}


class FakeRegistry:
    """Admission reads nothing from the registry; it only keys the configured seconds."""


def admit(reg: Any, obj: dict[str, Any], old: dict[str, Any] | None = None,
          resource: Any = PODS) -> dict[str, Any]:
    asyncio.run(admit_default_tolerations(reg, resource, "ns", obj, old))
    return obj


def pod(*tolerations: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "i"}]}
    if tolerations:
        spec["tolerations"] = list(tolerations)
    return {"metadata": {"name": "p"}, "spec": spec}


def test_a_new_pod_gets_both_tolerations_with_300_seconds() -> None:
    assert admit(FakeRegistry(), pod())["spec"]["tolerations"] == [NOT_READY, UNREACHABLE]


def test_a_pod_that_tolerates_already_keeps_its_own() -> None:
    own = {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
           "effect": "NoExecute", "tolerationSeconds": 6000}
    assert admit(FakeRegistry(), pod(own))["spec"]["tolerations"] == [own, NOT_READY]
    everything = {"operator": "Exists"}  # empty key and effect: tolerates both
    assert admit(FakeRegistry(), pod(everything))["spec"]["tolerations"] == [everything]
    no_schedule = {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                   "effect": "NoSchedule"}  # another effect: not a NoExecute toleration
    assert admit(FakeRegistry(), pod(no_schedule))["spec"]["tolerations"] == \
        [no_schedule, NOT_READY, UNREACHABLE]


def test_updates_and_other_kinds_are_left_alone() -> None:
    assert "tolerations" not in admit(FakeRegistry(), pod(), old=pod())["spec"]
    node: dict[str, Any] = {"metadata": {"name": "n"}, "spec": {}}
    assert admit(FakeRegistry(), node, resource=NODES) == {"metadata": {"name": "n"}, "spec": {}}


def test_the_seconds_come_from_the_apiserver_flags() -> None:
    reg = FakeRegistry()
    config = ServerConfig(etcd_servers=[], default_not_ready_toleration_seconds=10,
                          default_unreachable_toleration_seconds=20)
    asyncio.run(remember_toleration_defaults(reg, config))  # type: ignore[arg-type]
    seconds = [t["tolerationSeconds"] for t in admit(reg, pod())["spec"]["tolerations"]]
    assert seconds == [10, 20]
