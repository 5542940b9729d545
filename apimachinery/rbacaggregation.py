"""ClusterRole aggregation: the rules an aggregated ClusterRole holds.

Kubernetes' clusterrole-aggregation controller copies into a ClusterRole with
an `aggregationRule` the rules of every ClusterRole its selectors match
(itself excluded), without duplicates, in name order. Shared by the
apiserver's bootstrap policy (so `admin`/`edit`/`view` are whole from the
first start) and the controller-manager's controller (controllers/).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apimachinery.meta import Object, metadata, name_of
from apimachinery.selectors import selector_from_dict


def aggregated_rules(role: Object, cluster_roles: Iterable[Object]) -> list[dict[str, Any]] | None:
    """The rules `role` should hold, or None when it has no aggregationRule."""
    rule = role.get("aggregationRule")
    if not isinstance(rule, dict):
        return None
    selectors = [selector_from_dict(s) for s in rule.get("clusterRoleSelectors") or []
                 if isinstance(s, dict)]
    rules: list[dict[str, Any]] = []
    for other in sorted(cluster_roles, key=name_of):
        if name_of(other) == name_of(role):
            continue
        labels = metadata(other).get("labels") or {}
        if not any(s.matches(labels) for s in selectors):
            continue
        for r in other.get("rules") or []:
            if r not in rules:
                rules.append(r)
    return rules
