"""What the agent asks of a container runtime: one Protocol, the kubelet's kubecontainer.Runtime.

The pod sync, the PLEG, the prober and hooks (their exec), the image manager,
termination, node status (the claim volumes it reports) and the server all
type their runtime as `ContainerRuntime`, and speak only the runtime-neutral
types of `agent.runtime.container`. `agent.runtime.docker_runtime.DockerRuntime`
implements it over Docker Engine; unit tests implement it with fakes
(tests/unit/agent/fakes.py). Every method that may wait is a coroutine;
errors are `ContainerRuntimeError`s. The two long-lived streams come back as
handles: `ContainerLogs` (read chunks, close) and `EventWatch` (stop).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from agent.runtime.container import (
    EXEC_OUTPUT_LIMIT,
    ContainerRecord,
    ContainerSummary,
    ContainerUsage,
    FsStats,
    ImageRecord,
    RunSpec,
    VolumeSpec,
)
from agent.runtime.session import StreamSession


class ContainerLogs(Protocol):
    """A container's output as it is read: chunks of bytes until it ends or is closed."""

    def chunks(self) -> AsyncIterator[bytes]: ...

    def close(self) -> None: ...


class EventWatch(Protocol):
    """The runtime's container events being followed; `stop` ends it."""

    def stop(self) -> None: ...


@runtime_checkable
class ContainerRuntime(Protocol):
    """The container runtime of one node (the CRI runtime and image services in one)."""

    network: str  # the pod network's name: the sandboxes join it

    # -- engine and network
    async def version(self) -> dict[str, Any]:
        """The engine's version document (`Version`, `ApiVersion`, ...)."""
        ...

    async def ensure_network(self, subnet: str, *, masquerade: bool = True) -> None:
        """Create (or keep) the pod network with `subnet`; `masquerade=False`: no source NAT."""
        ...

    def close(self) -> None:
        """Release the runtime's threads and connections."""
        ...

    # -- containers
    async def list_containers(self) -> list[ContainerSummary]:
        """Every container of this node's pods, cheaply (the PLEG's relist)."""
        ...

    async def pod_containers(self, pod_uid: str) -> list[ContainerRecord]:
        """All containers (sandboxes included) of one pod, inspected."""
        ...

    async def container(self, container_id: str) -> ContainerRecord:
        """One container, inspected; ContainerNotFound if it is gone."""
        ...

    async def run_container(self, spec: RunSpec) -> str:
        """Create and start a container; its id."""
        ...

    async def stop_container(self, container_id: str, timeout: int) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; a gone container is no error."""
        ...

    async def remove_container(self, container_id: str) -> None:
        """Remove a container; a gone container is no error."""
        ...

    async def exec(self, container_id: str, command: list[str], *,
                   timeout: float | None = None,
                   max_output: int = EXEC_OUTPUT_LIMIT) -> tuple[int, str]:
        """Run a command to completion in a running container: (exit code, output).

        Execs share a bounded pool of their own (waiting for it counts against
        `timeout`); past `timeout` the command is killed and ExecTimeout raised, and
        a caller cancelled meanwhile kills it too. Output past `max_output` bytes is
        read and dropped.
        """
        ...

    async def open_exec(self, container_id: str, command: list[str], *, stdin: bool,
                        stdout: bool, stderr: bool, tty: bool) -> StreamSession:
        """Start an interactive exec (with a terminal when `tty`): its live session."""
        ...

    async def open_attach(self, container_id: str, *, stdin: bool, stdout: bool,
                          stderr: bool) -> StreamSession:
        """Attach to a running container's stdin and output: its live session."""
        ...

    def stream_logs(self, container_id: str, *, follow: bool, tail: int | None,
                    timestamps: bool, since: datetime | None = None) -> ContainerLogs:
        """The container's stdout and stderr (from `since` on, when given)."""
        ...

    def watch_events(self, on_event: Callable[[str, str], None]) -> EventWatch:
        """Call `on_event(pod_uid, action)` on the loop for each of this node's containers."""
        ...

    # -- images
    async def image_id(self, ref: str) -> str:
        """The local image's id (`sha256:...`); ImageNotPresent if it is not here."""
        ...

    async def pull_image(self, ref: str, auth: dict[str, str] | None = None) -> str:
        """Pull the image (with a registry's `username`/`password`/`serveraddress` when
        given: imagePullSecrets); its id, or ImagePullError."""
        ...

    async def list_images(self, *, sized: bool = False) -> list[ImageRecord]:
        """Every local image; `sized` (slower): sized by what removing it would free."""
        ...

    async def images_in_use(self) -> set[str]:
        """Ids of the images any container on the engine uses, running or not."""
        ...

    async def remove_image(self, image_id: str) -> None:
        """Remove an image (never by force); a gone image is no error."""
        ...

    async def image_fs(self) -> FsStats:
        """The filesystem the runtime keeps images and containers on (the kubelet's imagefs)."""
        ...

    # -- usage
    async def pod_usage(self) -> dict[str, list[ContainerUsage]]:
        """Per pod uid, the memory and disk each of its running containers uses."""
        ...

    # -- volumes
    async def ensure_volume(self, volume: VolumeSpec) -> None:
        """Create a named volume (idempotent)."""
        ...

    async def claim_volumes(self) -> list[tuple[str, str, str]]:
        """(namespace, claim, volume name) of every claim volume this node holds."""
        ...

    async def volume_usage(self) -> dict[str, int]:
        """Bytes each of this node's named volumes holds (slow: the engine sizes them all)."""
        ...

    async def remove_pod_volumes(self, pod_uid: str) -> list[str]:
        """Remove every volume of the pod; the names removed."""
        ...


__all__ = ["ContainerLogs", "ContainerRuntime", "EventWatch"]
