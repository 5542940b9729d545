"""StatefulSet (apps/v1): pods with stable names, ordinals and volumes.

Pods `NAME-0..N-1` are created in order and removed in reverse; each
`volumeClaimTemplates` entry becomes a volume per ordinal that follows the pod.
Most of the spec is fixed once created.
"""

from __future__ import annotations

from typing import Any

from apimachinery.meta import Object
from apimachinery.models import StatefulSet
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.defaulting import Obj, dict_at, ensure_dict, set_default
from apiserver.kind import STATUS, Kind
from apiserver.kinds.apps.scale import SCALE
from apiserver.kinds.apps.workload import (
    default_status_replicas,
    int_or_percent,
    int_or_percent_value,
    validate_workload_spec,
)
from apiserver.kinds.core.podtemplate import changed_fields, default_template
from apiserver.validation.fields import (
    Errs,
    as_dict,
    child,
    forbidden,
    invalid,
    non_negative,
    not_supported,
    required,
)

RESOURCE = ResourceInfo("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("all",))


_STS_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy", "minReadySeconds")


def default_stateful_set(obj: Obj) -> None:
    """SetDefaults_StatefulSet: OrderedReady, RollingUpdate with partition 0, history 10."""
    spec = dict_at(obj, "spec")
    if spec is not None:
        set_default(spec, "replicas", 1)
        set_default(spec, "podManagementPolicy", "OrderedReady")
        strategy = ensure_dict(spec, "updateStrategy")
        if strategy is not None:
            set_default(strategy, "type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = ensure_dict(strategy, "rollingUpdate")
                if rolling is not None:
                    set_default(rolling, "partition", 0)
        set_default(spec, "revisionHistoryLimit", 10)
        default_template(spec)
    default_status_replicas(obj)


def validate_stateful_set(obj: Object, old: Object | None) -> Errs:
    """ValidateStatefulSet(Update): policies, update strategy, and the fields that may change."""
    spec = as_dict(obj.get("spec"))
    errs = validate_workload_spec(spec, "StatefulSet", None)
    policy = spec.get("podManagementPolicy")
    if isinstance(policy, str) and policy not in ("OrderedReady", "Parallel"):
        errs.append(not_supported("spec.podManagementPolicy", policy,
                                  ("OrderedReady", "Parallel")))
    errs += _validate_sts_strategy(as_dict(spec.get("updateStrategy")), "spec.updateStrategy")
    errs += non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
    if old is not None:
        old_spec = as_dict(old.get("spec"))
        frozen_new = {k: v for k, v in spec.items() if k not in _STS_MUTABLE}
        frozen_old = {k: v for k, v in old_spec.items() if k not in _STS_MUTABLE}
        if changed_fields(frozen_new, frozen_old, "spec"):
            errs.append(forbidden("spec", "updates to statefulset spec for fields other than "
                                          "'replicas', 'ordinals', 'template', 'updateStrategy', "
                                          "'revisionHistoryLimit', "
                                          "'persistentVolumeClaimRetentionPolicy' and "
                                          "'minReadySeconds' are forbidden"))
    return errs


def _validate_sts_strategy(strategy: dict[str, Any], path: str) -> Errs:
    """ValidateStatefulSetUpdateStrategy: RollingUpdate (partition, maxUnavailable) or OnDelete."""
    errs: Errs = []
    kind, rolling = strategy.get("type"), strategy.get("rollingUpdate")
    if kind == "OnDelete":
        if rolling is not None:
            errs.append(invalid(child(path, "rollingUpdate"), rolling,
                                "only allowed for updateStrategy 'RollingUpdate'"))
    elif kind == "RollingUpdate":
        rolling = as_dict(rolling)
        rpath = child(path, "rollingUpdate")
        errs += non_negative(child(rpath, "partition"), rolling.get("partition"))
        unavailable = rolling.get("maxUnavailable")
        if unavailable is not None:
            errs += int_or_percent(unavailable, child(rpath, "maxUnavailable"))
            if int_or_percent_value(unavailable) == 0:
                errs.append(invalid(child(rpath, "maxUnavailable"), unavailable,
                                    "must be greater than 0"))
    elif kind == "":
        errs.append(required(child(path, "type")))
    elif isinstance(kind, str):
        errs.append(not_supported(child(path, "type"), kind, ("OnDelete", "RollingUpdate")))
    return errs


KIND = Kind(
    resource=RESOURCE,
    model=StatefulSet,
    default=default_stateful_set,
    validate=validate_stateful_set,
    table=LAYOUTS["StatefulSet"],
    subresources=(STATUS, SCALE),
)
