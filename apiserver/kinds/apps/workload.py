"""What the three apps workloads share: replicas, selector, pod template, percentages.

Not a kind: the apps group's shared piece, as Kubernetes' apps validation
shares its selector and template checks. Mirrors
`k8s.io/kubernetes/pkg/apis/apps/validation/validation.go`: replica counts, a
non-empty selector that matches the template's labels and never changes, and
the pod template validated as a pod spec under `spec.template.spec`.
"""

from __future__ import annotations

import re
from typing import Any

from apiserver.defaulting import Obj, dict_at, set_default
from apiserver.kinds.core.podtemplate import comparable, validate_pod_spec
from apiserver.validation.fields import (
    PERCENT_FMT,
    Errs,
    as_dict,
    invalid,
    is_int,
    non_negative,
    regex_error,
    required,
    selector_is_empty,
    selector_is_well_typed,
    selector_matches,
    validate_annotations,
    validate_label_selector,
    validate_labels,
)

_PERCENT_MSG = regex_error(
    "a valid percent string must be a numeric string followed by an ending '%'",
    PERCENT_FMT, "1%", "93%")


def validate_workload_spec(spec: dict[str, Any], kind: str,
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


def int_or_percent(value: Any, path: str) -> Errs:
    """ValidatePositiveIntOrPercent plus IsNotMoreThan100Percent."""
    if isinstance(value, str):
        if not re.fullmatch(PERCENT_FMT, value):
            return [invalid(path, value, _PERCENT_MSG)]
        if int(value[:-1]) > 100:
            return [invalid(path, value, "must not be greater than 100%")]
        return []
    return non_negative(path, value)


def int_or_percent_value(value: Any) -> int | None:
    if is_int(value):
        return value
    if isinstance(value, str) and re.fullmatch(PERCENT_FMT, value):
        return int(value[:-1])
    return None


def default_status_replicas(obj: Obj) -> None:
    """`status.replicas: 0` in a present status: Go always serialises this non-omitempty field,
    and the official Python client refuses a ReplicaSet/StatefulSet status without it."""
    status = dict_at(obj, "status")
    if status is not None:
        set_default(status, "replicas", 0)
