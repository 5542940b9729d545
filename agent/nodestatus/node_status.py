"""The Node object: registration and periodic status (kubelet's nodestatus setters).

On start the agent creates its Node (or, when it exists, refreshes its labels
and status, keeping the spec: podCIDR and taints belong to others), then
patches the status every `--node-status-update-frequency`: capacity and
allocatable (CPUs, memory from /proc/meminfo, ephemeral storage, 110 pods),
addresses, nodeInfo, the daemon endpoint where the agent's server listens, and
the conditions with a fresh heartbeat. A condition's lastTransitionTime moves
only when its status changes, as in Kubernetes.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.runtime.container import ContainerRuntimeError
from apimachinery import errors, meta
from apimachinery.client import AsyncClient
from apimachinery.clock import Clock
from apimachinery.meta import Object

log = logging.getLogger(__name__)

KUBELET_VERSION = "v1.32.0-schooner"
MAX_PODS = 110
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
         "s390x": "s390x"}
# type -> (status when healthy, reason, message): kubelet's setters word them so.
CONDITIONS: dict[str, tuple[str, str, str]] = {
    "MemoryPressure": ("False", "KubeletHasSufficientMemory",
                       "kubelet has sufficient memory available"),
    "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
}
# type -> (status, reason, message) while the eviction manager reports the pressure
PRESSURE: dict[str, tuple[str, str, str]] = {
    "MemoryPressure": ("True", "KubeletHasInsufficientMemory",
                       "kubelet has insufficient memory available"),
    "DiskPressure": ("True", "KubeletHasDiskPressure", "kubelet has disk pressure"),
}


@dataclass(frozen=True)
class HostFacts:
    """What the node reports about the machine it runs on."""

    hostname: str
    cpus: int
    memory_kib: int
    ephemeral_bytes: int
    os_image: str
    kernel_version: str
    architecture: str
    machine_id: str = ""
    boot_id: str = ""


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.partition("=")[2].strip().strip('"')
    return platform.system()


def memory_kib(meminfo: str) -> int:
    """MemTotal from /proc/meminfo, in KiB."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def host_facts(root_dir: Path) -> HostFacts:
    """Read the machine's facts (blocking; call once, off the loop)."""
    root_dir.mkdir(parents=True, exist_ok=True)
    return HostFacts(
        hostname=platform.node(), cpus=os.cpu_count() or 1,
        memory_kib=memory_kib(_read("/proc/meminfo")),
        ephemeral_bytes=shutil.disk_usage(root_dir).total, os_image=_os_image(),
        kernel_version=platform.release(),
        architecture=_ARCH.get(platform.machine(), platform.machine()),
        machine_id=_read("/etc/machine-id"), boot_id=_read("/proc/sys/kernel/random/boot_id"))


def rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_conditions(now: datetime, old: list[Object] | None,
                    pressure: Collection[str] = ()) -> list[Object]:
    """The conditions; those in `pressure` (MemoryPressure, DiskPressure) say so."""
    previous = {c.get("type"): c for c in old or []}
    conditions = []
    for kind, healthy in CONDITIONS.items():
        status, reason, message = PRESSURE[kind] if kind in pressure else healthy
        before = previous.get(kind) or {}
        since = before.get("lastTransitionTime") if before.get("status") == status else None
        conditions.append({"type": kind, "status": status, "reason": reason,
                           "message": message, "lastHeartbeatTime": rfc3339(now),
                           "lastTransitionTime": since or rfc3339(now)})
    return conditions


def volumes_attached(claims: list[tuple[str, str, str]]) -> list[Object]:
    """`status.volumesAttached` from (namespace, claim, volume name) triples."""
    return [{"name": meta.attached_claim(ns, claim), "devicePath": volume}
            for ns, claim, volume in claims]


def node_status(facts: HostFacts, *, node_ip: str, port: int, runtime_version: str,
                now: datetime, old: Object | None = None,
                claims: list[tuple[str, str, str]] | None = None,
                pressure: Collection[str] = ()) -> Object:
    """The Node's status as the kubelet sets it (pure).

    `claims` (when known) become `volumesAttached`, written even when empty so a
    merge patch clears a claim the node no longer holds.
    """
    capacity = {"cpu": str(facts.cpus), "memory": f"{facts.memory_kib}Ki",
                "ephemeral-storage": str(facts.ephemeral_bytes), "pods": str(MAX_PODS)}
    return {
        "capacity": capacity, "allocatable": dict(capacity),
        "addresses": [{"type": "InternalIP", "address": node_ip},
                      {"type": "Hostname", "address": facts.hostname}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        "nodeInfo": {
            "machineID": facts.machine_id, "systemUUID": facts.machine_id,
            "bootID": facts.boot_id, "kernelVersion": facts.kernel_version,
            "osImage": facts.os_image, "containerRuntimeVersion": f"docker://{runtime_version}",
            "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
            "operatingSystem": "linux", "architecture": facts.architecture,
        },
        "conditions": node_conditions(now, (old or {}).get("conditions"), pressure),
        **({"volumesAttached": volumes_attached(claims)} if claims is not None else {}),
    }


def node_labels(name: str, facts: HostFacts) -> dict[str, str]:
    return {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": facts.architecture,
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": facts.architecture}


class NodeStatusManager:
    """Registers the Node and keeps its status fresh."""

    def __init__(self, client: AsyncClient, clock: Clock, *, name: str, node_ip: str,
                 port: int, runtime_version: str, facts: HostFacts,
                 claims: Callable[[], Awaitable[list[tuple[str, str, str]]]] | None = None,
                 extra_labels: dict[str, str] | None = None, spec: Object | None = None,
                 pressure: Callable[[], Collection[str]] | None = None) -> None:
        self.client, self.clock = client, clock
        self.name, self.node_ip, self.port = name, node_ip, port
        self.runtime_version, self.facts = runtime_version, facts
        self.claims = claims  # the runtime's claim volumes, reported as volumesAttached
        # Hollow nodes add their own label and bring their podCIDR (spec is used on create
        # only: an existing Node's spec belongs to others).
        self.extra_labels, self.spec = dict(extra_labels or {}), dict(spec or {})
        self.pressure = pressure  # the eviction manager's conditions under pressure
        self.node: Object = {}
        self._claims: list[tuple[str, str, str]] | None = None

    def _status(self, old: Object | None) -> Object:
        return node_status(self.facts, node_ip=self.node_ip, port=self.port,
                           runtime_version=self.runtime_version, now=self.clock.now(), old=old,
                           claims=self._claims,
                           pressure=self.pressure() if self.pressure is not None else ())

    async def _refresh_claims(self) -> None:
        if self.claims is None:
            return
        try:
            self._claims = await self.claims()
        except ContainerRuntimeError as exc:  # the engine hiccups: keep the last list
            log.warning("component=agent cannot list claim volumes node=%s error=%s", self.name,
                        exc)

    async def register(self) -> Object:
        """Create the Node, or refresh an existing one; the Node as stored."""
        await self._refresh_claims()
        labels = {**node_labels(self.name, self.facts), **self.extra_labels}
        try:
            self.node = await self.client.create("nodes", {
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.name, "labels": labels},
                "spec": dict(self.spec), "status": self._status(None)})
            log.info("component=agent node registered node=%s", self.name)
        except errors.AlreadyExists:
            await self.client.patch("nodes", self.name, {"metadata": {"labels": labels}})
            current = await self.client.get("nodes", self.name)
            self.node = await self.client.patch(
                "nodes", self.name, {"status": self._status(current.get("status"))},
                subresource="status")
            log.info("component=agent node re-registered node=%s", self.name)
        return self.node

    async def update(self) -> None:
        await self._refresh_claims()
        self.node = await self.client.patch(
            "nodes", self.name, {"status": self._status(self.node.get("status"))},
            subresource="status")

    async def run(self, period: float) -> None:
        """Patch the status every `period` seconds until cancelled; errors are retried."""
        while True:
            await self.clock.sleep(period)
            try:
                await self.update()
            except errors.NotFound:
                log.warning("component=agent node object missing node=%s; registering again",
                            self.name)
                await self._retry_register()
            except errors.APIError as exc:
                log.warning("component=agent node status update failed node=%s error=%s",
                            self.name, exc.message)

    async def _retry_register(self) -> None:
        try:
            await self.register()
        except errors.APIError as exc:
            log.warning("component=agent node registration failed node=%s error=%s", self.name,
                        exc.message)


async def register_with_retry(manager: NodeStatusManager, clock: Clock) -> Object:
    """Register, retrying with a capped back-off while the apiserver is unreachable."""
    delay = 0.5
    while True:
        try:
            return await manager.register()
        except errors.APIError as exc:
            log.warning("component=agent node registration failed node=%s error=%s; retrying in "
                        "%.1fs", manager.name, exc.message, delay)
        await clock.sleep(delay)
        delay = min(delay * 2, 10.0)


__all__ = ["HostFacts", "NodeStatusManager", "host_facts", "node_status",
           "register_with_retry"]
