"""`drain`'s decisions and its eviction loop, after k8s.io/kubectl/pkg/drain.

`pods_for_deletion` runs kubectl's pod filters in order, each pod stopping at
the first filter that keeps it (filters.go): DaemonSet pods stay (an error
without `--ignore-daemonsets`, a warning with it; the DaemonSet would only
recreate them), mirror pods stay (the apiserver cannot delete them), pods
with emptyDir volumes go only with `--delete-emptydir-data`, and pods no
controller owns go only with `--force` (nothing would recreate them). A
finished pod (Succeeded or Failed) may always go. Schooner serves no
DaemonSets, so the DaemonSet filter trusts the owner reference instead of
looking the DaemonSet up.

`Drainer.evict` is drain.go's evictPods: an Eviction per pod (or a plain
DELETE when the server's discovery offers no `pods/eviction`), then a poll
until each pod is gone or replaced by one with another UID, within one global
timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object, metadata, name_of, namespace_of
from apimachinery.resources import by_plural

from .commands import CommandError

MIRROR_POD = "kubernetes.io/config.mirror"
DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"
EVICTION_RETRY = 5.0  # EvictErrorRetryDelay: after a 429 (a disruption budget said no)
POLL = 1.0  # waitForDelete's interval

OKAY, SKIP, WARNING, ERROR = "Okay", "Skip", "Warning", "Error"


@dataclass(frozen=True)
class DrainOptions:
    """drain.Helper's switches that decide which pods go."""

    force: bool = False
    ignore_daemonsets: bool = False
    delete_emptydir_data: bool = False


@dataclass(frozen=True)
class PodDelete:
    """PodDeleteStatus with its pod: whether to delete it and why (or why not)."""

    pod: Object
    delete: bool
    reason: str
    message: str = ""


def _finished(pod: Object) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _controller(pod: Object) -> Object | None:
    return next((r for r in metadata(pod).get("ownerReferences") or [] if r.get("controller")),
                None)


def _daemonset_filter(pod: Object, opts: DrainOptions) -> tuple[bool, str, str]:
    ref = _controller(pod)
    if ref is None or ref.get("kind") != "DaemonSet" or _finished(pod):
        return True, OKAY, ""
    if not opts.ignore_daemonsets:
        return False, ERROR, DAEMONSET_FATAL
    return False, WARNING, DAEMONSET_WARNING


def _mirror_filter(pod: Object, opts: DrainOptions) -> tuple[bool, str, str]:
    if MIRROR_POD in (metadata(pod).get("annotations") or {}):
        return False, SKIP, ""
    return True, OKAY, ""


def _local_storage_filter(pod: Object, opts: DrainOptions) -> tuple[bool, str, str]:
    volumes = (pod.get("spec") or {}).get("volumes") or []
    if not any("emptyDir" in v for v in volumes) or _finished(pod):
        return True, OKAY, ""
    if not opts.delete_emptydir_data:
        return False, ERROR, LOCAL_STORAGE_FATAL
    return True, WARNING, LOCAL_STORAGE_WARNING


def _unreplicated_filter(pod: Object, opts: DrainOptions) -> tuple[bool, str, str]:
    if _finished(pod) or _controller(pod) is not None:
        return True, OKAY, ""
    if opts.force:
        return True, WARNING, UNMANAGED_WARNING
    return False, ERROR, UNMANAGED_FATAL


FILTERS = (_daemonset_filter, _mirror_filter, _local_storage_filter, _unreplicated_filter)


def filter_pod(pod: Object, opts: DrainOptions) -> PodDelete:
    """The pod through kubectl's filters; the first that keeps it decides (makeFilters)."""
    delete, reason, message = True, OKAY, ""
    for check in FILTERS:
        delete, reason, message = check(pod, opts)
        if not delete:
            break
    return PodDelete(pod, delete, reason, message)


@dataclass
class PodDeleteList:
    """The filtered pods: which go, and the warnings and errors to report."""

    items: list[PodDelete] = field(default_factory=list)

    def pods(self) -> list[Object]:
        return [i.pod for i in self.items if i.delete]

    def _grouped(self, reason: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for i in self.items:
            if i.reason == reason:
                out.setdefault(i.message or "unexpected error", []).append(
                    f"{namespace_of(i.pod)}/{name_of(i.pod)}")
        return out

    def warnings(self) -> str:
        """`deleting Pods that declare no controller: ns/a, ns/b; ...`, or ""."""
        return "; ".join(f"{msg}: {', '.join(pods)}"
                         for msg, pods in self._grouped(WARNING).items())

    def errors(self) -> list[str]:
        return [f"cannot delete {msg}: {', '.join(pods)}"
                for msg, pods in self._grouped(ERROR).items()]


def pods_for_deletion(pods: list[Object], opts: DrainOptions) -> PodDeleteList:
    """GetPodsForDeletion's filtering, over a node's pods."""
    return PodDeleteList([filter_pod(pod, opts) for pod in pods])


def aggregate(messages: list[str]) -> str:
    """utilerrors.NewAggregate's text: one message as is, several in brackets."""
    return messages[0] if len(messages) == 1 else f"[{', '.join(messages)}]"


def eviction_supported(client: Client) -> bool:
    """CheckEvictionSupport: /api/v1 lists `pods/eviction` of kind Eviction with a group."""
    resources = client.request("GET", "/api/v1").json().get("resources") or []
    return any(r.get("name") == "pods/eviction" and r.get("kind") == "Eviction"
               and r.get("group") and r.get("version") for r in resources)


def _ref(pod: Object) -> str:
    return f'pods/"{name_of(pod)}" -n "{namespace_of(pod)}"'


@dataclass
class Drainer:
    """Evicts (or deletes) pods and waits until they are gone, printing as kubectl does."""

    client: Client
    grace_period: int = -1  # negative: the pod's own terminationGracePeriodSeconds
    timeout: float = 0.0  # 0: wait forever
    out: Callable[[str], None] = print
    err: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def _delete_options(self) -> Object:
        return {"gracePeriodSeconds": self.grace_period} if self.grace_period >= 0 else {}

    def _past(self, deadline: float | None) -> bool:
        return deadline is not None and self.clock() >= deadline

    def evict(self, pods: list[Object]) -> None:
        """Evict every pod, then wait for all of them to be gone (DeleteOrEvictPods)."""
        if not pods:
            return
        deadline = self.clock() + self.timeout if self.timeout > 0 else None
        using_eviction = eviction_supported(self.client)
        pending = [p for p in pods if (self._evict_one(p, deadline) if using_eviction
                                       else self._delete_one(p))]
        self._wait_for_delete(pending, deadline, "evicted" if using_eviction else "deleted")

    def _evict_one(self, pod: Object, deadline: float | None) -> bool:
        """POST the Eviction, retrying while a disruption budget refuses; False if gone."""
        path = by_plural("pods").object_path(name_of(pod), namespace_of(pod)) + "/eviction"
        body = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": name_of(pod), "namespace": namespace_of(pod)},
                "deleteOptions": self._delete_options()}
        while True:
            self.out(f"evicting pod {namespace_of(pod)}/{name_of(pod)}")
            if self._past(deadline):
                raise CommandError(f"error when evicting {_ref(pod)}: global timeout reached: "
                                   f"{self.timeout:g}s")
            try:
                self.client.request("POST", path, json=body)
                return True
            except errors.NotFound:
                return False
            except errors.TooManyRequests as exc:
                self.err(f"error when evicting {_ref(pod)} (will retry after "
                         f"{EVICTION_RETRY:g}s): {exc.message}")
                self.sleep(EVICTION_RETRY)
            except errors.Unreachable:
                raise
            except errors.APIError as exc:
                raise CommandError(f"error when evicting {_ref(pod)}: {exc.message}") from None

    def _delete_one(self, pod: Object) -> bool:
        try:
            self.client.delete("pods", name_of(pod), namespace_of(pod),
                               grace_period_seconds=self.grace_period
                               if self.grace_period >= 0 else None)
        except errors.NotFound:
            return False
        return True

    def _wait_for_delete(self, pods: list[Object], deadline: float | None, verb: str) -> None:
        """Poll each pod until NotFound or a new UID, printing `pod/NAME evicted` for each."""
        while pods:
            still = []
            for pod in pods:
                try:
                    live = self.client.get("pods", name_of(pod), namespace_of(pod))
                except errors.NotFound:
                    live = None
                if live is None or metadata(live).get("uid") != metadata(pod).get("uid"):
                    self.out(f"pod/{name_of(pod)} {verb}")
                else:
                    still.append(pod)
            pods = still
            if pods and self._past(deadline):
                raise CommandError(f'error when waiting for pod "{name_of(pods[0])}" in '
                                   f'namespace "{namespace_of(pods[0])}" to terminate: global '
                                   f"timeout reached: {self.timeout:g}s")
            if pods:
                self.sleep(POLL)
