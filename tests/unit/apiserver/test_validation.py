"""Validation: valid objects pass; each bad one fails at exactly Kubernetes' field path.

Metadata, type errors and pods here; the other kinds and updates in
test_validation_kinds.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery.errors import FieldError
from apiserver.kinds import registry
from apiserver.validation import field_path, validate
from tests.unit.apiserver.validation_objects import (
    BUILDERS,
    DELETE,
    assert_error,
    changed,
    deployment,
    problems,
)

# -- valid objects ----------------------------------------------------------------


@pytest.mark.parametrize("plural", sorted(BUILDERS))
def test_valid_objects_pass_as_sent_and_after_defaulting(plural: str) -> None:
    obj = BUILDERS[plural]()
    assert problems(plural, obj) == []
    registry().by_plural(plural).defaulted(obj)
    assert problems(plural, obj) == []


@pytest.mark.parametrize(("plural", "changes"), [
    ("pods", {"spec/restartPolicy": "OnFailure", "spec/activeDeadlineSeconds": 30}),
    ("pods", {"metadata/generateName": "web-", "metadata/labels": {"example.com/a": ""}}),
    ("pods", {"spec/containers/0/resources": {"limits": {"cpu": 2, "nvidia.com/gpu": "1"}}}),
    ("pods", {"spec/initContainers/0/volumeMounts": [{"name": "data", "mountPath": "/d"}],
              "spec/volumes": [{"name": "data", "emptyDir": {}}]}),
    ("pods", {"spec/terminationGracePeriodSeconds": 10, "spec/containers/0/lifecycle": {
        "postStart": {"httpGet": {"port": "http", "httpHeaders": [{"name": "X-A", "value": ""}]}},
        "preStop": {"sleep": {"seconds": 10}}}}),
    ("deployments", {"spec/strategy": {"type": "Recreate"}, "spec/replicas": 0}),
    ("deployments", {"spec/strategy": {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "1%"}}}),
    ("statefulsets", {"spec/podManagementPolicy": "Parallel",
                      "spec/updateStrategy": {"type": "OnDelete"}}),
    ("services", {"spec/clusterIP": "None", "spec/ports": []}),
    ("services", {"spec/type": "ExternalName", "spec/externalName": "db.example.com",
                  "spec/ports": DELETE, "spec/clusterIP": DELETE}),
    ("services", {"spec/type": "NodePort", "spec/ports/0/nodePort": 30080}),
    ("services", {"spec/ports": [{"port": 53, "protocol": "UDP"}]}),
    ("secrets", {"type": "kubernetes.io/tls", "data": {"tls.crt": "Y2VydA==",
                                                        "tls.key": "a2V5"}}),
    ("events", {"involvedObject": {"kind": "Node", "name": "node-1"}}),
])
def test_valid_variants(plural: str, changes: dict[str, Any]) -> None:
    assert problems(plural, changed(BUILDERS[plural](), changes)) == []


# -- invalid objects: (resource, changes, path, message) ---------------------------

LONG = "a" * 64
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    # metadata
    ("pods", {"metadata/name": DELETE}, "metadata.name",
     "Required value: name or generateName is required"),
    ("pods", {"metadata/name": "Web_1"}, "metadata.name",
     'Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of'),
    ("pods", {"metadata/name": "a" * 254}, "metadata.name", "must be no more than 253 characters"),
    ("namespaces", {"metadata/name": "team.a"}, "metadata.name", "RFC 1123 label"),
    ("services", {"metadata/name": "1web"}, "metadata.name", "a DNS-1035 label must consist"),
    ("pods", {"metadata/namespace": DELETE}, "metadata.namespace", "Required value"),
    ("pods", {"metadata/namespace": "Team"}, "metadata.namespace", "RFC 1123 label"),
    ("nodes", {"metadata/namespace": "default"}, "metadata.namespace",
     "Forbidden: not allowed on this type"),
    ("pods", {"metadata/labels": {"bad key": "v"}}, "metadata.labels",
     'Invalid value: "bad key": name part must consist of alphanumeric characters'),
    ("pods", {"metadata/labels": {"app": "-web"}}, "metadata.labels",
     'Invalid value: "-web": a valid label must be an empty string'),
    ("pods", {"metadata/labels": {"app": LONG}}, "metadata.labels",
     "must be no more than 63 characters"),
    ("pods", {"metadata/annotations": {"a/b/c": "x"}}, "metadata.annotations",
     "a qualified name must consist of"),
    ("pods", {"metadata/annotations": {"big": "x" * (256 * 1024)}}, "metadata.annotations",
     "Too long: may not be more than 262144 bytes"),
    ("pods", {"metadata/ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x",
                                            "uid": ""}]},
     "metadata.ownerReferences[0].uid", "Required value: uid must not be empty"),
    ("pods", {"metadata/finalizers": ["bad finalizer"]}, "metadata.finalizers[0]", "name part"),
    # types
    ("deployments", {"spec/replicas": "three"}, "spec.replicas",
     'Invalid value: "three": must be an integer'),
    ("pods", {"metadata/labels": {"app": 1}}, "metadata.labels[app]",
     "Invalid value: 1: must be a string"),
    ("pods", {"spec/containers/0/ports/0/containerPort": "80"},
     "spec.containers[0].ports[0].containerPort", 'Invalid value: "80": must be an integer'),
    ("pods", {"spec/containers/0/name": DELETE}, "spec.containers[0].name", "Required value"),
    ("pods", {"spec/containers": {"name": "web"}}, "spec.containers", "must be an array"),
    ("pods", {"spec/hostNetwork": "yes"}, "spec.hostNetwork", "must be a boolean"),
    ("pods", {"metadata/creationTimestamp": "yesterday"}, "metadata.creationTimestamp",
     "must be an RFC 3339 timestamp"),
    ("pods", {"status": {"containerStatuses": [{"name": "web", "ready": True, "restartCount": 0,
                                                "image": "nginx"}]}},
     "status.containerStatuses[0].imageID", "Required value"),
    ("pods", {"status": {"conditions": [{"type": "Ready"}]}}, "status.conditions[0].status",
     "Required value"),
    ("services", {"spec/ports/0/targetPort": 8.5}, "spec.ports[0].targetPort",
     "must be an integer or a string"),
    ("deployments", {"spec/template/spec/containers/0/resources/limits/cpu": [1]},
     "spec.template.spec.containers[0].resources.limits[cpu]", "must be a quantity"),
    ("events", {"involvedObject": DELETE}, "involvedObject", "Required value"),
    # pods
    ("pods", {"spec/containers": []}, "spec.containers", "Required value"),
    ("pods", {"spec": DELETE}, "spec.containers", "Required value"),
    ("pods", {"spec/containers/0/name": "Web"}, "spec.containers[0].name", "RFC 1123 label"),
    ("pods", {"spec/initContainers/0/name": "web"}, "spec.containers[0].name",
     'Duplicate value: "web"'),
    ("pods", {"spec/containers/0/image": ""}, "spec.containers[0].image", "Required value"),
    ("pods", {"spec/containers/0/image": DELETE}, "spec.containers[0].image", "Required value"),
    ("pods", {"spec/containers/0/ports/0/containerPort": 70000},
     "spec.containers[0].ports[0].containerPort",
     "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    ("pods", {"spec/containers/0/ports/0/containerPort": 0},
     "spec.containers[0].ports[0].containerPort", "Required value"),
    ("pods", {"spec/containers/0/ports/0/protocol": "tcp"},
     "spec.containers[0].ports[0].protocol",
     'Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"'),
    ("pods", {"spec/containers/0/ports/0/name": "HTTP--x"}, "spec.containers[0].ports[0].name",
     "must not contain consecutive hyphens"),
    ("pods", {"spec/restartPolicy": "Sometimes"}, "spec.restartPolicy",
     'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'),
    ("pods", {"spec/dnsPolicy": "Google"}, "spec.dnsPolicy", "Unsupported value"),
    ("pods", {"spec/terminationGracePeriodSeconds": -1}, "spec.terminationGracePeriodSeconds",
     "must be greater than or equal to 0"),
    ("pods", {"spec/activeDeadlineSeconds": 0}, "spec.activeDeadlineSeconds",
     "must be between 1 and 2147483647, inclusive"),
    ("pods", {"spec/containers/0/resources/limits/cpu": "lots"},
     "spec.containers[0].resources.limits[cpu]",
     'Invalid value: "lots": quantities must match the regular expression'),
    ("pods", {"spec/containers/0/resources/requests/memory": "-1Mi"},
     "spec.containers[0].resources.requests[memory]", "must be greater than or equal to 0"),
    ("pods", {"spec/containers/0/resources/requests/cpu": "2"},
     "spec.containers[0].resources.requests[cpu]",
     'Invalid value: "2": must be less than or equal to cpu limit of 500m'),
    ("pods", {"spec/containers/0/resources/limits/gpu": "1"},
     "spec.containers[0].resources.limits[gpu]", "must be a standard resource for containers"),
    ("pods", {"spec/containers/0/livenessProbe": {"periodSeconds": 5}},
     "spec.containers[0].livenessProbe", "Required value: must specify a handler type"),
    ("pods", {"spec/containers/0/readinessProbe/tcpSocket": {"port": 80}},
     "spec.containers[0].readinessProbe.tcpSocket",
     "Forbidden: may not specify more than 1 handler type"),
    ("pods", {"spec/containers/0/readinessProbe/terminationGracePeriodSeconds": 5},
     "spec.containers[0].readinessProbe.terminationGracePeriodSeconds",
     "Invalid value: 5: must not be set for readinessProbes"),
    ("pods", {"spec/affinity/podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}},
     "spec.affinity.podAntiAffinity",
     "Forbidden: inter-pod anti-affinity is not supported by Schooner's scheduler"),
    ("pods", {"spec/affinity/podAffinity": {}}, "spec.affinity.podAffinity",
     "Forbidden: inter-pod affinity is not supported by Schooner's scheduler"),
    ("pods", {"spec/topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone",
                                                  "whenUnsatisfiable": "ScheduleAnyway"}]},
     "spec.topologySpreadConstraints",
     "Forbidden: pod topology spread is not supported by Schooner's scheduler"),
    ("pods", {"spec/containers/0/livenessProbe/successThreshold": 2},
     "spec.containers[0].livenessProbe.successThreshold", "must be 1"),
    ("pods", {"spec/containers/0/livenessProbe/periodSeconds": -5},
     "spec.containers[0].livenessProbe.periodSeconds", "must be greater than or equal to 0"),
    ("pods", {"spec/containers/0/readinessProbe/httpGet/port": 0},
     "spec.containers[0].readinessProbe.httpGet.port", "must be between 1 and 65535"),
    ("pods", {"spec/containers/0/lifecycle/preStop": {}},
     "spec.containers[0].lifecycle.preStop", "must specify a handler type"),
    ("pods", {"spec/containers/0/lifecycle/postStart": {"exec": {"command": ["true"]},
                                                        "sleep": {"seconds": 1}}},
     "spec.containers[0].lifecycle.postStart.sleep",
     "Forbidden: may not specify more than 1 handler type"),
    ("pods", {"spec/terminationGracePeriodSeconds": 10,
              "spec/containers/0/lifecycle/preStop": {"sleep": {"seconds": 15}}},
     "spec.containers[0].lifecycle.preStop.sleep",
     "Invalid value: 15: must be non-negative and less than terminationGracePeriodSeconds (10)"),
    ("pods", {"spec/containers/0/lifecycle/preStop": {"httpGet": {
        "port": 80, "httpHeaders": [{"name": "X Bad", "value": "1"}]}}},
     "spec.containers[0].lifecycle.preStop.httpGet.httpHeaders",
     'Invalid value: "X Bad": a valid HTTP header must consist of alphanumeric characters'),
    ("pods", {"spec/initContainers/0/livenessProbe": {"exec": {"command": ["true"]}}},
     "spec.initContainers[0].livenessProbe", "may not be set for init containers"),
    ("pods", {"spec/initContainers/0/lifecycle": {"postStart": {"exec": {"command": ["a"]}}}},
     "spec.initContainers[0].lifecycle",
     "Forbidden: may not be set for init containers without restartPolicy=Always"),
    ("pods", {"spec/initContainers/0/restartPolicy": "Always"},
     "spec.initContainers[0].restartPolicy",
     "not supported by Schooner's agent yet"),
    ("pods", {"spec/initContainers/0/restartPolicy": "OnFailure"},
     "spec.initContainers[0].restartPolicy",
     'Unsupported value: "OnFailure": supported values: "Always"'),
    ("pods", {"spec/containers/0/restartPolicy": "Always"}, "spec.containers[0].restartPolicy",
     "Forbidden: may not be set for non-init containers"),
    ("pods", {"spec/containers/0/env/0/name": "1MODE"}, "spec.containers[0].env[0].name",
     "a valid environment variable name must consist of"),
    ("pods", {"spec/containers/0/env/0/name": ""}, "spec.containers[0].env[0].name",
     "Required value"),
    ("pods", {"spec/containers/0/env/1/value": "x"}, "spec.containers[0].env[1].valueFrom",
     "may not be specified when `value` is not empty"),
    ("pods", {"spec/containers/0/env/1/valueFrom/configMapKeyRef": {"name": "c", "key": "k"}},
     "spec.containers[0].env[1].valueFrom", "may not have more than one field specified"),
    ("pods", {"spec/containers/0/env/1/valueFrom/fieldRef/fieldPath": "spec.secret"},
     "spec.containers[0].env[1].valueFrom.fieldRef.fieldPath", 'Unsupported value: "spec.secret"'),
    ("pods", {"spec/containers/0/env/2/valueFrom/secretKeyRef/key": "bad key"},
     "spec.containers[0].env[2].valueFrom.secretKeyRef.key", "a valid config key"),
    ("pods", {"spec/containers/0/envFrom/0": {}}, "spec.containers[0].envFrom[0]",
     "must specify one of: `configMapRef` or `secretRef`"),
    ("pods", {"spec/volumes/1/name": "data"}, "spec.volumes[1].name", 'Duplicate value: "data"'),
    ("pods", {"spec/volumes/0/name": "Data"}, "spec.volumes[0].name", "RFC 1123 label"),
    ("pods", {"spec/volumes/0": {"name": "data"}}, "spec.volumes[0]",
     "Required value: must specify a volume type"),
    ("pods", {"spec/volumes/0/hostPath": {"path": "/x"}}, "spec.volumes[0].hostPath",
     "Forbidden: may not specify more than 1 volume type"),
    ("pods", {"spec/volumes/1/configMap/defaultMode": 0o1000},
     "spec.volumes[1].configMap.defaultMode", "must be a number between 0 and 0777"),
    ("pods", {"spec/volumes/1/configMap/name": ""}, "spec.volumes[1].configMap.name",
     "Required value"),
    ("pods", {"spec/containers/0/volumeMounts/0/name": "missing"},
     "spec.containers[0].volumeMounts[0].name", 'Not found: "missing"'),
    ("pods", {"spec/containers/0/volumeMounts/1": {"name": "cfg", "mountPath": "/data"}},
     "spec.containers[0].volumeMounts[1].mountPath", "must be unique"),
    ("pods", {"spec/tolerations/0/operator": "Exists"}, "spec.tolerations[0].operator",
     "value must be empty when `operator` is 'Exists'"),
    ("pods", {"spec/tolerations/1/effect": "NoSchedule"}, "spec.tolerations[1].effect",
     "effect must be 'NoExecute' when `tolerationSeconds` is set"),
    ("pods", {"spec/tolerations/0/effect": "Sometimes"}, "spec.tolerations[0].effect",
     "Unsupported value"),
    ("pods", {"spec/tolerations/0/key": DELETE}, "spec.tolerations[0].operator",
     "operator must be Exists when `key` is empty"),
    ("pods", {"spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
              "nodeSelectorTerms/0/matchExpressions/0/operator": "Near"},
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0].operator", "not a valid selector operator"),
    ("pods", {"spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
              "nodeSelectorTerms/0/matchExpressions/1/values": ["2", "3"]},
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[1].values", "must be specified single value"),
    ("pods", {"spec/nodeSelector": {"disk": "ssd!"}}, "spec.nodeSelector", "a valid label"),
]


@pytest.mark.parametrize(("plural", "changes", "path", "message"), INVALID,
                         ids=[f"{p}:{path}" for p, _, path, _ in INVALID])
def test_invalid_objects_name_the_field(plural: str, changes: dict[str, Any], path: str,
                                        message: str) -> None:
    assert_error(problems(plural, changed(BUILDERS[plural](), changes)), path, message)


def test_every_problem_is_reported_at_once() -> None:
    bad = changed(deployment(), {"spec/replicas": -1, "metadata/name": "Web",
                                 "spec/template/spec/containers/0/image": ""})
    paths = [e.path for e in problems("deployments", bad)]
    assert paths == ["metadata.name", "spec.replicas", "spec.template.spec.containers[0].image"]


def test_messages_read_like_kubernetes() -> None:
    errs = problems("deployments", changed(deployment(), {"spec/replicas": -1}))
    assert [str(e) for e in errs] == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
    assert errs[0].type == "FieldValueInvalid"
    assert errs[0].to_cause() == {"reason": "FieldValueInvalid", "field": "spec.replicas",
                                  "message": "Invalid value: -1: must be greater than or equal "
                                             "to 0"}


@pytest.mark.parametrize("junk", [
    [], "pod", {"metadata": [], "spec": []}, {"metadata": {"name": 5}, "spec": {"containers": 7}},
    {"spec": {"containers": [None, 1, "x", {"name": {}, "ports": [{"containerPort": None}]}]}},
    {"spec": {"volumes": [{"name": ["x"], "configMap": 4}], "tolerations": "all",
              "affinity": {"nodeAffinity": []}}},
])
@pytest.mark.parametrize("plural", sorted(BUILDERS))
def test_garbage_never_raises(plural: str, junk: Any) -> None:
    errs = validate(registry().by_plural(plural), junk, junk)
    assert errs and all(isinstance(e, FieldError) for e in errs)
    assert not [e for e in errs if e.type == "InternalError"], "a validator crashed"


def test_field_path_translation() -> None:
    from apimachinery.models import Deployment

    loc = ("spec", "template", "spec", "containers", 0, "resources", "limits", "cpu")
    assert field_path(Deployment, loc) == "spec.template.spec.containers[0].resources.limits[cpu]"
    assert field_path(Deployment, ("metadata", "labels", "a", "[key]")) == "metadata.labels[a]"
    assert field_path(Deployment, ("spec", "unknown", 3)) == "spec.unknown[3]"
