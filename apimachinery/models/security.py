"""Typed security contexts (core/v1 PodSecurityContext, SecurityContext and their parts).

The shapes, wire names and protobuf numbers are Kubernetes'. Each field is
either applied by Schooner's agent (`_APPLIED`) or refused by the apiserver
with a 422 naming it (`_REFUSED`; apiserver/kinds/core/podtemplate/security.py),
so none is stored and ignored; docs/security.md lists which is which.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import K8sModel
from apimachinery.models.schema import ProtobufHint, field

_APPLIED = "Applied by Schooner's agent."
_REFUSED = "Refused by Schooner's apiserver (the agent cannot apply it)."


class SELinuxOptions(K8sModel):
    """An SELinux label for a pod or container."""

    user: Annotated[str | None, field(
        f"The SELinux user of the label. {_REFUSED}", protobuf=1)] = None
    role: Annotated[str | None, field(
        f"The SELinux role of the label. {_REFUSED}", protobuf=2)] = None
    type: Annotated[str | None, field(
        f"The SELinux type of the label. {_REFUSED}", protobuf=3)] = None
    level: Annotated[str | None, field(
        f"The SELinux level of the label. {_REFUSED}", protobuf=4)] = None


class WindowsSecurityContextOptions(K8sModel):
    """Windows-only settings: a GMSA credential spec, the user name, host-process mode."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "gmsaCredentialSpecName": "pointer", "gmsaCredentialSpec": "pointer",
        "runAsUserName": "pointer", "hostProcess": "pointer"}

    gmsa_credential_spec_name: Annotated[str | None, field(
        f"The GMSACredentialSpec resource to use. {_REFUSED}", protobuf=1)] = None
    gmsa_credential_spec: Annotated[str | None, field(
        f"The GMSA credential spec's content, inlined. {_REFUSED}", protobuf=2)] = None
    run_as_user_name: Annotated[str | None, field(
        f"The Windows user to run the entrypoint as. {_REFUSED}", protobuf=3)] = None
    host_process: Annotated[bool | None, field(
        f"Run as a Windows host process container. {_REFUSED}", protobuf=4)] = None


class SeccompProfile(K8sModel):
    """Which seccomp profile confines the processes."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"localhostProfile": "pointer"}

    type: Annotated[str | None, field(
        "RuntimeDefault (Docker's default profile) or Unconfined are applied; Localhost "
        f"is refused. {_APPLIED}", protobuf=1)] = None
    localhost_profile: Annotated[str | None, field(
        f"For type Localhost, the profile's path on the node. {_REFUSED}",
        protobuf=2)] = None


class AppArmorProfile(K8sModel):
    """Which AppArmor profile confines the processes."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"localhostProfile": "pointer"}

    type: Annotated[str | None, field(
        "RuntimeDefault (the engine's default) is accepted; Unconfined and Localhost "
        f"are refused. {_APPLIED}", protobuf=1)] = None
    localhost_profile: Annotated[str | None, field(
        f"For type Localhost, the name of a profile loaded on the node. {_REFUSED}",
        protobuf=2)] = None


class Capabilities(K8sModel):
    """Linux capabilities to add to or drop from the runtime's default set."""

    add: Annotated[list[str] | None, field(
        f"Capabilities to add, e.g. NET_ADMIN. {_APPLIED}", protobuf=1,
        list_type="atomic")] = None
    drop: Annotated[list[str] | None, field(
        f"Capabilities to drop, e.g. ALL. {_APPLIED}", protobuf=2,
        list_type="atomic")] = None


class Sysctl(K8sModel):
    """One namespaced kernel parameter to set for the pod."""

    name: Annotated[str | None, field(
        f"The parameter, e.g. net.ipv4.ip_local_port_range. {_REFUSED}", protobuf=1)] = None
    value: Annotated[str | None, field(
        f"The value to set. {_REFUSED}", protobuf=2)] = None


class PodSecurityContext(K8sModel):
    """Users, groups and kernel settings for every container of the pod."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "runAsUser": "pointer", "runAsGroup": "pointer", "runAsNonRoot": "pointer",
        "supplementalGroupsPolicy": "pointer", "fsGroup": "pointer",
        "fsGroupChangePolicy": "pointer", "seLinuxChangePolicy": "pointer"}

    se_linux_options: Annotated[SELinuxOptions | None, field(
        f"The SELinux label of the pod's containers. {_REFUSED}", protobuf=1)] = None
    windows_options: Annotated[WindowsSecurityContextOptions | None, field(
        f"Windows settings of the pod's containers. {_REFUSED}", protobuf=8)] = None
    run_as_user: Annotated[int | None, field(
        f"The user ID the containers' processes run as. {_APPLIED}", protobuf=2)] = None
    run_as_group: Annotated[int | None, field(
        f"The primary group ID of the containers' processes. {_APPLIED}",
        protobuf=6)] = None
    run_as_non_root: Annotated[bool | None, field(
        f"When true, containers must not run as root. {_APPLIED}", protobuf=3)] = None
    supplemental_groups: Annotated[list[int] | None, field(
        f"Further group IDs of the containers' first processes. {_APPLIED}", protobuf=4,
        list_type="atomic")] = None
    supplemental_groups_policy: Annotated[str | None, field(
        "Merge or Strict: whether the image's groups are added to those. Merge is "
        f"applied; Strict is refused. {_APPLIED}",
        protobuf=12)] = None
    fs_group: Annotated[int | None, field(
        f"A group that owns the pod's volumes and is added to every container. {_REFUSED}",
        protobuf=5)] = None
    sysctls: Annotated[list[Sysctl] | None, field(
        f"Namespaced kernel parameters for the pod. {_REFUSED}", protobuf=7,
        list_type="atomic")] = None
    fs_group_change_policy: Annotated[str | None, field(
        f"OnRootMismatch or Always: when volumes' ownership is changed. {_REFUSED}",
        protobuf=9)] = None
    seccomp_profile: Annotated[SeccompProfile | None, field(
        f"The seccomp profile of the pod's containers. {_APPLIED}", protobuf=10)] = None
    app_armor_profile: Annotated[AppArmorProfile | None, field(
        f"The AppArmor profile of the pod's containers (type RuntimeDefault only). {_APPLIED}",
        protobuf=11)] = None
    se_linux_change_policy: Annotated[str | None, field(
        f"MountOption or Recursive: how the SELinux label reaches volumes. {_REFUSED}",
        protobuf=13)] = None


class SecurityContext(K8sModel):
    """Users, capabilities and privileges for one container; over the pod's where both set."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "privileged": "pointer", "runAsUser": "pointer", "runAsGroup": "pointer",
        "runAsNonRoot": "pointer", "readOnlyRootFilesystem": "pointer",
        "allowPrivilegeEscalation": "pointer", "procMount": "pointer"}

    capabilities: Annotated[Capabilities | None, field(
        f"Capabilities to add and drop. {_APPLIED}", protobuf=1)] = None
    privileged: Annotated[bool | None, field(
        "Run the container privileged, as root on the node. true is refused: the Docker "
        f"engines of Schooner's nodes refuse privileged containers. {_REFUSED}",
        protobuf=2)] = None
    se_linux_options: Annotated[SELinuxOptions | None, field(
        f"The container's SELinux label. {_REFUSED}", protobuf=3)] = None
    windows_options: Annotated[WindowsSecurityContextOptions | None, field(
        f"The container's Windows settings. {_REFUSED}", protobuf=10)] = None
    run_as_user: Annotated[int | None, field(
        f"The user ID the container's process runs as. {_APPLIED}", protobuf=4)] = None
    run_as_group: Annotated[int | None, field(
        f"The primary group ID of the container's process. {_APPLIED}",
        protobuf=8)] = None
    run_as_non_root: Annotated[bool | None, field(
        f"When true, the container must not run as root. {_APPLIED}", protobuf=5)] = None
    read_only_root_filesystem: Annotated[bool | None, field(
        f"Mount the container's root filesystem read-only. {_APPLIED}",
        protobuf=6)] = None
    allow_privilege_escalation: Annotated[bool | None, field(
        f"Whether a process may gain more privileges than its parent. {_APPLIED}",
        protobuf=7)] = None
    proc_mount: Annotated[str | None, field(
        "Default or Unmasked: how /proc is mounted. Default is applied; Unmasked is "
        f"refused. {_APPLIED}", protobuf=9)] = None
    seccomp_profile: Annotated[SeccompProfile | None, field(
        f"The container's seccomp profile. {_APPLIED}", protobuf=11)] = None
    app_armor_profile: Annotated[AppArmorProfile | None, field(
        f"The container's AppArmor profile (type RuntimeDefault only). {_APPLIED}",
        protobuf=12)] = None
