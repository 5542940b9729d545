"""The Pod Security Standards' checks, with Kubernetes' reasons and details.

Each check looks at a pod spec (a dict, as stored) and returns None or a
violation: a short reason (`hostPath volumes`) and a detail naming what
violates it (`volume "root"`), worded as `k8s.io/pod-security-admission/policy`
words them, since `kubectl` users and scripts match on them. A level runs its
own checks and those of the levels below it, in the order of their IDs, each
only from the Kubernetes minor version that introduced it; a restricted check
that tightens a baseline one replaces it (`overrides`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from apiserver.kinds.core.podsecurity.levels import Level, LevelVersion

Spec = dict[str, Any]


@dataclass(frozen=True)
class Violation:
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


@dataclass(frozen=True)
class Check:
    id: str
    level: Level
    run: Callable[[Spec], Violation | None]
    since_minor: int = 0
    overrides: str = ""  # the baseline check's id this restricted check replaces


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def containers(spec: Spec) -> Iterator[dict[str, Any]]:
    """Every container of the pod: init, regular and ephemeral (visitContainers)."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from (c for c in _list(spec.get(key)) if isinstance(c, dict))


def _sc(container: dict[str, Any]) -> dict[str, Any]:
    return _dict(container.get("securityContext"))


def pluralize(one: str, many: str, count: int) -> str:
    return one if count == 1 else many


def join_quote(items: list[str]) -> str:
    return ", ".join(f'"{i}"' for i in items)


def _names(what: str, names: list[str]) -> str:
    return f"{pluralize(what, what + 's', len(names))} {join_quote(names)}"


def _setters(pod_bad: bool, bad: list[str]) -> str:
    """`pod`, `container "a"`, `pod and containers "a", "b"`: who set a bad value."""
    parts = (["pod"] if pod_bad else []) + ([_names("container", bad)] if bad else [])
    return " and ".join(parts)


# -- baseline -------------------------------------------------------------------------

DEFAULT_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})


def capabilities_baseline(spec: Spec) -> Violation | None:
    bad: list[str] = []
    caps: set[str] = set()
    for c in containers(spec):
        extra = [str(a) for a in _list(_dict(_sc(c).get("capabilities")).get("add"))
                 if a not in DEFAULT_CAPABILITIES]
        if extra:
            bad.append(str(c.get("name", "")))
            caps.update(extra)
    if not bad:
        return None
    return Violation("non-default capabilities",
                     f"{_names('container', bad)} must not include "
                     f"{join_quote(sorted(caps))} in securityContext.capabilities.add")


def host_namespaces(spec: Spec) -> Violation | None:
    used = sorted(k for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k) is True)
    return Violation("host namespaces", ", ".join(used)) if used else None


def host_path_volumes(spec: Spec) -> Violation | None:
    names = [str(v.get("name", "")) for v in _list(spec.get("volumes"))
             if isinstance(v, dict) and v.get("hostPath") is not None]
    return Violation("hostPath volumes", _names("volume", names)) if names else None


def host_ports(spec: Spec) -> Violation | None:
    bad: list[str] = []
    ports: set[str] = set()
    for c in containers(spec):
        used = [p.get("hostPort") for p in _list(c.get("ports"))
                if isinstance(p, dict) and p.get("hostPort")]
        if used:
            bad.append(str(c.get("name", "")))
            ports.update(str(p) for p in used)
    if not bad:
        return None
    return Violation("hostPort", f"{_names('container', bad)} "
                                 f"{pluralize('uses', 'use', len(bad))} "
                                 f"{pluralize('hostPort', 'hostPorts', len(ports))} "
                                 f"{', '.join(sorted(ports))}")


def privileged(spec: Spec) -> Violation | None:
    bad = [str(c.get("name", "")) for c in containers(spec) if _sc(c).get("privileged") is True]
    if not bad:
        return None
    return Violation("privileged",
                     f"{_names('container', bad)} must not set securityContext.privileged=true")


def proc_mount(spec: Spec) -> Violation | None:
    bad = [str(c.get("name", "")) for c in containers(spec)
           if _sc(c).get("procMount") not in (None, "Default")]
    if not bad:
        return None
    return Violation("procMount", f"{_names('container', bad)} must not set "
                                  "securityContext.procMount to \"Unmasked\"")


def _profile_type(context: dict[str, Any], key: str) -> str | None:
    value = _dict(context.get(key)).get("type")
    return None if value is None else str(value)


def seccomp_baseline(spec: Spec) -> Violation | None:
    pod_bad = _profile_type(_dict(spec.get("securityContext")), "seccompProfile") == "Unconfined"
    bad = [str(c.get("name", "")) for c in containers(spec)
           if _profile_type(_sc(c), "seccompProfile") == "Unconfined"]
    if not pod_bad and not bad:
        return None
    return Violation("seccompProfile", f"{_setters(pod_bad, bad)} must not set "
                                       'securityContext.seccompProfile.type to "Unconfined"')


def app_armor(spec: Spec) -> Violation | None:
    pod_bad = _profile_type(_dict(spec.get("securityContext")), "appArmorProfile") \
        == "Unconfined"
    bad = [str(c.get("name", "")) for c in containers(spec)
           if _profile_type(_sc(c), "appArmorProfile") == "Unconfined"]
    if not pod_bad and not bad:
        return None
    return Violation("forbidden AppArmor profile",
                     f"{_setters(pod_bad, bad)} must not set "
                     'securityContext.appArmorProfile.type to "Unconfined"')


_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t",
                            "container_engine_t"})


def _selinux_bad(context: dict[str, Any]) -> bool:
    options = _dict(context.get("seLinuxOptions"))
    return (str(options.get("type") or "") not in _SELINUX_TYPES
            or bool(options.get("user")) or bool(options.get("role")))


def selinux_options(spec: Spec) -> Violation | None:
    pod_bad = _selinux_bad(_dict(spec.get("securityContext")))
    bad = [str(c.get("name", "")) for c in containers(spec) if _selinux_bad(_sc(c))]
    if not pod_bad and not bad:
        return None
    return Violation("seLinuxOptions",
                     f"{_setters(pod_bad, bad)} set forbidden securityContext.seLinuxOptions")


SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes"})


def sysctls(spec: Spec) -> Violation | None:
    bad = [str(s.get("name", "")) for s in
           _list(_dict(spec.get("securityContext")).get("sysctls"))
           if isinstance(s, dict) and s.get("name") not in SAFE_SYSCTLS]
    return Violation("forbidden sysctls", ", ".join(bad)) if bad else None


def _host_process(context: dict[str, Any]) -> bool:
    return _dict(context.get("windowsOptions")).get("hostProcess") is True


def windows_host_process(spec: Spec) -> Violation | None:
    pod_bad = _host_process(_dict(spec.get("securityContext")))
    bad = [str(c.get("name", "")) for c in containers(spec) if _host_process(_sc(c))]
    if not pod_bad and not bad:
        return None
    return Violation("hostProcess", f"{_setters(pod_bad, bad)} must not set "
                                    "securityContext.windowsOptions.hostProcess=true")


# -- restricted -----------------------------------------------------------------------

def allow_privilege_escalation(spec: Spec) -> Violation | None:
    bad = [str(c.get("name", "")) for c in containers(spec)
           if _sc(c).get("allowPrivilegeEscalation") is not False]
    if not bad:
        return None
    return Violation("allowPrivilegeEscalation != false",
                     f"{_names('container', bad)} must set "
                     "securityContext.allowPrivilegeEscalation=false")


def capabilities_restricted(spec: Spec) -> Violation | None:
    missing_drop, adding, caps = [], [], set()
    for c in containers(spec):
        capabilities = _dict(_sc(c).get("capabilities"))
        if "ALL" not in _list(capabilities.get("drop")):
            missing_drop.append(str(c.get("name", "")))
        extra = [str(a) for a in _list(capabilities.get("add")) if a != "NET_BIND_SERVICE"]
        if extra:
            adding.append(str(c.get("name", "")))
            caps.update(extra)
    details = []
    if missing_drop:
        details.append(f"{_names('container', missing_drop)} must set "
                       'securityContext.capabilities.drop=["ALL"]')
    if adding:
        details.append(f"{_names('container', adding)} must not include "
                       f"{join_quote(sorted(caps))} in securityContext.capabilities.add")
    return Violation("unrestricted capabilities", "; ".join(details)) if details else None


_RESTRICTED_VOLUME_SOURCES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir",
                                        "ephemeral", "persistentVolumeClaim", "projected",
                                        "secret"})


def restricted_volumes(spec: Spec) -> Violation | None:
    bad, kinds = [], set()
    for v in _list(spec.get("volumes")):
        if not isinstance(v, dict):
            continue
        sources = [k for k in v if k != "name" and v[k] is not None]
        wrong = [k for k in sources if k not in _RESTRICTED_VOLUME_SOURCES]
        if wrong:
            bad.append(str(v.get("name", "")))
            kinds.update(wrong)
    if not bad:
        return None
    return Violation("restricted volume types",
                     f"{_names('volume', bad)} {pluralize('uses', 'use', len(bad))} "
                     f"restricted volume {pluralize('type', 'types', len(kinds))} "
                     f"{join_quote(sorted(kinds))}")


def _explicit(spec: Spec, key: str, bad_value: Any
              ) -> tuple[bool, bool, list[str], list[str]]:
    """(pod set the bad value, pod set a good one, containers that set it bad, containers
    that left it unset)."""
    pod_value = _dict(spec.get("securityContext")).get(key)
    explicit, implicit = [], []
    for c in containers(spec):
        value = _sc(c).get(key)
        if value is None:
            implicit.append(str(c.get("name", "")))
        elif value == bad_value:
            explicit.append(str(c.get("name", "")))
    return pod_value == bad_value, pod_value is not None and pod_value != bad_value, \
        explicit, implicit


def run_as_non_root(spec: Spec) -> Violation | None:
    pod_bad, pod_good, explicit, implicit = _explicit(spec, "runAsNonRoot", False)
    if pod_bad or explicit:
        return Violation("runAsNonRoot != true", f"{_setters(pod_bad, explicit)} must not "
                                                 "set securityContext.runAsNonRoot=false")
    if implicit and not pod_good:
        return Violation("runAsNonRoot != true", f"pod or {_names('container', implicit)} "
                                                 "must set securityContext.runAsNonRoot=true")
    return None


def run_as_user(spec: Spec) -> Violation | None:
    pod_bad = _dict(spec.get("securityContext")).get("runAsUser") == 0
    bad = [str(c.get("name", "")) for c in containers(spec) if _sc(c).get("runAsUser") == 0]
    if not pod_bad and not bad:
        return None
    return Violation("runAsUser=0", f"{_setters(pod_bad, bad)} must not set runAsUser=0")


_GOOD_SECCOMP = ("RuntimeDefault", "Localhost")


def seccomp_restricted(spec: Spec) -> Violation | None:
    pod_type = _profile_type(_dict(spec.get("securityContext")), "seccompProfile")
    pod_bad = pod_type is not None and pod_type not in _GOOD_SECCOMP
    pod_good = pod_type in _GOOD_SECCOMP
    explicit, implicit, values = [], [], set()
    if pod_bad:
        values.add(str(pod_type))
    for c in containers(spec):
        kind = _profile_type(_sc(c), "seccompProfile")
        if kind is None:
            implicit.append(str(c.get("name", "")))
        elif kind not in _GOOD_SECCOMP:
            explicit.append(str(c.get("name", "")))
            values.add(kind)
    if pod_bad or explicit:
        return Violation("seccompProfile", f"{_setters(pod_bad, explicit)} must not set "
                                           "securityContext.seccompProfile.type to "
                                           f"{join_quote(sorted(values))}")
    if implicit and not pod_good:
        return Violation("seccompProfile", f"pod or {_names('container', implicit)} must set "
                                           'securityContext.seccompProfile.type to '
                                           '"RuntimeDefault" or "Localhost"')
    return None


CHECKS = (
    Check("allowPrivilegeEscalation", Level.RESTRICTED, allow_privilege_escalation, 8),
    Check("appArmorProfile", Level.BASELINE, app_armor),
    Check("capabilities_baseline", Level.BASELINE, capabilities_baseline),
    Check("capabilities_restricted", Level.RESTRICTED, capabilities_restricted, 22,
          overrides="capabilities_baseline"),
    Check("hostNamespaces", Level.BASELINE, host_namespaces),
    Check("hostPathVolumes", Level.BASELINE, host_path_volumes),
    Check("hostPorts", Level.BASELINE, host_ports),
    Check("privileged", Level.BASELINE, privileged),
    Check("procMount", Level.BASELINE, proc_mount),
    Check("restrictedVolumes", Level.RESTRICTED, restricted_volumes,
          overrides="hostPathVolumes"),
    Check("runAsNonRoot", Level.RESTRICTED, run_as_non_root),
    Check("runAsUser", Level.RESTRICTED, run_as_user, 23),
    Check("seLinuxOptions", Level.BASELINE, selinux_options),
    Check("seccompProfile_baseline", Level.BASELINE, seccomp_baseline),
    Check("seccompProfile_restricted", Level.RESTRICTED, seccomp_restricted, 19,
          overrides="seccompProfile_baseline"),
    Check("sysctls", Level.BASELINE, sysctls),
    Check("windowsHostProcess", Level.BASELINE, windows_host_process),
)


def checks_for(target: LevelVersion) -> list[Check]:
    """The checks `target` runs: its level's and those below, at its version."""
    chosen = [c for c in CHECKS
              if c.level <= target.level and target.at_least(c.since_minor)]
    replaced = {c.overrides for c in chosen if c.overrides}
    return [c for c in chosen if c.id not in replaced]


def evaluate(spec: Spec, target: LevelVersion) -> list[Violation]:
    """Every violation of `target` by the pod spec; empty when it is allowed."""
    if target.level == Level.PRIVILEGED:
        return []
    found = (check.run(spec) for check in checks_for(target))
    return [v for v in found if v is not None]


def message(violations: list[Violation]) -> str:
    return ", ".join(str(v) for v in violations)
