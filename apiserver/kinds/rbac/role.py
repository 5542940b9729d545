"""Role (rbac.authorization.k8s.io/v1): rules within one namespace.

Read by the RBAC authorizer (apiserver/authorizer.py) through RoleBindings.
"""

from __future__ import annotations

from apimachinery.meta import Object
from apimachinery.models.rbac import Role
from apimachinery.printers import Layout
from apimachinery.resources import ResourceInfo
from apiserver.kind import Kind, Strategy
from apiserver.registry import Registry
from apiserver.validation.fields import Errs

from .bootstrappolicy import reconcile_cluster_info
from .escalation import check_role
from .policy import created_at_row, path_segment_name, validate_rules

RESOURCE = ResourceInfo("rbac.authorization.k8s.io", "v1", "Role", "roles", True)


class RoleStrategy(Strategy):
    has_status_subresource = False


def validate_role(obj: Object, old: Object | None) -> Errs:
    """ValidateRole: each rule valid, none about non-resource URLs."""
    return validate_rules(obj, namespaced=True)


async def _admit(registry: Registry, resource: ResourceInfo, namespace: str | None,
                 obj: Object, old: Object | None) -> None:
    """Escalation prevention (escalation.py), for this kind's writes only."""
    if resource == RESOURCE:
        await check_role(registry, resource, namespace, obj, old)


KIND = Kind(
    resource=RESOURCE,
    model=Role,
    strategy=RoleStrategy(),
    validate=validate_role,
    name_rule=path_segment_name,
    table=Layout("Name,Created At", created_at_row),
    admission=_admit,
    bootstrap=reconcile_cluster_info,
)
