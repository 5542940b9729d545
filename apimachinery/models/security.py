"""Typed security contexts (core/v1 PodSecurityContext, SecurityContext and their parts).

The shapes, wire names and protobuf numbers are Kubernetes'. Schooner's agent
applies none of it: a pod's or a container's security context is validated
for its types and stored as given, so a manifest written for Kubernetes is
accepted and reads back unchanged (and `kubectl explain` can describe it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import K8sModel
from apimachinery.models.schema import ProtobufHint, field

_STORED = "Stored; the agent does not apply it."


class SELinuxOptions(K8sModel):
    """An SELinux label for a pod or container."""

    user: Annotated[str | None, field(
        f"The SELinux user of the label. {_STORED}", protobuf=1)] = None
    role: Annotated[str | None, field(
        f"The SELinux role of the label. {_STORED}", protobuf=2)] = None
    type: Annotated[str | None, field(
        f"The SELinux type of the label. {_STORED}", protobuf=3)] = None
    level: Annotated[str | None, field(
        f"The SELinux level of the label. {_STORED}", protobuf=4)] = None


class WindowsSecurityContextOptions(K8sModel):
    """Windows-only settings: a GMSA credential spec, the user name, host-process mode."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "gmsaCredentialSpecName": "pointer", "gmsaCredentialSpec": "pointer",
        "runAsUserName": "pointer", "hostProcess": "pointer"}

    gmsa_credential_spec_name: Annotated[str | None, field(
        f"The GMSACredentialSpec resource to use. {_STORED}", protobuf=1)] = None
    gmsa_credential_spec: Annotated[str | None, field(
        f"The GMSA credential spec's content, inlined. {_STORED}", protobuf=2)] = None
    run_as_user_name: Annotated[str | None, field(
        f"The Windows user to run the entrypoint as. {_STORED}", protobuf=3)] = None
    host_process: Annotated[bool | None, field(
        f"Run as a Windows host process container. {_STORED}", protobuf=4)] = None


class SeccompProfile(K8sModel):
    """Which seccomp profile confines the processes."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"localhostProfile": "pointer"}

    type: Annotated[str | None, field(
        f"RuntimeDefault, Unconfined or Localhost. {_STORED}", protobuf=1)] = None
    localhost_profile: Annotated[str | None, field(
        f"For type Localhost, the profile's path on the node. {_STORED}",
        protobuf=2)] = None


class AppArmorProfile(K8sModel):
    """Which AppArmor profile confines the processes."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"localhostProfile": "pointer"}

    type: Annotated[str | None, field(
        f"RuntimeDefault, Unconfined or Localhost. {_STORED}", protobuf=1)] = None
    localhost_profile: Annotated[str | None, field(
        f"For type Localhost, the name of a profile loaded on the node. {_STORED}",
        protobuf=2)] = None


class Capabilities(K8sModel):
    """Linux capabilities to add to or drop from the runtime's default set."""

    add: Annotated[list[str] | None, field(
        f"Capabilities to add, e.g. NET_ADMIN. {_STORED}", protobuf=1,
        list_type="atomic")] = None
    drop: Annotated[list[str] | None, field(
        f"Capabilities to drop, e.g. ALL. {_STORED}", protobuf=2,
        list_type="atomic")] = None


class Sysctl(K8sModel):
    """One namespaced kernel parameter to set for the pod."""

    name: Annotated[str | None, field(
        f"The parameter, e.g. net.ipv4.ip_local_port_range. {_STORED}", protobuf=1)] = None
    value: Annotated[str | None, field(
        f"The value to set. {_STORED}", protobuf=2)] = None


class PodSecurityContext(K8sModel):
    """Users, groups and kernel settings for every container of the pod."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "runAsUser": "pointer", "runAsGroup": "pointer", "runAsNonRoot": "pointer",
        "supplementalGroupsPolicy": "pointer", "fsGroup": "pointer",
        "fsGroupChangePolicy": "pointer", "seLinuxChangePolicy": "pointer"}

    se_linux_options: Annotated[SELinuxOptions | None, field(
        f"The SELinux label of the pod's containers. {_STORED}", protobuf=1)] = None
    windows_options: Annotated[WindowsSecurityContextOptions | None, field(
        f"Windows settings of the pod's containers. {_STORED}", protobuf=8)] = None
    run_as_user: Annotated[int | None, field(
        f"The user ID the containers' processes run as. {_STORED}", protobuf=2)] = None
    run_as_group: Annotated[int | None, field(
        f"The primary group ID of the containers' processes. {_STORED}",
        protobuf=6)] = None
    run_as_non_root: Annotated[bool | None, field(
        f"When true, containers must not run as root. {_STORED}", protobuf=3)] = None
    supplemental_groups: Annotated[list[int] | None, field(
        f"Further group IDs of the containers' first processes. {_STORED}", protobuf=4,
        list_type="atomic")] = None
    supplemental_groups_policy: Annotated[str | None, field(
        f"Merge or Strict: whether the image's groups are added to those. {_STORED}",
        protobuf=12)] = None
    fs_group: Annotated[int | None, field(
        f"A group that owns the pod's volumes and is added to every container. {_STORED}",
        protobuf=5)] = None
    sysctls: Annotated[list[Sysctl] | None, field(
        f"Namespaced kernel parameters for the pod. {_STORED}", protobuf=7,
        list_type="atomic")] = None
    fs_group_change_policy: Annotated[str | None, field(
        f"OnRootMismatch or Always: when volumes' ownership is changed. {_STORED}",
        protobuf=9)] = None
    seccomp_profile: Annotated[SeccompProfile | None, field(
        f"The seccomp profile of the pod's containers. {_STORED}", protobuf=10)] = None
    app_armor_profile: Annotated[AppArmorProfile | None, field(
        f"The AppArmor profile of the pod's containers. {_STORED}", protobuf=11)] = None
    se_linux_change_policy: Annotated[str | None, field(
        f"MountOption or Recursive: how the SELinux label reaches volumes. {_STORED}",
        protobuf=13)] = None


class SecurityContext(K8sModel):
    """Users, capabilities and privileges for one container; over the pod's where both set."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "privileged": "pointer", "runAsUser": "pointer", "runAsGroup": "pointer",
        "runAsNonRoot": "pointer", "readOnlyRootFilesystem": "pointer",
        "allowPrivilegeEscalation": "pointer", "procMount": "pointer"}

    capabilities: Annotated[Capabilities | None, field(
        f"Capabilities to add and drop. {_STORED}", protobuf=1)] = None
    privileged: Annotated[bool | None, field(
        f"Run the container privileged, as root on the node. {_STORED}",
        protobuf=2)] = None
    se_linux_options: Annotated[SELinuxOptions | None, field(
        f"The container's SELinux label. {_STORED}", protobuf=3)] = None
    windows_options: Annotated[WindowsSecurityContextOptions | None, field(
        f"The container's Windows settings. {_STORED}", protobuf=10)] = None
    run_as_user: Annotated[int | None, field(
        f"The user ID the container's process runs as. {_STORED}", protobuf=4)] = None
    run_as_group: Annotated[int | None, field(
        f"The primary group ID of the container's process. {_STORED}",
        protobuf=8)] = None
    run_as_non_root: Annotated[bool | None, field(
        f"When true, the container must not run as root. {_STORED}", protobuf=5)] = None
    read_only_root_filesystem: Annotated[bool | None, field(
        f"Mount the container's root filesystem read-only. {_STORED}",
        protobuf=6)] = None
    allow_privilege_escalation: Annotated[bool | None, field(
        f"Whether a process may gain more privileges than its parent. {_STORED}",
        protobuf=7)] = None
    proc_mount: Annotated[str | None, field(
        f"Default or Unmasked: how /proc is mounted. {_STORED}", protobuf=9)] = None
    seccomp_profile: Annotated[SeccompProfile | None, field(
        f"The container's seccomp profile. {_STORED}", protobuf=11)] = None
    app_armor_profile: Annotated[AppArmorProfile | None, field(
        f"The container's AppArmor profile. {_STORED}", protobuf=12)] = None
