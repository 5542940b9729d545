"""Each Pod Security check, with Kubernetes' reasons and details word for word."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.kinds.core.podsecurity.checks import checks_for, evaluate, message
from apiserver.kinds.core.podsecurity.levels import Level, LevelVersion

BASELINE = LevelVersion(Level.BASELINE)
RESTRICTED = LevelVersion(Level.RESTRICTED)


def _spec(**spec: Any) -> dict[str, Any]:
    spec.setdefault("containers", [{"name": "c", "image": "busybox"}])
    return spec


def _restricted_container(name: str = "c", **sc: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, **sc}}


def _restricted_spec(**spec: Any) -> dict[str, Any]:
    spec.setdefault("containers", [_restricted_container()])
    spec.setdefault("securityContext", {"runAsNonRoot": True,
                                        "seccompProfile": {"type": "RuntimeDefault"}})
    return spec


def _baseline(spec: dict[str, Any]) -> str:
    return message(evaluate(spec, BASELINE))


def _restricted(spec: dict[str, Any]) -> str:
    return message(evaluate(spec, RESTRICTED))


def test_a_plain_pod_meets_baseline_and_privileged_allows_anything() -> None:
    assert evaluate(_spec(), BASELINE) == []
    bad = _spec(hostNetwork=True, volumes=[{"name": "root", "hostPath": {"path": "/"}}])
    assert evaluate(bad, LevelVersion(Level.PRIVILEGED)) == []


def test_host_path_volumes() -> None:
    one = _spec(volumes=[{"name": "root", "hostPath": {"path": "/"}},
                         {"name": "tmp", "emptyDir": {}}])
    assert _baseline(one) == 'hostPath volumes (volume "root")'
    two = _spec(volumes=[{"name": "root", "hostPath": {"path": "/"}},
                         {"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}])
    assert _baseline(two) == 'hostPath volumes (volumes "root", "sock")'


def test_host_namespaces_are_named_sorted() -> None:
    assert _baseline(_spec(hostPID=True, hostNetwork=True, hostIPC=False)) == \
        "host namespaces (hostNetwork, hostPID)"


def test_host_ports() -> None:
    spec = _spec(containers=[
        {"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]},
        {"name": "b", "image": "x", "ports": [{"containerPort": 81, "hostPort": 8081},
                                             {"containerPort": 82}]}])
    assert _baseline(spec) == 'hostPort (containers "a", "b" use hostPorts 8080, 8081)'
    one = _spec(containers=[{"name": "a", "image": "x",
                             "ports": [{"containerPort": 80, "hostPort": 8080}]}])
    assert _baseline(one) == 'hostPort (container "a" uses hostPort 8080)'


def test_privileged_and_capabilities_beyond_the_default_set() -> None:
    spec = _spec(containers=[{"name": "a", "image": "x", "securityContext": {
        "privileged": True, "capabilities": {"add": ["SYS_ADMIN", "CHOWN", "NET_ADMIN"]}}}])
    assert _baseline(spec) == (
        'non-default capabilities (container "a" must not include "NET_ADMIN", "SYS_ADMIN" '
        'in securityContext.capabilities.add), '
        'privileged (container "a" must not set securityContext.privileged=true)')
    assert _baseline(_spec(containers=[{"name": "a", "image": "x", "securityContext": {
        "capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE"]}}}])) == ""


def test_seccomp_apparmor_procmount_sysctls_selinux_hostprocess() -> None:
    spec = _spec(
        securityContext={"seccompProfile": {"type": "Unconfined"},
                         "sysctls": [{"name": "kernel.msgmax", "value": "1"},
                                     {"name": "net.ipv4.tcp_syncookies", "value": "1"}],
                         "seLinuxOptions": {"type": "spc_t"}},
        containers=[{"name": "a", "image": "x", "securityContext": {
            "procMount": "Unmasked", "appArmorProfile": {"type": "Unconfined"},
            "windowsOptions": {"hostProcess": True}}}])
    assert [v.reason for v in evaluate(spec, BASELINE)] == [
        "forbidden AppArmor profile", "procMount", "seLinuxOptions", "seccompProfile",
        "forbidden sysctls", "hostProcess"]
    details = {v.reason: v.detail for v in evaluate(spec, BASELINE)}
    assert details["seccompProfile"] == \
        'pod must not set securityContext.seccompProfile.type to "Unconfined"'
    assert details["forbidden sysctls"] == "kernel.msgmax"
    assert details["procMount"] == \
        'container "a" must not set securityContext.procMount to "Unmasked"'


def test_a_pod_meeting_restricted_passes_it() -> None:
    assert evaluate(_restricted_spec(), RESTRICTED) == []


def test_restricted_names_every_missing_setting_in_kubernetes_order() -> None:
    assert _restricted(_spec()) == (
        'allowPrivilegeEscalation != false (container "c" must set '
        'securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "c" must set '
        'securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "c" must set '
        'securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type '
        'to "RuntimeDefault" or "Localhost")')


def test_restricted_explicit_bad_values() -> None:
    spec = _restricted_spec(
        securityContext={"runAsNonRoot": False, "runAsUser": 0,
                         "seccompProfile": {"type": "RuntimeDefault"}},
        containers=[_restricted_container("a", capabilities={
            "drop": ["ALL"], "add": ["NET_BIND_SERVICE", "NET_RAW"]})])
    assert _restricted(spec) == (
        'unrestricted capabilities (container "a" must not include "NET_RAW" in '
        'securityContext.capabilities.add), '
        'runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false), '
        'runAsUser=0 (pod must not set runAsUser=0)')


def test_restricted_volume_types_replace_the_host_path_check() -> None:
    spec = _restricted_spec(volumes=[{"name": "root", "hostPath": {"path": "/"}},
                                     {"name": "cfg", "configMap": {"name": "c"}}])
    assert _restricted(spec) == ('restricted volume types (volume "root" uses restricted '
                                 'volume type "hostPath")')


def test_container_level_settings_satisfy_restricted_without_pod_level_ones() -> None:
    spec = {"containers": [_restricted_container(
        runAsNonRoot=True, seccompProfile={"type": "Localhost", "localhostProfile": "p"})]}
    assert evaluate(spec, RESTRICTED) == []


def test_init_and_ephemeral_containers_are_judged_too() -> None:
    spec = _spec(initContainers=[{"name": "init", "image": "x",
                                  "securityContext": {"privileged": True}}])
    assert _baseline(spec) == \
        'privileged (container "init" must not set securityContext.privileged=true)'


@pytest.mark.parametrize(("minor", "absent"), [
    (21, {"capabilities_restricted", "runAsUser"}),
    (22, {"runAsUser"}),
    (None, set())])
def test_versions_pick_the_checks_of_their_time(minor: int | None, absent: set[str]) -> None:
    ids = {c.id for c in checks_for(LevelVersion(Level.RESTRICTED, minor))}
    assert not ids & absent
    assert ({"capabilities_restricted", "runAsUser"} - absent) <= ids
    if minor == 21:  # the baseline check still counts where the restricted one is not yet
        assert "capabilities_baseline" in ids
