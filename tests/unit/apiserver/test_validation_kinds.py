"""Validation of workloads, services, config and the small kinds, and of updates."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from apiserver.kinds.core.podtemplate.validation import POD_UPDATE_MESSAGE
from tests.unit.apiserver.validation_objects import (
    BUILDERS,
    DELETE,
    assert_error,
    changed,
    problems,
)

SELECTOR_MISMATCH = "`selector` does not match template `labels`"
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    # workloads
    ("deployments", {"spec/replicas": -1}, "spec.replicas",
     "Invalid value: -1: must be greater than or equal to 0"),
    ("replicasets", {"spec/replicas": -2}, "spec.replicas", "must be greater than or equal to 0"),
    ("statefulsets", {"spec/replicas": -3}, "spec.replicas", "must be greater than or equal to 0"),
    ("deployments", {"spec/selector": DELETE}, "spec.selector", "Required value"),
    ("replicasets", {"spec/selector": DELETE}, "spec.selector", "Required value"),
    ("deployments", {"spec/selector": {}}, "spec.selector",
     "empty selector is invalid for deployment"),
    ("deployments", {"spec/selector/matchLabels": {"app": "api"}},
     "spec.template.metadata.labels", SELECTOR_MISMATCH),
    ("replicasets", {"spec/selector/matchExpressions/0/operator": "NotIn"},
     "spec.template.metadata.labels", SELECTOR_MISMATCH),
    ("statefulsets", {"spec/template/metadata/labels": DELETE},
     "spec.template.metadata.labels", SELECTOR_MISMATCH),
    ("replicasets", {"spec/selector/matchExpressions/0/operator": "Like"},
     "spec.selector.matchExpressions[0].operator", "not a valid selector operator"),
    ("replicasets", {"spec/selector/matchExpressions/0/values": []},
     "spec.selector.matchExpressions[0].values",
     "Required value: must be specified when `operator` is 'In' or 'NotIn'"),
    ("deployments", {"spec/selector/matchLabels": {"app": "web", "bad key": "x"}},
     "spec.selector.matchLabels", "name part must consist of"),
    ("deployments", {"spec/template": DELETE}, "spec.template", "Required value"),
    ("deployments", {"spec/template/spec/containers/0/image": ""},
     "spec.template.spec.containers[0].image", "Required value"),
    ("statefulsets", {"spec/template/spec/containers/0/ports/0/containerPort": 0},
     "spec.template.spec.containers[0].ports[0].containerPort", "Required value"),
    ("deployments", {"spec/template/spec/restartPolicy": "Never"},
     "spec.template.spec.restartPolicy",
     'Unsupported value: "Never": supported values: "Always"'),
    ("deployments", {"spec/template/spec/topologySpreadConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]},
     "spec.template.spec.topologySpreadConstraints",
     "Forbidden: pod topology spread is not supported by Schooner's scheduler"),
    ("replicasets", {"spec/template/spec/activeDeadlineSeconds": 10},
     "spec.template.spec.activeDeadlineSeconds",
     "Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"),
    ("deployments", {"spec/strategy": {"type": "BlueGreen"}}, "spec.strategy.type",
     'Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"'),
    ("deployments", {"spec/strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}},
     "spec.strategy.rollingUpdate",
     "Forbidden: may not be specified when strategy `type` is 'Recreate'"),
    ("deployments", {"spec/strategy": {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}},
     "spec.strategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0"),
    ("deployments", {"spec/strategy": {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxSurge": "lots"}}},
     "spec.strategy.rollingUpdate.maxSurge",
     "a valid percent string must be a numeric string followed by an ending '%'"),
    ("deployments", {"spec/strategy": {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxUnavailable": "150%"}}},
     "spec.strategy.rollingUpdate.maxUnavailable", "must not be greater than 100%"),
    ("deployments", {"spec/strategy": {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxUnavailable": -1}}},
     "spec.strategy.rollingUpdate.maxUnavailable", "must be greater than or equal to 0"),
    ("deployments", {"spec/progressDeadlineSeconds": 5, "spec/minReadySeconds": 10},
     "spec.progressDeadlineSeconds", "must be greater than minReadySeconds"),
    ("deployments", {"spec/revisionHistoryLimit": -1}, "spec.revisionHistoryLimit",
     "must be greater than or equal to 0"),
    ("statefulsets", {"spec/serviceName": 5}, "spec.serviceName", "must be a string"),
    ("statefulsets", {"spec/podManagementPolicy": "Random"}, "spec.podManagementPolicy",
     'supported values: "OrderedReady", "Parallel"'),
    ("statefulsets", {"spec/updateStrategy": {"type": "OnDelete",
                                              "rollingUpdate": {"partition": 1}}},
     "spec.updateStrategy.rollingUpdate", "only allowed for updateStrategy 'RollingUpdate'"),
    ("statefulsets", {"spec/updateStrategy": {"type": "RollingUpdate",
                                              "rollingUpdate": {"partition": -1}}},
     "spec.updateStrategy.rollingUpdate.partition", "must be greater than or equal to 0"),
    # services
    ("services", {"spec/ports": DELETE}, "spec.ports", "Required value"),
    ("services", {"spec/ports/1/port": 0}, "spec.ports[1].port",
     "Invalid value: 0: must be between 1 and 65535, inclusive"),
    ("services", {"spec/ports/1/port": DELETE}, "spec.ports[1].port", "Required value"),
    ("services", {"spec/ports/1/name": DELETE}, "spec.ports[1].name", "Required value"),
    ("services", {"spec/ports/1/name": "http"}, "spec.ports[1].name", 'Duplicate value: "http"'),
    ("services", {"spec/ports/1/name": "HTTPS"}, "spec.ports[1].name", "RFC 1123 label"),
    ("services", {"spec/ports/1/protocol": "HTTP"}, "spec.ports[1].protocol",
     'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'),
    ("services", {"spec/ports/1/port": 80}, "spec.ports[1]",
     'Duplicate value: {"port":80,"protocol":"TCP"}'),
    ("services", {"spec/type": "Magic"}, "spec.type",
     'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'),
    ("services", {"spec/type": "NodePort", "spec/ports/0/nodePort": 80},
     "spec.ports[0].nodePort", "provided port is not in the valid range. The range of valid "
                               "ports is 30000-32767"),
    ("services", {"spec/ports/0/nodePort": 30080}, "spec.ports[0].nodePort",
     "Forbidden: may not be used when `type` is 'ClusterIP'"),
    ("services", {"spec/ports/0/targetPort": 0}, "spec.ports[0].targetPort",
     "must be between 1 and 65535, inclusive"),
    ("services", {"spec/ports/0/targetPort": "http_port"}, "spec.ports[0].targetPort",
     "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
    ("services", {"spec/ports/0/targetPort": "8080"}, "spec.ports[0].targetPort",
     "must contain at least one letter (a-z)"),
    ("services", {"spec/clusterIP": "10.96.0.300"}, "spec.clusterIP",
     "must be a valid IP address"),
    ("services", {"spec/sessionAffinity": "Sticky"}, "spec.sessionAffinity",
     'supported values: "ClientIP", "None"'),
    ("services", {"spec/type": "ExternalName", "spec/clusterIP": DELETE},
     "spec.externalName", "Required value"),
    ("services", {"spec/selector": {"app": "web!"}}, "spec.selector", "a valid label"),
    # endpoints
    ("endpoints", {"subsets/0/addresses/0/ip": "10.0.0"}, "subsets[0].addresses[0].ip",
     'Invalid value: "10.0.0": must be a valid IP address'),
    ("endpoints", {"subsets/0/addresses/0/ip": DELETE}, "subsets[0].addresses[0].ip",
     "Required value"),
    ("endpoints", {"subsets/0/ports/1/port": 0}, "subsets[0].ports[1].port",
     "must be between 1 and 65535, inclusive"),
    ("endpoints", {"subsets/0/ports/1/name": DELETE}, "subsets[0].ports[1].name",
     "Required value"),
    ("endpoints", {"subsets/0/addresses": [], "subsets/0/notReadyAddresses": DELETE},
     "subsets[0]", "must specify `addresses` or `notReadyAddresses`"),
    # configmaps and secrets
    ("configmaps", {"data/bad key": "x"}, "data[bad key]",
     'Invalid value: "bad key": a valid config key must consist of alphanumeric characters'),
    ("configmaps", {"data/..": "x"}, "data[..]", "must not be '..'"),
    ("configmaps", {"binaryData/logo": "not base64!"}, "binaryData[logo]", "base64"),
    ("configmaps", {"binaryData/KEY_NAME": "eA=="}, "data[KEY_NAME]",
     "duplicate of key present in binaryData"),
    ("configmaps", {"data/big": "x" * (1024 * 1024)}, "data",
     "Too long: may not be more than 1048576 bytes"),
    ("configmaps", {"data/n": 5}, "data[n]", "Invalid value: 5: must be a string"),
    ("secrets", {"data/pw": "hunter2"}, "data[pw]", "must be base64-encoded"),
    ("secrets", {"data/k y": "eA=="}, "data[k y]", "a valid config key"),
    ("secrets", {"stringData": {"n": 1}}, "stringData[n]", "must be a string"),
    ("secrets", {"type": "kubernetes.io/tls"}, "data[tls.crt]", "Required value"),
    ("secrets", {"data/big": base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()}, "data",
     "Too long: may not be more than 1048576 bytes"),
    # nodes, events, leases
    ("nodes", {"spec/taints/0/effect": "Sometimes"}, "spec.taints[0].effect",
     "Unsupported value"),
    ("nodes", {"spec/podCIDR": "10.244.1.0/33"}, "spec.podCIDR", "must be a valid CIDR value"),
    ("nodes", {"status/conditions/0/status": DELETE}, "status.conditions[0].status",
     "Required value"),
    ("nodes", {"status/capacity/cpu": True}, "status.capacity[cpu]", "must be a quantity"),
    ("events", {"involvedObject/namespace": "other"}, "involvedObject.namespace",
     "does not match event.namespace"),
    ("events", {"type": "Fatal"}, "type", 'supported values: "Normal", "Warning"'),
    ("events", {"firstTimestamp": "02/01/2025"}, "firstTimestamp", "RFC 3339"),
    ("leases", {"spec/leaseDurationSeconds": -1}, "spec.leaseDurationSeconds",
     "must be greater than 0"),
    ("leases", {"spec/holderIdentity": 7}, "spec.holderIdentity", "must be a string"),
    ("leases", {"spec/leaseTransitions": -1}, "spec.leaseTransitions",
     "must be greater than or equal to 0"),
]


@pytest.mark.parametrize(("plural", "changes", "path", "message"), INVALID,
                         ids=[f"{p}:{path}" for p, _, path, _ in INVALID])
def test_invalid_objects_name_the_field(plural: str, changes: dict[str, Any], path: str,
                                        message: str) -> None:
    assert_error(problems(plural, changed(BUILDERS[plural](), changes)), path, message)


# -- updates: (resource, changes to the old object, expected path or None, message) --

UPDATES: list[tuple[str, dict[str, Any], str | None, str]] = [
    ("pods", {"spec/containers/0/image": "nginx:1.28", "spec/initContainers/0/image": "alpine",
              "metadata/labels": {"app": "web", "v": "2"}}, None, ""),
    ("pods", {"spec/tolerations/2": {"key": "k", "operator": "Exists"}}, None, ""),
    ("pods", {"spec/activeDeadlineSeconds": 60}, None, ""),
    ("pods", {"spec/restartPolicy": "Never"}, "spec", f"Forbidden: {POD_UPDATE_MESSAGE}"),
    ("pods", {"spec/containers/0/ports/0/containerPort": 8080}, "spec",
     "(changed: spec.containers)"),
    ("pods", {"spec/nodeName": "node-2"}, "spec", "(changed: spec.nodeName)"),
    ("pods", {"spec/tolerations": []}, "spec.tolerations",
     "existing toleration can not be modified except its tolerationSeconds"),
    ("deployments", {"spec/replicas": 5, "spec/template/spec/containers/0/image": "nginx:2"},
     None, ""),
    ("deployments", {"spec/selector/matchLabels": {"app": "web", "tier": "front"}},
     "spec.selector", "field is immutable"),
    ("replicasets", {"spec/selector/matchExpressions/0/values": ["front", "back"]},
     "spec.selector", "field is immutable"),
    ("statefulsets", {"spec/replicas": 1, "spec/updateStrategy": {"type": "OnDelete"}}, None, ""),
    ("statefulsets", {"spec/serviceName": "other"}, "spec",
     "Forbidden: updates to statefulset spec for fields other than 'replicas'"),
    ("services", {"spec/ports/0/port": 8080}, None, ""),
    ("services", {"spec/clusterIP": "10.96.0.11"}, "spec.clusterIP",
     'Invalid value: "10.96.0.11": field is immutable'),
    ("services", {"spec/clusterIP": DELETE}, "spec.clusterIP", "field is immutable"),
    ("services", {"metadata/name": "api"}, "metadata.name", "field is immutable"),
    ("services", {"metadata/uid": "u2"}, "metadata.uid", "field is immutable"),
    ("secrets", {"type": "example.com/other"}, "type", "field is immutable"),
    ("nodes", {"spec/podCIDR": "10.244.9.0/24"}, "spec.podCIDR",
     "node updates may not change podCIDR except from \"\" to valid"),
]


@pytest.mark.parametrize(("plural", "changes", "path", "message"), UPDATES,
                         ids=[f"{p}:{next(iter(c))}" for p, c, _, _ in UPDATES])
def test_updates(plural: str, changes: dict[str, Any], path: str | None, message: str) -> None:
    old = BUILDERS[plural]()
    old["metadata"]["uid"] = "u1"
    new = changed(old, changes)
    errs = problems(plural, new, old)
    if path is None:
        assert errs == []
    else:
        assert_error(errs, path, message)


def test_pod_may_not_lengthen_its_deadline() -> None:
    old = changed(BUILDERS["pods"](), {"spec/activeDeadlineSeconds": 60})
    errs = problems("pods", changed(old, {"spec/activeDeadlineSeconds": 120}), old)
    assert_error(errs, "spec.activeDeadlineSeconds", "must be less than or equal to previous")
    errs = problems("pods", changed(old, {"spec/activeDeadlineSeconds": DELETE}), old)
    assert_error(errs, "spec.activeDeadlineSeconds",
                 "must not update from a positive integer to nil value")


def test_immutable_config_stays_immutable() -> None:
    old = changed(BUILDERS["configmaps"](), {"immutable": True})
    assert problems("configmaps", old, old) == []
    assert_error(problems("configmaps", changed(old, {"data/app.conf": "x=2"}), old), "data",
                 "Forbidden: field is immutable when `immutable` is set")
    assert_error(problems("configmaps", changed(old, {"immutable": False}), old), "immutable",
                 "Forbidden: field is immutable when `immutable` is set")
    secret = changed(BUILDERS["secrets"](), {"immutable": True})
    assert_error(problems("secrets", changed(secret, {"data/pw": "eA=="}), secret), "data",
                 "field is immutable when `immutable` is set")


def test_node_gets_its_pod_cidr_once() -> None:
    old = changed(BUILDERS["nodes"](), {"spec/podCIDR": DELETE})
    assert problems("nodes", changed(old, {"spec/podCIDR": "10.244.3.0/24"}), old) == []


def test_service_type_change_to_external_name_may_drop_the_cluster_ip() -> None:
    old = BUILDERS["services"]()
    new = changed(old, {"spec/type": "ExternalName", "spec/externalName": "db.example.com",
                        "spec/clusterIP": DELETE})
    assert problems("services", new, old) == []


def test_statefulset_containers_may_mount_claim_templates() -> None:
    """Kubernetes accepts mounts of volumeClaimTemplates names; other unknown names fail."""
    from apiserver.kinds import registry
    from apiserver.validation import validate

    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": "db", "namespace": "default"},
           "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
                    "template": {"metadata": {"labels": {"app": "db"}}, "spec": {
                        "containers": [{"name": "pg", "image": "postgres",
                                        "volumeMounts": [{"name": "data",
                                                          "mountPath": "/var/lib/pg"}]}]}}}}
    assert validate(registry().by_plural("statefulsets"), sts) == []
    mount = sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]
    mount["name"] = "other"
    paths = [e.path for e in validate(registry().by_plural("statefulsets"), sts)]
    assert paths == ["spec.template.spec.containers[0].volumeMounts[0].name"]


@pytest.mark.parametrize("key", ["stdin", "stdinOnce", "tty"])
def test_a_container_may_ask_for_a_stdin_and_terminal_to_attach_to(key: str) -> None:
    assert problems("pods", changed(BUILDERS["pods"](), {f"spec/containers/0/{key}": True})) \
        == []
    template = changed(BUILDERS["deployments"](), {f"spec/template/spec/containers/0/{key}": True})
    assert problems("deployments", template) == []



