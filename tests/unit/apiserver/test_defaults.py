"""Server-side defaulting: the values Kubernetes fills in, and tolerance of bad input."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from apiserver.kinds import registry
from apiserver.kinds.core.event import default_event
from apiserver.kinds.core.podtemplate import image_pull_policy


def defaulted(plural: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The kind's own defaulting, as the registry runs it."""
    registry().by_plural(plural).defaulted(obj)
    return obj


def pod_spec(**extra: Any) -> dict[str, Any]:
    return {"containers": [{"name": "web", "image": "nginx:1.27",
                            "ports": [{"containerPort": 80}]}], **extra}


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.27", "IfNotPresent"),
    ("registry.local:5000/team/nginx", "Always"),
    ("registry.local:5000/team/nginx:1.2", "IfNotPresent"),
    ("nginx@sha256:0123abcd", "IfNotPresent"),
    ("nginx:latest@sha256:0123abcd", "Always"),
])
def test_image_pull_policy(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_pod_defaults() -> None:
    pod = defaulted("pods", {"metadata": {"name": "p"}, "spec": pod_spec()})
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"
    container = spec["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert pod["status"] == {"phase": "Pending"}


def test_pod_defaults_keep_what_the_user_set() -> None:
    spec = pod_spec(restartPolicy="Never", terminationGracePeriodSeconds=0, dnsPolicy="Default")
    spec["containers"][0].update(imagePullPolicy="Never", ports=[{"containerPort": 53,
                                                                 "protocol": "UDP"}])
    pod = defaulted("pods", {"spec": spec, "status": {"phase": "Running"}})
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["terminationGracePeriodSeconds"] == 0
    assert pod["spec"]["dnsPolicy"] == "Default"
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Never"
    assert pod["spec"]["containers"][0]["ports"][0]["protocol"] == "UDP"
    assert pod["status"] == {"phase": "Running"}


def test_empty_strings_count_as_unset() -> None:
    spec = pod_spec(restartPolicy="")
    spec["containers"][0]["ports"][0]["protocol"] = ""
    pod = defaulted("pods", {"spec": spec})
    assert pod["spec"]["restartPolicy"] == "Always"
    assert pod["spec"]["containers"][0]["ports"][0]["protocol"] == "TCP"


def test_probe_env_volume_and_init_container_defaults() -> None:
    spec = pod_spec(
        initContainers=[{"name": "init", "image": "busybox"}],
        volumes=[{"name": "cfg", "configMap": {"name": "cfg"}},
                 {"name": "sec", "secret": {"secretName": "s", "defaultMode": 0o400}}])
    container = spec["containers"][0]
    container["livenessProbe"] = {"httpGet": {"port": 80}, "periodSeconds": 5}
    container["env"] = [{"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
    spec = defaulted("pods", {"spec": spec})["spec"]
    assert spec["containers"][0]["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "periodSeconds": 5,
        "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}
    assert spec["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert spec["initContainers"][0]["imagePullPolicy"] == "Always"
    assert spec["initContainers"][0]["terminationMessagePolicy"] == "File"
    assert spec["volumes"][0]["configMap"]["defaultMode"] == 420
    assert spec["volumes"][1]["secret"]["defaultMode"] == 0o400


def test_deployment_defaults() -> None:
    deployment = defaulted("deployments", {"spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec()}}})
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    template_spec = spec["template"]["spec"]
    assert template_spec["restartPolicy"] == "Always"
    assert template_spec["containers"][0]["ports"][0]["protocol"] == "TCP"
    assert "status" not in spec["template"]


def test_deployment_keeps_zero_replicas_and_partial_rolling_update() -> None:
    spec = defaulted("deployments", {"spec": {
        "replicas": 0, "strategy": {"rollingUpdate": {"maxSurge": 1}}}})["spec"]
    assert spec["replicas"] == 0
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}}


def test_recreate_strategy_gets_no_rolling_update() -> None:
    spec = defaulted("deployments", {"spec": {"strategy": {"type": "Recreate"}}})["spec"]
    assert spec["strategy"] == {"type": "Recreate"}


def test_replica_set_defaults() -> None:
    rs = defaulted("replicasets", {"spec": {"template": {"spec": pod_spec()}},
                                   "status": {"readyReplicas": 0}})
    assert rs["spec"]["replicas"] == 1
    assert rs["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert rs["status"]["replicas"] == 0


def test_stateful_set_defaults() -> None:
    sts = defaulted("statefulsets", {"spec": {"serviceName": "web",
                                              "template": {"spec": pod_spec()}}})
    spec = sts["spec"]
    assert spec["replicas"] == 1
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["serviceName"] == "web"
    assert spec["template"]["spec"]["schedulerName"] == "default-scheduler"
    on_delete = defaulted("statefulsets", {"spec": {"updateStrategy": {"type": "OnDelete"}}})
    assert on_delete["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_service_defaults() -> None:
    svc = defaulted("services", {"spec": {"selector": {"app": "web"}, "ports": [
        {"port": 80}, {"port": 443, "targetPort": "https", "protocol": "TCP"}]}})
    spec = svc["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert "externalTrafficPolicy" not in spec
    assert spec["ports"][0] == {"port": 80, "targetPort": 80, "protocol": "TCP"}
    assert spec["ports"][1]["targetPort"] == "https"


def test_node_port_service_gets_external_traffic_policy() -> None:
    svc = defaulted("services", {"spec": {"type": "NodePort", "ports": [{"port": 80}]}})
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"


def test_endpoints_port_protocol() -> None:
    ep = defaulted("endpoints", {"subsets": [{"addresses": [{"ip": "10.0.0.1"}],
                                              "ports": [{"port": 80}]}]})
    assert ep["subsets"][0]["ports"][0]["protocol"] == "TCP"


def test_secret_type_and_string_data_folded_into_data() -> None:
    secret = defaulted("secrets", {"data": {"a": base64.b64encode(b"old").decode(),
                                            "b": base64.b64encode(b"keep").decode()},
                                   "stringData": {"a": "new", "c": "héllo"}})
    assert secret["type"] == "Opaque"
    assert "stringData" not in secret
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {"a": "new", "b": "keep", "c": "héllo"}


def test_secret_keeps_its_type_and_non_string_string_data() -> None:
    secret = defaulted("secrets", {"type": "kubernetes.io/tls", "stringData": {"n": 1, "s": "x"}})
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["stringData"] == {"n": 1}
    assert secret["data"] == {"s": "eA=="}


def test_event_defaults_with_injected_clock() -> None:
    event = {"involvedObject": {"kind": "Pod", "name": "p"}}
    default_event(event, now=lambda: "2025-01-02T03:04:05Z")
    assert event["count"] == 1
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2025-01-02T03:04:05Z"
    kept = {"count": 4, "firstTimestamp": "2025-01-01T00:00:00Z"}
    default_event(kept, now=lambda: "never used")
    assert kept == {"count": 4, "firstTimestamp": "2025-01-01T00:00:00Z",
                    "lastTimestamp": "2025-01-01T00:00:00Z"}


@pytest.mark.parametrize("plural", ["namespaces", "nodes", "configmaps", "leases"])
def test_kinds_without_defaults_are_untouched(plural: str) -> None:
    obj = {"metadata": {"name": "x"}, "spec": {}, "data": {"k": "v"}}
    assert defaulted(plural, copy.deepcopy(obj)) == obj


@pytest.mark.parametrize(("plural", "obj"), [
    ("pods", {"spec": "nonsense"}),
    ("pods", {"spec": {"containers": "web", "volumes": [1, None]}}),
    ("pods", {"spec": {"containers": [None, "x", {"image": 7, "ports": {"a": 1},
                                                  "livenessProbe": [1]}]}, "status": 3}),
    ("deployments", {"spec": {"strategy": "fast", "template": []}}),
    ("deployments", {"spec": []}),
    ("statefulsets", {"spec": {"updateStrategy": {"type": "RollingUpdate",
                                                  "rollingUpdate": 5}}}),
    ("services", {"spec": {"ports": [{"port": "80"}, 7]}}),
    ("secrets", {"stringData": ["a"], "data": "x"}),
    ("secrets", {"stringData": {"a": "b"}, "data": "x"}),
    ("events", {"metadata": "bad"}),
])
def test_malformed_objects_are_left_for_validation(plural: str, obj: dict[str, Any]) -> None:
    defaulted(plural, obj)
