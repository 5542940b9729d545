"""A container's security context as Docker is asked for it (pure functions).

Mirrors the kubelet's `DetermineEffectiveSecurityContext` (the container's
settings over the pod's) and what kuberuntime asks of the runtime: the user
and group (`--user uid:gid`), supplemental groups, a read-only root
filesystem, capabilities added and dropped, `no-new-privileges` for
`allowPrivilegeEscalation: false`, the seccomp profile (Docker's default is
RuntimeDefault; `Unconfined` turns it off), the host's PID and IPC
namespaces, and the node's pids limit (the host network and hostPorts are the
sandbox's: runspec.py). The apiserver refuses what cannot be
carried here (privileged, SELinux, AppArmor other than the runtime's
default, Localhost seccomp profiles, fsGroup, ...), so nothing a pod asks
for is dropped on the way. `runAsNonRoot` is checked against the image's
user when the container is created (`runtime.container.non_root_refusal`), and a
runAsUser of 0 under runAsNonRoot before that (`user_refusal`).
"""

from __future__ import annotations

from typing import Any

from agent.runtime.container import SecuritySpec
from apimachinery.meta import Object


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def effective(pod: Object, container: Object) -> dict[str, Any]:
    """The container's security context with the pod's filling what it leaves unset."""
    pod_sc = _dict(_dict(pod.get("spec")).get("securityContext"))
    merged = {k: pod_sc[k] for k in ("runAsUser", "runAsGroup", "runAsNonRoot",
                                     "seccompProfile") if pod_sc.get(k) is not None}
    merged.update({k: v for k, v in _dict(container.get("securityContext")).items()
                   if v is not None})
    return merged


def _user(sc: dict[str, Any]) -> str | None:
    """`uid` or `uid:gid` (the apiserver refuses runAsGroup without a runAsUser: Docker's
    `--user` cannot give the image's user another primary group)."""
    uid, gid = sc.get("runAsUser"), sc.get("runAsGroup")
    if uid is None:
        return None
    return f"{uid}:{gid}" if gid is not None else str(uid)


def security_spec(pod: Object, container: Object, *, pids_limit: int | None) -> SecuritySpec:
    sc = effective(pod, container)
    spec = _dict(pod.get("spec"))
    groups = [str(g) for g in _dict(spec.get("securityContext")).get("supplementalGroups")
              or []]
    capabilities = _dict(sc.get("capabilities"))
    seccomp = _dict(sc.get("seccompProfile")).get("type")
    options = []
    if sc.get("allowPrivilegeEscalation") is False:
        options.append("no-new-privileges")
    if seccomp == "Unconfined":
        options.append("seccomp=unconfined")
    return SecuritySpec(
        user=_user(sc), group_add=tuple(groups),
        read_only_rootfs=sc.get("readOnlyRootFilesystem") is True,
        cap_add=tuple(str(c) for c in capabilities.get("add") or ()),
        cap_drop=tuple(str(c) for c in capabilities.get("drop") or ()),
        security_opt=tuple(options), pids_limit=pids_limit,
        host_pid=spec.get("hostPID") is True, host_ipc=spec.get("hostIPC") is True,
        run_as_non_root=sc.get("runAsNonRoot") is True and sc.get("runAsUser") is None,
        non_root_where=f'(pod: "{_pod_ref(pod)}", container: {container.get("name")})')


def _pod_ref(pod: Object) -> str:
    """The kubelet's `format.Pod`: `name_namespace(uid)`."""
    meta = _dict(pod.get("metadata"))
    return f"{meta.get('name')}_{meta.get('namespace')}({meta.get('uid')})"


def user_refusal(pod: Object, container: Object) -> str | None:
    """runAsNonRoot with runAsUser 0: the kubelet's refusal before any image is looked at."""
    sc = effective(pod, container)
    if sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 0:
        return ("container's runAsUser breaks non-root policy "
                f'(pod: "{_pod_ref(pod)}", container: {container.get("name")})')
    return None
