"""Deployment (apps/v1): a replicated pod template rolled out through ReplicaSets.

The Deployment controller makes one ReplicaSet per template and moves replicas
from the old to the new one (RollingUpdate within maxSurge/maxUnavailable, or
Recreate); `kubectl scale` and autoscalers write `deployments/scale`.
"""

from __future__ import annotations

from typing import Any

from apimachinery.meta import Object
from apimachinery.models import Deployment
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.defaulting import Obj, dict_at, ensure_dict, set_default
from apiserver.kind import STATUS, Kind
from apiserver.kinds.apps.scale import SCALE
from apiserver.kinds.apps.workload import (
    int_or_percent,
    int_or_percent_value,
    validate_workload_spec,
)
from apiserver.kinds.core.podtemplate import default_template
from apiserver.validation.fields import (
    Errs,
    as_dict,
    child,
    forbidden,
    invalid,
    is_int,
    non_negative,
    not_supported,
    required,
)

RESOURCE = ResourceInfo("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("all",))


def default_deployment(obj: Obj) -> None:
    """SetDefaults_Deployment (apps/v1): replicas, RollingUpdate 25%/25%, history, deadline."""
    spec = dict_at(obj, "spec")
    if spec is None:
        return
    set_default(spec, "replicas", 1)
    strategy = ensure_dict(spec, "strategy")
    if strategy is not None:
        set_default(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = ensure_dict(strategy, "rollingUpdate")
            if rolling is not None:
                set_default(rolling, "maxUnavailable", "25%")
                set_default(rolling, "maxSurge", "25%")
    set_default(spec, "revisionHistoryLimit", 10)
    set_default(spec, "progressDeadlineSeconds", 600)
    default_template(spec)


def validate_deployment(obj: Object, old: Object | None) -> Errs:
    """ValidateDeployment(Update)."""
    spec = as_dict(obj.get("spec"))
    errs = validate_workload_spec(spec, "Deployment", old)
    errs += _validate_deployment_strategy(as_dict(spec.get("strategy")), "spec.strategy")
    errs += non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
    deadline, min_ready = spec.get("progressDeadlineSeconds"), spec.get("minReadySeconds")
    if is_int(deadline):
        if deadline <= 0:
            errs.append(invalid("spec.progressDeadlineSeconds", deadline,
                                "must be greater than 0"))
        elif is_int(min_ready) and deadline <= min_ready:
            errs.append(invalid("spec.progressDeadlineSeconds", deadline,
                                "must be greater than minReadySeconds"))
    return errs


def _validate_deployment_strategy(strategy: dict[str, Any], path: str) -> Errs:
    """ValidateDeploymentStrategy: Recreate, or RollingUpdate with sane surge/unavailable."""
    errs: Errs = []
    kind, rolling = strategy.get("type"), strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            errs.append(forbidden(child(path, "rollingUpdate"),
                                  "may not be specified when strategy `type` is 'Recreate'"))
    elif kind == "RollingUpdate":
        rolling = as_dict(rolling)
        rpath = child(path, "rollingUpdate")
        unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
        errs += int_or_percent(unavailable, child(rpath, "maxUnavailable"))
        errs += int_or_percent(surge, child(rpath, "maxSurge"))
        if int_or_percent_value(unavailable) == 0 and int_or_percent_value(surge) == 0:
            errs.append(invalid(child(rpath, "maxUnavailable"), unavailable,
                                "may not be 0 when `maxSurge` is 0"))
    elif kind == "":
        errs.append(required(child(path, "type")))
    elif isinstance(kind, str):
        errs.append(not_supported(child(path, "type"), kind, ("Recreate", "RollingUpdate")))
    return errs


KIND = Kind(
    resource=RESOURCE,
    model=Deployment,
    default=default_deployment,
    validate=validate_deployment,
    table=LAYOUTS["Deployment"],
    subresources=(STATUS, SCALE),
)
