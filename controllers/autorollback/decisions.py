"""Automatic rollback's decisions, as pure functions over wire-format dicts.

Kubernetes has no automatic rollback (a stalled rollout only gets
`Progressing=False`, reason `ProgressDeadlineExceeded`); Schooner adds one for
Deployments annotated `schooner.io/auto-rollback: "true"`. `decide` looks at a
Deployment, the ReplicaSets it controls and the new ReplicaSet's pods, and
says what to do:

* **record**: the rollout is complete (every replica updated and available,
  the latest generation observed), so its revision is the last one known to be
  fully available: `schooner.io/last-available-revision: N`.
* **rollback**: the rollout failed, either past its progress deadline or
  because a new pod is crash-looping (`CrashLoopBackOff` with at least
  `restart_threshold` restarts) or has waited on its image (`ErrImagePull`,
  `ImagePullBackOff`, `ErrImageNeverPull`, `InvalidImageName`) for longer
  than `image_pull_grace` since it started; the target is the ReplicaSet of
  the last available revision, and `rollback_deployment` puts its template
  back as `kubectl rollout undo` does.
* **no-target**: it failed, but no available revision is known (the first
  revision failed, or history dropped the ReplicaSet): remembered, not retried.
* **handled**: this template's failure was dealt with already (its
  pod-template-hash is in `schooner.io/auto-rollback-failed-hash`), so nothing
  is done again: re-applying a template that was rolled back leaves it in
  place, stalled, for a person to look at.

Nothing here does I/O; `controller.py` reads the caches and writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from apimachinery import meta
from apimachinery.conditions import get_condition
from apimachinery.meta import Object

from ..common import controller_ref as refs
from ..common.template_hash import POD_TEMPLATE_HASH
from ..deployment.revisions import LAST_APPLIED, REVISION_HISTORY, ROLLBACK_TO, find_new_rs
from ..deployment.rollout import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    REVISION,
    deployment_complete,
    revision_of,
    spec_replicas,
)

Action = Literal["none", "record", "rollback", "no-target", "handled"]

AUTO_ROLLBACK = "schooner.io/auto-rollback"
LAST_AVAILABLE_REVISION = "schooner.io/last-available-revision"
ROLLBACK_REASON = "schooner.io/auto-rollback-reason"
FAILED_HASH = "schooner.io/auto-rollback-failed-hash"
# The controller's own bookkeeping: never copied between a Deployment and its ReplicaSets.
BOOKKEEPING = frozenset({LAST_AVAILABLE_REVISION, ROLLBACK_REASON, FAILED_HASH})

CRASH_LOOP = "CrashLoopBackOff"
IMAGE_WAITING = frozenset({"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull",
                           "InvalidImageName"})
DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
DEFAULT_RESTART_THRESHOLD = 3
DEFAULT_IMAGE_PULL_GRACE = 30.0

# kubectl's annotationsToSkip (polymorphichelpers/rollback.go): what `rollout undo` does not
# copy from the ReplicaSet back onto the Deployment.
_UNDO_SKIPPED = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS,
                           MAX_REPLICAS, ROLLBACK_TO}) | BOOKKEEPING


@dataclass(frozen=True)
class Failure:
    """Why a rollout is judged failed: a Kubernetes reason and a sentence a person reads."""

    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


@dataclass(frozen=True)
class Decision:
    """What `decide` concluded; `recheck_after` asks for another look (an image grace)."""

    action: Action
    why: str = ""
    revision: int = 0          # record: the revision; rollback: the failed one
    target: Object | None = None
    failure: Failure | None = None
    failed_hash: str = ""
    recheck_after: float | None = None


# -- reading the Deployment ----------------------------------------------------------------------

def annotations_of(obj: Object) -> dict[str, str]:
    return meta.metadata(obj).get("annotations") or {}


def enabled(d: Object) -> bool:
    """The opt-in annotation, exactly "true" as Kubernetes' boolean annotations are."""
    return annotations_of(d).get(AUTO_ROLLBACK) == "true"


def last_available_revision(d: Object) -> int | None:
    raw = annotations_of(d).get(LAST_AVAILABLE_REVISION)
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def pod_template_hash(rs: Object) -> str:
    return str((meta.labels_of(rs) or {}).get(POD_TEMPLATE_HASH, ""))


def observed_current(d: Object) -> bool:
    """The status describes the current template (observedGeneration caught up)."""
    status = d.get("status") or {}
    return int(status.get("observedGeneration") or 0) >= \
        int(meta.metadata(d).get("generation") or 0)


def rollout_complete(d: Object, new_rs: Object) -> bool:
    """Complete and consistent: the status and the new ReplicaSet name the same revision."""
    return (spec_replicas(d) > 0 and deployment_complete(d, d.get("status") or {})
            and annotations_of(d).get(REVISION) == str(revision_of(new_rs)))


# -- what counts as failed -----------------------------------------------------------------------

def deadline_failure(d: Object) -> Failure | None:
    """Progressing=False with ProgressDeadlineExceeded, about the current template."""
    cond = get_condition(d, "Progressing")
    if cond is None or cond.get("status") != "False" or cond.get("reason") != DEADLINE_EXCEEDED:
        return None
    if not observed_current(d):
        return None
    return Failure(DEADLINE_EXCEEDED, str(cond.get("message") or "progress deadline exceeded"))


def _container_statuses(pod: Object) -> list[Object]:
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]


def _started(pod: Object) -> datetime | None:
    status = pod.get("status") or {}
    return meta.parse_time(status.get("startTime")) or \
        meta.parse_time(meta.metadata(pod).get("creationTimestamp"))


def pod_failure(pods: list[Object], now: datetime, *, restart_threshold: int,
                image_pull_grace: float) -> tuple[Failure | None, float | None]:
    """The first crash-looping or image-less container among `pods`, and else the seconds
    until a container waiting on its image passes the grace (None: nothing to wait for)."""
    wait: float | None = None
    for pod in sorted(pods, key=meta.name_of):
        if refs.is_deleting(pod):
            continue
        for cs in _container_statuses(pod):
            waiting = (cs.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            restarts = int(cs.get("restartCount") or 0)
            where = f'container "{cs.get("name")}" of pod {meta.name_of(pod)}'
            if reason == CRASH_LOOP and restarts >= restart_threshold:
                return Failure(CRASH_LOOP, f"{where} restarted {restarts} times"), None
            if reason not in IMAGE_WAITING:
                continue
            started = _started(pod)
            age = (now - started).total_seconds() if started is not None else 0.0
            if age >= image_pull_grace:
                detail = waiting.get("message") or reason
                return Failure(str(reason), f"{where} waited {age:.0f}s: {detail}"), None
            left = image_pull_grace - age
            wait = left if wait is None else min(wait, left)
    return None, wait


# -- the decision --------------------------------------------------------------------------------

def revisions_of(rs: Object) -> set[int]:
    """The revision and those it had before it became new again (revision-history)."""
    history = annotations_of(rs).get(REVISION_HISTORY, "")
    return {revision_of(rs), *(int(h) for h in history.split(",") if h.strip().isdigit())}


def rollback_target(d: Object, rses: list[Object]) -> Object | None:
    """The ReplicaSet of the last fully available revision, if it still exists (under a
    later number, too, if a rollback has made it new again since)."""
    wanted = last_available_revision(d)
    if wanted is None:
        return None
    return next((rs for rs in rses if wanted in revisions_of(rs)), None)


def decide(d: Object, rses: list[Object], pods: list[Object], now: datetime, *,
           restart_threshold: int = DEFAULT_RESTART_THRESHOLD,
           image_pull_grace: float = DEFAULT_IMAGE_PULL_GRACE) -> Decision:
    """What to do about Deployment `d`, given the ReplicaSets it controls and all their pods.

    Only the new ReplicaSet's pods count: an old revision's crash loop is not this
    rollout's failure, and once the rollout is complete a later crash is not a failed
    rollout either (the revision was fully available; there is nothing better to go to).
    """
    if not enabled(d) or refs.is_deleting(d) or (d.get("spec") or {}).get("paused"):
        return Decision("none", "disabled-or-paused")
    new_rs = find_new_rs(d, rses)
    if new_rs is None:
        return Decision("none", "no-new-replicaset")
    revision = revision_of(new_rs)
    if rollout_complete(d, new_rs):
        if last_available_revision(d) == revision:
            return Decision("none", "complete")
        return Decision("record", "complete", revision=revision)
    if last_available_revision(d) in revisions_of(new_rs):
        return Decision("none", "revision-was-available")
    uid = meta.metadata(new_rs).get("uid")
    own = [p for p in pods if (refs.controller_ref(p) or {}).get("uid") == uid]
    failure = deadline_failure(d)
    recheck = None
    if failure is None:
        failure, recheck = pod_failure(own, now, restart_threshold=restart_threshold,
                                       image_pull_grace=image_pull_grace)
    if failure is None:
        return Decision("none", "progressing", recheck_after=recheck)
    failed_hash = pod_template_hash(new_rs)
    if annotations_of(d).get(FAILED_HASH) == failed_hash:
        return Decision("handled", "failed-hash-seen", revision=revision, failure=failure,
                        failed_hash=failed_hash)
    target = rollback_target(d, rses)
    if target is None or target is new_rs:
        return Decision("no-target", "no-available-revision", revision=revision,
                        failure=failure, failed_hash=failed_hash)
    return Decision("rollback", "failed", revision=revision, target=target, failure=failure,
                    failed_hash=failed_hash)


# -- the writes, as objects ----------------------------------------------------------------------

def rollback_deployment(d: Object, target: Object, decision: Decision) -> Object:
    """`kubectl rollout undo` to `target`, on a copy of `d`: its template minus
    pod-template-hash; as annotations the Deployment's kubectl skips (revision,
    last-applied, ...) and this controller's, then the ReplicaSet's others (so the
    change-cause is the revision's own), then why."""
    updated = meta.deep_copy(d)
    template = meta.deep_copy((target.get("spec") or {}).get("template") or {})
    labels = (template.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH, None)
    updated["spec"]["template"] = template
    annotations = {k: v for k, v in annotations_of(d).items() if k in _UNDO_SKIPPED}
    annotations.update({k: v for k, v in annotations_of(target).items()
                        if k not in _UNDO_SKIPPED})
    annotations[ROLLBACK_REASON] = rollback_reason(decision, revision_of(target))
    annotations[FAILED_HASH] = decision.failed_hash
    updated["metadata"]["annotations"] = annotations
    return updated


def rollback_reason(decision: Decision, to_revision: int | None) -> str:
    """The annotation's text: what failed, and where it went (or that it could not)."""
    where = (f"rolled back from revision {decision.revision} to revision {to_revision}"
             if to_revision is not None else
             f"revision {decision.revision} not rolled back: no fully available revision")
    return f"{decision.failure}; {where}"


def handled_annotations(decision: Decision) -> dict[str, str]:
    """no-target: remember the failure so it is reported once, not on every sync."""
    return {ROLLBACK_REASON: rollback_reason(decision, None), FAILED_HASH: decision.failed_hash}
