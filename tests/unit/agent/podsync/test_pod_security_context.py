"""A pod's security context as the agent asks Docker for it, and the runAsNonRoot checks."""

from __future__ import annotations

from typing import Any

from agent.podsync.runspec import container_spec, host_ports, sandbox_spec
from agent.podsync.security import effective, security_spec, user_refusal
from agent.runtime.container import LABEL_HOST_NETWORK_IP, SecuritySpec, non_root_refusal
from agent.runtime.docker_runtime import record_from_inspect

META = {"name": "p", "namespace": "ns", "uid": "u-1"}


def _pod(container_sc: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if container_sc is not None:
        container["securityContext"] = container_sc
    return {"metadata": META, "spec": {"containers": [container], **spec}}


def _security(pod: dict[str, Any], pids: int | None = None) -> SecuritySpec:
    return security_spec(pod, pod["spec"]["containers"][0], pids_limit=pids)


def test_nothing_asked_is_docker_defaults_with_the_pids_limit() -> None:
    assert _security(_pod(), 512) == SecuritySpec(
        pids_limit=512, non_root_where='(pod: "p_ns(u-1)", container: c)')


def test_the_container_context_overrides_the_pods() -> None:
    pod = _pod({"runAsUser": 2000, "seccompProfile": {"type": "Unconfined"}},
               securityContext={"runAsUser": 1000, "runAsGroup": 3000, "runAsNonRoot": True,
                                "seccompProfile": {"type": "RuntimeDefault"},
                                "supplementalGroups": [5, 6]})
    assert effective(pod, pod["spec"]["containers"][0]) == {
        "runAsUser": 2000, "runAsGroup": 3000, "runAsNonRoot": True,
        "seccompProfile": {"type": "Unconfined"}}
    sec = _security(pod)
    assert sec.user == "2000:3000"
    assert sec.group_add == ("5", "6")
    assert sec.security_opt == ("seccomp=unconfined",)
    assert sec.run_as_non_root is False  # a runAsUser is given: no image check needed


def test_hardening_fields_become_docker_options() -> None:
    sec = _security(_pod({"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                          "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}},
                         hostPID=True, hostIPC=True))
    assert sec.read_only_rootfs and sec.host_pid and sec.host_ipc
    assert sec.cap_add == ("NET_BIND_SERVICE",) and sec.cap_drop == ("ALL",)
    assert sec.security_opt == ("no-new-privileges",)


def test_run_as_non_root_without_a_user_is_checked_against_the_image() -> None:
    sec = _security(_pod({"runAsNonRoot": True}))
    assert sec.run_as_non_root and sec.user is None
    where = sec.non_root_where
    assert non_root_refusal("", where) == \
        'container has runAsNonRoot and image will run as root (pod: "p_ns(u-1)", container: c)'
    assert non_root_refusal("0:0", where) is not None
    assert non_root_refusal("1000", where) is None
    assert non_root_refusal("nobody", where) == (
        "container has runAsNonRoot and image has non-numeric user (nobody), cannot verify "
        'user is non-root (pod: "p_ns(u-1)", container: c)')


def test_run_as_user_zero_breaks_run_as_non_root() -> None:
    pod = _pod({"runAsUser": 0}, securityContext={"runAsNonRoot": True})
    assert user_refusal(pod, pod["spec"]["containers"][0]) == \
        'container\'s runAsUser breaks non-root policy (pod: "p_ns(u-1)", container: c)'
    ok = _pod({"runAsUser": 10}, securityContext={"runAsNonRoot": True})
    assert user_refusal(ok, ok["spec"]["containers"][0]) is None


def test_the_sandbox_publishes_host_ports_and_runs_without_privileges() -> None:
    pod = _pod(hostIPC=True)
    pod["spec"]["containers"][0]["ports"] = [
        {"containerPort": 80, "hostPort": 8080},
        {"containerPort": 53, "protocol": "UDP", "hostPort": 5353, "hostIP": "127.0.0.1"},
        {"containerPort": 9000}]
    assert host_ports(pod) == ((80, "TCP", 8080, ""), (53, "UDP", 5353, "127.0.0.1"))
    sandbox = sandbox_spec(pod, attempt=0, image="pause", network="n", pids_limit=64)
    assert sandbox.published == host_ports(pod)
    assert sandbox.security == SecuritySpec(pids_limit=64, host_ipc=True, cap_drop=("ALL",),
                                            security_opt=("no-new-privileges",))
    app = container_spec(pod, pod["spec"]["containers"][0], sandbox_id="s", restart_count=0,
                         env={}, mounts=(), pids_limit=64)
    assert app.published == () and app.security.pids_limit == 64 and app.security.host_ipc


def test_a_host_network_sandbox_is_on_the_nodes_network_with_the_nodes_ip() -> None:
    pod = _pod(hostNetwork=True)
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 80}]
    sandbox = sandbox_spec(pod, attempt=0, image="pause", network="pods", node_ip="10.0.0.5")
    assert sandbox.network == "host" and sandbox.hostname is None
    assert sandbox.published == ()
    assert sandbox.labels[LABEL_HOST_NETWORK_IP] == "10.0.0.5"
    record = record_from_inspect({"Id": "s", "Config": {"Labels": sandbox.labels},
                                  "NetworkSettings": {"Networks": {"host": {}}}}, "pods")
    assert record.ip == "10.0.0.5"
    plain = sandbox_spec(_pod(), attempt=0, image="pause", network="pods", node_ip="10.0.0.5")
    assert plain.network == "pods" and LABEL_HOST_NETWORK_IP not in plain.labels
