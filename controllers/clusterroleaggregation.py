"""ClusterRole aggregation: keep an aggregated ClusterRole's rules the union of the
ClusterRoles its `aggregationRule` selects (Kubernetes' clusterrole-aggregation
controller, pkg/controller/clusterroleaggregation).

A ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"`
thus adds its rules to `view` (and through it to `edit` and `admin`). Any change
to any ClusterRole may change what an aggregated one should hold, so every
change queues every aggregated role; each is rewritten only when its rules differ.
The rules are computed as the apiserver's bootstrap policy computes them
(apimachinery/rbacaggregation.py). Updating a ClusterRole's rules needs
`escalate` on ClusterRoles, which the controller-manager's bootstrap role holds.
"""

from __future__ import annotations

from typing import Any

from apimachinery import meta
from apimachinery.meta import Object
from apimachinery.rbacaggregation import aggregated_rules

from .base import Controller, ControllerClient, SharedInformerFactory

RESOURCE = "clusterroles"


class ClusterRoleAggregationController(Controller):
    """Keyed by the aggregated ClusterRole's name."""

    name = "clusterrole-aggregation"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory,
                 **kwargs: Any) -> None:
        super().__init__(client, factory, **kwargs)
        self.roles = factory.informer(RESOURCE)
        self.roles.add_event_handler(self._changed, lambda _old, new: self._changed(new),
                                     self._changed)

    def _changed(self, _role: Object) -> None:
        for role in self.roles.store.list():
            if role.get("aggregationRule"):
                self.queue.add(meta.name_of(role))

    async def reconcile(self, key: str) -> None:
        role = self.roles.store.get(key)
        if role is None:
            return
        rules = aggregated_rules(role, self.roles.store.list())
        if rules is None or rules == (role.get("rules") or []):
            return
        await self.client.update(RESOURCE, {**role, "rules": rules})
        self.decision(key, "aggregated", rules=len(rules))
