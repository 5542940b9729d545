"""Validation of apps/v1 workloads: Deployment, ReplicaSet, StatefulSet.

Mirrors `k8s.io/kubernetes/pkg/apis/apps/validation/validation.go`: replica
counts, a non-empty selector that matches the template's labels and never
changes, the rollout strategy, and the pod template validated as a pod spec
under `spec.template.spec`.
"""

from __future__ import annotations

import re
from typing import Any

from apiserver.validation_fields import (
    PERCENT_FMT,
    Errs,
    as_dict,
    child,
    forbidden,
    invalid,
    is_int,
    non_negative,
    not_supported,
    regex_error,
    required,
    selector_is_empty,
    selector_is_well_typed,
    selector_matches,
    validate_annotations,
    validate_label_selector,
    validate_labels,
)
from apiserver.validation_pod import changed_fields, comparable, validate_pod_spec

_PERCENT_MSG = regex_error(
    "a valid percent string must be a numeric string followed by an ending '%'",
    PERCENT_FMT, "1%", "93%")
_STS_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy", "minReadySeconds")


def validate_deployment(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
    """ValidateDeployment(Update)."""
    spec = as_dict(obj.get("spec"))
    errs = _validate_workload_spec(spec, "Deployment", old)
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


def validate_replica_set(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
    """ValidateReplicaSet(Update)."""
    return _validate_workload_spec(as_dict(obj.get("spec")), "ReplicaSet", old)


def validate_stateful_set(obj: dict[str, Any], old: dict[str, Any] | None) -> Errs:
    """ValidateStatefulSet(Update): policies, update strategy, and the fields that may change."""
    spec = as_dict(obj.get("spec"))
    errs = _validate_workload_spec(spec, "StatefulSet", None)
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


def _validate_workload_spec(spec: dict[str, Any], kind: str,
                            old: dict[str, Any] | None) -> Errs:
    """What the three workloads share: replicas, selector, template, minReadySeconds."""
    errs = non_negative("spec.replicas", spec.get("replicas"))
    errs += non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    selector = spec.get("selector")
    selector_ok = False
    if selector is None:
        errs.append(required("spec.selector"))
    elif isinstance(selector, dict):
        selector_errs = validate_label_selector(selector, "spec.selector")
        errs += selector_errs
        if selector_is_empty(selector):
            errs.append(invalid("spec.selector", selector,
                                f"empty selector is invalid for {kind.lower()}"))
        else:
            selector_ok = not selector_errs and selector_is_well_typed(selector)
    template = spec.get("template")
    if template is None:
        errs.append(required("spec.template"))
    elif isinstance(template, dict):
        meta = as_dict(template.get("metadata"))
        labels = meta.get("labels")
        errs += validate_labels(labels, "spec.template.metadata.labels")
        errs += validate_annotations(meta.get("annotations"),
                                     "spec.template.metadata.annotations")
        if selector_ok and not selector_matches(as_dict(selector), as_dict(labels)):
            errs.append(invalid("spec.template.metadata.labels", labels or {},
                                "`selector` does not match template `labels`"))
        pod_spec = template.get("spec")
        claims = frozenset(as_dict(t.get("metadata")).get("name", "")
                           for t in spec.get("volumeClaimTemplates") or []
                           if isinstance(t, dict)) - {""}
        errs += validate_pod_spec(pod_spec if pod_spec is not None else {},
                                  "spec.template.spec", workload=kind, claim_volumes=claims)
    if old is not None:
        old_selector = as_dict(old.get("spec")).get("selector")
        if comparable(selector) != comparable(old_selector):
            errs.append(invalid("spec.selector", selector, "field is immutable"))
    return errs


def _int_or_percent(value: Any, path: str) -> Errs:
    """ValidatePositiveIntOrPercent plus IsNotMoreThan100Percent."""
    if isinstance(value, str):
        if not re.fullmatch(PERCENT_FMT, value):
            return [invalid(path, value, _PERCENT_MSG)]
        if int(value[:-1]) > 100:
            return [invalid(path, value, "must not be greater than 100%")]
        return []
    return non_negative(path, value)


def _int_or_percent_value(value: Any) -> int | None:
    if is_int(value):
        return value
    if isinstance(value, str) and re.fullmatch(PERCENT_FMT, value):
        return int(value[:-1])
    return None


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
        errs += _int_or_percent(unavailable, child(rpath, "maxUnavailable"))
        errs += _int_or_percent(surge, child(rpath, "maxSurge"))
        if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
            errs.append(invalid(child(rpath, "maxUnavailable"), unavailable,
                                "may not be 0 when `maxSurge` is 0"))
    elif kind == "":
        errs.append(required(child(path, "type")))
    elif isinstance(kind, str):
        errs.append(not_supported(child(path, "type"), kind, ("Recreate", "RollingUpdate")))
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
            errs += _int_or_percent(unavailable, child(rpath, "maxUnavailable"))
            if _int_or_percent_value(unavailable) == 0:
                errs.append(invalid(child(rpath, "maxUnavailable"), unavailable,
                                    "must be greater than 0"))
    elif kind == "":
        errs.append(required(child(path, "type")))
    elif isinstance(kind, str):
        errs.append(not_supported(child(path, "type"), kind, ("OnDelete", "RollingUpdate")))
    return errs
