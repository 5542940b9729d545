"""ClusterRole (rbac.authorization.k8s.io/v1): rules usable cluster-wide or per namespace.

A ClusterRole with an `aggregationRule` has its rules kept by the controller-manager
(controllers/clusterroleaggregation.py) from the ClusterRoles its selectors match;
`admin`, `edit` and `view` are built that way by the bootstrap policy
(bootstrappolicy.py), reconciled at every start as this kind's bootstrap.
"""

from __future__ import annotations

from apimachinery.meta import Object
from apimachinery.models.rbac import ClusterRole
from apimachinery.printers import Layout
from apimachinery.resources import ResourceInfo
from apiserver.kind import Kind, Strategy
from apiserver.registry import Registry
from apiserver.validation.fields import Errs, as_dict, required, validate_label_selector

from .bootstrappolicy import reconcile
from .escalation import check_role
from .policy import created_at_row, path_segment_name, validate_rules

RESOURCE = ResourceInfo("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False)


class ClusterRoleStrategy(Strategy):
    has_status_subresource = False


def validate_cluster_role(obj: Object, old: Object | None) -> Errs:
    """ValidateClusterRole: rules valid; an aggregationRule names at least one selector."""
    errs = validate_rules(obj, namespaced=False)
    if obj.get("aggregationRule") is not None:
        selectors = as_dict(obj.get("aggregationRule")).get("clusterRoleSelectors")
        if not selectors:
            errs.append(required("aggregationRule.clusterRoleSelectors",
                                 "at least one clusterRoleSelector required if "
                                 "aggregationRule is non-nil"))
        for i, selector in enumerate(selectors or []):
            errs += validate_label_selector(
                selector, f"aggregationRule.clusterRoleSelectors[{i}]")
    return errs


async def _admit(registry: Registry, resource: ResourceInfo, namespace: str | None,
                 obj: Object, old: Object | None) -> None:
    """Escalation prevention (escalation.py), for this kind's writes only."""
    if resource == RESOURCE:
        await check_role(registry, resource, namespace, obj, old)


KIND = Kind(
    resource=RESOURCE,
    model=ClusterRole,
    strategy=ClusterRoleStrategy(),
    validate=validate_cluster_role,
    name_rule=path_segment_name,
    table=Layout("Name,Created At", created_at_row),
    bootstrap=reconcile,
    admission=_admit,
)
