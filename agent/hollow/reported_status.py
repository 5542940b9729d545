"""What a hollow node reports: the machine its Node claims to be, and its pods' status.

Kubernetes' kubemark runs a real kubelet over a fake container runtime; a
Schooner hollow node does the same in spirit: a pod's status comes from the
agent's own `compute_pod_status`, fed with `ContainerRecord`s that say every
container (and the sandbox, holding the pod IP) is running. So a hollow pod
looks exactly like a real one to the scheduler, controllers and CLI, except
that its containerIDs read `hollow://...` and nothing runs. Node names, podCIDRs
and pod IPs are `addresses.py`'s.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from agent.nodestatus.node_status import HostFacts
from agent.podsync.pod_status import compute_pod_status
from agent.runtime.container import SANDBOX_NAME, ContainerRecord, PodObservation, State
from apimachinery import meta
from apimachinery.meta import Object

HOLLOW_LABEL = "schooner.io/hollow"
RUNTIME_SCHEME = "hollow"
RUNTIME_VERSION = "1.0.0"


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
    spec = pod.get("spec") or {}
    for container in spec.get("initContainers") or []:  # each one done, exit 0
        name, image = str(container.get("name") or ""), str(container.get("image") or "")
        records.append(ContainerRecord(id=container_id(uid, name), name=name, image=image,
                                       image_id=_image_id(image), **{
                                           **common, "state": State.EXITED, "exit_code": 0,
                                           "finished_at": started}))
    for container in spec.get("containers") or []:
        name, image = str(container.get("name") or ""), str(container.get("image") or "")
        records.append(ContainerRecord(id=container_id(uid, name), name=name, image=image,
                                       image_id=_image_id(image), **common))
    return records


def hollow_pod_status(pod: Object, *, pod_ip: str, host_ip: str, now: datetime) -> Object:
    """The status a hollow node writes: Running, every container running and ready
    (every init container completed).

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


__all__ = ["HOLLOW_LABEL", "RUNTIME_SCHEME", "RUNTIME_VERSION", "container_id", "hollow_facts",
           "hollow_pod_status"]
