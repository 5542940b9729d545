"""Pod fields no Schooner component acts on: refused with a 422 naming each, never stored.

The house rule is Kubernetes' promise read strictly: a field the API keeps is a field
the cluster honours. The scheduler has no inter-pod affinity or topology-spread
plugins (Kubernetes' InterPodAffinity and PodTopologySpread), so a pod asking for them
is refused here rather than placed as if it had not asked. The security fields the
agent cannot carry are refused next door (security.py); docs/security.md lists every
pod field's verdict.
"""

from __future__ import annotations

from typing import Any

from apiserver.validation.fields import Errs, as_dict, child, forbidden

_SCHEDULER = "is not supported by Schooner's scheduler"


def validate_unsupported(spec: dict[str, Any], path: str) -> Errs:
    """Forbidden errors for what the pod asks that nothing in Schooner would do."""
    affinity = as_dict(spec.get("affinity"))
    errs = [forbidden(child(child(path, "affinity"), key), f"inter-pod {what} {_SCHEDULER}")
            for key, what in (("podAffinity", "affinity"), ("podAntiAffinity", "anti-affinity"))
            if affinity.get(key) is not None]
    if spec.get("topologySpreadConstraints"):
        errs.append(forbidden(child(path, "topologySpreadConstraints"),
                              f"pod topology spread {_SCHEDULER}"))
    return errs
