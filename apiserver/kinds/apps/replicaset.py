"""ReplicaSet (apps/v1): keeps a number of identical pods running from one template.

Usually made and scaled by a Deployment; the ReplicaSet controller creates and
deletes pods to match `spec.replicas`.
"""

from __future__ import annotations

from apimachinery.meta import Object
from apimachinery.models import ReplicaSet
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.defaulting import Obj, dict_at, set_default
from apiserver.kind import STATUS, Kind
from apiserver.kinds.apps.scale import SCALE
from apiserver.kinds.apps.workload import (
    default_status_replicas,
    validate_workload_spec,
)
from apiserver.kinds.core.podtemplate import default_template
from apiserver.validation.fields import (
    Errs,
    as_dict,
)

RESOURCE = ResourceInfo("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("all",))


def default_replica_set(obj: Obj) -> None:
    """SetDefaults_ReplicaSet: one replica; pod template defaults."""
    spec = dict_at(obj, "spec")
    if spec is not None:
        set_default(spec, "replicas", 1)
        default_template(spec)
    default_status_replicas(obj)


def validate_replica_set(obj: Object, old: Object | None) -> Errs:
    """ValidateReplicaSet(Update)."""
    return validate_workload_spec(as_dict(obj.get("spec")), "ReplicaSet", old)


KIND = Kind(
    resource=RESOURCE,
    model=ReplicaSet,
    default=default_replica_set,
    validate=validate_replica_set,
    table=LAYOUTS["ReplicaSet"],
    subresources=(STATUS, SCALE),
)
