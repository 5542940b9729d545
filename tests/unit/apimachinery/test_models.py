"""Typed models: lossless round trips, snake_case attributes, Kubernetes' wire names."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from apimachinery.models import (
    ConfigMap,
    Container,
    ContainerPort,
    Deployment,
    Event,
    Lease,
    ObjectMeta,
    Pod,
    PodSpec,
    Service,
    model_for,
)

META = {"name": "web", "namespace": "default", "uid": "7d5f-1", "resourceVersion": "42",
        "generation": 2, "creationTimestamp": "2025-01-02T03:04:05Z",
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                             "uid": "u-1", "controller": True, "blockOwnerDeletion": True}],
        "finalizers": ["example.com/cleanup"], "managedFields": [{"manager": "kubectl"}]}

POD_SPEC = {
    "containers": [{
        "name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
        "command": ["nginx"], "args": ["-g", "daemon off;"],
        "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP", "hostIP": "0.0.0.0"}],
        "env": [{"name": "MODE", "value": "prod"},
                {"name": "IP", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                          "fieldPath": "status.podIP"}}},
                {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": 1}},
        "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": True,
                          "mountPropagation": "None"}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP",
                                      "httpHeaders": [{"name": "X", "value": "1"}]},
                          "initialDelaySeconds": 3, "periodSeconds": 10},
        "readinessProbe": {"tcpSocket": {"port": 80}},
        "startupProbe": {"exec": {"command": ["true"]}},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "securityContext": {"runAsUser": 1000, "capabilities": {"drop": ["ALL"]}},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    }],
    "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
    "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
                {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420,
                                              "items": [{"key": "a", "path": "a.txt"}]}},
                {"name": "sec", "secret": {"secretName": "db"}},
                {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
                {"name": "pvc", "persistentVolumeClaim": {"claimName": "data-0"}},
                {"name": "proj",
                 "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}],
    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler", "nodeName": "node-1", "hostPID": False,
    "nodeSelector": {"disk": "ssd"}, "serviceAccountName": "default",
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web",
                     "effect": "NoSchedule"},
                    {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
    "affinity": {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "preference": {"matchExpressions": [
                {"key": "gpu", "operator": "Exists"}]}}]},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone"}],
    "futureField": {"anything": [1, 2, {"x": None}]},
}

POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": META, "spec": POD_SPEC,
    "status": {"phase": "Running", "hostIP": "10.0.0.2", "podIP": "10.244.1.5",
               "podIPs": [{"ip": "10.244.1.5"}], "startTime": "2025-01-02T03:04:06Z",
               "qosClass": "Burstable",
               "conditions": [{"type": "Ready", "status": "True",
                               "lastTransitionTime": "2025-01-02T03:04:09Z",
                               "lastProbeTime": None}],
               "containerStatuses": [{
                   "name": "web", "ready": True, "restartCount": 0, "image": "nginx:1.27",
                   "imageID": "docker-pullable://nginx@sha256:abc", "containerID": "docker://1",
                   "started": True, "state": {"running": {"startedAt": "2025-01-02T03:04:07Z"}},
                   "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                                "containerID": "docker://0"}}}]},
}

TEMPLATE = {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx", "resources": {}}]}}

OBJECTS: list[dict[str, Any]] = [
    POD,
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"},
     "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}},
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "labels": {"zone": "a"}},
     "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"], "providerID": "x://1",
              "taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}]},
     "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                "allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                "lastHeartbeatTime": "2025-01-02T03:04:05Z"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}],
                "nodeInfo": {"kubeletVersion": "v1.32.0", "architecture": "amd64"}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
     "spec": {"type": "NodePort", "selector": {"app": "web"}, "clusterIP": "10.96.0.10",
              "clusterIPs": ["10.96.0.10"], "sessionAffinity": "None", "ipFamilies": ["IPv4"],
              "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP",
                         "nodePort": 30080},
                        {"name": "metrics", "port": 9090, "targetPort": 9090}]},
     "status": {"loadBalancer": {}}},
    {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
     "subsets": [{"addresses": [{"ip": "10.244.1.5", "nodeName": "node-1",
                                 "targetRef": {"kind": "Pod", "name": "web-0",
                                               "namespace": "default", "uid": "p1"}}],
                  "notReadyAddresses": [{"ip": "10.244.2.7"}],
                  "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"},
     "data": {"app.conf": "x=1\n"}, "binaryData": {"logo.png": "iVBORw0KGgo="}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "default"},
     "type": "Opaque", "data": {"pw": "aHVudGVyMg=="}, "immutable": True},
    {"apiVersion": "v1", "kind": "Event",
     "metadata": {"name": "web.17a", "namespace": "default"},
     "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-0", "uid": "p1",
                        "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
     "reason": "Pulled", "message": "Pulled image", "type": "Normal", "count": 3,
     "source": {"component": "kubelet", "host": "node-1"},
     "firstTimestamp": "2025-01-02T03:04:05Z", "lastTimestamp": "2025-01-02T03:05:05Z",
     "eventTime": None, "reportingComponent": "", "reportingInstance": ""},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": META,
     "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"},
                                          "matchExpressions": [{"key": "tier", "operator": "NotIn",
                                                                "values": ["db"]}]},
              "template": TEMPLATE, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
              "strategy": {"type": "RollingUpdate",
                           "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}},
     "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
                "readyReplicas": 3, "availableReplicas": 3,
                "conditions": [{"type": "Available", "status": "True",
                                "lastUpdateTime": "2025-01-02T03:04:05Z",
                                "reason": "MinimumReplicasAvailable"}]}},
    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": META,
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
     "status": {"replicas": 2, "readyReplicas": 2, "fullyLabeledReplicas": 2}},
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": META,
     "spec": {"replicas": 3, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
              "template": TEMPLATE, "podManagementPolicy": "Parallel",
              "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
              "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                        "spec": {"accessModes": ["ReadWriteOnce"],
                                                 "resources": {"requests": {"storage": "1Gi"}}}}],
              "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain"}},
     "status": {"replicas": 3, "readyReplicas": 3, "currentRevision": "web-1"}},
    {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
     "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
     "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40,
              "renewTime": "2025-01-02T03:04:05.123456Z", "leaseTransitions": 0}},
]


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: o["kind"])
def test_round_trip_is_lossless(obj: dict[str, Any]) -> None:
    original = copy.deepcopy(obj)
    model = model_for(obj["kind"]).from_dict(obj)
    assert model.to_dict() == original
    assert obj == original, "from_dict must not mutate its input"


def test_unknown_fields_round_trip_at_every_level() -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "newTopLevel": 1,
           "metadata": {"name": "p", "futureMeta": {"a": 1}},
           "spec": {"containers": [{"name": "c", "image": "i", "resizePolicy": [{"x": 1}],
                                    "ports": [{"containerPort": 1, "futurePortField": True}]}]}}
    assert Pod.from_dict(obj).to_dict() == obj


def test_to_dict_returns_fresh_containers() -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "extra": {"a": [1]}}
    out = Pod.from_dict(obj).to_dict()
    out["extra"]["a"].append(2)
    assert obj["extra"] == {"a": [1]}


def test_snake_case_attributes_and_kubernetes_acronyms() -> None:
    pod = Pod.from_dict(POD)
    assert pod.metadata.owner_references is not None
    assert pod.metadata.owner_references[0].block_owner_deletion is True
    container = pod.spec.containers[0] if pod.spec else None
    assert container is not None and container.liveness_probe is not None
    assert container.liveness_probe.http_get is not None
    assert container.liveness_probe.http_get.port == "http"
    assert container.ports is not None and container.ports[0].host_ip == "0.0.0.0"
    assert pod.spec is not None and pod.spec.host_pid is False
    assert pod.status is not None and pod.status.pod_ip == "10.244.1.5"
    assert pod.status.host_ip == "10.0.0.2"
    assert pod.status.container_statuses is not None
    assert pod.status.container_statuses[0].image_id.startswith("docker-pullable://")
    service = Service.from_dict(OBJECTS[3])
    assert service.spec is not None and service.spec.cluster_ip == "10.96.0.10"
    assert service.spec.ports is not None and service.spec.ports[1].target_port == 9090


def test_unknown_fields_are_kept_as_extras() -> None:
    pod = Pod.from_dict(POD)
    assert pod.spec is not None and pod.spec.model_extra is not None
    assert pod.spec.model_extra["futureField"] == {"anything": [1, 2, {"x": None}]}


def test_built_in_python_serialises_as_a_complete_object() -> None:
    pod = Pod(metadata=ObjectMeta(name="web", namespace="default"),
              spec=PodSpec(containers=[Container(name="web", image="nginx",
                                                 ports=[ContainerPort(container_port=80)])]))
    assert pod.to_dict() == {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": [{"name": "web", "image": "nginx",
                                 "ports": [{"containerPort": 80}]}]},
    }
    assert Deployment().to_dict()["apiVersion"] == "apps/v1"
    assert Lease().to_dict()["apiVersion"] == "coordination.k8s.io/v1"


def test_assignment_is_serialised() -> None:
    pod = Pod.from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                         "spec": {"containers": [{"name": "c"}]}})
    assert pod.spec is not None
    pod.spec.node_name = "node-1"
    pod.metadata.labels = {"a": "b"}
    out = pod.to_dict()
    assert out["spec"]["nodeName"] == "node-1"
    assert out["metadata"]["labels"] == {"a": "b"}


def test_fields_the_python_client_requires_are_required() -> None:
    with pytest.raises(ValidationError):
        Pod.from_dict({"spec": {"containers": [{"image": "nginx"}]}})
    with pytest.raises(ValidationError):
        Pod.from_dict({"status": {"containerStatuses": [
            {"name": "c", "ready": True, "restartCount": 0, "image": "i"}]}})
    with pytest.raises(ValidationError):
        Event.from_dict({"metadata": {"name": "e"}})


def test_timestamps_must_be_rfc3339() -> None:
    with pytest.raises(ValidationError, match="RFC 3339"):
        ConfigMap.from_dict({"metadata": {"name": "c", "creationTimestamp": "yesterday"}})
    with pytest.raises(ValidationError, match="RFC 3339"):
        ConfigMap.from_dict({"metadata": {"name": "c",
                                          "creationTimestamp": "2025-13-45T00:00:00Z"}})


def test_int_or_string_keeps_its_json_type() -> None:
    svc = Service.from_dict({"spec": {"ports": [{"port": 80, "targetPort": "8080"},
                                                {"port": 81, "targetPort": 8081}]}})
    assert svc.spec is not None and svc.spec.ports is not None
    assert svc.spec.ports[0].target_port == "8080"
    assert svc.spec.ports[1].target_port == 8081
    with pytest.raises(ValidationError, match="integer or a string"):
        Service.from_dict({"spec": {"ports": [{"port": 80, "targetPort": True}]}})


def test_model_for_every_served_kind() -> None:
    from apimachinery.resources import RESOURCES

    required = {"Event": {"involvedObject": {}}, "RoleBinding": {"roleRef": {}},
                "ClusterRoleBinding": {"roleRef": {}}, "SubjectAccessReview": {"spec": {}},
                "SelfSubjectAccessReview": {"spec": {}}, "SelfSubjectRulesReview": {"spec": {}}}
    for resource in RESOURCES:
        empty = model_for(resource.kind).from_dict(required.get(resource.kind, {})).to_dict()
        assert empty["kind"] == resource.kind
        assert empty["apiVersion"] == resource.api_version
    with pytest.raises(KeyError, match="Widget"):
        model_for("Widget")
