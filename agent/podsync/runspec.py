"""How a pod's sandbox and containers are asked of the runtime (pure functions).

Mirrors kuberuntime's `generatePodSandboxConfig` / `generateContainerConfig`:
names as dockershim made them (`schooner_<container>_<pod>_<namespace>_<uid>_<n>`,
so `docker ps` reads like it did on a Docker-based kubelet), the labels the
agent later adopts containers by, resource limits converted the way the
kubelet converts them (cpu limit -> CFS quota as NanoCpus, cpu request ->
shares, memory limit -> bytes), and a hash of the container's spec so a changed
container (a new image) is restarted, as kubelet's `HashContainer` does. The
security context goes through `security.py`; the sandbox runs with no
capabilities and no-new-privileges (it only sleeps) and publishes the pod's
hostPorts, or holds the node's network for a hostNetwork pod.
"""

from __future__ import annotations

import hashlib
import json

from agent.podsync.envvars import docker_command
from agent.podsync.security import security_spec
from agent.runtime.container import (
    LABEL_CONTAINER_HASH,
    LABEL_CONTAINER_NAME,
    LABEL_HOST_NETWORK_IP,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
    LABEL_RESTART_COUNT,
    LABEL_SANDBOX,
    SANDBOX_NAME,
    Mount,
    RunSpec,
    SecuritySpec,
)
from apimachinery.meta import Object
from apimachinery.quantity import cpu_millis, memory_bytes

SANDBOX_COMMAND = ["sleep", "2147483647"]
MIN_CPU_SHARES = 2


def container_hash(container: Object) -> str:
    """A stable hash of the container's spec; a different hash means "restart it"."""
    raw = json.dumps(container, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def pod_labels(pod: Object) -> dict[str, str]:
    meta = pod.get("metadata") or {}
    return {LABEL_POD_UID: str(meta.get("uid") or ""),
            LABEL_POD_NAME: str(meta.get("name") or ""),
            LABEL_POD_NAMESPACE: str(meta.get("namespace") or "")}


def runtime_name(pod: Object, container: str, attempt: int) -> str:
    """dockershim's naming: `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`."""
    meta = pod.get("metadata") or {}
    return (f"schooner_{container}_{meta.get('name')}_{meta.get('namespace')}_"
            f"{meta.get('uid')}_{attempt}")


def pod_hostname(pod: Object) -> str:
    """spec.hostname, else the pod's name, cut to a DNS label's 63 characters."""
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    return str(spec.get("hostname") or meta.get("name") or "pod")[:63].rstrip("-.")


def host_ports(pod: Object) -> tuple[tuple[int, str, int, str], ...]:
    """(containerPort, protocol, hostPort, hostIP) of every port with a hostPort: the
    sandbox owns the pod's network, so it is the one that publishes them."""
    spec = pod.get("spec") or {}
    return tuple(
        (int(p["containerPort"]), str(p.get("protocol") or "TCP"), int(p["hostPort"]),
         str(p.get("hostIP") or ""))
        for key in ("initContainers", "containers") for c in spec.get(key) or []
        for p in c.get("ports") or [] if p.get("hostPort"))


def sandbox_spec(pod: Object, *, attempt: int, image: str, network: str,
                 mounts: tuple[Mount, ...] = (), pids_limit: int | None = None,
                 node_ip: str = "") -> RunSpec:
    """The pod's "pause" container: it holds the pod's network namespace and IP, and
    publishes its hostPorts. A hostNetwork pod's sandbox is in the node's network
    namespace instead (Docker's `host` network, where it may not set a hostname and
    publishes nothing: its ports are the node's), and the pod's IP is the node's.

    `mounts` is the pod's resolv.conf when the agent writes one (`network/resolv_conf.py`).
    """
    labels = {**pod_labels(pod), LABEL_CONTAINER_NAME: SANDBOX_NAME, LABEL_SANDBOX: "true",
              LABEL_RESTART_COUNT: str(attempt)}
    spec = pod.get("spec") or {}
    host_network = spec.get("hostNetwork") is True
    if host_network:
        labels[LABEL_HOST_NETWORK_IP] = node_ip
    security = SecuritySpec(pids_limit=pids_limit, host_ipc=spec.get("hostIPC") is True,
                            cap_drop=("ALL",), security_opt=("no-new-privileges",))
    return RunSpec(name=runtime_name(pod, SANDBOX_NAME, attempt), image=image, labels=labels,
                   entrypoint=None, cmd=list(SANDBOX_COMMAND),
                   network="host" if host_network else network,
                   hostname=None if host_network else pod_hostname(pod), mounts=mounts,
                   security=security, published=() if host_network else host_ports(pod))


def resource_limits(container: Object) -> tuple[int | None, int | None, int | None]:
    """(nano_cpus, cpu_shares, mem_limit) from `resources` (None: unlimited / default)."""
    resources = container.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    nano_cpus = cpu_millis(limits["cpu"]) * 1_000_000 if limits.get("cpu") else None
    request = requests.get("cpu") or limits.get("cpu")
    shares = max(cpu_millis(request) * 1024 // 1000, MIN_CPU_SHARES) if request else None
    mem_limit = memory_bytes(limits["memory"]) if limits.get("memory") else None
    return nano_cpus, shares, mem_limit


def container_spec(pod: Object, container: Object, *, sandbox_id: str, restart_count: int,
                   env: dict[str, str], mounts: tuple[Mount, ...],
                   pids_limit: int | None = None) -> RunSpec:
    """An app container joining the sandbox's namespaces (pod-local localhost, one IP)."""
    name = str(container.get("name"))
    entrypoint, cmd = docker_command(container, env)
    nano_cpus, shares, mem_limit = resource_limits(container)
    labels = {**pod_labels(pod), LABEL_CONTAINER_NAME: name,
              LABEL_RESTART_COUNT: str(restart_count),
              LABEL_CONTAINER_HASH: container_hash(container)}
    return RunSpec(name=runtime_name(pod, name, restart_count), image=str(container["image"]),
                   labels=labels, entrypoint=entrypoint, cmd=cmd, env=env,
                   working_dir=container.get("workingDir") or None, join_container=sandbox_id,
                   mounts=mounts, nano_cpus=nano_cpus, cpu_shares=shares, mem_limit=mem_limit,
                   security=security_spec(pod, container, pids_limit=pids_limit),
                   stdin=container.get("stdin") is True,
                   stdin_once=container.get("stdinOnce") is True,
                   tty=container.get("tty") is True)
