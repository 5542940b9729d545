"""Valid objects of every kind, and helpers to break them, for the validation tests."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

from apimachinery.errors import FieldError
from apiserver.kinds import registry
from apiserver.validation import validate

Obj = dict[str, Any]
DELETE = object()


def meta(name: str = "web", namespace: str | None = "default", **extra: Any) -> Obj:
    out: Obj = {"name": name, **extra}
    if namespace:
        out["namespace"] = namespace
    return out


def pod_spec() -> Obj:
    return {
        "containers": [{
            "name": "web", "image": "nginx:1.27",
            "ports": [{"containerPort": 80, "name": "http"}],
            "env": [{"name": "MODE", "value": "prod"},
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
            "envFrom": [{"configMapRef": {"name": "cfg"}}],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                          "limits": {"cpu": "500m", "memory": "128Mi"}},
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
            "livenessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5},
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}}}],
        "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
        "volumes": [{"name": "data", "emptyDir": {}},
                    {"name": "cfg", "configMap": {"name": "cfg"}},
                    {"name": "proj", "projected": {"sources": []}}],
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web",
                         "effect": "NoSchedule"},
                        {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "zone", "operator": "In", "values": ["a"]},
                {"key": "cores", "operator": "Gt", "values": ["2"]}]}]}}},
    }


def pod() -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta(labels={"app": "web"}),
            "spec": pod_spec()}


def template() -> Obj:
    return {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": pod_spec()}


def deployment() -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(),
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": template()}}


def replica_set() -> Obj:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta("web-5d8f"),
            "spec": {"replicas": 2, "template": template(), "selector": {
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}}}


def stateful_set() -> Obj:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta(),
            "spec": {"replicas": 3, "serviceName": "web", "template": template(),
                     "selector": {"matchLabels": {"app": "web"}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}


def service() -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(),
            "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.10", "ports": [
                {"name": "http", "port": 80, "targetPort": "http"},
                {"name": "https", "port": 443, "targetPort": 8443}]}}


def endpoints() -> Obj:
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta(),
            "subsets": [{"addresses": [{"ip": "10.244.1.5", "nodeName": "node-1"}],
                         "notReadyAddresses": [{"ip": "fd00::5"}],
                         "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]}]}


def endpoint_slice() -> Obj:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {**meta("web-abc12"), "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.1.5"],
                           "conditions": {"ready": True, "serving": True,
                                          "terminating": False},
                           "nodeName": "node-1", "zone": "zone-a",
                           "targetRef": {"kind": "Pod", "namespace": "default",
                                         "name": "web-1", "uid": "u-1"}}],
            "ports": [{"name": "http", "protocol": "TCP", "port": 8080,
                       "appProtocol": "http"}]}


def config_map() -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("cfg"),
            "data": {"app.conf": "x=1", "KEY_NAME": "v"}, "binaryData": {"logo": "iVBORw=="}}


def secret() -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta("db"),
            "data": {"pw": base64.b64encode(b"hunter2").decode()}, "type": "Opaque"}


def namespace() -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("team-a", None)}


def node() -> Obj:
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta("node-1.lab", None),
            "spec": {"podCIDR": "10.244.1.0/24",
                     "taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}]},
            "status": {"capacity": {"cpu": "4", "memory": "8Gi"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def event() -> Obj:
    return {"apiVersion": "v1", "kind": "Event", "metadata": meta("web.17a8"),
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web"},
            "reason": "Started", "message": "Started container", "type": "Normal",
            "firstTimestamp": "2025-01-02T03:04:05Z"}


def lease() -> Obj:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": meta("node-1", "kube-node-lease"),
            "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40,
                     "renewTime": "2025-01-02T03:04:05.000000Z"}}


BUILDERS: dict[str, Callable[[], Obj]] = {
    "pods": pod, "deployments": deployment, "replicasets": replica_set,
    "statefulsets": stateful_set, "services": service, "endpoints": endpoints,
    "configmaps": config_map, "secrets": secret, "namespaces": namespace, "nodes": node,
    "events": event, "leases": lease, "endpointslices": endpoint_slice,
}


def changed(obj: Obj, changes: dict[str, Any]) -> Obj:
    """A copy of `obj` with paths (`spec/containers/0/image`) set, appended or deleted."""
    out = copy.deepcopy(obj)
    for dotted, value in changes.items():
        *parents, last = [int(p) if p.isdigit() else p for p in dotted.split("/")]
        target: Any = out
        for part in parents:
            target = target[part]
        if value is DELETE:
            del target[last]
        elif isinstance(target, list) and last == len(target):
            target.append(value)
        else:
            target[last] = value
    return out


def problems(plural: str, obj: Obj, old: Obj | None = None) -> list[FieldError]:
    return validate(registry().by_plural(plural), obj, old)


def assert_error(errs: list[FieldError], path: str, message: str) -> None:
    shown = "\n".join(str(e) for e in errs) or "(no errors)"
    assert any(e.path == path and message in e.message for e in errs), \
        f"expected {path}: ...{message}... in:\n{shown}"
