"""The realistic pod of bench/typed_objects.py, and the msgspec Structs of its fields.

`pod(i)` is what a Deployment's pod looks like once Schooner has stored, defaulted,
scheduled and started it: two containers (an app with env, ports, probes, resources
and volume mounts, and a log-shipping sidecar), three volumes, the tolerations and
defaults the apiserver fills in, and the status the agent writes (four conditions,
IPs, two containerStatuses). About 4 KB of JSON.

The Structs cover exactly the fields this pod uses, with the apimachinery models'
types (an RFC 3339 pattern for timestamps, int-or-string ports, string-or-number
quantities), so a round trip of this pod is lossless. A field they do not declare is
dropped on decode: msgspec has no `extra="allow"`.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

Object = dict[str, Any]

_RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
Time = Annotated[str, msgspec.Meta(pattern=_RFC3339)]
IntOrString = int | str
Quantity = str | int | float


def pod(i: int = 0) -> Object:
    """Pod `i` of the Deployment `web` (ReplicaSet `web-7d9f8b6c5d`), Running and Ready."""
    name, ip = f"web-7d9f8b6c5d-{i:05d}", f"10.64.{i // 250 % 250}.{i % 250 + 2}"
    started = "2026-12-04T19:18:07Z"
    env_ref = {"apiVersion": "v1", "fieldPath": "metadata.name"}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "generateName": "web-7d9f8b6c5d-", "namespace": "shop",
            "uid": f"3f1c9a52-8d1e-4c7b-9a0e-{i:012d}", "resourceVersion": str(48213 + i),
            "creationTimestamp": "2026-12-04T19:18:02Z",
            "labels": {"app": "web", "tier": "frontend", "pod-template-hash": "7d9f8b6c5d"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": "web-7d9f8b6c5d",
                                 "uid": "a7d0c6e4-5b1f-4e8a-8c2d-1e9f0b3a6c55",
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "containers": [{
                "name": "web", "image": "registry.local:5000/shop/web:1.4.2",
                "args": ["--listen=:8080", "--metrics=:9090", "--config=/etc/web/web.yaml"],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                          {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
                "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": env_ref}},
                        {"name": "POD_IP", "valueFrom": {"fieldRef": {
                            "apiVersion": "v1", "fieldPath": "status.podIP"}}},
                        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {
                            "name": "web-db", "key": "url"}}},
                        {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {
                            "name": "web-config", "key": "logLevel"}}},
                        {"name": "GOMAXPROCS", "value": "2"}],
                "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                              "limits": {"cpu": "1", "memory": "512Mi"}},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": True},
                                 {"name": "cache", "mountPath": "/var/cache/web"},
                                 {"name": "tls", "mountPath": "/etc/tls", "readOnly": True}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http",
                                              "scheme": "HTTP"},
                                  "initialDelaySeconds": 10, "timeoutSeconds": 1,
                                  "periodSeconds": 10, "successThreshold": 1,
                                  "failureThreshold": 3},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080,
                                               "scheme": "HTTP"},
                                   "timeoutSeconds": 1, "periodSeconds": 5,
                                   "successThreshold": 1, "failureThreshold": 3},
                "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
            }, {
                "name": "log-shipper", "image": "registry.local:5000/infra/shipper:0.9.1",
                "args": ["--path=/var/cache/web/logs", "--sink=tcp://logs.infra:5140"],
                "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {
                    "apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
                "resources": {"requests": {"cpu": "50m", "memory": "32Mi"},
                              "limits": {"memory": "64Mi"}},
                "volumeMounts": [{"name": "cache", "mountPath": "/var/cache/web",
                                  "readOnly": True}],
                "readinessProbe": {"tcpSocket": {"port": 5140}, "timeoutSeconds": 1,
                                   "periodSeconds": 10, "successThreshold": 1,
                                   "failureThreshold": 3},
                "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
            }],
            "volumes": [{"name": "config", "configMap": {"name": "web-config",
                                                         "defaultMode": 420}},
                        {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
                        {"name": "tls", "secret": {"secretName": "web-tls",
                                                   "defaultMode": 420}}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "serviceAccountName": "default",
            "nodeName": f"node-{i % 7}", "securityContext": {},
            "schedulerName": "default-scheduler", "priority": 0, "enableServiceLinks": True,
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                             "effect": "NoExecute", "tolerationSeconds": 300},
                            {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                             "effect": "NoExecute", "tolerationSeconds": 300}],
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True",
                 "lastTransitionTime": "2026-12-04T19:18:03Z"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-04T19:18:14Z"},
                {"type": "ContainersReady", "status": "True",
                 "lastTransitionTime": "2026-12-04T19:18:14Z"},
                {"type": "PodScheduled", "status": "True",
                 "lastTransitionTime": "2026-12-04T19:18:02Z"}],
            "hostIP": "192.168.7.21", "hostIPs": [{"ip": "192.168.7.21"}],
            "podIP": ip, "podIPs": [{"ip": ip}], "startTime": "2026-12-04T19:18:03Z",
            "qosClass": "Burstable",
            "containerStatuses": [{
                "name": c, "ready": True, "restartCount": 0, "started": True,
                "image": f"registry.local:5000/{image}",
                "imageID": f"docker-pullable://registry.local:5000/{image}@sha256:{digest * 64}",
                "containerID": f"docker://{digest * 64}",
                "state": {"running": {"startedAt": started}}}
                for c, image, digest in (("web", "shop/web:1.4.2", "9"),
                                         ("log-shipper", "infra/shipper:0.9.1", "4"))],
        },
    }


def pod_list(count: int) -> Object:
    """A `PodList` of `count` pods, as a LIST of one namespace returns it."""
    return {"apiVersion": "v1", "kind": "PodList",
            "metadata": {"resourceVersion": str(48213 + count)},
            "items": [pod(i) for i in range(count)]}


# -- msgspec Structs: camelCase on the wire, unset (None) fields left out ---------------


class S(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    pass


class OwnerReference(S):
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(S):
    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None


class FieldRef(S):
    field_path: str
    api_version: str | None = None


class KeyRef(S):
    key: str
    name: str | None = None


class EnvVarSource(S):
    field_ref: FieldRef | None = None
    secret_key_ref: KeyRef | None = None
    config_map_key_ref: KeyRef | None = None


class EnvVar(S):
    name: str
    value: str | None = None
    value_from: EnvVarSource | None = None


class ContainerPort(S):
    container_port: int
    name: str | None = None
    protocol: str | None = None


class ResourceRequirements(S):
    requests: dict[str, Quantity] | None = None
    limits: dict[str, Quantity] | None = None


class VolumeMount(S):
    name: str
    mount_path: str
    read_only: bool | None = None


class HTTPGetAction(S):
    port: IntOrString
    path: str | None = None
    scheme: str | None = None


class TCPSocketAction(S):
    port: IntOrString


class Probe(S):
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    initial_delay_seconds: int | None = None
    timeout_seconds: int | None = None
    period_seconds: int | None = None
    success_threshold: int | None = None
    failure_threshold: int | None = None


class Container(S):
    name: str
    image: str | None = None
    args: list[str] | None = None
    ports: list[ContainerPort] | None = None
    env: list[EnvVar] | None = None
    resources: ResourceRequirements | None = None
    volume_mounts: list[VolumeMount] | None = None
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    image_pull_policy: str | None = None
    termination_message_path: str | None = None
    termination_message_policy: str | None = None


class ConfigMapVolumeSource(S):
    name: str | None = None
    default_mode: int | None = None


class SecretVolumeSource(S):
    secret_name: str | None = None
    default_mode: int | None = None


class EmptyDirVolumeSource(S):
    size_limit: Quantity | None = None


class Volume(S):
    name: str
    config_map: ConfigMapVolumeSource | None = None
    empty_dir: EmptyDirVolumeSource | None = None
    secret: SecretVolumeSource | None = None


class Toleration(S):
    key: str | None = None
    operator: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


class PodSpec(S):
    containers: list[Container]
    volumes: list[Volume] | None = None
    restart_policy: str | None = None
    termination_grace_period_seconds: int | None = None
    dns_policy: str | None = None
    service_account_name: str | None = None
    node_name: str | None = None
    security_context: dict[str, Any] | None = None
    scheduler_name: str | None = None
    priority: int | None = None
    enable_service_links: bool | None = None
    tolerations: list[Toleration] | None = None


class PodCondition(S):
    type: str
    status: str
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class ContainerStateRunning(S):
    started_at: Time | None = None


class ContainerState(S):
    running: ContainerStateRunning | None = None
    waiting: dict[str, Any] | None = None
    terminated: dict[str, Any] | None = None


class ContainerStatus(S):
    name: str
    ready: bool
    restart_count: int
    image: str
    image_id: str = msgspec.field(name="imageID")
    container_id: str | None = msgspec.field(default=None, name="containerID")
    started: bool | None = None
    state: ContainerState | None = None


class PodIP(S):
    ip: str


class PodStatus(S):
    phase: str | None = None
    conditions: list[PodCondition] | None = None
    host_ip: str | None = msgspec.field(default=None, name="hostIP")
    host_ips: list[PodIP] | None = msgspec.field(default=None, name="hostIPs")
    pod_ip: str | None = msgspec.field(default=None, name="podIP")
    pod_ips: list[PodIP] | None = msgspec.field(default=None, name="podIPs")
    start_time: Time | None = None
    qos_class: str | None = None
    container_statuses: list[ContainerStatus] | None = None


class Pod(S):
    api_version: str  # required: a default would be left out of the encoding
    kind: str
    metadata: ObjectMeta
    spec: PodSpec | None = None
    status: PodStatus | None = None


class ListMeta(S):
    resource_version: str | None = None


class PodList(S):
    api_version: str
    kind: str
    metadata: ListMeta
    items: list[Pod]
