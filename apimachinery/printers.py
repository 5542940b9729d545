"""How objects are shown as rows: the server side of `kubectl get`.

kubectl asks the apiserver for a `meta.k8s.io/v1` Table and prints the columns
that come back, filtering on `priority` for `-o wide`. This mirrors Kubernetes'
`pkg/printers/internalversion/printers.go` (same columns, same cell text:
`Init:0/1`, `CrashLoopBackOff`, `80:30080/TCP`, `3 (5m ago)`) over wire-format
dicts. As in the real TableConvertor, rows carry every column's cell, wide ones
included. The clock is passed in (`now`), so ages are deterministic under test.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apimachinery.conditions import is_condition_true, is_ready, ready_condition
from apimachinery.errors import BadRequest
from apimachinery.meta import Object, labels_of, metadata, name_of, parse_time
from apimachinery.resources import ResourceInfo
from apimachinery.selectors import selector_from_dict

_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration: ~2-3 significant figures."""
    s = int(seconds)
    if s < 0:
        return "<invalid>" if s < -1 else "0s"  # a second of clock skew reads as "now"
    if s < 60 * 2:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None, now: datetime) -> str:
    """kubectl's translateTimestampSince: `5m`, or `<unknown>` for a missing time."""
    when = parse_time(timestamp)
    if when is None:
        return "<unknown>"
    return human_duration((now - when).total_seconds())


def age(obj: Object, now: datetime) -> str:
    """The AGE column: time since metadata.creationTimestamp."""
    return since(metadata(obj).get("creationTimestamp"), now)


def format_labels(labels: dict[str, str] | None) -> str:
    """labels.FormatLabels: `app=web,tier=x` sorted by key, or `<none>`."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


def format_label_selector(selector: dict[str, Any] | None, *, none: str = "<none>") -> str:
    """metav1.FormatLabelSelector: `app=web,tier in (a,b)`; `<error>` when it does not parse."""
    try:
        return str(selector_from_dict(selector)) or none
    except BadRequest:
        return "<error>"


@dataclass(frozen=True)
class _PodSummary:
    ready: int
    total: int
    status: str
    restarts: int
    last_restart: datetime | None


def _exit_text(terminated: dict[str, Any]) -> str:
    signal = terminated.get("signal") or 0
    return f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode') or 0}"


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((t for t in (a, b) if t is not None), default=None)


def _finished(cs: dict[str, Any]) -> datetime | None:
    terminated = (cs.get("lastState") or {}).get("terminated")
    return parse_time(terminated.get("finishedAt")) if terminated else None


def _summarize_pod(pod: Object) -> _PodSummary:
    """kubectl's printPod, step for step: init containers first, then containers."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    init_specs = spec.get("initContainers") or []
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total, ready = len(spec.get("containers") or []) + len(sidecars), 0
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    restarts = sidecar_restarts = 0
    last: datetime | None = None
    sidecar_last: datetime | None = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += cs.get("restartCount") or 0
        last = _later(last, _finished(cs))
        is_sidecar = cs.get("name") in sidecars
        if is_sidecar:
            sidecar_restarts += cs.get("restartCount") or 0
            sidecar_last = _later(sidecar_last, _finished(cs))
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting") or {}
        if terminated is not None and not terminated.get("exitCode"):
            continue
        if is_sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            reason = "Init:" + (terminated.get("reason") or _exit_text(terminated))
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing or is_condition_true(pod, "Initialized"):
        restarts, last, has_running = sidecar_restarts, sidecar_last, False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount") or 0
            last = _later(last, _finished(cs))
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting") or {}
            if waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = terminated.get("reason") or _exit_text(terminated)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            ready_cond = is_ready(pod)
            reason = "Running" if ready_cond else "NotReady"
    if metadata(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return _PodSummary(ready, total, reason, restarts, last)


def pod_status(pod: Object) -> str:
    """The STATUS column: `Running`, `Init:1/2`, `CrashLoopBackOff`, `Terminating`, ..."""
    return _summarize_pod(pod).status


def pod_ready(pod: Object) -> str:
    """The READY column: ready containers over all containers (sidecars included)."""
    summary = _summarize_pod(pod)
    return f"{summary.ready}/{summary.total}"


def pod_restarts(pod: Object, now: datetime | None = None) -> str:
    """The RESTARTS column: `3`, or `3 (5m ago)` when a last termination time is known."""
    summary = _summarize_pod(pod)
    if summary.restarts and summary.last_restart is not None and now is not None:
        ago = human_duration((now - summary.last_restart).total_seconds())
        return f"{summary.restarts} ({ago} ago)"
    return str(summary.restarts)


def _pod_row(pod: Object, now: datetime) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    summary, ips = _summarize_pod(pod), status.get("podIPs") or []
    ip = (ips[0].get("ip") if ips else "") or status.get("podIP") or "<none>"
    gates, by_type = spec.get("readinessGates") or [], {
        c.get("type"): c.get("status") for c in status.get("conditions") or []}
    true = sum(1 for g in gates if by_type.get(g.get("conditionType")) == "True")
    return [name_of(pod), f"{summary.ready}/{summary.total}", summary.status,
            pod_restarts(pod, now), age(pod, now), ip, spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>",
            f"{true}/{len(gates)}" if gates else "<none>"]


def _template_cells(obj: Object) -> list[str]:
    """layoutContainerCells: comma-joined container names and images of the pod template."""
    containers = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers") or []
    return [",".join(c.get("name", "") for c in containers),
            ",".join(c.get("image", "") for c in containers)]


def _replicas(obj: Object) -> tuple[dict[str, Any], dict[str, Any], str]:
    """spec, status and the `ready/desired` text shared by the workload rows."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return spec, status, f"{status.get('readyReplicas') or 0}/{spec.get('replicas', 1)}"


def _deployment_row(obj: Object, now: datetime) -> list[Any]:
    spec, status, ready = _replicas(obj)
    return [name_of(obj), ready, status.get("updatedReplicas") or 0,
            status.get("availableReplicas") or 0, age(obj, now), *_template_cells(obj),
            format_label_selector(spec.get("selector"), none="")]


def _replica_set_row(obj: Object, now: datetime) -> list[Any]:
    spec, status, _ = _replicas(obj)
    return [name_of(obj), spec.get("replicas", 1), status.get("replicas") or 0,
            status.get("readyReplicas") or 0, age(obj, now), *_template_cells(obj),
            format_label_selector(spec.get("selector"))]


def service_external_ip(service: Object) -> str:
    """getServiceExternalIP: externalIPs, load-balancer ingress, `<pending>` or `<none>`."""
    spec = service.get("spec") or {}
    svc_type, external = spec.get("type") or "ClusterIP", spec.get("externalIPs") or []
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if svc_type == "LoadBalancer":
        ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        lb = ",".join(sorted({i.get("ip") or i.get("hostname") for i in ingress} - {None, ""}))
        lb = lb[:13] + "..." if len(lb) > 16 else lb  # loadBalancerWidth, unless -o wide
        return ",".join([lb, *external] if lb else external) or "<pending>"
    if svc_type == "ExternalName":
        return spec.get("externalName") or ""
    return "<unknown>"


def service_ports(service: Object) -> str:
    """makePortString: `80/TCP`, `80:30080/TCP`, comma-joined, or `<none>`."""
    return ",".join(
        f"{p.get('port')}" + (f":{p['nodePort']}" if p.get("nodePort") else "") +
        f"/{p.get('protocol') or 'TCP'}"
        for p in (service.get("spec") or {}).get("ports") or []) or "<none>"


def _service_row(obj: Object, now: datetime) -> list[Any]:
    spec = obj.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or []
    cluster_ip = (cluster_ips[0] if cluster_ips else spec.get("clusterIP")) or "<none>"
    return [name_of(obj), spec.get("type") or "ClusterIP", cluster_ip, service_external_ip(obj),
            service_ports(obj), age(obj, now), format_labels(spec.get("selector"))]


def join_host_port(host: str, port: Any) -> str:
    """net.JoinHostPort: brackets around IPv6 addresses."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def format_endpoints(endpoints: Object, port_names: set[str] | None = None) -> str:
    """formatEndpoints: up to three `ip:port`, then `+ N more...`; `<none>` when empty."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    shown: list[str] = []
    count = 0
    for ss in subsets:
        ips = [a.get("ip", "") for a in ss.get("addresses") or []]
        ports = ss.get("ports") or []
        targets = [ips] if not ports else [
            [join_host_port(ip, p.get("port")) for ip in ips] for p in ports
            if port_names is None or (p.get("name") or "") in port_names]
        for group in targets:
            count += len(group)
            shown.extend(group[:max(0, 3 - len(shown))])
    text = ",".join(shown)
    return f"{text} + {count - 3} more..." if count > 3 else text


def node_status(node: Object) -> str:
    """The node STATUS column: `Ready`/`NotReady`/`Unknown`, plus `SchedulingDisabled`."""
    ready = ready_condition(node)
    status = [("Ready" if is_ready(node) else "NotReady") if ready is not None else "Unknown"]
    if (node.get("spec") or {}).get("unschedulable"):
        status.append("SchedulingDisabled")
    return ",".join(status)


def node_roles(node: Object) -> list[str]:
    """findNodeRoles: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role` values."""
    labels, prefix = labels_of(node), _NODE_ROLE_PREFIX
    roles = {k[len(prefix):] for k in labels if k.startswith(prefix) and len(k) > len(prefix)}
    return sorted(roles | {v for k, v in labels.items() if k == _NODE_ROLE_LABEL and v})


def _node_row(obj: Object, now: datetime) -> list[Any]:
    status = obj.get("status") or {}
    info = status.get("nodeInfo") or {}
    address = {a.get("type"): a.get("address") for a in reversed(status.get("addresses") or [])}
    return [name_of(obj), node_status(obj), ",".join(node_roles(obj)) or "<none>", age(obj, now),
            info.get("kubeletVersion") or "", address.get("InternalIP") or "<none>",
            address.get("ExternalIP") or "<none>",
            *(info.get(k) or "<unknown>" for k in ("osImage", "kernelVersion",
                                                   "containerRuntimeVersion"))]


def _event_row(obj: Object, now: datetime) -> list[Any]:
    first = since(obj.get("firstTimestamp") or obj.get("eventTime"), now)
    last = since(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
    count = obj.get("count") or 1
    if obj.get("series"):
        last = since(obj["series"].get("lastObservedTime"), now)
        count = obj["series"].get("count") or 1
    involved, source = obj.get("involvedObject") or {}, obj.get("source") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    component = source.get("component") or obj.get("reportingController") or ""
    host = source.get("host") or obj.get("reportingInstance") or ""
    return [last, obj.get("type") or "", obj.get("reason") or "", target,
            involved.get("fieldPath") or "", f"{component}, {host}" if host else component,
            (obj.get("message") or "").strip(), first, count, name_of(obj)]


# Column descriptions, as kubectl's column definitions carry them.
_DOCS = {
    "Name": "Name must be unique within a namespace.",
    "Age": "Time since the object's creationTimestamp.",
    "Status": "The aggregate status of the object.", "Roles": "The roles of the node",
    "Restarts": "The number of times the containers in this pod have been restarted.",
    "Containers": "Names of each container in the template.",
    "Images": "Images referenced by each container in the template.",
    "Selector": "Label query over pods.", "Ready": "Ready replicas or containers over desired.",
}
_Row = Callable[[Object, datetime], list[Any]]


@dataclass(frozen=True)
class Layout:
    """kubectl get's columns for one kind, and how a row is made from an object.

    `columns` names them in order: "+" marks a wide-only one (priority 1), "#"
    an integer. The apiserver takes a kind's layout from its kind module; the
    built-in ones live here because the CLI prints with them too.
    """

    columns: str
    row: _Row


_LAYOUTS: dict[str, tuple[str, _Row]] = {
    "Pod": ("Name,Ready,Status,Restarts,Age,+IP,+Node,+Nominated Node,+Readiness Gates",
            _pod_row),
    "Deployment": ("Name,Ready,#Up-to-date,#Available,Age,+Containers,+Images,+Selector",
                   _deployment_row),
    "ReplicaSet": ("Name,#Desired,#Current,#Ready,Age,+Containers,+Images,+Selector",
                   _replica_set_row),
    "StatefulSet": ("Name,Ready,Age,+Containers,+Images", lambda o, now: [
        name_of(o), _replicas(o)[2], age(o, now), *_template_cells(o)]),
    "Service": ("Name,Type,Cluster-IP,External-IP,Port(s),Age,+Selector", _service_row),
    "Endpoints": ("Name,Endpoints,Age", lambda o, now: [name_of(o), format_endpoints(o),
                                                         age(o, now)]),
    "Node": ("Name,Status,Roles,Age,Version,+Internal-IP,+External-IP,+OS-Image,"
             "+Kernel-Version,+Container-Runtime", _node_row),
    "Namespace": ("Name,Status,Age", lambda o, now: [
        name_of(o), (o.get("status") or {}).get("phase") or "", age(o, now)]),
    "ConfigMap": ("Name,#Data,Age", lambda o, now: [
        name_of(o), len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o, now)]),
    "Secret": ("Name,Type,#Data,Age", lambda o, now: [
        name_of(o), o.get("type") or "Opaque", len(o.get("data") or {}), age(o, now)]),
    "Event": ("Last Seen,Type,Reason,Object,+Subobject,+Source,Message,+First Seen,+Count,"
              "+Name", _event_row),
    "Lease": ("Name,Holder,Age", lambda o, now: [
        name_of(o), (o.get("spec") or {}).get("holderIdentity") or "", age(o, now)]),
}
LAYOUTS: dict[str, Layout] = {kind: Layout(*spec) for kind, spec in _LAYOUTS.items()}
DEFAULT_LAYOUT = Layout("Name,Age", lambda o, now: [name_of(o), age(o, now)])


def layout_for(resource: ResourceInfo) -> Layout:
    """The built-in layout of the resource's kind, or Name and Age."""
    return LAYOUTS.get(resource.kind, DEFAULT_LAYOUT)


def column_definitions(resource: ResourceInfo, layout: Layout | None = None
                       ) -> list[dict[str, Any]]:
    """kubectl's columns for the kind; `priority` 1 marks those shown only by `-o wide`."""
    columns = []
    for spec in (layout or layout_for(resource)).columns.split(","):
        name = spec.lstrip("+#")
        columns.append({"name": name, "type": "integer" if "#" in spec else "string",
                        "format": "name" if name == "Name" else "",
                        "description": _DOCS.get(name, ""), "priority": 1 if "+" in spec else 0})
    return columns


def row_cells(resource: ResourceInfo, obj: Object, now: datetime,
              layout: Layout | None = None) -> list[Any]:
    """Every column's cell for one object, wide ones included (as the apiserver sends)."""
    return (layout or layout_for(resource)).row(obj, now)


def to_table(resource: ResourceInfo, objects: list[Object], now: datetime, *,
             resource_version: str = "", continue_token: str = "",
             include_object: str = "Metadata", layout: Layout | None = None) -> dict[str, Any]:
    """A `meta.k8s.io/v1` Table, as the apiserver answers `Accept: ...;as=Table`.

    Rows carry a PartialObjectMetadata by default so `kubectl get -A` and `--show-labels`
    can fill their NAMESPACE and LABELS columns (KUBECTL.md, section 2); `include_object`
    is the request's `includeObject`: "Object" puts the whole object in each row (what
    `kubectl get --sort-by` sorts on), "None" leaves it out.
    """
    table_meta: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        table_meta["continue"] = continue_token
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": row_cells(resource, obj, now, layout)}
        if include_object == "Object":
            row["object"] = copy.deepcopy(obj)
        elif include_object == "Metadata":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": copy.deepcopy(metadata(obj))}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": table_meta,
            "columnDefinitions": column_definitions(resource, layout), "rows": rows}
