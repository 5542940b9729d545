"""Server-side defaulting: fill in what Kubernetes fills in before an object is stored.

Mirrors the `SetDefaults_*` functions of `k8s.io/kubernetes/pkg/apis/{core,apps}/
v1/defaults.go`, limited to the defaults users see (`kubectl describe` prints
`Port: 80/TCP`, the strategy, the probe timings). Defaulting runs before
validation, so every function here tolerates malformed input: a field of the
wrong type is left alone for validation to report, never "fixed" and never a
crash.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from apimachinery.meta import now_rfc3339
from apimachinery.resources import ResourceInfo

Obj = dict[str, Any]

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_VOLUME_MODE = 0o644  # 420, the `defaultMode` of configMap and secret volumes


def apply_defaults(resource: ResourceInfo, obj: Obj, *,
                   now: Callable[[], str] = now_rfc3339) -> None:
    """Fill Kubernetes' defaults into the wire dict `obj`, in place.

    `now` supplies the timestamp for Events without one (injectable for tests).
    Kinds without defaults are left untouched.
    """
    if resource.kind == "Event":
        _default_event(obj, now)
        return
    defaulter = _DEFAULTERS.get(resource.kind)
    if defaulter is not None:
        defaulter(obj)


# -- helpers ----------------------------------------------------------------------


def _dict(parent: Obj, key: str) -> Obj | None:
    """`parent[key]` when it is a dict, else None (wrong types are validation's business)."""
    value = parent.get(key)
    return value if isinstance(value, dict) else None


def _dicts(parent: Obj, key: str) -> list[Obj]:
    """The dict items of the list `parent[key]`; empty when absent or not a list."""
    value = parent.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _ensure_dict(parent: Obj, key: str) -> Obj | None:
    """`parent[key]`, created as `{}` when absent or null; None when it has another type."""
    if parent.get(key) is None:
        parent[key] = {}
    return _dict(parent, key)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _set_default(parent: Obj, key: str, value: Any) -> None:
    """Set `parent[key]` when absent or null (or `""` for a string default).

    Go defaulting fills a field left at its zero value; an empty string is the
    zero value of a string, while `replicas: 0` is a real choice and is kept.
    """
    current = parent.get(key)
    if current is None or (current == "" and isinstance(value, str)):
        parent[key] = value


# -- pods -------------------------------------------------------------------------


def image_pull_policy(image: str) -> str:
    """`Always` for `:latest` or an untagged image, else `IfNotPresent` (SetDefaults_Container).

    An image pinned by digest alone counts as tagged, as in Kubernetes.
    """
    name, _, digest = image.partition("@")
    last_component = name.rsplit("/", 1)[-1]
    tag = last_component.rpartition(":")[2] if ":" in last_component else ""
    if tag == "latest" or (not tag and not digest):
        return "Always"
    return "IfNotPresent"


def _default_probe(probe: Obj) -> None:
    """Probe timings as Kubernetes fills them (`timeout=1s period=10s #success=1 #failure=3`)."""
    _set_default(probe, "timeoutSeconds", 1)
    _set_default(probe, "periodSeconds", 10)
    _set_default(probe, "successThreshold", 1)
    _set_default(probe, "failureThreshold", 3)
    _default_handler(probe)


def _default_handler(handler: Obj) -> None:
    """An httpGet action's `path: /` and `scheme: HTTP` (SetDefaults_HTTPGetAction)."""
    http_get = _dict(handler, "httpGet")
    if http_get is not None:
        _set_default(http_get, "path", "/")
        _set_default(http_get, "scheme", "HTTP")


def _default_container(container: Obj) -> None:
    """SetDefaults_Container plus the port, env and probe defaults beneath it."""
    image = container.get("image")
    if isinstance(image, str) and image:
        _set_default(container, "imagePullPolicy", image_pull_policy(image))
    _set_default(container, "terminationMessagePath", DEFAULT_TERMINATION_MESSAGE_PATH)
    _set_default(container, "terminationMessagePolicy", "File")
    for port in _dicts(container, "ports"):
        _set_default(port, "protocol", "TCP")
    for env in _dicts(container, "env"):
        value_from = _dict(env, "valueFrom")
        field_ref = _dict(value_from, "fieldRef") if value_from is not None else None
        if field_ref is not None:
            _set_default(field_ref, "apiVersion", "v1")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = _dict(container, key)
        if probe is not None:
            _default_probe(probe)
    lifecycle = _dict(container, "lifecycle")
    if lifecycle is not None:
        for key in ("postStart", "preStop"):
            handler = _dict(lifecycle, key)
            if handler is not None:
                _default_handler(handler)


def default_pod_spec(spec: Obj) -> None:
    """SetDefaults_PodSpec: the pod-level defaults, then each container and volume."""
    _set_default(spec, "restartPolicy", "Always")
    _set_default(spec, "terminationGracePeriodSeconds", 30)
    _set_default(spec, "dnsPolicy", "ClusterFirst")
    _set_default(spec, "schedulerName", "default-scheduler")
    for container in _dicts(spec, "initContainers") + _dicts(spec, "containers"):
        _default_container(container)
    for volume in _dicts(spec, "volumes"):
        for source in ("configMap", "secret"):
            volume_source = _dict(volume, source)
            if volume_source is not None:
                _set_default(volume_source, "defaultMode", DEFAULT_VOLUME_MODE)


def _default_pod(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    if spec is not None:
        default_pod_spec(spec)
    status = _ensure_dict(obj, "status")
    if status is not None:
        _set_default(status, "phase", "Pending")


def _default_template(spec: Obj) -> None:
    """Pod templates inside workloads get the same pod defaults as pods."""
    template = _dict(spec, "template")
    pod_spec = _dict(template, "spec") if template is not None else None
    if pod_spec is not None:
        default_pod_spec(pod_spec)


# -- workloads --------------------------------------------------------------------


def _default_deployment(obj: Obj) -> None:
    """SetDefaults_Deployment (apps/v1): replicas, RollingUpdate 25%/25%, history, deadline."""
    spec = _dict(obj, "spec")
    if spec is None:
        return
    _set_default(spec, "replicas", 1)
    strategy = _ensure_dict(spec, "strategy")
    if strategy is not None:
        _set_default(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = _ensure_dict(strategy, "rollingUpdate")
            if rolling is not None:
                _set_default(rolling, "maxUnavailable", "25%")
                _set_default(rolling, "maxSurge", "25%")
    _set_default(spec, "revisionHistoryLimit", 10)
    _set_default(spec, "progressDeadlineSeconds", 600)
    _default_template(spec)


def _default_replica_set(obj: Obj) -> None:
    """SetDefaults_ReplicaSet: one replica; pod template defaults."""
    spec = _dict(obj, "spec")
    if spec is not None:
        _set_default(spec, "replicas", 1)
        _default_template(spec)
    _default_status_replicas(obj)


def _default_stateful_set(obj: Obj) -> None:
    """SetDefaults_StatefulSet: OrderedReady, RollingUpdate with partition 0, history 10."""
    spec = _dict(obj, "spec")
    if spec is not None:
        _set_default(spec, "replicas", 1)
        _set_default(spec, "podManagementPolicy", "OrderedReady")
        strategy = _ensure_dict(spec, "updateStrategy")
        if strategy is not None:
            _set_default(strategy, "type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = _ensure_dict(strategy, "rollingUpdate")
                if rolling is not None:
                    _set_default(rolling, "partition", 0)
        _set_default(spec, "revisionHistoryLimit", 10)
        _default_template(spec)
    _default_status_replicas(obj)


def _default_status_replicas(obj: Obj) -> None:
    """`status.replicas: 0` in a present status: Go always serialises this non-omitempty field,
    and the official Python client refuses a ReplicaSet/StatefulSet status without it."""
    status = _dict(obj, "status")
    if status is not None:
        _set_default(status, "replicas", 0)


# -- services and endpoints -------------------------------------------------------


def _default_service(obj: Obj) -> None:
    """SetDefaults_Service: ClusterIP, no session affinity, TCP, targetPort = port."""
    spec = _dict(obj, "spec")
    if spec is None:
        return
    _set_default(spec, "type", "ClusterIP")
    _set_default(spec, "sessionAffinity", "None")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        _set_default(spec, "externalTrafficPolicy", "Cluster")
    for port in _dicts(spec, "ports"):
        _set_default(port, "protocol", "TCP")
        number = port.get("port")
        if port.get("targetPort") in (None, 0, "") and _is_int(number):
            port["targetPort"] = number


def _default_endpoints(obj: Obj) -> None:
    """SetDefaults_EndpointPort: `protocol: TCP`."""
    for subset in _dicts(obj, "subsets"):
        for port in _dicts(subset, "ports"):
            _set_default(port, "protocol", "TCP")


# -- config -----------------------------------------------------------------------


def _default_secret(obj: Obj) -> None:
    """`type: Opaque`, and `stringData` folded into base64 `data` then dropped.

    Kubernetes does the folding while converting the request (stringData wins
    over data for the same key) and never stores `stringData`. Values that are
    not strings stay in `stringData` so validation can name them.
    """
    _set_default(obj, "type", "Opaque")
    string_data = _dict(obj, "stringData")
    if string_data is None:
        return
    data = _ensure_dict(obj, "data")
    if data is None:
        return
    for key, value in list(string_data.items()):
        if isinstance(value, str):
            data[key] = base64.b64encode(value.encode()).decode("ascii")
            del string_data[key]
    if not string_data:
        del obj["stringData"]


def _default_event(obj: Obj, now: Callable[[], str]) -> None:
    """`count: 1` and first/last timestamps for an Event created without them.

    The apiserver itself does not default these, but every recorder sets them,
    and `kubectl describe` shows `<unknown>` ages without them.
    """
    _set_default(obj, "count", 1)
    if obj.get("firstTimestamp") is None:
        meta = _dict(obj, "metadata") or {}
        obj["firstTimestamp"] = (obj.get("lastTimestamp") or obj.get("eventTime")
                                 or meta.get("creationTimestamp") or now())
    _set_default(obj, "lastTimestamp", obj["firstTimestamp"])


_DEFAULTERS: dict[str, Callable[[Obj], None]] = {
    "Pod": _default_pod,
    "Deployment": _default_deployment,
    "ReplicaSet": _default_replica_set,
    "StatefulSet": _default_stateful_set,
    "Service": _default_service,
    "Endpoints": _default_endpoints,
    "Secret": _default_secret,
}
