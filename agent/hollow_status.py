"""The pure parts of hollow nodes: names, pod CIDRs, fake pod IPs, a hollow pod's status.

Kubernetes' kubemark runs a real kubelet over a fake container runtime; a
Schooner hollow node does the same in spirit: a pod's status comes from the
agent's own `compute_pod_status`, fed with `ContainerRecord`s that say every
container (and the sandbox, holding the pod IP) is running. So a hollow pod
looks exactly like a real one to the scheduler, controllers and CLI, except
that its containerIDs read `hollow://...` and nothing runs.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime
from typing import Any

from agent.actions import PodObservation
from agent.container import SANDBOX_NAME, ContainerRecord, State
from agent.node_status import HostFacts
from agent.status import compute_pod_status
from apimachinery import meta

Object = dict[str, Any]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HOLLOW_LABEL = "schooner.io/hollow"
RUNTIME_SCHEME = "hollow"
RUNTIME_VERSION = "1.0.0"


class PodIPsExhausted(Exception):
    """A hollow node's podCIDR has no free address left."""


def node_names(prefix: str, count: int) -> list[str]:
    """`PREFIX-0` .. `PREFIX-(count-1)`: the names one hollow process stands for."""
    if count < 0:
        raise ValueError(f"node count must not be negative, got {count}")
    return [f"{prefix}{i}" for i in range(count)]


def node_pod_cidr(index: int, cluster_cidr: str, mask_size: int) -> str:
    """The `index`-th `/mask_size` subnet of `cluster_cidr`: node i's own podCIDR.

    Computed, not allocated, so every hollow node gets the same CIDR on every
    restart and no two share one (the node IPAM controller, when it runs,
    sees them set and marks them used).
    """
    network = ipaddress.ip_network(cluster_cidr, strict=False)
    if mask_size < network.prefixlen or mask_size > network.max_prefixlen:
        raise ValueError(f"mask size /{mask_size} does not fit in {network}")
    count = 1 << (mask_size - network.prefixlen)
    if not 0 <= index < count:
        raise ValueError(f"{network} holds {count} /{mask_size} subnets; node index {index} "
                         "is out of range")
    size = 1 << (network.max_prefixlen - mask_size)
    first = ipaddress.ip_address(int(network.network_address) + index * size)
    return str(ipaddress.ip_network(f"{first}/{mask_size}"))


class PodIPAllocator:
    """Fake pod IPs from one node's podCIDR, one per pod uid, reused after release.

    The first host address is left out (the bridge's gateway on a real node),
    as are the network and broadcast addresses. Allocation roams forward from
    the last address given, as Kubernetes' host-local IPAM does, so a released
    address is not handed out again at once.
    """

    def __init__(self, cidr: str) -> None:
        self.network: Network = ipaddress.ip_network(cidr, strict=False)
        self._base = int(self.network.network_address)
        self._first, self._last = 2, self.network.num_addresses - 2  # offsets
        self._by_uid: dict[str, int] = {}
        self._used: set[int] = set()
        self._cursor = self._first

    @property
    def capacity(self) -> int:
        return max(self._last - self._first + 1, 0)

    def __len__(self) -> int:
        return len(self._by_uid)

    def ip_of(self, uid: str) -> str | None:
        offset = self._by_uid.get(uid)
        return None if offset is None else str(ipaddress.ip_address(self._base + offset))

    def allocate(self, uid: str) -> str:
        """The pod's IP: the one it already holds, else the next free one."""
        if (held := self.ip_of(uid)) is not None:
            return held
        for step in range(self.capacity):
            offset = self._first + (self._cursor - self._first + step) % self.capacity
            if offset not in self._used:
                self._take(uid, offset)
                self._cursor = offset + 1 if offset < self._last else self._first
                return self.ip_of(uid) or ""
        raise PodIPsExhausted(f"no free pod IP left in {self.network}")

    def reserve(self, uid: str, ip: str) -> bool:
        """Adopt the IP a pod already reports (after a restart); False if it cannot be ours."""
        try:
            offset = int(ipaddress.ip_address(ip)) - self._base
        except ValueError:
            return False
        if not self._first <= offset <= self._last or self._by_uid.get(uid) == offset:
            return self._by_uid.get(uid) == offset
        if offset in self._used or uid in self._by_uid:
            return False
        self._take(uid, offset)
        return True

    def release(self, uid: str) -> None:
        offset = self._by_uid.pop(uid, None)
        if offset is not None:
            self._used.discard(offset)

    def _take(self, uid: str, offset: int) -> None:
        self._by_uid[uid] = offset
        self._used.add(offset)


def hollow_facts(*, cpus: int, memory_bytes: int, ephemeral_bytes: int, name: str) -> HostFacts:
    """The machine a hollow node claims to be (capacity = allocatable, as the agent does)."""
    return HostFacts(hostname=name, cpus=cpus, memory_kib=memory_bytes // 1024,
                     ephemeral_bytes=ephemeral_bytes, os_image="Hollow Linux",
                     kernel_version="0.0.0-hollow", architecture="amd64",
                     machine_id=hashlib.md5(name.encode()).hexdigest(),
                     boot_id=hashlib.md5(name[::-1].encode()).hexdigest())


def container_id(uid: str, name: str) -> str:
    """A stable 64-hex id per pod and container, so a restarted hollow node writes the same."""
    return hashlib.sha256(f"{uid}/{name}".encode()).hexdigest()


def _image_id(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def _records(pod: Object, pod_ip: str, started: datetime) -> list[ContainerRecord]:
    uid = str(meta.metadata(pod).get("uid") or "")
    common: dict[str, Any] = {"pod_uid": uid, "pod_name": meta.name_of(pod),
              "pod_namespace": meta.namespace_of(pod), "state": State.RUNNING,
              "created_at": started, "started_at": started}
    records = [ContainerRecord(id=container_id(uid, SANDBOX_NAME), name=SANDBOX_NAME,
                               sandbox=True, ip=pod_ip, **common)]
    for container in (pod.get("spec") or {}).get("containers") or []:
        name, image = str(container.get("name") or ""), str(container.get("image") or "")
        records.append(ContainerRecord(id=container_id(uid, name), name=name, image=image,
                                       image_id=_image_id(image), **common))
    return records


def hollow_pod_status(pod: Object, *, pod_ip: str, host_ip: str, now: datetime) -> Object:
    """The status a hollow node writes: Running, every container running and ready.

    The same fields as the real agent's (`compute_pod_status`): phase,
    conditions, hostIP(s), podIP(s), startTime and containerStatuses, with
    `hollow://` containerIDs. Times come from the pod's own startTime once it
    has one, so a pod already reported yields an identical status: no write.
    """
    started = meta.parse_time((pod.get("status") or {}).get("startTime")) or now
    observed = PodObservation.of(_records(pod, pod_ip, started))
    status = compute_pod_status(pod, observed, reasons={}, host_ip=host_ip, now=now)
    for cs in status.get("containerStatuses") or []:
        cid = str(cs.get("containerID") or "")
        cs["containerID"] = f"{RUNTIME_SCHEME}://{cid.partition('://')[2] or cid}"
    return status


__all__ = ["HOLLOW_LABEL", "PodIPAllocator", "PodIPsExhausted", "container_id",
           "hollow_facts", "hollow_pod_status", "node_names", "node_pod_cidr"]
