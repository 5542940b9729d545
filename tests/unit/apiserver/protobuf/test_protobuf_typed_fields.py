"""Protobuf bodies carrying the fields typed last: security contexts, pod (anti-)affinity,
topology spread, claim templates, node facts and the small status structs.

Each body is built by hand with the field numbers of k8s.io/api v1.32's `protobuf:"..."`
tags, as client-go writes them (fields in number order, value scalars even when zero),
and must decode to what the same object is as JSON; each JSON object must survive an
encode and decode (`roundtrip.assert_round_trip`: Go's value zeros may be added,
pointers never, and the decoded object re-encodes to the same bytes); and each decoded
object must pass the kinds' type checks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apimachinery.models import model_for
from apiserver import protobuf
from apiserver.protobuf.codec import wrap
from apiserver.protobuf.wireformat import len_field, varint_field
from apiserver.wire import decode_object
from tests.unit.apiserver.protobuf.roundtrip import assert_round_trip, covers


def m(number: int, *parts: bytes) -> bytes:
    """A length-delimited field holding the concatenated `parts`."""
    return len_field(number, b"".join(parts))


def s(number: int, text: str) -> bytes:
    return len_field(number, text.encode())


def v(number: int, value: int) -> bytes:
    return varint_field(number, value)


def entry(number: int, key: str, value: bytes) -> bytes:
    """One entry of a `map<string, ...>` field: {key=1, value=2}."""
    return m(number, s(1, key), len_field(2, value))


def match_labels(number: int, **labels: str) -> bytes:
    """A LabelSelector with matchLabels (field 1)."""
    return m(number, *(entry(1, k, val.encode()) for k, val in labels.items()))


WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SECONDS = int(WHEN.timestamp())

# -- Pod: security contexts, affinity, topology spread, gates, the container's actions ----

CONTAINER = m(
    2, s(1, "c"), s(2, "busybox"),
    m(7, s(1, "MEM"), m(3, m(2, s(1, "c"), s(2, "limits.memory"), m(3, s(1, "1Mi"))))),
    m(10, m(1, m(4, v(1, 9000), s(2, "")))),  # livenessProbe.grpc, an empty service
    m(12, m(2, m(4, v(1, 5)))),  # lifecycle.preStop.sleep
    m(15, m(1, s(1, "NET_ADMIN"), s(2, "ALL")), v(2, 0), v(5, 1), v(6, 1),
      m(11, s(1, "RuntimeDefault"))),
)
POD_SECURITY = m(
    14, m(1, s(4, "s0:c1,c2")), v(2, 0), v(4, 1), v(4, 2), v(5, 2000), v(6, 1000),
    m(7, s(1, "net.core.somaxconn"), s(2, "1024")), m(8, v(4, 0)),
    m(11, s(1, "Localhost"), s(2, "k8s-default")))
AFFINITY = m(18,
             m(1, m(1, m(1, m(1, s(1, "zone"), s(2, "In"), s(3, "a"))))),
             m(2, m(2, v(1, 10), m(2, s(2, "other"), s(3, "zone")))),
             m(3, m(1, match_labels(1, app="web"), s(3, "kubernetes.io/hostname"),
                    s(5, "pod-template-hash"))))
SPREAD = m(33, v(1, 1), s(2, "zone"), s(3, "DoNotSchedule"), match_labels(4, app="web"),
           v(5, 2), s(8, "pod-template-hash"))
POD = m(1, s(1, "p")) + m(2, CONTAINER, POD_SECURITY, AFFINITY, SPREAD, m(38, s(1, "g")))

POD_JSON: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
    "spec": {
        "containers": [{
            "name": "c", "image": "busybox",
            "env": [{"name": "MEM", "valueFrom": {"resourceFieldRef": {
                "containerName": "c", "resource": "limits.memory", "divisor": "1Mi"}}}],
            "livenessProbe": {"grpc": {"port": 9000, "service": ""}},
            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
            "securityContext": {
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                "privileged": False, "runAsNonRoot": True, "readOnlyRootFilesystem": True,
                "seccompProfile": {"type": "RuntimeDefault"}}}],
        "securityContext": {
            "seLinuxOptions": {"level": "s0:c1,c2"}, "runAsUser": 0,
            "supplementalGroups": [1, 2], "fsGroup": 2000, "runAsGroup": 1000,
            "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}],
            "windowsOptions": {"hostProcess": False},
            "appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-default"}},
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "zone", "operator": "In", "values": ["a"]}]}]}},
            "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "podAffinityTerm": {"namespaces": ["other"],
                                                   "topologyKey": "zone"}}]},
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "web"}},
                 "topologyKey": "kubernetes.io/hostname",
                 "matchLabelKeys": ["pod-template-hash"]}]}},
        "topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}}, "minDomains": 2,
            "matchLabelKeys": ["pod-template-hash"]}],
        "schedulingGates": [{"name": "g"}]}}

# -- StatefulSet: a full claim template, retention policy, ordinals -----------------------

CLAIM = m(4,
          m(1, s(1, "data"), entry(11, "tier", b"db")),
          m(2, s(1, "ReadWriteOnce"), m(2, entry(2, "storage", s(1, "1Gi"))),
            match_labels(4, disk="ssd"), s(5, ""), s(6, "Filesystem"),
            m(7, s(1, "snapshot.storage.k8s.io"), s(2, "VolumeSnapshot"), s(3, "snap"))),
          m(3, s(1, "Pending")))
STATEFUL_SET = m(1, s(1, "db")) + m(
    2, v(1, 1), match_labels(2, app="db"),
    m(3, m(1, entry(11, "app", b"db")), m(2, m(2, s(1, "c"), s(2, "busybox")))),
    CLAIM, s(5, "db"), m(10, s(1, "Retain"), s(2, "Delete")), m(11, v(1, 3)))

STATEFUL_SET_JSON: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
    "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}},
                     "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        "volumeClaimTemplates": [{
            "metadata": {"name": "data", "labels": {"tier": "db"}},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}},
                     "selector": {"matchLabels": {"disk": "ssd"}},
                     "storageClassName": "", "volumeMode": "Filesystem",
                     "dataSource": {"apiGroup": "snapshot.storage.k8s.io",
                                    "kind": "VolumeSnapshot", "name": "snap"}},
            "status": {"phase": "Pending"}}],
        "serviceName": "db",
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain",
                                                 "whenScaled": "Delete"},
        "ordinals": {"start": 3}}}

# -- Node: its daemon endpoint, system facts, images and attached volumes -----------------

NODE = m(1, s(1, "n")) + m(
    3, m(6, m(1, v(1, 10250))),
    m(7, s(1, "mid"), s(2, "mid"), s(3, "boot"), s(4, "6.1.0"), s(5, "Debian 12"),
      s(6, "docker://27.3.1"), s(7, "v1.32.0-schooner"), s(8, "v1.32.0-schooner"),
      s(9, "linux"), s(10, "amd64")),
    m(8, s(1, "nginx:1.27"), v(2, 1000)),
    m(10, s(1, "schooner.io/pvc/default/data-db-0"), s(2, "vol")))

NODE_JSON: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
    "status": {
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": "mid", "systemUUID": "mid", "bootID": "boot",
                     "kernelVersion": "6.1.0", "osImage": "Debian 12",
                     "containerRuntimeVersion": "docker://27.3.1",
                     "kubeletVersion": "v1.32.0-schooner",
                     "kubeProxyVersion": "v1.32.0-schooner", "operatingSystem": "linux",
                     "architecture": "amd64"},
        "images": [{"names": ["nginx:1.27"], "sizeBytes": 1000}],
        "volumesAttached": [{"name": "schooner.io/pvc/default/data-db-0",
                             "devicePath": "vol"}]}}

# -- Service, Namespace and Event status structs ------------------------------------------

SERVICE = m(1, s(1, "web"), s(3, "default")) + m(
    2, m(1, s(1, "http"), v(3, 80)), s(7, "ClientIP"), m(14, m(1, v(1, 60)))) + m(
    3, m(1, m(1, s(1, "10.0.0.9"), s(3, "VIP"), m(4, v(1, 80), s(2, "TCP")))),
    m(2, s(1, "Ready"), s(2, "True"), v(3, 4), m(4, v(1, SECONDS)), s(5, "Ok"),
      s(6, "fine")))

SERVICE_JSON: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"ports": [{"name": "http", "port": 80}], "sessionAffinity": "ClientIP",
             "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}},
    "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9", "ipMode": "VIP",
                                             "ports": [{"port": 80, "protocol": "TCP"}]}]},
               "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 4,
                               "lastTransitionTime": "2026-01-02T03:04:05Z",
                               "reason": "Ok", "message": "fine"}]}}

NAMESPACE = m(1, s(1, "gone")) + m(3, s(1, "Terminating"), m(
    2, s(1, "NamespaceContentRemaining"), s(2, "True"), m(4, v(1, SECONDS)),
    s(5, "SomeResourcesRemain"), s(6, "pods remain")))

NAMESPACE_JSON: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"},
    "status": {"phase": "Terminating", "conditions": [{
        "type": "NamespaceContentRemaining", "status": "True",
        "lastTransitionTime": "2026-01-02T03:04:05Z", "reason": "SomeResourcesRemain",
        "message": "pods remain"}]}}

EVENT = m(1, s(1, "e"), s(3, "default")) + m(2, s(1, "Pod"), s(3, "p")) + s(3, "Started") \
    + m(11, v(1, 3), m(2, v(1, SECONDS), v(2, 123456000)))

EVENT_JSON: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Started",
    "series": {"count": 3, "lastObservedTime": "2026-01-02T03:04:05.123456Z"}}

CASES = {
    "pod": ("v1", "Pod", POD, POD_JSON),
    "statefulset": ("apps/v1", "StatefulSet", STATEFUL_SET, STATEFUL_SET_JSON),
    "node": ("v1", "Node", NODE, NODE_JSON),
    "service": ("v1", "Service", SERVICE, SERVICE_JSON),
    "namespace": ("v1", "Namespace", NAMESPACE, NAMESPACE_JSON),
    "event": ("v1", "Event", EVENT, EVENT_JSON),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_go_bodies_carrying_the_typed_fields_decode_as_json(name: str) -> None:
    api_version, kind, raw, expected = CASES[name]
    assert decode_object(wrap(api_version, kind, raw), protobuf.MEDIA_TYPE) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_typed_fields_round_trip(name: str) -> None:
    """What the JSON said comes back, Go's value zeros aside; no pointer field is gained
    (`runAsUser: 0` where the JSON had none); the decoded object re-encodes to the same
    bytes."""
    assert_round_trip(CASES[name][3])


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_typed_fields_reencode_to_what_go_decoded(name: str) -> None:
    """Decoding the Go body and encoding it again is stable: a second pass gives the same
    bytes (the hand-built bodies leave out the value zeros Go writes, so the first
    encoding may be longer)."""
    api_version, kind, raw, _ = CASES[name]
    once = protobuf.encode(protobuf.decode(wrap(api_version, kind, raw)))
    assert protobuf.encode(protobuf.decode(once)) == once


def test_empty_security_contexts_gain_no_pointer_zeros() -> None:
    """An empty securityContext, a toleration without tolerationSeconds, a claim template
    without storageClassName: pointers Go leaves nil stay absent through protobuf."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"securityContext": {}, "tolerations": [{"key": "k", "operator": "Exists"}],
                    "containers": [{"name": "c", "image": "i", "securityContext": {},
                                    "livenessProbe": {"grpc": {"port": 9000}}}]}}
    decoded = assert_round_trip(pod)
    assert decoded["spec"]["securityContext"] == {}
    assert decoded["spec"]["containers"][0]["securityContext"] == {}
    assert "tolerationSeconds" not in decoded["spec"]["tolerations"][0]
    assert "service" not in decoded["spec"]["containers"][0]["livenessProbe"]["grpc"]
    claim = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
             "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"},
                                                "spec": {"accessModes": ["ReadWriteOnce"]}}]}}
    spec = assert_round_trip(claim)["spec"]["volumeClaimTemplates"][0]["spec"]
    assert not {"storageClassName", "volumeMode", "volumeAttributesClassName"} & set(spec)


@pytest.mark.parametrize("name", sorted(CASES))
def test_decoded_objects_pass_the_type_checks(name: str) -> None:
    """What the decoder makes of the fields has the types the models (and validation) want."""
    from apiserver.validation import type_errors

    expected = CASES[name][3]
    assert type_errors(model_for(expected["kind"]), expected) == []


def test_pointer_zeros_of_security_contexts_survive() -> None:
    """`runAsUser: 0` (root) and `privileged: false` are Go pointers: set, not unset."""
    decoded = protobuf.decode(wrap("v1", "Pod", POD))
    assert decoded["spec"]["securityContext"]["runAsUser"] == 0
    assert decoded["spec"]["containers"][0]["securityContext"]["privileged"] is False
    assert decoded["spec"]["securityContext"]["windowsOptions"] == {"hostProcess": False}


def test_claim_template_type_meta_is_json_only() -> None:
    """A claim template's apiVersion and kind are TypeMeta, which Kubernetes' protobuf
    message of a PersistentVolumeClaim does not carry: they are not on the wire."""
    obj = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
           "spec": {"volumeClaimTemplates": [{"apiVersion": "v1",
                                              "kind": "PersistentVolumeClaim",
                                              "metadata": {"name": "data"}}]}}
    decoded = protobuf.decode(protobuf.encode(obj))
    (template,) = decoded["spec"]["volumeClaimTemplates"]
    assert "apiVersion" not in template and "kind" not in template
    assert covers(template, {"metadata": {"name": "data"}}) == []


def test_value_structs_of_the_typed_fields_are_written_when_absent() -> None:
    """Go holds a condition's lastTransitionTime, a Node's nodeInfo and a claim
    template's spec.resources by value and writes them even when empty (an empty
    message, holding the zeros of its own value fields); a pointer struct such as a
    security context stays absent."""
    from apiserver.protobuf.codec import unwrap
    from apiserver.protobuf.wireformat import iter_fields

    def sub(buf: bytes, *path: int) -> dict[int, Any]:
        for number in path:
            buf = dict((n, v) for n, _, v in iter_fields(buf))[number]
        return dict((n, v) for n, _, v in iter_fields(buf))

    namespace = protobuf.encode({"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": "n"}, "status": {"conditions": [
                                     {"type": "T", "status": "True"}]}})
    assert sub(unwrap(namespace)[2], 3, 2)[4] == b""  # status.conditions[0].lastTransitionTime
    node = protobuf.encode({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}})
    status = sub(unwrap(node)[2], 3)
    assert status[6] == m(1, v(1, 0))  # daemonEndpoints {kubeletEndpoint {Port: 0}}
    assert status[7] == b"".join(s(n, "") for n in range(1, 11))  # nodeInfo's ten strings
    claim = protobuf.encode({"apiVersion": "apps/v1", "kind": "StatefulSet",
                             "metadata": {"name": "db"}, "spec": {"volumeClaimTemplates": [
                                 {"metadata": {"name": "data"}}]}})
    assert sub(unwrap(claim)[2], 2, 4, 2)[2] == b""  # the template's spec.resources
    pod = protobuf.encode({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                           "spec": {"containers": [{"name": "c", "image": "i"}]}})
    assert 14 not in sub(unwrap(pod)[2], 2) and 15 not in sub(unwrap(pod)[2], 2, 2)
