"""`schooner describe`: kubectl describe's layout for realistic objects, pinned as text."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apimachinery.resources import ResourceInfo, by_plural
from cli.describe import describe

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def ts(ago: timedelta) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(reason: str, message: str, *, kind: str = "Normal", first: timedelta,
          last: timedelta | None = None, count: int = 1, component: str = "kubelet",
          field_path: str = "") -> dict[str, Any]:
    return {"metadata": {"name": f"web.{reason.lower()}", "namespace": "default"},
            "type": kind, "reason": reason, "message": message, "count": count,
            "firstTimestamp": ts(first), "lastTimestamp": ts(last if last is not None else first),
            "source": {"component": component},
            "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": field_path}}


CRASHING_POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
        "name": "web-7d4b9c-x2x9k", "namespace": "default", "uid": "pod-uid",
        "creationTimestamp": ts(timedelta(hours=1)),
        "labels": {"app": "web", "pod-template-hash": "7d4b9c"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}",
                        "schooner.io/owner": "team-a"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c",
                             "uid": "rs-uid", "controller": True}]},
    "spec": {
        "nodeName": "node-1", "priority": 0, "serviceAccountName": "default",
        "containers": [{
            "name": "web", "image": "nginx:1.27",
            "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}],
            "resources": {"limits": {"memory": "128Mi", "cpu": "500m"},
                          "requests": {"cpu": "100m"}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 80},
                               "periodSeconds": 5},
            "env": [{"name": "MODE", "value": "production"},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.name"}}},
                    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
                        "name": "db", "key": "password"}}}],
            "volumeMounts": [{"name": "cache", "mountPath": "/var/cache/nginx"},
                             {"name": "config", "mountPath": "/etc/nginx/conf.d",
                              "readOnly": True}]}],
        "volumes": [{"name": "cache", "emptyDir": {}},
                    {"name": "config", "configMap": {"name": "web-config"}}],
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                         "effect": "NoExecute", "tolerationSeconds": 300}]},
    "status": {
        "phase": "Running", "hostIP": "172.18.0.2", "podIP": "10.244.1.7",
        "podIPs": [{"ip": "10.244.1.7"}], "startTime": ts(timedelta(hours=1)),
        "qosClass": "Burstable",
        "conditions": [{"type": "Initialized", "status": "True"},
                       {"type": "Ready", "status": "False"},
                       {"type": "ContainersReady", "status": "False"},
                       {"type": "PodScheduled", "status": "True"}],
        "containerStatuses": [{
            "name": "web", "ready": False, "restartCount": 7, "image": "nginx:1.27",
            "imageID": "docker-pullable://nginx@sha256:0fa1", "containerID": "docker://4b1c",
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": "back-off 5m0s restarting failed container"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                         "startedAt": ts(timedelta(minutes=6)),
                                         "finishedAt": ts(timedelta(minutes=5))}}}]},
}

POD_EVENTS = [
    event("BackOff", "Back-off restarting failed container web", kind="Warning",
          first=timedelta(minutes=55), last=timedelta(seconds=30), count=25,
          field_path="spec.containers{web}"),
    event("Scheduled", "Successfully assigned default/web-7d4b9c-x2x9k to node-1",
          first=timedelta(hours=1), component="default-scheduler"),
]

TEMPLATE = {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                     "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "uid": "deploy-uid",
                 "creationTimestamp": ts(timedelta(days=2)), "labels": {"app": "web"},
                 "annotations": {"deployment.kubernetes.io/revision": "2"}},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE,
             "strategy": {"type": "RollingUpdate",
                          "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}}},
    "status": {"replicas": 4, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 3,
               "unavailableReplicas": 1,
               "conditions": [{"type": "Available", "status": "True",
                               "reason": "MinimumReplicasAvailable"},
                              {"type": "Progressing", "status": "True",
                               "reason": "ReplicaSetUpdated"}]},
}


def replica_set(name: str, image: str, replicas: int, created: timedelta) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "web", "pod-template-hash": name[4:]}},
                "spec": {"containers": [{"name": "web", "image": image,
                                         "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default", "uid": f"{name}-uid",
                         "creationTimestamp": ts(created),
                         "labels": {"app": "web", "pod-template-hash": name[4:]},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": "web", "uid": "deploy-uid",
                                              "controller": True}]},
            "spec": {"replicas": replicas, "template": template,
                     "selector": {"matchLabels": {"app": "web",
                                                  "pod-template-hash": name[4:]}}},
            "status": {"replicas": replicas, "readyReplicas": replicas}}


OLD_RS = replica_set("web-5f6d8b", "nginx:1.26", 2, timedelta(days=2))
NEW_RS = replica_set("web-7d4b9c", "nginx:1.27", 2, timedelta(minutes=3))

NODE_PORT_SERVICE: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
                 "creationTimestamp": ts(timedelta(days=1))},
    "spec": {"type": "NodePort", "selector": {"app": "web"}, "clusterIP": "10.96.0.12",
             "clusterIPs": ["10.96.0.12"], "ipFamilies": ["IPv4"],
             "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
             "externalTrafficPolicy": "Cluster",
             "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080,
                        "protocol": "TCP"}]},
}
WEB_ENDPOINTS = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
                 "subsets": [{"addresses": [{"ip": "10.244.1.7"}, {"ip": "10.244.2.3"}],
                              "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]}

NODE: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Node",
    "metadata": {"name": "node-1", "uid": "node-uid", "creationTimestamp": ts(timedelta(days=10)),
                 "labels": {"kubernetes.io/hostname": "node-1",
                            "node-role.kubernetes.io/worker": ""}},
    "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"], "unschedulable": True,
             "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                        {"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]},
    "status": {
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "agent is posting ready status",
                        "lastHeartbeatTime": ts(timedelta(seconds=10)),
                        "lastTransitionTime": ts(timedelta(days=10))}],
        "addresses": [{"type": "InternalIP", "address": "172.18.0.2"},
                      {"type": "Hostname", "address": "node-1"}],
        "capacity": {"cpu": "4", "memory": "8145440Ki", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "8043040Ki", "pods": "110"},
        "nodeInfo": {"machineID": "m-1", "systemUUID": "s-1", "bootID": "b-1",
                     "kernelVersion": "6.1.0-18-amd64", "osImage": "Debian GNU/Linux 12",
                     "operatingSystem": "linux", "architecture": "amd64",
                     "containerRuntimeVersion": "docker://27.3.1",
                     "kubeletVersion": "v1.32.0-schooner"}},
}

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "web-config", "namespace": "default"},
              "data": {"nginx.conf": "server {\n  listen 80;\n}\n", "mode": "production"},
              "binaryData": {"logo.png": "iVBORw0KGgo="}}

SECRET = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
          "metadata": {"name": "db", "namespace": "default"},
          "data": {"password": "czNjcjN0LXBhc3N3b3Jk", "username": "YWRtaW4="}}

LEASE = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
         "metadata": {"name": "schooner-scheduler", "namespace": "kube-system", "uid": "l-1",
                      "resourceVersion": "812", "creationTimestamp": ts(timedelta(days=1)),
                      "managedFields": [{"manager": "scheduler"}]},
         "spec": {"holderIdentity": "scheduler-0_4f2c", "leaseDurationSeconds": 15,
                  "leaseTransitions": 2, "renewTime": "2026-03-01T11:59:58.000000Z",
                  "preferredHolder": None}}


def test_crash_looping_pod() -> None:
    text = describe(by_plural("pods"), CRASHING_POD, POD_EVENTS, NOW)
    assert text == """\
Name:             web-7d4b9c-x2x9k
Namespace:        default
Priority:         0
Service Account:  default
Node:             node-1/172.18.0.2
Start Time:       Sun, 01 Mar 2026 11:00:00 +0000
Labels:           app=web
                  pod-template-hash=7d4b9c
Annotations:      schooner.io/owner: team-a
Status:           Running
IP:               10.244.1.7
IPs:
  IP:           10.244.1.7
Controlled By:  ReplicaSet/web-7d4b9c
Containers:
  web:
    Container ID:   docker://4b1c
    Image:          nginx:1.27
    Image ID:       docker-pullable://nginx@sha256:0fa1
    Port:           80/TCP (http)
    Host Port:      0/TCP (http)
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
      Started:      Sun, 01 Mar 2026 11:54:00 +0000
      Finished:     Sun, 01 Mar 2026 11:55:00 +0000
    Ready:          False
    Restart Count:  7
    Limits:
      cpu:     500m
      memory:  128Mi
    Requests:
      cpu:      100m
    Readiness:  http-get http://:80/healthz delay=0s timeout=1s period=5s #success=1 #failure=3
    Environment:
      MODE:         production
      POD_NAME:     web-7d4b9c-x2x9k (v1:metadata.name)
      DB_PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false
    Mounts:
      /etc/nginx/conf.d from config (ro)
      /var/cache/nginx from cache (rw)
Conditions:
  Type              Status
  Initialized       True \n\
  Ready             False \n\
  ContainersReady   False \n\
  PodScheduled      True \n\
Volumes:
  cache:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:     \n\
    SizeLimit:  <unset>
  config:
    Type:        ConfigMap (a volume populated by a ConfigMap)
    Name:        web-config
    Optional:    false
QoS Class:       Burstable
Node-Selectors:  <none>
Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                 From               Message
  ----     ------     ----                ----               -------
  Normal   Scheduled  60m                 default-scheduler  Successfully assigned \
default/web-7d4b9c-x2x9k to node-1
  Warning  BackOff    30s (x25 over 55m)  kubelet            spec.containers{web}: \
Back-off restarting failed container web
"""


def test_pod_being_deleted_shows_how_long_it_has_been_terminating() -> None:
    pod = copy.deepcopy(CRASHING_POD)
    pod["metadata"] |= {"deletionTimestamp": ts(timedelta(minutes=2)),
                        "deletionGracePeriodSeconds": 30}
    lines = describe(by_plural("pods"), pod, [], NOW).splitlines()
    assert "Status:                    Terminating (lasts 2m)" in lines
    assert "Termination Grace Period:  30s" in lines
    assert lines[-1] == "Events:          <none>"


def test_unscheduled_pod_without_statuses() -> None:
    pod = copy.deepcopy(CRASHING_POD)
    del pod["spec"]["nodeName"]
    pod["status"] = {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}
    text = describe(by_plural("pods"), pod, [], NOW)
    assert "Node:             <none>\n" in text
    assert "IPs:              <none>\n" in text
    assert "Container ID" not in text and "State:" not in text
    assert "  web:\n    Image:      nginx:1.27\n    Port:       80/TCP (http)\n" in text


def test_completed_pod_shows_the_terminated_state() -> None:
    pod = copy.deepcopy(CRASHING_POD)
    pod["status"]["phase"] = "Succeeded"
    pod["status"]["containerStatuses"][0] |= {"state": {"terminated": {
        "exitCode": 0, "reason": "Completed", "startedAt": ts(timedelta(minutes=9)),
        "finishedAt": ts(timedelta(minutes=8))}}, "restartCount": 0}
    del pod["status"]["containerStatuses"][0]["lastState"]
    text = describe(by_plural("pods"), pod, [], NOW)
    assert "    State:          Terminated\n      Reason:       Completed\n" \
           "      Exit Code:    0\n" in text
    assert "Last State" not in text


def test_deployment_mid_rollout() -> None:
    text = describe(by_plural("deployments"), DEPLOYMENT, [], NOW,
                    replica_sets=[NEW_RS, OLD_RS])
    assert text == """\
Name:                   web
Namespace:              default
CreationTimestamp:      Fri, 27 Feb 2026 12:00:00 +0000
Labels:                 app=web
Annotations:            deployment.kubernetes.io/revision: 2
Selector:               app=web
Replicas:               3 desired | 2 updated | 4 total | 3 available | 1 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  1 max unavailable, 25% max surge
Pod Template:
  Labels:  app=web
  Containers:
   web:
    Image:         nginx:1.27
    Port:          80/TCP
    Host Port:     0/TCP
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type           Status  Reason
  ----           ------  ------
  Available      True    MinimumReplicasAvailable
  Progressing    True    ReplicaSetUpdated
OldReplicaSets:  web-5f6d8b (2/2 replicas created)
NewReplicaSet:   web-7d4b9c (2/2 replicas created)
Events:          <none>
"""


def test_deployment_without_replica_sets_omits_the_lines() -> None:
    text = describe(by_plural("deployments"), DEPLOYMENT, [], NOW)
    assert "OldReplicaSets" not in text and "NewReplicaSet" not in text
    strangers = copy.deepcopy(OLD_RS)
    strangers["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    text = describe(by_plural("deployments"), DEPLOYMENT, [], NOW, replica_sets=[strangers])
    assert "OldReplicaSets:  <none>\nNewReplicaSet:   <none>\n" in text


def test_replica_set_counts_its_own_pods_by_phase() -> None:
    def pod(phase: str, owner_uid: str) -> dict[str, Any]:
        return {"metadata": {"name": f"p-{phase}", "ownerReferences": [
            {"kind": "ReplicaSet", "uid": owner_uid, "controller": True}]},
                "status": {"phase": phase}}
    pods = [pod("Running", "web-7d4b9c-uid"), pod("Running", "web-7d4b9c-uid"),
            pod("Pending", "web-7d4b9c-uid"), pod("Running", "other")]
    text = describe(by_plural("replicasets"), NEW_RS, [], NOW, pods=pods)
    assert text.startswith("""\
Name:           web-7d4b9c
Namespace:      default
Selector:       app=web,pod-template-hash=7d4b9c
Labels:         app=web
                pod-template-hash=7d4b9c
Annotations:    <none>
Controlled By:  Deployment/web
Replicas:       2 current / 2 desired
Pods Status:    2 Running / 1 Waiting / 0 Succeeded / 0 Failed
Pod Template:
""")
    assert "Pods Status" not in describe(by_plural("replicasets"), NEW_RS, [], NOW)


def test_node_port_service() -> None:
    text = describe(by_plural("services"), NODE_PORT_SERVICE, [], NOW, endpoints=WEB_ENDPOINTS)
    assert text == """\
Name:                     web
Namespace:                default
Labels:                   app=web
Annotations:              <none>
Selector:                 app=web
Type:                     NodePort
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.0.12
IPs:                      10.96.0.12
Port:                     http  80/TCP
TargetPort:               8080/TCP
NodePort:                 http  30080/TCP
Endpoints:                10.244.1.7:8080,10.244.2.3:8080
Session Affinity:         None
External Traffic Policy:  Cluster
Events:                   <none>
"""
    no_endpoints = describe(by_plural("services"), NODE_PORT_SERVICE, [], NOW)
    assert "Endpoints:                <none>\n" in no_endpoints


def test_node() -> None:
    text = describe(by_plural("nodes"), NODE, [], NOW)
    assert text.startswith("""\
Name:               node-1
Roles:              worker
Labels:             kubernetes.io/hostname=node-1
                    node-role.kubernetes.io/worker=
Annotations:        <none>
CreationTimestamp:  Thu, 19 Feb 2026 12:00:00 +0000
Taints:             dedicated=gpu:NoExecute
                    node.kubernetes.io/unschedulable:NoSchedule
Unschedulable:      true
Conditions:
  Type    Status  LastHeartbeatTime                 LastTransitionTime                \\
Reason         Message
""".replace("\\\n", ""))
    for fragment in ("Addresses:\n  InternalIP:  172.18.0.2\n  Hostname:    node-1\n",
                     "Allocatable:\n  cpu:     4\n  memory:  8043040Ki\n  pods:    110\n",
                     "  Kubelet Version:            v1.32.0-schooner\n",
                     "PodCIDR:                      10.244.1.0/24\n"):
        assert fragment in text


def test_config_map_prints_each_key_under_a_rule() -> None:
    assert describe(by_plural("configmaps"), CONFIG_MAP, [], NOW) == """\
Name:         web-config
Namespace:    default
Labels:       <none>
Annotations:  <none>

Data
====
mode:
----
production

nginx.conf:
----
server {
  listen 80;
}



BinaryData
====
logo.png: 8 bytes

Events:  <none>
"""


def test_secret_shows_sizes_never_values() -> None:
    text = describe(by_plural("secrets"), SECRET, [], NOW)
    assert text == """\
Name:         db
Namespace:    default
Labels:       <none>
Annotations:  <none>

Type:  Opaque

Data
====
password:  15 bytes
username:  5 bytes
"""
    assert "s3cr3t" not in text and "czNjcjN0" not in text


def test_other_kinds_get_the_generic_describer() -> None:
    assert describe(by_plural("leases"), LEASE, [], NOW) == """\
Name:         schooner-scheduler
Namespace:    kube-system
Labels:       <none>
Annotations:  <none>
API Version:  coordination.k8s.io/v1
Kind:         Lease
Metadata:
  Creation Timestamp:  2026-02-28T12:00:00Z
  Resource Version:    812
  UID:                 l-1
Spec:
  Holder Identity:         scheduler-0_4f2c
  Lease Duration Seconds:  15
  Lease Transitions:       2
  Preferred Holder:        <nil>
  Renew Time:              2026-03-01T11:59:58.000000Z
Events:                    <none>
"""


def test_generic_describer_lists_and_flags() -> None:
    widget = ResourceInfo("example.com", "v1", "Widget", "widgets", True)
    obj = {"apiVersion": "example.com/v1", "kind": "Widget",
           "metadata": {"name": "w", "namespace": "d"},
           "spec": {"enabled": False, "hosts": ["a", "b"], "podIPs": ["10.0.0.1"],
                    "backends": [{"name": "x", "weight": 1}, {"name": "y", "weight": 2}]}}
    assert describe(widget, obj, [], NOW) == """\
Name:         w
Namespace:    d
Labels:       <none>
Annotations:  <none>
API Version:  example.com/v1
Kind:         Widget
Metadata:
Spec:
  Backends:
    Name:    x
    Weight:  1
    Name:    y
    Weight:  2
  Enabled:   false
  Hosts:
    a
    b
  Pod I Ps:
    10.0.0.1
Events:  <none>
"""


@pytest.mark.parametrize(("annotations", "expected"), [
    ({"a": "1", "b": "two"}, "Annotations:  a: 1\n              b: two\n"),
    ({"note": "line one\nline two\n"},
     "Annotations:  note:\n                line one\n                line two\n"),
    ({"kubectl.kubernetes.io/last-applied-configuration": "{}"}, "Annotations:  <none>\n"),
])
def test_annotations_are_sorted_folded_and_skip_last_applied(
        annotations: dict[str, str], expected: str) -> None:
    cm = copy.deepcopy(CONFIG_MAP)
    cm["metadata"]["annotations"] = annotations
    assert expected in describe(by_plural("configmaps"), cm, [], NOW)


def test_events_from_the_events_api_use_series_and_reporting_controller() -> None:
    series_event = {"type": "Normal", "reason": "Pulled", "message": "Image pulled",
                    "eventTime": "2026-03-01T11:00:00.000000Z",
                    "reportingController": "schooner-agent",
                    "series": {"count": 4, "lastObservedTime": "2026-03-01T11:58:00.000000Z"},
                    "involvedObject": {"kind": "Pod", "name": "web"}}
    text = describe(by_plural("configmaps"), CONFIG_MAP, [series_event], NOW)
    assert text.endswith("\nEvents:\n"
                         "  Type    Reason  Age               From            Message\n"
                         "  ----    ------  ----              ----            -------\n"
                         "  Normal  Pulled  2m (x4 over 60m)  schooner-agent  Image pulled\n")


@pytest.mark.parametrize(("resources", "qos"), [
    ({}, "BestEffort"),
    ({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),
    ({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}},
     "Guaranteed"),
    ({"limits": {"cpu": "1"}}, "Burstable"),
])
def test_qos_class_is_inferred_when_the_status_lacks_it(resources: dict[str, Any],
                                                        qos: str) -> None:
    pod = copy.deepcopy(CRASHING_POD)
    del pod["status"]["qosClass"]
    pod["spec"]["containers"][0]["resources"] = resources
    assert f"QoS Class:       {qos}\n" in describe(by_plural("pods"), pod, [], NOW)


def test_deployment_strategy_defaults_and_recreate() -> None:
    deploy = copy.deepcopy(DEPLOYMENT)
    del deploy["spec"]["strategy"]
    text = describe(by_plural("deployments"), deploy, [], NOW)
    assert "StrategyType:           RollingUpdate\n" in text
    assert "RollingUpdateStrategy:  25% max unavailable, 25% max surge\n" in text
    deploy["spec"]["strategy"] = {"type": "Recreate"}
    text = describe(by_plural("deployments"), deploy, [], NOW)
    assert "StrategyType:       Recreate\n" in text and "RollingUpdateStrategy" not in text


def test_stateful_set_and_namespace() -> None:
    sts = copy.deepcopy(DEPLOYMENT) | {"kind": "StatefulSet"}
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}}]
    text = describe(by_plural("statefulsets"), sts, [], NOW, pods=[])
    assert "Replicas:           3 desired | 4 total\n" in text
    assert "Update Strategy:    RollingUpdate\n" in text
    assert "Pods Status:        0 Running / 0 Waiting / 0 Succeeded / 0 Failed\n" in text
    assert "Volume Claims:\n  Name:  data\n" in text
    ns = {"metadata": {"name": "shop", "labels": {"team": "a"}}, "status": {"phase": "Active"}}
    assert describe(by_plural("namespaces"), ns, [], NOW) == (
        "Name:         shop\nLabels:       team=a\nAnnotations:  <none>\nStatus:       Active\n")
