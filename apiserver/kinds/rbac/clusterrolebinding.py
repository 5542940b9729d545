"""ClusterRoleBinding (rbac.authorization.k8s.io/v1): a ClusterRole granted everywhere.

Binding a role needs `bind` on it or holding its rules (apiserver/escalation.py).
"""

from __future__ import annotations

from apimachinery.meta import Object
from apimachinery.models.rbac import ClusterRoleBinding
from apimachinery.printers import Layout
from apimachinery.resources import ResourceInfo
from apiserver.kind import Kind, Strategy
from apiserver.registry import Registry
from apiserver.validation.fields import Errs

from .escalation import check_binding
from .policy import binding_row, default_binding, path_segment_name, validate_binding

RESOURCE = ResourceInfo("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding",
                        "clusterrolebindings", False)


class ClusterRoleBindingStrategy(Strategy):
    has_status_subresource = False


def validate_cluster_role_binding(obj: Object, old: Object | None) -> Errs:
    """ValidateClusterRoleBinding(Update): a ClusterRole, valid subjects, roleRef fixed."""
    return validate_binding(obj, old, namespaced=False)


async def _admit(registry: Registry, resource: ResourceInfo, namespace: str | None,
                 obj: Object, old: Object | None) -> None:
    """Escalation prevention (escalation.py), for this kind's writes only."""
    if resource == RESOURCE:
        await check_binding(registry, resource, namespace, obj, old)


KIND = Kind(
    resource=RESOURCE,
    model=ClusterRoleBinding,
    strategy=ClusterRoleBindingStrategy(),
    default=default_binding,
    validate=validate_cluster_role_binding,
    name_rule=path_segment_name,
    table=Layout("Name,Role,Age,+Users,+Groups,+ServiceAccounts", binding_row),
    admission=_admit,
)
