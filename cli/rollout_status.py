"""`rollout status`: what kubectl says about a rollout, and the watch it waits on.

`deployment_status` and `statefulset_status` are kubectl's StatusViewers
(k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go) over plain dicts:
each returns the message kubectl prints and whether the rollout is done, or
raises when it cannot finish (a Deployment past its progress deadline).
`watch_until` is watchtools.UntilWithSync: list the one object by a
`metadata.name` field selector, then watch from the list's resourceVersion,
re-watching when the server ends the stream and relisting on 410 Gone, until
the handler says done or the timeout passes ("timed out waiting for the
condition", as kubectl words it).

The displays print those messages: plain lines (each new message once) when
stdout is not a terminal, a rich progress bar of updated-and-available
replicas when it is.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import typer

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object, metadata, name_of
from apimachinery.resources import ResourceInfo

from .commands import CommandError

if TYPE_CHECKING:
    from rich.console import Console

Status = tuple[str, bool]

REVISION = "deployment.kubernetes.io/revision"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"  # deploymentutil.TimedOutReason
TIMED_OUT = "timed out waiting for the condition"
MAX_WATCH_SECONDS = 300  # one watch request at most; the loop re-watches after it


def revision_of(obj: Object) -> int:
    """deploymentutil.Revision: the revision annotation, 0 when absent."""
    raw = (metadata(obj).get("annotations") or {}).get(REVISION)
    if raw is None:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise CommandError(f'cannot get the revision of deployment "{name_of(obj)}": '
                           f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


def _count(obj: Object, part: str, field: str, default: int = 0) -> int:
    value = (obj.get(part) or {}).get(field)
    return default if value is None else int(value)


def deployment_status(d: Object, revision: int = 0) -> Status:
    """DeploymentStatusViewer.Status: the message and whether the rollout is complete."""
    name = name_of(d)
    if revision > 0:
        running = revision_of(d)
        if running != revision:
            raise CommandError(f"desired revision ({revision}) is different from the running "
                               f"revision ({running})")
    if int(metadata(d).get("generation") or 0) > _count(d, "status", "observedGeneration"):
        return "Waiting for deployment spec update to be observed...", False
    progressing = next((c for c in (d.get("status") or {}).get("conditions") or []
                        if c.get("type") == "Progressing"), None)
    if progressing is not None and progressing.get("reason") == TIMED_OUT_REASON:
        raise CommandError(f'deployment "{name}" exceeded its progress deadline')
    wanted = _count(d, "spec", "replicas", 1)
    updated = _count(d, "status", "updatedReplicas")
    replicas = _count(d, "status", "replicas")
    available = _count(d, "status", "availableReplicas")
    prefix = f'Waiting for deployment "{name}" rollout to finish: '
    if updated < wanted:
        return f"{prefix}{updated} out of {wanted} new replicas have been updated...", False
    if replicas > updated:
        return f"{prefix}{replicas - updated} old replicas are pending termination...", False
    if available < updated:
        return f"{prefix}{available} of {updated} updated replicas are available...", False
    return f'deployment "{name}" successfully rolled out', True


def statefulset_status(sts: Object, revision: int = 0) -> Status:
    """StatefulSetStatusViewer.Status (the revision is not checked, as in kubectl)."""
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        raise CommandError("rollout status is only available for RollingUpdate strategy type")
    observed = int(status.get("observedGeneration") or 0)
    if observed == 0 or int(metadata(sts).get("generation") or 0) > observed:
        return "Waiting for statefulset spec update to be observed...", False
    wanted = int(spec.get("replicas", 1))
    ready, updated = int(status.get("readyReplicas") or 0), int(status.get("updatedReplicas")
                                                               or 0)
    if ready < wanted:
        return f"Waiting for {wanted - ready} pods to be ready...", False
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        if partition is not None and updated < wanted - int(partition):
            return (f"Waiting for partitioned roll out to finish: {updated} out of "
                    f"{wanted - int(partition)} new pods have been updated..."), False
        return f"partitioned roll out complete: {updated} new pods have been updated...", True
    if status.get("updateRevision") != status.get("currentRevision"):
        return (f"waiting for statefulset rolling update to complete {updated} pods at "
                f"revision {status.get('updateRevision')}..."), False
    return (f"statefulset rolling update complete {int(status.get('currentReplicas') or 0)} "
            f"pods at revision {status.get('currentRevision')}..."), True


STATUS_VIEWERS: dict[str, Callable[[Object, int], Status]] = {
    "Deployment": deployment_status,
    "StatefulSet": statefulset_status,
}


def progress_of(obj: Object) -> tuple[int, int]:
    """(replicas both updated and available or ready, replicas wanted): the bar's fill."""
    status = obj.get("status") or {}
    done_field = "availableReplicas" if obj.get("kind") == "Deployment" else "readyReplicas"
    done = min(int(status.get("updatedReplicas") or 0), int(status.get(done_field) or 0))
    return done, _count(obj, "spec", "replicas", 1)


# -- waiting on a watch --------------------------------------------------------------------------

def _remaining(deadline: float | None, clock: Callable[[], float]) -> float | None:
    if deadline is None:
        return None
    left = deadline - clock()
    if left <= 0:
        raise CommandError(TIMED_OUT)
    return left


def watch_until(client: Client, resource: ResourceInfo, name: str, namespace: str | None,
                handle: Callable[[Object], bool], *, timeout: float | None,
                clock: Callable[[], float] = time.monotonic) -> None:
    """Call `handle` with each version of the object until it returns True (UntilWithSync)."""
    fields = f"metadata.name={name}"
    deadline = clock() + timeout if timeout else None
    rv: str | None = None

    def typed(obj: Object) -> bool:  # list items come without apiVersion and kind
        return handle({**obj, "apiVersion": resource.api_version, "kind": resource.kind})

    while True:
        if rv is None:
            items, rv = client.list_all(resource, namespace, field_selector=fields)
            if any(typed(obj) for obj in items):
                return
        left = _remaining(deadline, clock)
        seconds = MAX_WATCH_SECONDS if left is None else min(MAX_WATCH_SECONDS,
                                                             max(1, math.ceil(left)))
        for event in client.watch(resource, namespace, resource_version=rv or None,
                                  field_selector=fields, allow_bookmarks=True,
                                  timeout_seconds=seconds):
            if event.type == "ERROR":
                err = errors.from_status(event.object)
                if not isinstance(err, errors.Gone):
                    raise err
                rv = None  # expired: relist, as a reflector does
                break
            rv = metadata(event.object).get("resourceVersion") or rv
            if event.type == "DELETED":
                raise CommandError("object has been deleted")
            if event.type in ("ADDED", "MODIFIED") and typed(event.object):
                return
            _remaining(deadline, clock)


# -- showing progress ----------------------------------------------------------------------------

class Display(Protocol):
    def show(self, obj: Object, message: str, done: bool) -> None: ...

    def close(self) -> None: ...


class PlainDisplay:
    """kubectl's output: one line per status message (a repeated message is not repeated)."""

    def __init__(self, echo: Callable[[str], None] = typer.echo) -> None:
        self._echo = echo
        self._last: str | None = None

    def show(self, obj: Object, message: str, done: bool) -> None:
        if message != self._last:
            self._echo(message)
            self._last = message

    def close(self) -> None:
        """Nothing to tear down."""


class BarDisplay:
    """kubectl's lines, printed above a live rich bar of the replicas done so far.

    The bar (`web ━━━━━━━━━━━━━━ 2/4 0:00:05`) is transient: it disappears when
    the rollout finishes or fails, leaving exactly the lines kubectl prints.
    """

    def __init__(self, console: Console | None = None) -> None:
        # Imported here: rich.progress costs every other command's start-up otherwise.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._console = console or Console(highlight=False)
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(),
                                  console=self._console, transient=True)
        self._task: Any = None
        self._last: str | None = None

    def show(self, obj: Object, message: str, done: bool) -> None:
        completed, total = progress_of(obj)
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task(name_of(obj), total=max(total, 1))
        self._progress.update(self._task, completed=completed, total=max(total, 1))
        if message != self._last:
            self._progress.console.print(message, markup=False, highlight=False, soft_wrap=True)
            self._last = message
        if done:
            self.close()

    def close(self) -> None:
        self._progress.stop()
