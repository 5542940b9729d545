"""Starting a pod's sandbox and containers (kuberuntime's SyncPod steps 4-6).

For the containers `compute_pod_actions` chose to start: provide the pod's
volumes (fetching the ConfigMaps and Secrets it reads) and its resolv.conf
(`network/resolv_conf.py`), create the sandbox if asked, then for each container ensure its
image, build its environment and mounts, and create and start it in the
sandbox's namespaces, and run its postStart hook. Every failure
becomes the container's waiting reason (ErrImagePull, ImagePullBackOff,
ErrImageNeverPull, CreateContainerConfigError, CreateContainerError,
RunContainerError, PostStartHookError) and an event; nothing is raised to
the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.network.resolv_conf import (
    ClusterDNS,
    resolv_conf,
    resolv_conf_file,
    resolv_conf_mount,
    write_resolv_conf,
)
from agent.podsync.actions import (
    PodActions,
    StartContainer,
    backoff_key,
    grace_period,
    init_containers,
)
from agent.podsync.backoff import Backoff
from agent.podsync.envvars import ConfigError, build_env, referenced_objects
from agent.podsync.images import ImageManager
from agent.podsync.pod_status import Waiting
from agent.podsync.projected import DATA_DIR
from agent.podsync.pullsecrets import auth_for, secret_names
from agent.podsync.runspec import container_spec, sandbox_spec
from agent.podsync.security import user_refusal
from agent.podsync.serviceenv import MASTER_NAMESPACE, pod_service_env
from agent.podsync.termination import ContainerTermination
from agent.podsync.termination_message import message_file, prepare, termination_mount
from agent.podsync.tokens import TokenManager, fetch_tokens, pod_token_keys
from agent.podsync.volumes import (
    PlannedVolume,
    adopt_claim_volumes,
    container_mounts,
    materialize,
    plan_volumes,
    secret_volume_dir,
)
from agent.probes.hooks import HookRunner, handler_of, run_until
from agent.runtime.container import (
    ContainerConfigError,
    ContainerRecord,
    ContainerRuntimeError,
    CreateContainerError,
    Mount,
    PodObservation,
    StartContainerError,
)
from agent.runtime.protocol import ContainerRuntime
from apimachinery import errors
from apimachinery.client import AsyncClient
from apimachinery.events import EventRecorder
from apimachinery.meta import Object

log = logging.getLogger(__name__)
CONFIG_RETRY_SECONDS = 5.0
SANDBOX_RETRY_SECONDS = 10.0


@dataclass
class StartOutcome:
    """Waiting reasons set (or cleared) by this attempt, and when to try again."""

    reasons: dict[str, Waiting | None] = field(default_factory=dict)
    retry_after: float | None = None

    def retry(self, seconds: float | None) -> None:
        if seconds is not None:
            self.retry_after = seconds if self.retry_after is None else min(
                self.retry_after, seconds)


@dataclass(frozen=True)
class PodStarter:
    client: AsyncClient
    runtime: ContainerRuntime
    images: ImageManager
    recorder: EventRecorder
    backoff: Backoff
    root_dir: Path
    node_ip: str
    sandbox_image: str
    cluster_dns: ClusterDNS = field(default_factory=ClusterDNS)
    pids_limit: int | None = None  # per container (`--pod-max-pids`); None: unlimited
    hooks: HookRunner = field(kw_only=True)
    termination: ContainerTermination = field(kw_only=True)  # a failed postStart's kill
    stopping: Callable[[str], asyncio.Event] = field(kw_only=True)  # set: the pod is going
    tokens: TokenManager | None = field(default=None, kw_only=True)  # projected tokens

    async def start(self, pod: Object, observed: PodObservation,
                    actions: PodActions) -> StartOutcome:
        outcome = StartOutcome()
        names = [s.name for s in actions.start]
        try:
            lookup = await self._fetch_references(pod)
            tokens = await fetch_tokens(self.tokens, pod) if self.tokens else {}
            planned = plan_volumes(pod, self.root_dir, lambda k, n: lookup.get((k, n)),
                                   lambda v, i: tokens.get((v, i)))
            planned = await self._provide(planned)
            services = pod_service_env(pod, await self._fetch_services(pod))
            dns = await self._provide_dns(pod)
        except ConfigError as exc:
            self.recorder.record(pod, "FailedMount", f"MountVolume.SetUp failed: {exc}",
                                 warning=True)
            outcome.reasons.update({n: Waiting("ContainerCreating") for n in names})
            outcome.retry(CONFIG_RETRY_SECONDS)
            return outcome
        sandbox = observed.running_sandbox
        if actions.create_sandbox:
            sandbox = await self._create_sandbox(pod, observed, dns)
            if sandbox is None:
                outcome.retry(SANDBOX_RETRY_SECONDS)
                return outcome
        if sandbox is None:
            return outcome
        spec = pod.get("spec") or {}
        specs = {str(c.get("name")): c
                 for c in [*init_containers(spec), *(spec.get("containers") or [])]}
        stopping = self.stopping(str((pod.get("metadata") or {}).get("uid") or ""))
        for start in actions.start:
            if stopping.is_set():
                break  # deleted meanwhile (a postStart hook was interrupted): the kill is next
            await self._start_container(pod, specs[start.name], start, sandbox, observed,
                                        lambda k, n: lookup.get((k, n)), planned, dns,
                                        outcome, services)
        return outcome

    async def refresh_projected(self, pod: Object) -> float | None:
        """Rewrite the projected volumes already written whose token is due (the kubelet
        renews a token at 80% of its life); seconds until the next one is due, or None
        when the pod has no token. A failure is an event, and a retry soon."""
        if self.tokens is None:
            return None
        keys = pod_token_keys(pod)
        if not keys:
            return None
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        written = {where: key for where, key in keys.items()
                   if (secret_volume_dir(self.root_dir, uid, where[0]) / DATA_DIR).is_symlink()}
        if not written:
            return None  # not written yet: the containers' start writes them
        due = {volume for (volume, _), key in written.items() if self.tokens.due(key)}
        if due:
            try:
                lookup = await self._fetch_references(pod)
                tokens = await fetch_tokens(self.tokens, pod)
                planned = plan_volumes(pod, self.root_dir, lambda k, n: lookup.get((k, n)),
                                       lambda v, i: tokens.get((v, i)))
                for name in sorted(due):
                    await asyncio.to_thread(materialize, planned[name])
            except (ConfigError, OSError, errors.APIError) as exc:
                self.recorder.record(pod, "FailedMount",
                                     f"MountVolume.SetUp failed (token renewal): {exc}",
                                     warning=True)
                return CONFIG_RETRY_SECONDS
            log.info("component=agent projected token renewed pod=%s/%s volumes=%s",
                     (pod.get("metadata") or {}).get("namespace"),
                     (pod.get("metadata") or {}).get("name"), ",".join(sorted(due)))
        return self.tokens.next_refresh(list(written.values()))

    async def _fetch_services(self, pod: Object) -> list[Object]:
        """The Services whose variables the pod may see: `default/kubernetes` always, its
        namespace's when `enableServiceLinks` is not false (kubelet's service lister)."""
        namespace = str((pod.get("metadata") or {}).get("namespace") or "")
        links = (pod.get("spec") or {}).get("enableServiceLinks") is not False
        wanted = {MASTER_NAMESPACE} | ({namespace} if links else set())
        try:
            found = [await self.client.list("services", ns) for ns in sorted(wanted)]
        except errors.APIError as exc:
            raise ConfigError(f"listing services for the environment: {exc}") from exc
        return [{**s, "metadata": {**(s.get("metadata") or {}), "namespace": ns}}
                for ns, page in zip(sorted(wanted), found, strict=True)
                for s in page.get("items") or []]

    async def _fetch_references(self, pod: Object) -> dict[tuple[str, str], Object | None]:
        """The ConfigMaps and Secrets the pod reads (None for the missing ones)."""
        namespace = str((pod.get("metadata") or {}).get("namespace") or "")
        refs = sorted(referenced_objects(pod) | {("secret", n) for n in secret_names(pod)})

        async def fetch(kind: str, name: str) -> Object | None:
            try:
                return await self.client.get(f"{kind}s", name, namespace)
            except errors.NotFound:
                return None
        found = await asyncio.gather(*(fetch(k, n) for k, n in refs))
        return dict(zip(refs, found, strict=True))

    async def _provide(self, planned: dict[str, PlannedVolume]) -> dict[str, PlannedVolume]:
        """Make every volume exist on this host; the plan, with claims on the volumes held."""
        if any(v.plugin == "persistentVolumeClaim" for v in planned.values()):
            try:
                planned = adopt_claim_volumes(planned, await self.runtime.claim_volumes())
            except ContainerRuntimeError as exc:
                raise ConfigError(f"listing this node's claim volumes: {exc}") from exc
        for volume in planned.values():
            if volume.runtime_volume is not None:
                try:
                    await self.runtime.ensure_volume(volume.runtime_volume)
                except ContainerRuntimeError as exc:
                    raise ConfigError(f'volume "{volume.name}": {exc}') from exc
            else:
                await asyncio.to_thread(materialize, volume)
        return planned

    async def _provide_dns(self, pod: Object) -> tuple[Mount, ...]:
        """Write the pod's resolv.conf; the mount that shows it, or none (Docker's own)."""
        content = resolv_conf(pod, self.cluster_dns)
        if content is None:
            return ()
        path = resolv_conf_file(self.root_dir, str((pod.get("metadata") or {}).get("uid")))
        try:
            await asyncio.to_thread(write_resolv_conf, path, content)
        except OSError as exc:
            raise ConfigError(f"writing {path}: {exc}") from exc
        return (resolv_conf_mount(path),)

    async def _create_sandbox(self, pod: Object, observed: PodObservation,
                              dns: tuple[Mount, ...]) -> ContainerRecord | None:
        attempt = max((s.restart_count for s in observed.sandboxes), default=-1) + 1
        if attempt > 0:
            self.recorder.record(pod, "SandboxChanged",
                                 "Pod sandbox changed, it will be killed and re-created.")
        spec = sandbox_spec(pod, attempt=attempt, image=self.sandbox_image,
                            network=self.runtime.network, mounts=dns,
                            pids_limit=self.pids_limit, node_ip=self.node_ip)
        try:
            if not await self.images.local_id(self.sandbox_image):  # the kubelet pulls its
                await self.runtime.pull_image(self.sandbox_image)  # pause image as needed
            sandbox_id = await self.runtime.run_container(spec)
            return await self.runtime.container(sandbox_id)
        except ContainerRuntimeError as exc:
            log.warning("component=agent sandbox failed pod=%s/%s error=%s",
                        (pod.get("metadata") or {}).get("namespace"),
                        (pod.get("metadata") or {}).get("name"), exc)
            self.recorder.record(pod, "FailedCreatePodSandBox",
                                 f"Failed to create pod sandbox: {exc}", warning=True)
            return None

    async def _start_container(self, pod: Object, container: Object, start: StartContainer,
                               sandbox: ContainerRecord, observed: PodObservation,
                               lookup: Any, planned: dict[str, PlannedVolume],
                               dns: tuple[Mount, ...], outcome: StartOutcome,
                               services: dict[str, str]) -> None:
        name = start.name
        image = await self.images.ensure(pod, container, self._pull_auth(pod, container, lookup))
        if image.waiting is not None:
            outcome.reasons[name] = image.waiting
            outcome.retry(image.retry_after)
            return
        try:
            env = build_env(pod, container, lookup, pod_ip=sandbox.ip, host_ip=self.node_ip,
                            services=services)
            mounts = container_mounts(container, planned)
            mounts += tuple(m for m in dns if all(m.target != v.target for v in mounts))
            refusal = user_refusal(pod, container)
            if refusal:
                raise ConfigError(refusal)
        except ConfigError as exc:
            self.recorder.record(pod, "Failed", f"Error: {exc}", container=name, warning=True)
            outcome.reasons[name] = Waiting("CreateContainerConfigError", str(exc))
            outcome.retry(CONFIG_RETRY_SECONDS)
            return
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        if start.after_failure_at is not None:
            self.backoff.next(backoff_key(uid, name), start.after_failure_at)
        attempt = observed.next_restart_count(name)
        try:
            mounts += await self._termination_log(container, uid, attempt, mounts)
        except OSError as exc:
            self._failed(pod, name, "CreateContainerError", exc, outcome)
            outcome.retry(CONFIG_RETRY_SECONDS)
            return
        spec = container_spec(pod, container, sandbox_id=sandbox.id, env=env, mounts=mounts,
                              restart_count=attempt, pids_limit=self.pids_limit)
        try:
            container_id = await self.runtime.run_container(spec)
        except ContainerConfigError as exc:
            self.recorder.record(pod, "Failed", f"Error: {exc}", container=name, warning=True)
            outcome.reasons[name] = Waiting("CreateContainerConfigError", str(exc))
            outcome.retry(CONFIG_RETRY_SECONDS)
            return
        except StartContainerError as exc:
            self._failed(pod, name, "RunContainerError", exc, outcome)
            return
        except (CreateContainerError, ContainerRuntimeError) as exc:
            self._failed(pod, name, "CreateContainerError", exc, outcome)
            outcome.retry(CONFIG_RETRY_SECONDS)
            return
        outcome.reasons[name] = None
        self.recorder.record(pod, "Created", f"Created container {name}", container=name)
        self.recorder.record(pod, "Started", f"Started container {name}", container=name)
        await self._post_start(pod, container, container_id, sandbox.ip, outcome)

    def _pull_auth(self, pod: Object, container: Object, lookup: Any) -> dict[str, str] | None:
        """The pod's imagePullSecrets' credentials for the container's image. A missing
        Secret is a warning and the pull goes on without it, as the kubelet's
        `FailedToRetrieveImagePullSecret`."""
        names = secret_names(pod)
        if not names:
            return None
        found = {n: lookup("secret", n) for n in names}
        missing = [n for n, s in found.items() if s is None]
        if missing:
            self.recorder.record(pod, "FailedToRetrieveImagePullSecret",
                                 f"Unable to retrieve some image pull secrets "
                                 f"({', '.join(missing)}); attempting to pull the image may "
                                 "not succeed.", warning=True)
        return auth_for(str(container.get("image") or ""),
                        [s for s in found.values() if s is not None])

    async def _termination_log(self, container: Object, uid: str, attempt: int,
                               mounts: tuple[Mount, ...]) -> tuple[Mount, ...]:
        """The empty node file bind-mounted at terminationMessagePath (termination_message.py)."""
        path = message_file(self.root_dir, uid, str(container.get("name")), attempt)
        mount = termination_mount(container, path, mounts)
        if mount is None:
            return ()
        await asyncio.to_thread(prepare, path)
        return (mount,)

    async def _post_start(self, pod: Object, container: Object, container_id: str,
                          pod_ip: str, outcome: StartOutcome) -> None:
        """Run the postStart hook; if it fails, kill the container (kubelet's startContainer).

        The sync waits for the hook, so the pod's status shows the container
        running only once the hook has returned (the kubelet, too, writes the
        status its next sync generates). A deletion meanwhile interrupts the
        hook, as the kubelet cancels the sync's context; the next sync kills.
        A failure is a `FailedPostStartHook` warning and a kill (preStop and
        all); the container then waits as `PostStartHookError` and restarts
        by its restartPolicy and back-off like one that crashed.
        """
        handler = handler_of(container, "postStart")
        if handler is None:
            return
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        finished, result = await run_until(
            self.hooks.run(pod, container, container_id, pod_ip, handler),
            self.stopping(uid).wait())
        if not finished or result is None or result.ok:
            return
        name = str(container.get("name"))
        meta = pod.get("metadata") or {}
        log.warning("component=agent postStart hook failed pod=%s/%s container=%s message=%s",
                    meta.get("namespace"), meta.get("name"), name, result.message)
        self.recorder.record(pod, "FailedPostStartHook", result.message, container=name,
                             warning=True)
        await self.termination.kill_container(pod, name, container_id, grace_period(pod),
                                              pod_ip=pod_ip, why="postStart hook failed",
                                              message="FailedPostStartHook")
        outcome.reasons[name] = Waiting("PostStartHookError", result.message)

    def _failed(self, pod: Object, name: str, reason: str, exc: Exception,
                outcome: StartOutcome) -> None:
        self.recorder.record(pod, "Failed", f"Error: {exc}", container=name, warning=True)
        outcome.reasons[name] = Waiting(reason, str(exc))
