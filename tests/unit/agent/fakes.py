"""Fakes for the pod-sync layer: a runtime and an API client that record what they are asked.

Both fail loudly on anything they were not built for, so a test notices an
unexpected call instead of silently passing (STYLE rule 16). Every fake runtime
derives from `UnusedRuntime`, so each is a whole `ContainerRuntime` whose
methods a test did not give it raise.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import httpx

from agent.runtime.container import (
    EXEC_OUTPUT_LIMIT,
    LABEL_CONTAINER_HASH,
    LABEL_CONTAINER_NAME,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
    LABEL_RESTART_COUNT,
    LABEL_SANDBOX,
    ContainerNotFound,
    ContainerRecord,
    ContainerSummary,
    ContainerUsage,
    FsStats,
    ImageNotPresent,
    ImagePullError,
    ImageRecord,
    RunSpec,
    State,
    VolumeSpec,
)
from agent.runtime.protocol import ContainerLogs, EventWatch
from agent.runtime.session import StreamSession
from apimachinery import errors
from apimachinery.clock import Clock
from apimachinery.meta import Object, rfc3339


class UnusedRuntime:
    """A `ContainerRuntime` every method of which fails the test: fakes override what they serve."""

    network = "pods"

    def _unexpected(self, method: str) -> NoReturn:
        raise AssertionError(f"unexpected runtime call: {type(self).__name__}.{method}")

    async def version(self) -> dict[str, Any]:
        self._unexpected("version")

    async def ensure_network(self, subnet: str, *, masquerade: bool = True) -> None:
        self._unexpected("ensure_network")

    def close(self) -> None:
        self._unexpected("close")

    async def list_containers(self) -> list[ContainerSummary]:
        self._unexpected("list_containers")

    async def pod_containers(self, pod_uid: str) -> list[ContainerRecord]:
        self._unexpected("pod_containers")

    async def container(self, container_id: str) -> ContainerRecord:
        self._unexpected("container")

    async def run_container(self, spec: RunSpec) -> str:
        self._unexpected("run_container")

    async def stop_container(self, container_id: str, timeout: int) -> None:
        self._unexpected("stop_container")

    async def remove_container(self, container_id: str) -> None:
        self._unexpected("remove_container")

    async def exec(self, container_id: str, command: list[str], *,
                   timeout: float | None = None,
                   max_output: int = EXEC_OUTPUT_LIMIT) -> tuple[int, str]:
        self._unexpected("exec")

    async def open_exec(self, container_id: str, command: list[str], *, stdin: bool,
                        stdout: bool, stderr: bool, tty: bool) -> StreamSession:
        self._unexpected("open_exec")

    async def open_attach(self, container_id: str, *, stdin: bool, stdout: bool,
                          stderr: bool) -> StreamSession:
        self._unexpected("open_attach")

    def stream_logs(self, container_id: str, *, follow: bool, tail: int | None,
                    timestamps: bool, since: datetime | None = None) -> ContainerLogs:
        self._unexpected("stream_logs")

    def watch_events(self, on_event: Callable[[str, str], None]) -> EventWatch:
        self._unexpected("watch_events")

    async def image_id(self, ref: str) -> str:
        self._unexpected("image_id")

    async def pull_image(self, ref: str, auth: dict[str, str] | None = None) -> str:
        self._unexpected("pull_image")

    async def list_images(self, *, sized: bool = False) -> list[ImageRecord]:
        self._unexpected("list_images")

    async def images_in_use(self) -> set[str]:
        self._unexpected("images_in_use")

    async def remove_image(self, image_id: str) -> None:
        self._unexpected("remove_image")

    async def image_fs(self) -> FsStats:
        self._unexpected("image_fs")

    async def pod_usage(self) -> dict[str, list[ContainerUsage]]:
        self._unexpected("pod_usage")

    async def ensure_volume(self, volume: VolumeSpec) -> None:
        self._unexpected("ensure_volume")

    async def claim_volumes(self) -> list[tuple[str, str, str]]:
        self._unexpected("claim_volumes")

    async def volume_usage(self) -> dict[str, int]:
        self._unexpected("volume_usage")

    async def remove_pod_volumes(self, pod_uid: str) -> list[str]:
        self._unexpected("remove_pod_volumes")


class FakeRuntime(UnusedRuntime):
    """Containers in a dict; `calls` lists (verb, subject) in order."""

    def __init__(self, clock: Clock, images: tuple[str, ...] = ("schooner/busybox:latest",)
                 ) -> None:
        self.clock = clock
        self.images = set(images)
        self.containers: dict[str, ContainerRecord] = {}
        self.calls: list[tuple[str, str]] = []
        self.specs: list[RunSpec] = []  # every container asked for, in order
        self._ids = 0

    def actions(self) -> list[tuple[str, str]]:
        """The calls that change something (reads left out)."""
        return [c for c in self.calls if c[0] not in ("list", "inspect", "image")]

    async def pod_containers(self, pod_uid: str) -> list[ContainerRecord]:
        self.calls.append(("list", pod_uid))
        return [c for c in self.containers.values() if c.pod_uid == pod_uid]

    async def container(self, container_id: str) -> ContainerRecord:
        self.calls.append(("inspect", container_id))
        if container_id not in self.containers:
            raise ContainerNotFound(container_id)
        return self.containers[container_id]

    async def run_container(self, spec: RunSpec) -> str:
        self.calls.append(("run", spec.name))
        self.specs.append(spec)
        self._ids += 1
        cid = f"c{self._ids}"
        labels = spec.labels
        sandbox = labels.get(LABEL_SANDBOX) == "true"
        self.containers[cid] = ContainerRecord(
            id=cid, name=labels[LABEL_CONTAINER_NAME], pod_uid=labels[LABEL_POD_UID],
            pod_name=labels[LABEL_POD_NAME], pod_namespace=labels[LABEL_POD_NAMESPACE],
            sandbox=sandbox, restart_count=int(labels[LABEL_RESTART_COUNT]),
            state=State.RUNNING, exit_code=0, created_at=self.clock.now(),
            started_at=self.clock.now(), image=spec.image, image_id="sha256:img",
            ip="10.0.0.7" if sandbox else "", spec_hash=labels.get(LABEL_CONTAINER_HASH, ""))
        return cid

    def exit(self, container_id: str, code: int) -> None:
        """The container's process ends (as if Docker reported a die event)."""
        self.containers[container_id] = replace(
            self.containers[container_id], state=State.EXITED, exit_code=code,
            finished_at=self.clock.now())

    async def stop_container(self, container_id: str, timeout: int) -> None:
        self.calls.append(("stop", f"{self.containers[container_id].name}/{timeout}"))
        self.exit(container_id, 137 if timeout == 0 else 143)

    async def remove_container(self, container_id: str) -> None:
        self.calls.append(("remove", self.containers.pop(container_id).name))

    async def remove_pod_volumes(self, pod_uid: str) -> list[str]:
        self.calls.append(("remove-volumes", pod_uid))
        return []

    async def claim_volumes(self) -> list[tuple[str, str, str]]:
        return []

    async def ensure_volume(self, volume: VolumeSpec) -> None:
        self.calls.append(("volume", volume.name))

    async def image_id(self, ref: str) -> str:
        self.calls.append(("image", ref))
        if ref not in self.images:
            raise ImageNotPresent(ref)
        return "sha256:img"

    async def pull_image(self, ref: str, auth: dict[str, str] | None = None) -> str:
        self.calls.append(("pull", ref) if auth is None else ("pull", ref, auth))
        raise ImagePullError("no registry here")


class FakeClient:
    """The AsyncClient methods the agent uses, over a dict of objects."""

    def __init__(self, *objects: Object) -> None:
        self.objects = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]):
                        copy.deepcopy(o) for o in objects}
        self.calls: list[tuple[Any, ...]] = []
        self.token_now = datetime(2024, 1, 1, tzinfo=UTC)  # when the next token is issued
        self.tokens_issued = 0

    async def get(self, resource: str, name: str, namespace: str | None = None) -> Object:
        kind = {"configmaps": "ConfigMap", "secrets": "Secret"}[resource]
        self.calls.append(("get", resource, name))
        try:
            return copy.deepcopy(self.objects[(kind, namespace, name)])
        except KeyError:
            raise errors.not_found(resource, name) from None

    async def list(self, resource: str, namespace: str | None = None) -> Object:
        """Services only (the environment's); not recorded in `calls`."""
        assert resource == "services", resource
        return {"items": [copy.deepcopy(o) for (kind, ns, _), o in self.objects.items()
                          if kind == "Service" and ns == namespace]}

    async def request(self, method: str, path: str, *, json: Any = None,
                      **_: Any) -> httpx.Response:
        """TokenRequest: a token naming the request's pod and a counter, an hour long
        from `token_now` (or its expirationSeconds)."""
        assert method == "POST" and path.endswith("/token"), (method, path)
        self.calls.append(("token", path, copy.deepcopy(json)))
        seconds = int(json["spec"]["expirationSeconds"])
        expires = self.token_now + timedelta(seconds=seconds)
        token = f"token-{json['spec']['boundObjectRef']['name']}-{self.tokens_issued}"
        self.tokens_issued += 1
        return httpx.Response(201, json={"spec": {**json["spec"]}, "status": {
            "token": token, "expirationTimestamp": rfc3339(expires)}})

    async def patch(self, resource: str, name: str, patch: Any, namespace: str | None = None,
                    *, subresource: str | None = None, **_: Any) -> Object:
        assert (resource, subresource) == ("pods", "status"), (resource, subresource)
        self.calls.append(("patch-status", name, copy.deepcopy(patch["status"])))
        return {"metadata": {"resourceVersion": str(len(self.calls) + 100)}}

    async def delete(self, resource: str, name: str, namespace: str | None = None, *,
                     grace_period_seconds: int | None = None,
                     preconditions: dict[str, str] | None = None, **_: Any) -> Object:
        self.calls.append(("delete", resource, name, grace_period_seconds, preconditions))
        return {}

    def statuses(self) -> list[Object]:
        return [c[2] for c in self.calls if c[0] == "patch-status"]
