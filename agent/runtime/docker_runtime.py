"""The container runtime over Docker Engine: the only module of the agent that imports `docker`.

`DockerRuntime` implements `agent.runtime.protocol.ContainerRuntime`. It plays
the part of the kubelet's CRI runtime service (`kuberuntime` over a CRI shim):
list and inspect containers by their `schooner.*` labels, pull images,
create/start/stop/remove containers and volumes, exec, logs and the engine's
event stream. Every blocking Docker SDK call runs on a thread pool via
`run_in_executor`, never on the event loop (STYLE rule 6); creates+starts and
removals, which the engine works through one after another, go through a
prioritised gate onto threads of their own (`gate`), so they never hold up the
reads; execs have a bounded pool of their own, and one that times out is killed
(`proctree`). Docker objects never leave this module: callers get
`agent.runtime.container` types, and Docker's errors are turned into
`ContainerRuntimeError`s.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import docker
import docker.errors
from docker.types import IPAMConfig, IPAMPool
from docker.types import Mount as DockerMount

from agent.runtime import proctree
from agent.runtime.container import (
    EXEC_OUTPUT_LIMIT,
    LABEL_CLAIM_NAME,
    LABEL_CLAIM_NAMESPACE,
    LABEL_CONTAINER_HASH,
    LABEL_CONTAINER_NAME,
    LABEL_HOST_NETWORK_IP,
    LABEL_NODE,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
    LABEL_RESTART_COUNT,
    LABEL_SANDBOX,
    ContainerConfigError,
    ContainerNotFound,
    ContainerRecord,
    ContainerRuntimeError,
    ContainerSummary,
    ContainerUsage,
    CreateContainerError,
    ExecTimeout,
    FsStats,
    ImageNotPresent,
    ImagePullError,
    ImageRecord,
    LogRotation,
    RunSpec,
    StartContainerError,
    State,
    VolumeSpec,
    non_root_refusal,
)
from agent.runtime.docker_host import (
    docker_log_config,
    fs_stats,
    image_record,
    log_bytes,
    working_set,
)
from agent.runtime.gate import Priority, PriorityGate
from agent.runtime.logfollow import DedupedStream
from agent.runtime.session import StreamSession
from agent.runtime.streams import EventWatcher, LogStream

log = logging.getLogger(__name__)
T = TypeVar("T")
MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"
ENGINE_SLOTS = 8  # creates+starts and removals in flight in the engine at once
EXEC_SLOTS = 8  # execs (API, probes, hooks) running at once, on threads of their own
EXEC_KILL_WAIT = 5.0  # seconds a killed exec's output stream gets to close
EXIT_POLLS, EXIT_POLL_INTERVAL = 40, 0.05  # an interactive exec's exit code, once it ends

# List states whose inspection cannot change until the state does: a running container's
# IP, start time and labels stay put, an exited one's exit is final (the agent never
# restarts a container in place). "created", "restarting", ... are always inspected.
_SETTLED_STATES = frozenset({"running", "exited", "dead"})

# Docker's State.Status -> the runtime-neutral state (one table, no if-chains).
_DOCKER_STATES: dict[str, State] = {
    "created": State.CREATED, "running": State.RUNNING, "paused": State.RUNNING,
    "restarting": State.RUNNING, "removing": State.EXITED, "exited": State.EXITED,
    "dead": State.EXITED,
}


def _time(value: str | None) -> datetime | None:
    """Docker's RFC 3339 nano timestamps; its zero time (`0001-01-01...`) means never."""
    if not value or value.startswith("0001-01-01"):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _explain(exc: docker.errors.DockerException) -> str:
    """The daemon's own words, without the SDK's request-line prefix."""
    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        return str(exc.explanation)
    return str(exc)


def record_from_inspect(data: dict[str, Any], network: str) -> ContainerRecord:
    """A `ContainerRecord` from `docker inspect` output (public for tests and fakes)."""
    labels = (data.get("Config") or {}).get("Labels") or {}
    state = data.get("State") or {}
    networks = ((data.get("NetworkSettings") or {}).get("Networks") or {})
    try:
        restarts = int(labels.get(LABEL_RESTART_COUNT, "0"))
    except ValueError:
        restarts = 0
    return ContainerRecord(
        id=data["Id"], name=labels.get(LABEL_CONTAINER_NAME, ""),
        pod_uid=labels.get(LABEL_POD_UID, ""), pod_name=labels.get(LABEL_POD_NAME, ""),
        pod_namespace=labels.get(LABEL_POD_NAMESPACE, ""),
        sandbox=labels.get(LABEL_SANDBOX) == "true", restart_count=restarts,
        state=_DOCKER_STATES.get(str(state.get("Status")), State.UNKNOWN),
        exit_code=state.get("ExitCode"), oom_killed=bool(state.get("OOMKilled")),
        error=str(state.get("Error") or ""), created_at=_time(data.get("Created")),
        started_at=_time(state.get("StartedAt")), finished_at=_time(state.get("FinishedAt")),
        image=(data.get("Config") or {}).get("Image", ""), image_id=data.get("Image", ""),
        ip=labels.get(LABEL_HOST_NETWORK_IP) or (networks.get(network) or {}).get(
            "IPAddress", ""),
        spec_hash=labels.get(LABEL_CONTAINER_HASH, ""))


class DockerRuntime:
    """Docker Engine as the agent's container runtime; every method is a coroutine."""

    def __init__(self, node_name: str, network: str, *, max_workers: int = 16,
                 client: Any = None, log_rotation: LogRotation | None = None) -> None:
        self.node_name = node_name
        self.network = network
        self._log_config = docker_log_config(log_rotation or LogRotation())
        self._root_dir: str | None = None  # DockerRootDir, asked on first use
        try:
            self._client = client or docker.from_env(max_pool_size=max_workers + 4)
        except docker.errors.DockerException as exc:
            raise ContainerRuntimeError(_explain(exc)) from exc
        self._api = self._client.api
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="docker")
        self._engine = ThreadPoolExecutor(ENGINE_SLOTS, thread_name_prefix="docker-engine")
        self._gate = PriorityGate(ENGINE_SLOTS)
        self._exec_pool = ThreadPoolExecutor(EXEC_SLOTS, thread_name_prefix="docker-exec")
        self._exec_slots = asyncio.Semaphore(EXEC_SLOTS)
        self._killing: set[asyncio.Future[None]] = set()  # kills of cancelled execs
        # pod uid -> container id -> (list state, record): see `_inspect_pod`
        self._inspected: dict[str, dict[str, tuple[str, ContainerRecord]]] = {}

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking SDK call on the pool, translating Docker's errors."""
        return await self._on(self._pool, fn, *args, **kwargs)

    async def _engine_call(self, priority: Priority, fn: Callable[..., T], *args: Any,
                           **kwargs: Any) -> T:
        """A call the engine runs one after another (create+start, remove): through the
        gate, on threads of its own, so it never holds up the reads (`gate`)."""
        async with self._gate.slot(priority):
            return await self._on(self._engine, fn, *args, **kwargs)

    async def _on(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any,
                  **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, functools.partial(fn, *args, **kwargs))
        except docker.errors.NotFound as exc:
            raise ContainerNotFound(_explain(exc)) from exc
        except docker.errors.DockerException as exc:
            raise ContainerRuntimeError(_explain(exc)) from exc

    def close(self) -> None:
        """Drop queued calls; calls already running finish on their threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._engine.shutdown(wait=False, cancel_futures=True)
        self._exec_pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    # -- engine and network -------------------------------------------------------------

    async def version(self) -> dict[str, Any]:
        """The engine's version document (`Version`, `ApiVersion`, ...)."""
        return await self._call(self._api.version)

    async def ensure_network(self, subnet: str, *, masquerade: bool = True) -> None:
        """Create the pod bridge network with `subnet` unless a network of that name exists.

        `masquerade=False` turns Docker's source NAT off for the bridge: pod traffic
        routed to other nodes keeps the pod's address (the multi-host pod network).
        An existing network with another subnet or NAT setting is recreated when no
        container uses it, else kept (with a warning) until its pods are gone.
        """
        options = {} if masquerade else {MASQUERADE_OPTION: "false"}
        existing = await self._call(self._api.networks, names=[self.network])
        for net in existing:
            if net.get("Name") != self.network:
                continue
            have = [c.get("Subnet") for c in (net.get("IPAM") or {}).get("Config") or []]
            have_masquerade = (net.get("Options") or {}).get(MASQUERADE_OPTION, "true")
            if subnet in have and (have_masquerade != "false") == masquerade:
                return
            attached = (await self._call(self._api.inspect_network, net["Id"])).get(
                "Containers") or {}
            if attached:
                log.warning("component=agent pod network differs; keeping it while pods use it "
                            "network=%s have=%s masquerade=%s want=%s masquerade=%s", self.network,
                            have, have_masquerade, subnet, str(masquerade).lower())
                return
            log.info("component=agent recreating pod network network=%s have=%s want=%s",
                     self.network, have, subnet)
            await self._call(self._api.remove_network, net["Id"])
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet)])
        await self._call(self._api.create_network, self.network, driver="bridge", ipam=ipam,
                         options=options or None, labels={LABEL_NODE: self.node_name},
                         check_duplicate=True)
        log.info("component=agent created pod network network=%s subnet=%s masquerade=%s",
                 self.network, subnet, str(masquerade).lower())

    # -- containers ---------------------------------------------------------------------

    def _node_filter(self, **extra: str) -> dict[str, list[str]]:
        labels = [f"{LABEL_NODE}={self.node_name}"] + [f"{k}={v}" for k, v in extra.items()]
        return {"label": labels}

    async def list_containers(self) -> list[ContainerSummary]:
        """Every container of this node's pods, running or not (the PLEG relist)."""
        rows = await self._call(self._api.containers, all=True, filters=self._node_filter())
        return [ContainerSummary(r["Id"], (r.get("Labels") or {}).get(LABEL_POD_UID, ""),
                                 str(r.get("State", ""))) for r in rows]

    def _inspect_pod(self, pod_uid: str) -> list[ContainerRecord]:
        """List the pod's containers and inspect those whose state moved since last time.

        A crash-looping pod is synced over and over, and its dead instances and its
        sandbox never change: re-inspecting them made every sync 3-4 Docker calls
        instead of 1, and under a restart storm those reads queued in front of the
        creates and starts that matter. Entries go with the containers.
        """
        rows = self._api.containers(all=True, filters=self._node_filter(
            **{LABEL_POD_UID: pod_uid}))
        known = self._inspected.get(pod_uid, {})
        current: dict[str, tuple[str, ContainerRecord]] = {}
        for row in rows:
            cid, state = row["Id"], str(row.get("State", ""))
            cached = known.get(cid)
            if cached is None or cached[0] != state or state not in _SETTLED_STATES:
                try:
                    cached = (state, record_from_inspect(self._api.inspect_container(cid),
                                                         self.network))
                except docker.errors.NotFound:
                    continue  # removed between list and inspect
            current[cid] = cached
        if current:
            self._inspected[pod_uid] = current
        else:
            self._inspected.pop(pod_uid, None)
        return [record for _, record in current.values()]

    async def pod_containers(self, pod_uid: str) -> list[ContainerRecord]:
        """All containers (sandboxes included) of one pod, inspected."""
        return await self._call(self._inspect_pod, pod_uid)

    async def container(self, container_id: str) -> ContainerRecord:
        """One container, inspected; ContainerNotFound if it is gone."""
        data = await self._call(self._api.inspect_container, container_id)
        return record_from_inspect(data, self.network)

    def _check_image_user(self, spec: RunSpec) -> None:
        """runAsNonRoot without runAsUser: the image's own user must not be root."""
        if not spec.security.run_as_non_root:
            return
        try:
            config = self._api.inspect_image(spec.image).get("Config") or {}
        except docker.errors.APIError as exc:
            raise CreateContainerError(_explain(exc)) from exc
        refusal = non_root_refusal(str(config.get("User") or ""), spec.security.non_root_where)
        if refusal:
            raise ContainerConfigError(refusal)

    def _host_config(self, spec: RunSpec) -> Any:
        """Docker's HostConfig: namespaces, mounts, limits and the security settings."""
        sec = spec.security
        ipc = "host" if sec.host_ipc else (
            f"container:{spec.join_container}" if spec.join_container else "shareable")
        return self._api.create_host_config(
            init=True, restart_policy={"Name": "no"},
            network_mode=(f"container:{spec.join_container}" if spec.join_container
                          else spec.network),
            ipc_mode=ipc, pid_mode="host" if sec.host_pid else None,
            mounts=[DockerMount(m.target, m.source, type=m.kind, read_only=m.read_only)
                    for m in spec.mounts],
            nano_cpus=spec.nano_cpus, cpu_shares=spec.cpu_shares, mem_limit=spec.mem_limit,
            log_config=self._log_config, read_only=sec.read_only_rootfs or None,
            cap_add=list(sec.cap_add) or None, cap_drop=list(sec.cap_drop) or None,
            security_opt=list(sec.security_opt) or None, group_add=list(sec.group_add) or None,
            pids_limit=sec.pids_limit,
            port_bindings={f"{port}/{proto.lower()}": (host_ip, host_port) if host_ip
                           else host_port for port, proto, host_port, host_ip in spec.published}
            or None)

    def _run(self, spec: RunSpec) -> str:
        self._check_image_user(spec)
        host_config = self._host_config(spec)
        try:
            created = self._api.create_container(
                spec.image, command=spec.cmd, entrypoint=spec.entrypoint, name=spec.name,
                environment=spec.env, labels={**spec.labels, LABEL_NODE: self.node_name},
                working_dir=spec.working_dir or None, hostname=spec.hostname,
                user=spec.security.user,
                ports=[(port, proto.lower()) for port, proto, _, _ in spec.published] or None,
                host_config=host_config, stdin_open=spec.stdin, tty=spec.tty,
                # the SDK sets StdinOnce exactly when it is not told `detach`
                detach=not (spec.stdin and spec.stdin_once))
        except docker.errors.APIError as exc:
            raise CreateContainerError(_explain(exc)) from exc
        try:
            self._api.start(created["Id"])
        except docker.errors.APIError as exc:
            raise StartContainerError(_explain(exc), created["Id"]) from exc
        return str(created["Id"])

    async def run_container(self, spec: RunSpec) -> str:
        """Create and start a container; its id. A failed start leaves it, dead, behind."""
        first = spec.labels.get(LABEL_RESTART_COUNT, "0") == "0"
        return await self._engine_call(Priority.FIRST_START if first else Priority.RESTART,
                                       self._run, spec)

    async def stop_container(self, container_id: str, timeout: int) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds (Docker does the escalation)."""
        with contextlib.suppress(ContainerNotFound):
            await self._call(self._api.stop, container_id, timeout=timeout)

    async def remove_container(self, container_id: str) -> None:
        with contextlib.suppress(ContainerNotFound):
            await self._engine_call(Priority.REMOVAL, self._api.remove_container, container_id,
                                    force=True)

    def _read_exec(self, exec_id: str, max_output: int) -> str:
        """Start the exec and read its output to the end, keeping `max_output` bytes and
        dropping the rest (read all the same, so the command never blocks on the pipe)."""
        kept, dropped = bytearray(), 0
        for chunk in self._api.exec_start(exec_id, stream=True):
            room = max(0, max_output - len(kept))
            kept += chunk[:room]
            dropped += max(0, len(chunk) - room)
        if dropped:
            log.debug("component=agent exec output capped exec=%s dropped=%d", exec_id[:12],
                      dropped)
        return kept.decode("utf-8", "replace")

    async def exec(self, container_id: str, command: list[str], *,
                   timeout: float | None = None,
                   max_output: int = EXEC_OUTPUT_LIMIT) -> tuple[int, str]:
        """Run a command to completion in a running container: (exit code, output).

        Execs (the API's, probes', hooks') run on a pool of their own with
        `EXEC_SLOTS` threads, so commands that hang never take the threads the pod
        syncs read with; waiting for a slot counts against `timeout`. Past it, or
        when the caller is cancelled (a client gone), the command's processes are
        killed (`_kill_exec`), which also frees the thread reading them.
        """
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                await self._exec_slots.acquire()
        except TimeoutError:
            raise ExecTimeout(f"no exec slot free within {timeout:g}s") from None
        try:
            exec_id = str((await self._on(self._exec_pool, self._api.exec_create, container_id,
                                          command, stdout=True, stderr=True))["Id"])
            return await self._run_exec(exec_id, deadline, timeout, max_output)
        finally:
            self._exec_slots.release()

    async def _run_exec(self, exec_id: str, deadline: float | None, timeout: float | None,
                        max_output: int) -> tuple[int, str]:
        reading = asyncio.ensure_future(self._on(self._exec_pool, self._read_exec, exec_id,
                                                 max_output))
        try:
            async with asyncio.timeout_at(deadline):
                output = await asyncio.shield(reading)
        except TimeoutError:
            await self._kill_exec(exec_id, reading)
            raise ExecTimeout(f"command timed out after {timeout:g}s") from None
        except asyncio.CancelledError:
            task = asyncio.ensure_future(self._kill_exec(exec_id, reading))
            self._killing.add(task)
            task.add_done_callback(self._killing.discard)
            raise
        code = (await self._call(self._api.exec_inspect, exec_id)).get("ExitCode")
        return int(code if code is not None else -1), output

    async def _kill_exec(self, exec_id: str, reading: asyncio.Future[str]) -> None:
        """Kill a running exec's process tree, then wait (briefly) for its reader to end."""
        try:
            info = await self._call(self._api.exec_inspect, exec_id)
            pid = int(info.get("Pid") or 0)
            if info.get("Running") and pid > 0:
                killed = await asyncio.get_running_loop().run_in_executor(
                    self._pool, proctree.kill_tree, pid, str(info.get("ContainerID") or ""))
                log.info("component=agent killed timed-out exec exec=%s pid=%d processes=%d",
                         exec_id[:12], pid, killed)
            async with asyncio.timeout(EXEC_KILL_WAIT):
                await asyncio.shield(reading)
        except (TimeoutError, ContainerRuntimeError, OSError) as exc:
            log.warning("component=agent timed-out exec did not end exec=%s error=%r",
                        exec_id[:12], exc)

    async def open_exec(self, container_id: str, command: list[str], *, stdin: bool,
                        stdout: bool, stderr: bool, tty: bool) -> StreamSession:
        """Start an interactive exec on the engine's hijacked connection (`session`): the
        kubelet's streaming Exec. A caller that goes away has its command killed."""
        exec_id = str((await self._call(
            self._api.exec_create, container_id, command, stdin=stdin, stdout=stdout,
            stderr=stderr, tty=tty))["Id"])
        raw = await self._call(self._api.exec_start, exec_id, tty=tty, socket=True)

        async def resize(width: int, height: int) -> None:
            await self._call(self._api.exec_resize, exec_id, height=height, width=width)

        async def exit_code() -> int | None:
            for _ in range(EXIT_POLLS):  # the output ends a moment before the engine knows
                info = await self._call(self._api.exec_inspect, exec_id)
                if not info.get("Running"):
                    break
                await asyncio.sleep(EXIT_POLL_INTERVAL)
            code = info.get("ExitCode")
            return int(code) if code is not None else None

        async def kill() -> None:
            info = await self._call(self._api.exec_inspect, exec_id)
            pid = int(info.get("Pid") or 0)
            if info.get("Running") and pid > 0:
                await asyncio.get_running_loop().run_in_executor(
                    self._pool, proctree.kill_tree, pid, str(info.get("ContainerID") or ""))
        return StreamSession(raw, tty=tty, resize=resize, exit_code=exit_code, kill=kill)

    async def open_attach(self, container_id: str, *, stdin: bool, stdout: bool,
                          stderr: bool) -> StreamSession:
        """Attach to a running container's own stdin and output (the kubelet's streaming
        Attach); a terminal when the container has one. Leaving detaches: the container
        goes on (its stdin closed if it was created with stdinOnce)."""
        info = await self._call(self._api.inspect_container, container_id)
        tty = bool((info.get("Config") or {}).get("Tty"))
        raw = await self._call(self._api.attach_socket, container_id, params={
            "stdin": int(stdin), "stdout": int(stdout), "stderr": int(stderr), "stream": 1})

        async def resize(width: int, height: int) -> None:
            await self._call(self._api.resize, container_id, height=height, width=width)

        async def no_exit_code() -> int | None:
            return None

        async def detach() -> None:
            return None
        return StreamSession(raw, tty=tty, resize=resize, exit_code=no_exit_code, kill=detach)

    def stream_logs(self, container_id: str, *, follow: bool, tail: int | None,
                    timestamps: bool, since: datetime | None = None) -> LogStream:
        """The container's stdout and stderr, read on a thread of its own; `since` goes to
        the engine as a fractional Unix time (a datetime would lose its sub-seconds)."""
        extra: dict[str, Any] = {"since": since.timestamp()} if since is not None else {}

        def open_stream() -> Any:
            stream = self._api.logs(container_id, stream=True, follow=follow,
                                    tail="all" if tail is None else tail,
                                    timestamps=timestamps or follow, **extra)
            # a follow sees rotations: drop what Docker repeats at them (`logfollow`)
            return DedupedStream(stream, timestamps) if follow else stream
        return LogStream(open_stream)

    def watch_events(self, on_event: Callable[[str, str], None]) -> EventWatcher:
        """Call `on_event(pod_uid, action)` (on the loop) for each of this node's containers."""
        def open_stream() -> Any:
            return self._api.events(decode=True, filters={
                "type": ["container"], **self._node_filter()})
        return EventWatcher(open_stream, on_event, LABEL_POD_UID)

    # -- images -------------------------------------------------------------------------

    async def image_id(self, ref: str) -> str:
        """The local image's id (`sha256:...`); ImageNotPresent if it is not here."""
        try:
            data = await self._call(self._api.inspect_image, ref)
        except ContainerNotFound as exc:
            raise ImageNotPresent(f'image "{ref}" is not present') from exc
        return str(data["Id"])

    async def pull_image(self, ref: str, auth: dict[str, str] | None = None) -> str:
        """Pull through the engine (as `auth`'s user when given: docker-py's auth_config,
        sent as X-Registry-Auth); the pulled image's id, or ImagePullError."""
        try:
            if auth:
                await self._call(self._client.images.pull, ref, auth_config=dict(auth))
            else:
                await self._call(self._client.images.pull, ref)
        except ContainerRuntimeError as exc:
            raise ImagePullError(str(exc)) from exc
        return await self.image_id(ref)

    async def list_images(self, *, sized: bool = False) -> list[ImageRecord]:
        """Every local image. `sized`: from Docker's disk usage (`docker system df -v`),
        each image's size less the layers it shares, which is what removing it frees; it
        sizes every container and volume too (12 s on a busy engine here), so only the
        image GC's removals ask for it. Unsized: the quick list, whole sizes."""
        if sized:
            usage = await self._call(self._api.df)
            return [image_record(row) for row in usage.get("Images") or []]
        return [image_record(row) for row in await self._call(self._api.images)]

    async def images_in_use(self) -> set[str]:
        """Image ids of every container on the engine, this node's or not, running or not."""
        rows = await self._call(self._api.containers, all=True)
        return {str(r["ImageID"]) for r in rows if r.get("ImageID")}

    async def remove_image(self, image_id: str) -> None:
        """`docker rmi` without force: an image a container uses stays (a 409)."""
        with contextlib.suppress(ContainerNotFound):
            await self._call(self._api.remove_image, image_id, force=False, noprune=False)

    async def image_fs(self) -> FsStats:
        """statvfs of Docker's root directory (`DockerRootDir`), read once from the engine."""
        if self._root_dir is None:
            self._root_dir = str((await self._call(self._api.info)).get("DockerRootDir")
                                 or "/var/lib/docker")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fs_stats,
                                                                    self._root_dir)
        except OSError as exc:  # an engine on another host: its root is not here
            raise ContainerRuntimeError(f"cannot stat Docker's root {self._root_dir}: "
                                        f"{exc}") from exc

    # -- usage (node-pressure eviction) ---------------------------------------------------

    def _usage(self) -> dict[str, list[ContainerUsage]]:
        rows = self._api.containers(size=True, filters=self._node_filter())
        found: dict[str, list[ContainerUsage]] = {}
        for row in rows:
            labels = row.get("Labels") or {}
            if labels.get(LABEL_SANDBOX) == "true":
                continue
            try:
                stats = self._api.stats(row["Id"], stream=False, one_shot=True)
                log_path = str(self._api.inspect_container(row["Id"]).get("LogPath") or "")
            except docker.errors.NotFound:
                continue  # gone meanwhile
            found.setdefault(labels.get(LABEL_POD_UID, ""), []).append(ContainerUsage(
                name=labels.get(LABEL_CONTAINER_NAME, ""), memory=working_set(stats),
                disk=int(row.get("SizeRw") or 0) + log_bytes(log_path)))
        return found

    async def pod_usage(self) -> dict[str, list[ContainerUsage]]:
        """Per pod uid, what each running container uses: memory (working set, from
        one-shot stats) and disk (`SizeRw`, from a sized list, plus its log files)."""
        return await self._call(self._usage)

    # -- volumes ------------------------------------------------------------------------

    async def ensure_volume(self, volume: VolumeSpec) -> None:
        """Create a named volume (idempotent); `memory` makes it tmpfs-backed."""
        opts = None
        if volume.memory:
            opts = {"type": "tmpfs", "device": "tmpfs"}
            if volume.size_bytes:
                opts["o"] = f"size={volume.size_bytes}"
        await self._call(self._api.create_volume, volume.name, driver="local",
                         driver_opts=opts, labels={**volume.labels, LABEL_NODE: self.node_name})

    async def volume_usage(self) -> dict[str, int]:
        """Bytes each of this node's volumes holds, from Docker's disk usage (`docker system
        df -v`); a size Docker could not take (-1) counts as 0."""
        usage = await self._call(self._api.df)
        return {str(v["Name"]): max(int((v.get("UsageData") or {}).get("Size") or 0), 0)
                for v in usage.get("Volumes") or []
                if (v.get("Labels") or {}).get(LABEL_NODE) == self.node_name}

    async def claim_volumes(self) -> list[tuple[str, str, str]]:
        """(namespace, claim, volume name) of every claim volume this node holds."""
        found = await self._call(self._api.volumes, filters=self._node_filter())
        held = []
        for volume in (found or {}).get("Volumes") or []:
            labels = volume.get("Labels") or {}
            if labels.get(LABEL_CLAIM_NAME):
                held.append((labels.get(LABEL_CLAIM_NAMESPACE, ""), labels[LABEL_CLAIM_NAME],
                             volume["Name"]))
        return sorted(held)

    async def remove_pod_volumes(self, pod_uid: str) -> list[str]:
        """Remove every volume labelled with the pod's uid; the names removed."""
        found = await self._call(self._api.volumes, filters=self._node_filter(
            **{LABEL_POD_UID: pod_uid}))
        names = [v["Name"] for v in (found or {}).get("Volumes") or []]
        for name in names:
            with contextlib.suppress(ContainerNotFound):
                await self._call(self._api.remove_volume, name, force=True)
        return names
