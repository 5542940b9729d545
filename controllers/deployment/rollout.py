"""The Deployment controller's arithmetic, as pure functions over wire-format dicts.

Kubernetes' pkg/controller/deployment/util/deployment_util.go and the
decision halves of rolling.go, recreate.go and sync.go. Nothing here does
I/O: each function says how many replicas a ReplicaSet should have, and the
controller (`controller.py`) carries it out. A plan is a list of
(ReplicaSet name, new spec.replicas) in the order Kubernetes would scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from apimachinery import meta
from apimachinery.meta import Object

Plan = list[tuple[str, int]]

DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
REVISION = "deployment.kubernetes.io/revision"


# -- accessors ---------------------------------------------------------------------------------

def spec_replicas(obj: Object | None) -> int:
    if obj is None:
        return 0
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _status(obj: Object | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def available_replicas(rs: Object | None) -> int:
    return _status(rs, "availableReplicas")


def _annotation_int(rs: Object, key: str) -> int | None:
    raw = (meta.metadata(rs).get("annotations") or {}).get(key)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def revision_of(rs: Object) -> int:
    return _annotation_int(rs, REVISION) or 0


def _created(rs: Object) -> tuple[datetime, str]:
    stamp = meta.parse_time(meta.metadata(rs).get("creationTimestamp"))
    return (stamp or datetime.min.replace(tzinfo=UTC), meta.name_of(rs))


def by_creation(rses: list[Object]) -> list[Object]:
    """ReplicaSetsByCreationTimestamp: oldest first, names breaking ties."""
    return sorted(rses, key=_created)


def active(rses: Sequence[Object | None]) -> list[Object]:
    """FilterActiveReplicaSets: those that have (or ought to have) pods."""
    return [rs for rs in rses if rs is not None and spec_replicas(rs) > 0]


def total_replicas(rses: Sequence[Object | None]) -> int:
    return sum(spec_replicas(rs) for rs in rses if rs is not None)


def total_available(rses: Sequence[Object | None]) -> int:
    return sum(available_replicas(rs) for rs in rses if rs is not None)


def with_replicas(rs: Object, replicas: int) -> Object:
    """A shallow view of `rs` at another size, for planning the next step."""
    return {**rs, "spec": {**(rs.get("spec") or {}), "replicas": replicas}}


# -- maxSurge and maxUnavailable ---------------------------------------------------------------

def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """GetScaledValueFromIntOrPercent: an int as is, "25%" of `total` rounded as asked."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(f"invalid int-or-percent {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.endswith("%"):
        raise ValueError(f"invalid value for IntOrString: {value!r} is not a percentage")
    percent = int(text[:-1])
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None,
                       desired: int) -> tuple[int, int]:
    """Surge rounds up, unavailable rounds down; both 0 would deadlock, so unavailable is 1."""
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def is_rolling_update(d: Object) -> bool:
    strategy = (d.get("spec") or {}).get("strategy") or {}
    return (strategy.get("type") or "RollingUpdate") == "RollingUpdate"


def _rolling(d: Object) -> Object:
    return ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}


def max_surge(d: Object) -> int:
    if not is_rolling_update(d):
        return 0
    rolling = _rolling(d)
    return resolve_fenceposts(rolling.get("maxSurge", "25%"),
                              rolling.get("maxUnavailable", "25%"), spec_replicas(d))[0]


def max_unavailable(d: Object) -> int:
    """MaxUnavailable: never more than the desired replicas; 0 when not rolling."""
    replicas = spec_replicas(d)
    if not is_rolling_update(d) or replicas == 0:
        return 0
    rolling = _rolling(d)
    unavailable = resolve_fenceposts(rolling.get("maxSurge", "25%"),
                                     rolling.get("maxUnavailable", "25%"), replicas)[1]
    return min(unavailable, replicas)


# -- RollingUpdate ---------------------------------------------------------------------------

def new_rs_new_replicas(d: Object, all_rses: list[Object], new_rs: Object) -> int:
    """NewRSNewReplicas: how far the new ReplicaSet may grow within maxSurge."""
    if not is_rolling_update(d):
        return spec_replicas(d)
    surge = scaled_value(_rolling(d).get("maxSurge", "25%"), spec_replicas(d), True)
    current = total_replicas(all_rses)
    max_total = spec_replicas(d) + surge
    if current >= max_total:
        return spec_replicas(new_rs)
    grow = min(max_total - current, spec_replicas(d) - spec_replicas(new_rs))
    return spec_replicas(new_rs) + grow


def plan_new_rs(d: Object, all_rses: list[Object], new_rs: Object) -> int | None:
    """reconcileNewReplicaSet: the new ReplicaSet's next size, or None to leave it."""
    if spec_replicas(new_rs) == spec_replicas(d):
        return None
    if spec_replicas(new_rs) > spec_replicas(d):
        return spec_replicas(d)
    target = new_rs_new_replicas(d, all_rses, new_rs)
    return None if target == spec_replicas(new_rs) else target


def plan_old_rses(d: Object, all_rses: list[Object], old_rses: list[Object],
                  new_rs: Object) -> Plan:
    """reconcileOldReplicaSets: scale old ReplicaSets down without breaking maxUnavailable.

    First their unhealthy replicas go (cleanupUnhealthyReplicas), then as many
    available ones as keep `replicas - maxUnavailable` pods available.
    """
    if total_replicas(old_rses) == 0:
        return []
    min_available = spec_replicas(d) - max_unavailable(d)
    new_unavailable = spec_replicas(new_rs) - available_replicas(new_rs)
    max_scaled_down = total_replicas(all_rses) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return []
    plan: dict[str, int] = {}
    cleaned: list[Object] = []
    removed = 0
    for rs in by_creation(old_rses):  # cleanupUnhealthyReplicas
        unhealthy = spec_replicas(rs) - available_replicas(rs)
        if removed >= max_scaled_down or spec_replicas(rs) == 0 or unhealthy <= 0:
            cleaned.append(rs)
            continue
        step = min(max_scaled_down - removed, unhealthy)
        plan[meta.name_of(rs)] = spec_replicas(rs) - step
        cleaned.append(with_replicas(rs, spec_replicas(rs) - step))
        removed += step
    available = total_available([*cleaned, new_rs])  # scaleDownOldReplicaSetsForRollingUpdate
    if available > min_available:
        to_remove, done = available - min_available, 0
        for rs in by_creation(cleaned):
            if done >= to_remove:
                break
            if spec_replicas(rs) == 0:
                continue
            step = min(spec_replicas(rs), to_remove - done)
            plan[meta.name_of(rs)] = spec_replicas(rs) - step
            done += step
    return list(plan.items())


# -- scaling (sync.go scale) -----------------------------------------------------------------

def find_active_or_latest(new_rs: Object | None, old_rses: list[Object]) -> Object | None:
    """The one ReplicaSet with pods, or the newest if none has; None if several have."""
    if new_rs is None and not old_rses:
        return None
    newest_first = list(reversed(by_creation(old_rses)))
    candidates = active([*newest_first, new_rs])
    if not candidates:
        return new_rs if new_rs is not None else newest_first[0]
    return candidates[0] if len(candidates) == 1 else None


def is_saturated(d: Object, rs: Object | None) -> bool:
    """The new ReplicaSet runs every desired replica, all available."""
    if rs is None:
        return False
    desired = _annotation_int(rs, DESIRED_REPLICAS)
    replicas = spec_replicas(d)
    return desired == replicas and spec_replicas(rs) == replicas \
        and available_replicas(rs) == replicas


def is_scaling_event(d: Object, new_rs: Object | None, old_rses: list[Object]) -> bool:
    """An active ReplicaSet was sized for a different spec.replicas than the current one."""
    for rs in active([*old_rses, new_rs]):
        desired = _annotation_int(rs, DESIRED_REPLICAS)
        if desired is not None and desired != spec_replicas(d):
            return True
    return False


def _round_half_away(value: float) -> int:
    """Go's math.Round (half away from zero), not Python's banker's rounding."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _fraction(rs: Object, d: Object) -> int:
    """getReplicaSetFraction: the change `rs` gets in proportion to its share."""
    if spec_replicas(d) == 0:
        return -spec_replicas(rs)
    max_now = spec_replicas(d) + max_surge(d)
    before = _annotation_int(rs, MAX_REPLICAS) or _status(d, "replicas")
    if not before:
        return 0
    return _round_half_away(spec_replicas(rs) * max_now / before) - spec_replicas(rs)


def plan_scale(d: Object, new_rs: Object | None, old_rses: list[Object]) -> Plan:
    """DeploymentController.scale: resize for a new spec.replicas, proportionally if rolling."""
    only = find_active_or_latest(new_rs, old_rses)
    if only is not None:
        desired = _annotation_int(only, DESIRED_REPLICAS)
        if spec_replicas(only) == spec_replicas(d) and desired in (None, spec_replicas(d)):
            return []
        return [(meta.name_of(only), spec_replicas(d))]  # resize, or refresh its annotations
    if is_saturated(d, new_rs):
        return [(meta.name_of(rs), 0) for rs in active(list(old_rses))]
    if not is_rolling_update(d):
        return []
    rses = active([*old_rses, new_rs])
    allowed = spec_replicas(d) + max_surge(d) if spec_replicas(d) > 0 else 0
    to_add = allowed - total_replicas(rses)
    # Bigger first; among equals newer first when growing (ReplicaSetsBySizeNewer),
    # older first when shrinking (ReplicaSetsBySizeOlder). Both sorts are stable.
    rses = by_creation(rses)
    if to_add > 0:
        rses.reverse()
    rses.sort(key=lambda rs: -spec_replicas(rs))
    sizes: dict[str, int] = {}
    added = 0
    for rs in rses:
        proportion = 0
        if to_add != 0 and spec_replicas(rs) != 0 and to_add != added:
            allowed_left = to_add - added
            fraction = _fraction(rs, d)
            proportion = min(fraction, allowed_left) if to_add > 0 else \
                max(fraction, allowed_left)
        sizes[meta.name_of(rs)] = spec_replicas(rs) + proportion
        added += proportion
    if rses and to_add != 0:
        first = meta.name_of(rses[0])
        sizes[first] = max(0, sizes[first] + to_add - added)
    return [(meta.name_of(rs), sizes[meta.name_of(rs)]) for rs in rses]


# -- history and progress ----------------------------------------------------------------------

def history_to_delete(old_rses: list[Object], limit: int | None) -> list[Object]:
    """cleanupDeployment: the oldest revisions beyond revisionHistoryLimit, if fully idle."""
    if limit is None:
        return []
    alive = [rs for rs in old_rses if not meta.metadata(rs).get("deletionTimestamp")]
    excess = len(alive) - limit
    if excess <= 0:
        return []
    ordered = sorted(alive, key=lambda rs: (revision_of(rs), _created(rs)))
    victims = []
    for rs in ordered[:excess]:
        observed = _status(rs, "observedGeneration")
        generation = int(meta.metadata(rs).get("generation") or 0)
        if _status(rs, "replicas") or spec_replicas(rs) or generation > observed:
            continue
        victims.append(rs)
    return victims


def deployment_complete(d: Object, status: Object) -> bool:
    """Every desired replica updated and available, and the latest spec observed."""
    replicas = spec_replicas(d)
    return (int(status.get("updatedReplicas") or 0) == replicas
            and int(status.get("replicas") or 0) == replicas
            and int(status.get("availableReplicas") or 0) == replicas
            and int(status.get("observedGeneration") or 0)
            >= int(meta.metadata(d).get("generation") or 0))


def deployment_progressing(d: Object, status: Object) -> bool:
    """More updated, fewer old, more ready or more available replicas than last time."""
    old = d.get("status") or {}

    def n(s: Object, f: str) -> int:
        return int(s.get(f) or 0)
    old_old = n(old, "replicas") - n(old, "updatedReplicas")
    new_old = n(status, "replicas") - n(status, "updatedReplicas")
    return (n(status, "updatedReplicas") > n(old, "updatedReplicas") or new_old < old_old
            or n(status, "readyReplicas") > n(old, "readyReplicas")
            or n(status, "availableReplicas") > n(old, "availableReplicas"))


def progress_deadline(d: Object) -> int | None:
    value = (d.get("spec") or {}).get("progressDeadlineSeconds")
    return None if value is None or int(value) >= 2**31 - 1 else int(value)


def deployment_timed_out(d: Object, status: Object, now: datetime) -> bool:
    """No progress recorded on the Progressing condition within progressDeadlineSeconds."""
    deadline = progress_deadline(d)
    if deadline is None:
        return False
    cond = next((c for c in status.get("conditions") or [] if c.get("type") == "Progressing"),
                None)
    if cond is None or cond.get("reason") == "NewReplicaSetAvailable":
        return False
    if cond.get("reason") == "ProgressDeadlineExceeded":
        return True
    since = meta.parse_time(cond.get("lastUpdateTime"))
    return since is not None and since + timedelta(seconds=deadline) < now
