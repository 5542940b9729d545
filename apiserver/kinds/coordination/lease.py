"""Lease (coordination.k8s.io/v1): node heartbeats and leader election.

Agents renew their node's Lease in `kube-node-lease`; the scheduler and the
controller-manager elect a leader through one. The whole object is one unit
(no status subresource).
"""

from __future__ import annotations

from apimachinery.meta import Object
from apimachinery.models import Lease
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.kind import Kind, Strategy
from apiserver.validation.fields import Errs, as_dict, invalid, is_int, non_negative

RESOURCE = ResourceInfo("coordination.k8s.io", "v1", "Lease", "leases", True)


class LeaseStrategy(Strategy):
    has_status_subresource = False


def validate_lease(obj: Object, old: Object | None) -> Errs:
    """ValidateLeaseSpec: a positive duration, non-negative transitions."""
    spec = as_dict(obj.get("spec"))
    errs: Errs = []
    duration = spec.get("leaseDurationSeconds")
    if is_int(duration) and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    errs += non_negative("spec.leaseTransitions", spec.get("leaseTransitions"))
    return errs


KIND = Kind(
    resource=RESOURCE,
    model=Lease,
    strategy=LeaseStrategy(),
    validate=validate_lease,
    table=LAYOUTS["Lease"],
)
