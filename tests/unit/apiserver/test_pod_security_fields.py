"""Security fields the agent cannot carry are refused at validation, each named."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.kinds.core.podtemplate import validate_pod_spec


def _fields(spec: dict[str, Any]) -> list[str]:
    spec.setdefault("containers", [{"name": "c", "image": "x"}])
    return [e.path for e in validate_pod_spec(spec, "spec")]


def _container(**sc: Any) -> dict[str, Any]:
    return {"containers": [{"name": "c", "image": "x", "securityContext": sc}]}


def test_what_the_agent_carries_is_valid() -> None:
    assert _fields({"hostPID": True, "hostIPC": True, "hostNetwork": True, "securityContext": {
        "runAsUser": 1, "runAsGroup": 2, "runAsNonRoot": True, "supplementalGroups": [3],
        "supplementalGroupsPolicy": "Merge", "seccompProfile": {"type": "Unconfined"},
        "appArmorProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "c", "image": "x", "ports": [
            {"containerPort": 80, "hostPort": 80, "hostIP": "127.0.0.1"},
            {"containerPort": 81}],
            "securityContext": {
                "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                "privileged": False, "procMount": "Default",
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}}}]}) == []


@pytest.mark.parametrize(("spec", "path"), [
    (_container(privileged=True), "spec.containers[0].securityContext.privileged"),
    (_container(procMount="Unmasked"), "spec.containers[0].securityContext.procMount"),
    (_container(seLinuxOptions={"type": "t"}),
     "spec.containers[0].securityContext.seLinuxOptions"),
    (_container(seccompProfile={"type": "Localhost", "localhostProfile": "p"}),
     "spec.containers[0].securityContext.seccompProfile.type"),
    (_container(appArmorProfile={"type": "Unconfined"}),
     "spec.containers[0].securityContext.appArmorProfile.type"),
    (_container(runAsGroup=5), "spec.containers[0].securityContext.runAsGroup"),
    ({"securityContext": {"runAsGroup": 5}}, "spec.securityContext.runAsGroup"),
    ({"securityContext": {"fsGroup": 5}}, "spec.securityContext.fsGroup"),
    ({"securityContext": {"fsGroupChangePolicy": "Always"}},
     "spec.securityContext.fsGroupChangePolicy"),
    ({"securityContext": {"sysctls": [{"name": "a", "value": "b"}]}},
     "spec.securityContext.sysctls"),
    ({"securityContext": {"windowsOptions": {}}}, "spec.securityContext.windowsOptions"),
    ({"securityContext": {"supplementalGroupsPolicy": "Strict"}},
     "spec.securityContext.supplementalGroupsPolicy"),
    ({"hostNetwork": True, "containers": [{"name": "c", "image": "x", "ports": [
        {"containerPort": 80, "hostPort": 8080}]}]}, "spec.containers[0].ports[0].hostPort"),
    ({"containers": [{"name": "c", "image": "x",
                      "ports": [{"containerPort": 80, "hostIP": "1.2.3.4"}]}]},
     "spec.containers[0].ports[0].hostIP"),
])
def test_what_the_agent_cannot_carry_is_refused(spec: dict[str, Any], path: str) -> None:
    assert _fields(spec) == [path]


def test_a_pod_level_user_lets_a_container_set_its_group() -> None:
    assert _fields({"securityContext": {"runAsUser": 1},
                    "containers": [{"name": "c", "image": "x",
                                    "securityContext": {"runAsGroup": 2}}]}) == []
