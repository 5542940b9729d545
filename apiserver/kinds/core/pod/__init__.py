"""Pod (core/v1): one or more containers run together on a node by its agent.

A pod starts `Pending` with its QoS class; the scheduler binds it to a node
through `pods/binding`; its status belongs to the node's agent. Deleting a pod
that is bound and still running is graceful: it gets a deletionTimestamp and
stays until its agent has stopped the containers (SIGTERM, the grace period,
SIGKILL) and removes it. `log` and `exec` reach the agent of the pod's node;
`eviction` is how `kubectl drain` deletes it.
"""

from __future__ import annotations

from apimachinery.meta import Object
from apimachinery.models import Pod
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.config import ServerConfig
from apiserver.defaulting import Obj, dict_at, ensure_dict, set_default
from apiserver.kind import STATUS, Kind, Strategy
from apiserver.kinds.core.pod.nodeproxy import NodeProxy
from apiserver.kinds.core.pod.serviceaccount import (
    admit_service_account,
    remember_service_account_admission,
)
from apiserver.kinds.core.pod.subresources import (
    Attach,
    Binding,
    Eviction,
    Exec,
    Log,
    PortForward,
)
from apiserver.kinds.core.pod.tolerations import (
    admit_default_tolerations,
    remember_toleration_defaults,
)
from apiserver.kinds.core.podsecurity.admission import admit_pod_security
from apiserver.kinds.core.podtemplate import (
    default_pod_spec,
    validate_pod_spec,
    validate_pod_update,
)
from apiserver.registry import DeleteOptions, Registry
from apiserver.validation.fields import Errs, as_dict

RESOURCE = ResourceInfo("", "v1", "Pod", "pods", True, ("po",), ("all",),
                        selectable_fields=("spec.nodeName", "status.phase", "spec.schedulerName",
                                           "spec.restartPolicy", "status.podIP"))


class PodStrategy(Strategy):
    """Pods start Pending; their status belongs to the agent; deletion waits for the agent."""

    orphans_dependents = False
    returns_deleted_object = True

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj)}

    def grace_period_seconds(self, obj: Object, options: DeleteOptions) -> int:
        return _pod_grace_period(obj, options)


def _qos_class(pod: Object) -> str:
    """Kubernetes' QoS class: Guaranteed, Burstable or BestEffort from requests and limits
    of every container, init containers included (GetPodQOS)."""
    spec = pod.get("spec") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    for r in resources:
        limits, requests = r.get("limits") or {}, r.get("requests") or {}
        if not all(k in limits for k in ("cpu", "memory")):
            return "Burstable"
        if any(requests.get(k, limits[k]) != limits[k] for k in ("cpu", "memory")):
            return "Burstable"
    return "Guaranteed"


def _pod_grace_period(pod: Object, options: DeleteOptions) -> int:
    """A pod bound to a node and still running is deleted gracefully; others at once."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
        return 0
    if options.grace_period_seconds is not None:
        return max(0, options.grace_period_seconds)
    return int(spec.get("terminationGracePeriodSeconds", 30))


def default_pod(obj: Obj) -> None:
    spec = dict_at(obj, "spec")
    if spec is not None:
        default_pod_spec(spec)
    status = ensure_dict(obj, "status")
    if status is not None:
        set_default(status, "phase", "Pending")


def validate_pod(obj: Object, old: Object | None) -> Errs:
    """A Pod: its spec, and on update the fields a running pod may change."""
    spec = obj.get("spec")
    errs = validate_pod_spec(spec if spec is not None else {}, "spec")
    if old is not None:
        errs += validate_pod_update(as_dict(spec), as_dict(old.get("spec")))
    return errs


async def admit_pod(registry: Registry, resource: ResourceInfo, namespace: str | None,
                    obj: Object, old: Object | None) -> None:
    """ServiceAccount and DefaultTolerationSeconds (mutating), then PodSecurity
    (validating), as Kubernetes orders them; all see every kind's writes (PodSecurity
    judges workload templates)."""
    await admit_service_account(registry, resource, namespace, obj, old)
    await admit_default_tolerations(registry, resource, namespace, obj, old)
    await admit_pod_security(registry, resource, namespace, obj, old)


async def _bootstrap(registry: Registry, config: ServerConfig) -> None:
    await remember_toleration_defaults(registry, config)
    await remember_service_account_admission(registry, config)


_NODE_PROXY = NodeProxy(RESOURCE)

KIND = Kind(
    resource=RESOURCE,
    model=Pod,
    strategy=PodStrategy(),
    default=default_pod,
    validate=validate_pod,
    table=LAYOUTS["Pod"],
    subresources=(STATUS, Binding(), Log(_NODE_PROXY), Exec(_NODE_PROXY),
                  Attach(_NODE_PROXY), Eviction(), PortForward(_NODE_PROXY)),
    bootstrap=_bootstrap,
    admission=admit_pod,
)
