"""Runtime-neutral container types: what the pod-sync layer knows about containers.

Mirrors the kubelet's `pkg/kubelet/container` package (kubecontainer): the sync
layer reasons about `ContainerRecord`s (kubecontainer.Status) and asks for new
containers with a `RunSpec`, and never sees a Docker object. Only
`agent.runtime.docker_runtime` turns these into Docker SDK calls, so the runtime
could be swapped (hollow nodes, tests) without touching pod logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

# Labels on every container the agent creates: how it finds and adopts them again.
LABEL_NODE = "schooner.node"
LABEL_POD_NAMESPACE = "schooner.pod.namespace"
LABEL_POD_NAME = "schooner.pod.name"
LABEL_POD_UID = "schooner.pod.uid"
LABEL_CONTAINER_NAME = "schooner.container.name"
LABEL_RESTART_COUNT = "schooner.container.restart-count"
LABEL_CONTAINER_HASH = "schooner.container.hash"
LABEL_SANDBOX = "schooner.sandbox"
# On a hostNetwork pod's sandbox: the node's IP, which is the pod's (it has no address of
# its own on the pods' network).
LABEL_HOST_NETWORK_IP = "schooner.pod.host-network-ip"
# Labels on a claim's volume (it belongs to the claim, not to a pod: it outlives pods).
LABEL_CLAIM_NAMESPACE = "schooner.claim.namespace"
LABEL_CLAIM_NAME = "schooner.claim.name"

SANDBOX_NAME = "POD"  # the sandbox's container name, as dockershim's `k8s_POD_...`


class State(StrEnum):
    """A container's state as the runtime reports it (kubecontainer.State)."""

    CREATED = "created"  # created but never started (a start may have failed: see `error`)
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ContainerRecord:
    """One container instance the runtime knows about, as inspected (kubecontainer.Status)."""

    id: str
    name: str  # the pod's container name (`SANDBOX_NAME` for the sandbox)
    pod_uid: str
    pod_name: str = ""
    pod_namespace: str = ""
    sandbox: bool = False
    restart_count: int = 0
    state: State = State.UNKNOWN
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""  # why a start failed, when it did
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    image: str = ""  # the reference the container was created from
    image_id: str = ""  # `sha256:...`
    ip: str = ""  # the sandbox's address on the pod network
    spec_hash: str = ""

    @property
    def running(self) -> bool:
        return self.state is State.RUNNING

    @property
    def dead(self) -> bool:
        """Exited, or never started because its start failed: a candidate for a restart."""
        return self.state is State.EXITED or (self.state is State.CREATED and bool(self.error))

    @property
    def pending(self) -> bool:
        """Created and never started with no error: an agent crash between create and start."""
        return self.state is State.CREATED and not self.error

    @property
    def ended_at(self) -> datetime | None:
        """When it stopped, for back-off: finishedAt, else (a failed start) createdAt."""
        return self.finished_at or self.created_at


@dataclass(frozen=True)
class ContainerSummary:
    """A cheap listing row, for the PLEG relist that only looks for changes."""

    id: str
    pod_uid: str
    state: str


MountKind = Literal["bind", "volume"]  # a host path, or a named runtime volume


@dataclass(frozen=True)
class PodObservation:
    """A pod's containers as the runtime reports them, newest first per name.

    The kubelet's kubecontainer.PodStatus: what the pod sync, the status and the
    prober read of one pod.
    """

    sandboxes: tuple[ContainerRecord, ...] = ()
    containers: dict[str, tuple[ContainerRecord, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, records: list[ContainerRecord]) -> PodObservation:
        def newest_first(r: ContainerRecord) -> tuple[int, float]:
            return (-r.restart_count, -(r.created_at.timestamp() if r.created_at else 0.0))
        sandboxes = tuple(sorted((r for r in records if r.sandbox), key=newest_first))
        by_name: dict[str, list[ContainerRecord]] = {}
        for r in records:
            if not r.sandbox:
                by_name.setdefault(r.name, []).append(r)
        return cls(sandboxes, {n: tuple(sorted(rs, key=newest_first))
                               for n, rs in by_name.items()})

    @property
    def running_sandbox(self) -> ContainerRecord | None:
        return next((s for s in self.sandboxes if s.running), None)

    def latest(self, name: str) -> ContainerRecord | None:
        """The newest instance that was started (or failed to start) of a container."""
        return next((r for r in self.containers.get(name, ()) if not r.pending), None)

    def all(self) -> list[ContainerRecord]:
        return [*self.sandboxes, *(r for rs in self.containers.values() for r in rs)]

    def running(self) -> list[ContainerRecord]:
        return [r for rs in self.containers.values() for r in rs if r.running]

    def next_restart_count(self, name: str) -> int:
        counts = [r.restart_count for r in self.containers.get(name, ()) if not r.pending]
        return max(counts) + 1 if counts else 0


@dataclass(frozen=True)
class Mount:
    """A volume mount: a host path (`bind`) or a named runtime volume (`volume`)."""

    kind: MountKind
    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class VolumeSpec:
    """A named runtime volume to create for a pod (an emptyDir)."""

    name: str
    labels: dict[str, str]
    memory: bool = False  # `medium: Memory`: a tmpfs-backed volume
    size_bytes: int | None = None  # `sizeLimit`, enforced for tmpfs only


@dataclass(frozen=True)
class SecuritySpec:
    """A container's security settings as the engine takes them (`agent/podsync/security.py`
    makes them from the pod's securityContext)."""

    user: str | None = None  # `uid` or `uid:gid`; None: the image's
    group_add: tuple[str, ...] = ()
    read_only_rootfs: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()  # no-new-privileges, seccomp=unconfined
    pids_limit: int | None = None
    host_pid: bool = False
    host_ipc: bool = False
    # runAsNonRoot with no runAsUser: the image's user must not be root, checked at create;
    # `non_root_where` is the kubelet's `(pod: "name_ns(uid)", container: c)` for the message.
    run_as_non_root: bool = False
    non_root_where: str = ""


@dataclass(frozen=True)
class RunSpec:
    """Everything needed to create and start one container (CRI's ContainerConfig)."""

    name: str
    image: str
    labels: dict[str, str]
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str | None = None
    network: str | None = None  # a network to attach to (the sandbox)
    join_container: str | None = None  # share this container's namespaces (app containers)
    hostname: str | None = None
    mounts: tuple[Mount, ...] = ()
    nano_cpus: int | None = None
    cpu_shares: int | None = None
    mem_limit: int | None = None
    security: SecuritySpec = field(default_factory=SecuritySpec)
    # (containerPort, protocol, hostPort, hostIP): the sandbox publishes a pod's hostPorts
    published: tuple[tuple[int, str, int, str], ...] = ()
    # the container's stdin kept open (closed after the first attach ends: stdin_once)
    # and a terminal: what `kubectl attach` talks to
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False


@dataclass(frozen=True)
class ImageRecord:
    """One local image, with what removing it would free (the image GC's view)."""

    id: str  # sha256:...
    tags: tuple[str, ...] = ()
    size: int = 0  # bytes only this image holds (its size less the layers it shares)
    created: float = 0.0  # Unix time
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ContainerUsage:
    """What one container of a pod uses now (the kubelet's summary stats, reduced)."""

    name: str
    memory: int = 0  # working set: usage less inactive file cache, bytes
    disk: int = 0  # its writable layer and its log files, bytes


@dataclass(frozen=True)
class FsStats:
    """A filesystem's size and free space, in bytes (the image filesystem, the node's)."""

    capacity: int
    available: int


@dataclass(frozen=True)
class LogRotation:
    """How a container's log is rotated (the kubelet's `containerLogMaxSize` and
    `containerLogMaxFiles`): a file is rotated at `max_size` bytes and at most
    `max_files` files (the current one included) are kept."""

    max_size: int = 10 * 1024 * 1024
    max_files: int = 5


# An exec's output kept by default: the API's non-interactive exec answers in one JSON
# document, so an endless writer must not grow the agent without bound. Probes and hooks
# keep less (the kubelet's 10 KiB `maxReadLength`); the rest is read and dropped, so
# the command never blocks on a full pipe.
EXEC_OUTPUT_LIMIT = 1 << 20


# -- errors -----------------------------------------------------------------------------

class ContainerRuntimeError(Exception):
    """Base of what the runtime raises; the message is shown in pod status and events."""


class ImageNotPresent(ContainerRuntimeError):
    """The image is not on this host."""


class ImagePullError(ContainerRuntimeError):
    """Pulling the image failed (no registry, no such image, no access)."""


class CreateContainerError(ContainerRuntimeError):
    """The runtime refused to create the container."""


class ContainerConfigError(ContainerRuntimeError):
    """The container may not be created as asked (kubelet's CreateContainerConfigError):
    runAsNonRoot and an image that runs as root."""


def non_root_refusal(image_user: str, where: str) -> str | None:
    """The kubelet's verifyRunAsNonRoot for an image's configured user (`""`: root)."""
    user = image_user.split(":", 1)[0]
    if user in ("", "0", "root"):
        return f"container has runAsNonRoot and image will run as root {where}"
    if not user.isdigit():
        return (f"container has runAsNonRoot and image has non-numeric user ({user}), "
                f"cannot verify user is non-root {where}")
    return None


class StartContainerError(ContainerRuntimeError):
    """The container was created but would not start; it stays, dead, for its status."""

    def __init__(self, message: str, container_id: str) -> None:
        super().__init__(message)
        self.container_id = container_id


class ContainerNotFound(ContainerRuntimeError):
    """The container is gone (removed meanwhile)."""


class ExecTimeout(ContainerRuntimeError):
    """An exec outlived its timeout; its process (and what it started) has been killed."""
