"""Kubernetes protobuf bodies: kubectl's own captures, round trips, the awkward types."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pytest
from starlette.requests import Request

from apimachinery import errors
from apimachinery.models import K8sModel
from apimachinery.models.schema import field
from apiserver import protobuf
from apiserver.protobuf.codec import MAGIC, wrap
from apiserver.protobuf.wireformat import iter_fields, len_field, varint, varint_field
from apiserver.wire import answer_media, check_acceptable, decode_object
from tests.unit.apiserver import validation_objects as objects
from tests.unit.apiserver.protobuf.recorder import COMMANDS, GOLDEN, capture
from tests.unit.apiserver.protobuf.roundtrip import assert_round_trip

PB = protobuf.MEDIA_TYPE

EXPECTED: dict[str, dict[str, Any]] = {
    "namespace": {"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": "x", "creationTimestamp": None},
                  "spec": {}, "status": {}},
    "configmap": {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "settings", "namespace": "default",
                               "creationTimestamp": None},
                  "data": {"color": "blue", "size": "10"}},
    "secret": {"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "creds", "namespace": "default",
                            "creationTimestamp": None},
               "data": {"user": base64.b64encode(b"admin").decode(),
                        "password": base64.b64encode("s3cr\u00e9t".encode()).decode()}},
    "deployment": {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": None,
                     "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                              "spec": {"containers": [{
                                  "name": "nginx", "image": "nginx:1.25",
                                  "ports": [{"containerPort": 80}], "resources": {}}]}},
                 "strategy": {}},
        "status": {}},
    "service": {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "np", "namespace": "default", "creationTimestamp": None,
                     "labels": {"app": "np"}},
        "spec": {"ports": [{"name": "80-http", "protocol": "TCP", "port": 80,
                            "targetPort": "http"},
                           {"name": "443-8443", "protocol": "TCP", "port": 443,
                            "targetPort": 8443}],
                 "selector": {"app": "np"}, "type": "NodePort"},
        "status": {"loadBalancer": {}}},
    "priorityclass": {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                      "metadata": {"name": "zero", "creationTimestamp": None},
                      "value": 0, "description": "none", "preemptionPolicy": "Never"},
}


# -- kubectl's captures ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_kubectl_capture_decodes_to_what_kubectl_would_send_as_json(name: str) -> None:
    body = (GOLDEN / f"{name}.pb").read_bytes()
    request = json.loads((GOLDEN / f"{name}.request.json").read_text())
    assert body.startswith(MAGIC)
    assert request["contentType"] == PB
    assert "application/json" in request["accept"]
    assert decode_object(body, request["contentType"]) == EXPECTED[name]


def test_decoded_capture_keeps_wire_order_apiversion_and_kind_first() -> None:
    obj = decode_object((GOLDEN / "deployment.pb").read_bytes(), PB)
    assert list(obj)[:2] == ["apiVersion", "kind"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_golden_files_match_what_this_kubectl_sends(name: str, tmp_path: Path) -> None:
    """The captures are current: kubectl still sends these exact bytes."""
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    (post,) = capture(kubectl, tmp_path, COMMANDS[name])
    assert post.content_type == PB
    assert post.body == (GOLDEN / f"{name}.pb").read_bytes()


# -- round trips ----------------------------------------------------------------------

def _without_projected(obj: dict[str, Any]) -> dict[str, Any]:
    """validation_objects' pods carry a `projected` volume, a source the models lack."""
    out = copy.deepcopy(obj)
    spec = out["spec"] if out["kind"] == "Pod" else out["spec"]["template"]["spec"]
    spec["volumes"] = [v for v in spec["volumes"] if "projected" not in v]
    return out


def _stateful_set() -> dict[str, Any]:
    return _without_projected(objects.stateful_set())


def _priority_class() -> dict[str, Any]:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "high"}, "value": 1000, "globalDefault": True,
            "description": "important", "preemptionPolicy": "Never"}


_RBAC = "rbac.authorization.k8s.io/v1"
_RULES = [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"],
           "resourceNames": ["web"]}]
_BINDING = {"subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                          "name": "alice"},
                         {"kind": "ServiceAccount", "name": "ci", "namespace": "dev"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "view"}}


def _rbac(kind: str, **fields: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {"apiVersion": _RBAC, "kind": kind, "metadata": {"name": "r:x"}, **fields}


def _self_subject_review() -> dict[str, Any]:
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
            "metadata": {"creationTimestamp": "2026-01-02T03:04:05Z"},
            "status": {"userInfo": {"username": "system:node:n1", "uid": "u1",
                                    "groups": ["system:nodes", "system:authenticated"]}}}


ROUND_TRIP = {
    "selfsubjectreviews": _self_subject_review,
    "tokenreviews": lambda: {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
        "metadata": {"creationTimestamp": "2026-01-02T03:04:05Z"},
        "spec": {"token": "a.b.c", "audiences": ["x"]},
        "status": {"authenticated": True, "audiences": ["x"],
                   "user": {"username": "u", "groups": ["g"]}}},
    "serviceaccounts": lambda: {"apiVersion": "v1", "kind": "ServiceAccount",
                                "metadata": {"name": "default", "namespace": "d"},
                                "automountServiceAccountToken": False},
    "roles": _rbac("Role", rules=_RULES),
    "clusterroles": _rbac("ClusterRole", rules=[{"verbs": ["get"], "nonResourceURLs": ["/x/*"]}],
                          aggregationRule={"clusterRoleSelectors": [
                              {"matchLabels": {"a": "b"}}]}),
    "rolebindings": _rbac("RoleBinding", **_BINDING),
    "clusterrolebindings": _rbac("ClusterRoleBinding", **_BINDING),
    "subjectaccessreviews": lambda: {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "metadata": {}, "spec": {"resourceAttributes": {"namespace": "dev", "verb": "get",
                                                        "resource": "pods", "name": "web"},
                                 "user": "alice", "groups": ["devs"], "uid": "1"},
        "status": {"allowed": True, "reason": "yes"}},
    "selfsubjectaccessreviews": lambda: {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "metadata": {}, "spec": {"nonResourceAttributes": {"path": "/api", "verb": "get"}},
        "status": {"allowed": False}},
    "selfsubjectrulesreviews": lambda: {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
        "metadata": {}, "spec": {"namespace": "dev"},
        "status": {"resourceRules": [{"verbs": ["get"], "apiGroups": [""],
                                      "resources": ["pods"]}],
                   "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/api"]}],
                   "incomplete": False}},
    "pods": lambda: _without_projected(objects.pod()),
    "deployments": lambda: _without_projected(objects.deployment()),
    "replicasets": lambda: _without_projected(objects.replica_set()),
    "statefulsets": _stateful_set,
    "priorityclasses": _priority_class,
    "certificatesigningrequests": lambda: {
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": "node-csr", "creationTimestamp": "2026-01-02T03:04:05Z"},
        "spec": {"request": "LS0tLS1CRUdJTg==", "signerName": "kubernetes.io/kubelet-serving",
                 "expirationSeconds": 3600, "usages": ["digital signature", "server auth"],
                 "username": "system:node:n1", "groups": ["system:nodes"]},
        "status": {"conditions": [{"type": "Approved", "status": "True", "reason": "R",
                                   "lastUpdateTime": "2026-01-02T03:04:05Z",
                                   "lastTransitionTime": "2026-01-02T03:04:05Z"}],
                   "certificate": "Y2VydA=="}},
    **{plural: build for plural, build in objects.BUILDERS.items()
       if plural not in ("pods", "deployments", "replicasets", "statefulsets")},
}


def test_every_served_kind_has_a_round_trip() -> None:
    from apiserver.kinds import registry

    assert {k.resource.plural for k in registry()} == set(ROUND_TRIP)


@pytest.mark.parametrize("plural", sorted(ROUND_TRIP))
def test_round_trip_every_kind(plural: str) -> None:
    assert_round_trip(ROUND_TRIP[plural]())


def _pod(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


def test_token_request_round_trips() -> None:
    """`serviceaccounts/NAME/token` takes and answers a TokenRequest (kubectl create token)."""
    assert_round_trip({
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "metadata": {"name": "default", "namespace": "d"},
        "spec": {"audiences": ["a", "b"], "expirationSeconds": 600,
                 "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p",
                                    "uid": "u"}},
        "status": {"token": "x.y.z", "expirationTimestamp": "2026-01-02T03:04:05Z"}})


def test_time_zero_value_is_null_and_real_times_keep_seconds() -> None:
    obj = {"apiVersion": "v1", "kind": "Event",
           "metadata": {"name": "e", "namespace": "d", "creationTimestamp": None,
                        "deletionTimestamp": "2025-03-04T05:06:07Z"},
           "firstTimestamp": "1970-01-01T00:00:01Z", "lastTimestamp": "2038-01-19T03:14:08Z",
           "eventTime": "2025-03-04T05:06:07.123456Z"}
    assert_round_trip(obj)


def test_empty_time_message_decodes_as_null() -> None:
    raw = len_field(1, len_field(1, b"n") + len_field(8, b""))
    assert protobuf.decode(wrap("v1", "ConfigMap", raw)) == {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "n", "creationTimestamp": None}}


def test_micro_time_keeps_microseconds() -> None:
    obj = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": "l", "namespace": "kube-system"},
           "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "leaseTransitions": 0,
                    "acquireTime": "2025-01-02T03:04:05.000001Z",
                    "renewTime": "2025-01-02T03:04:05.999999Z"}}
    assert_round_trip(obj)


@pytest.mark.parametrize("target", [8080, "http", 0, -1])
def test_int_or_string(target: int | str) -> None:
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"ports": [{"port": 80, "targetPort": target}]}}
    assert_round_trip(obj)


def test_int_or_string_percent_in_a_rolling_update() -> None:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}},
                                 "spec": {"containers": [{"name": "c", "image": "i"}]}},
                    "strategy": {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}}}
    assert_round_trip(obj)


def test_quantities_and_resource_maps() -> None:
    obj = _pod(containers=[{"name": "c", "image": "busybox", "resources": {
        "requests": {"cpu": "250m", "memory": "64Mi", "ephemeral-storage": "1G"},
        "limits": {"cpu": "2", "memory": "1.5Gi"}}}],
        volumes=[{"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}])
    assert_round_trip(obj)


def test_maps_labels_annotations_and_selectors() -> None:
    obj = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "s", "labels": {"b": "2", "a": "1"},
                        "annotations": {"note": "", "x/y": "z"}},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    assert_round_trip(obj)


def test_secret_bytes_are_base64_in_json_and_raw_on_the_wire() -> None:
    payload = bytes(range(256))
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bin"},
           "data": {"blob": base64.b64encode(payload).decode(), "empty": ""},
           "stringData": {"plain": "text"}, "type": "Opaque", "immutable": False}
    body = protobuf.encode(obj)
    assert payload in body
    assert_round_trip(obj)


def test_config_map_binary_data_is_bytes() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
           "binaryData": {"logo": base64.b64encode(b"\x89PNG\r\n").decode()}}
    assert b"\x89PNG\r\n" in protobuf.encode(obj)
    assert_round_trip(obj)


def test_managed_fields_carry_fields_v1_as_raw_json() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "c", "managedFields": [{
               "manager": "kubectl", "operation": "Update", "apiVersion": "v1",
               "time": "2025-01-02T03:04:05Z", "fieldsType": "FieldsV1",
               "fieldsV1": {"f:data": {".": {}, "f:a": {}}}}]},
           "data": {"a": "1"}}
    assert_round_trip(obj)


def test_volume_and_probe_embedded_structs() -> None:
    obj = _pod(containers=[{
        "name": "c", "image": "busybox",
        "livenessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 3},
        "readinessProbe": {"httpGet": {"path": "/h", "port": 8080,
                                       "httpHeaders": [{"name": "X", "value": "1"}]}},
        "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k",
                                                                "optional": False}}}]}],
        volumes=[{"name": "s", "secret": {"secretName": "x", "defaultMode": 0}},
                 {"name": "c", "configMap": {"name": "cm", "items": [
                     {"key": "a", "path": "a.txt", "mode": 420}]}},
                 {"name": "h", "hostPath": {"path": "/tmp", "type": "Directory"}}])
    assert_round_trip(obj)


def test_pointer_zeros_survive_value_zeros_do_not() -> None:
    """Go writes `generation: 0` and `hostPort: 0` (value fields) but `replicas: 0` and
    `terminationGracePeriodSeconds: 0` are pointers that mean something."""
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"replicas": 0, "revisionHistoryLimit": 0,
                    "selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}},
                                 "spec": {"terminationGracePeriodSeconds": 0,
                                          "containers": [{"name": "c", "image": "i"}]}}}}
    assert_round_trip(obj)
    meta = len_field(1, b"n") + varint_field(7, 0) + len_field(2, b"")
    decoded = protobuf.decode(wrap("v1", "ConfigMap", len_field(1, meta)))
    assert decoded["metadata"] == {"name": "n"}


def test_negative_numbers_travel_as_ten_byte_varints() -> None:
    assert len(varint(-1)) == 10
    obj = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
           "metadata": {"name": "low"}, "value": -100}
    assert_round_trip(obj)


# -- DeleteOptions --------------------------------------------------------------------

def test_delete_options() -> None:
    raw = (varint_field(1, 0) + len_field(2, len_field(1, b"uid-1") + len_field(2, b"42"))
           + len_field(4, b"Foreground") + len_field(5, b"All"))
    assert decode_object(wrap("v1", "DeleteOptions", raw), PB) == {
        "apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-1", "resourceVersion": "42"},
        "propagationPolicy": "Foreground", "dryRun": ["All"]}


def test_delete_options_in_any_group_version() -> None:
    raw = varint_field(3, 1)
    assert decode_object(wrap("apps/v1", "DeleteOptions", raw), PB) == {
        "apiVersion": "apps/v1", "kind": "DeleteOptions", "orphanDependents": True}


# -- what the decoder refuses and what it skips ---------------------------------------

def test_unknown_field_numbers_are_skipped() -> None:
    raw = len_field(1, len_field(1, b"n") + len_field(99, b"future")) + varint_field(77, 5)
    assert protobuf.decode(wrap("v1", "ConfigMap", raw)) == {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}}


def test_packed_repeated_numbers_decode() -> None:
    from apiserver.protobuf.codec import decode_message
    from apiserver.protobuf.schema import Field, Message

    message = Message("T", {1: Field("n", "int", repeated=True)})
    assert decode_message(len_field(1, varint(1) + varint(300) + varint(-2)), message) == {
        "n": [1, 300, -2]}


@pytest.mark.parametrize("body", [
    b"k8s",  # no envelope
    b"k8s\x00\x0a\x05\x0a",  # typeMeta runs past the end
    MAGIC + len_field(1, len_field(2, b"ConfigMap")) + b"\x12\x05\x0a",  # raw truncated
    wrap("v1", "ConfigMap", b"\x0a\x80"),  # truncated varint length
    wrap("v1", "ConfigMap", b"\x0b"),  # wire type 3 (groups)
    wrap("v1", "ConfigMap", len_field(1, len_field(1, b"\xff"))),  # not UTF-8
    b'{"kind": "ConfigMap"}',  # JSON under the protobuf content type
])
def test_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(errors.BadRequest):
        decode_object(body, PB)


def test_unknown_kind_is_415() -> None:
    with pytest.raises(errors.UnsupportedMediaType, match="Widget"):
        decode_object(wrap("example.com/v1", "Widget", b""), PB)


def test_content_encoding_is_415() -> None:
    body = MAGIC + len_field(1, len_field(1, b"v1") + len_field(2, b"ConfigMap")) \
        + len_field(3, b"gzip")
    with pytest.raises(errors.UnsupportedMediaType, match="gzip"):
        decode_object(body, PB)


class _Loose(K8sModel):
    """A model with an untyped field, as the served kinds no longer have."""

    anything: Annotated[dict[str, Any] | None, field("Untyped.", protobuf=1)] = None


def test_fields_without_a_protobuf_form_yet_are_415_not_dropped() -> None:
    loose = protobuf.schema.message(_Loose)
    with pytest.raises(protobuf.Unsupported, match="anything"):
        protobuf.codec.decode_message(len_field(1, varint_field(1, 1)), loose)
    assert protobuf.codec.decode_message(len_field(1, b""), loose) == {"anything": {}}


def test_no_served_kind_has_an_untyped_field_but_managed_fields() -> None:
    from apimachinery.models.schema import iter_models
    from apiserver.kinds import registry

    loose = {(model.__name__, f.name)
             for model in iter_models(*(k.model for k in registry()))
             for f in protobuf.schema.message(model).fields.values() if f.type == "loose"}
    assert loose == set()


def test_empty_value_structs_decode_as_empty() -> None:
    """Go writes `status.loadBalancer` (a value struct) even when empty."""
    raw = len_field(1, len_field(1, b"s")) + len_field(3, len_field(1, b""))
    assert protobuf.decode(wrap("v1", "Service", raw))["status"] == {"loadBalancer": {}}


def test_content_type_parameters_are_ignored() -> None:
    body = (GOLDEN / "namespace.pb").read_bytes()
    assert decode_object(body, f"{PB}; charset=utf-8") == EXPECTED["namespace"]


# -- Accept ---------------------------------------------------------------------------

def _request(accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize("accept", [
    None, "", "application/json", f"{PB},application/json", f"{PB}, */*",
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"])
def test_json_is_the_answer_when_json_is_acceptable(accept: str | None) -> None:
    assert answer_media(_request(accept)) == "application/json"
    check_acceptable(_request(accept))


@pytest.mark.parametrize("accept", [PB, f"{PB};stream=watch", f"{PB};as=Table;g=meta.k8s.io, {PB}",
                                    f"{PB}; q=0.9"])
def test_protobuf_is_the_answer_when_nothing_else_is_accepted(accept: str) -> None:
    assert answer_media(_request(accept)) == PB
    with pytest.raises(errors.NotAcceptable):  # discovery documents are JSON only
        check_acceptable(_request(accept))


@pytest.mark.parametrize("accept", [f"{PB};as=Table;v=v1;g=meta.k8s.io",
                                    f"{PB};as=PartialObjectMetadata;v=v1;g=meta.k8s.io"])
def test_tables_in_protobuf_alone_are_406(accept: str) -> None:
    with pytest.raises(errors.NotAcceptable, match="Table"):
        answer_media(_request(accept))


# -- robustness -----------------------------------------------------------------------

def test_mutated_bodies_decode_or_fail_cleanly() -> None:
    """Flipped, dropped and truncated bytes of real captures: an object or a DecodeError,
    never another exception."""
    rng = random.Random(14)
    bodies = [(GOLDEN / f"{name}.pb").read_bytes() for name in sorted(COMMANDS)]
    for _ in range(3000):
        body = bytearray(rng.choice(bodies))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(4, len(body))
            action = rng.random()
            if action < 0.5:
                body[pos] = rng.randrange(256)
            elif action < 0.75:
                del body[pos]
            else:
                del body[pos:]
                break
        with contextlib.suppress(protobuf.DecodeError):
            assert isinstance(protobuf.decode(bytes(body)), dict)


def test_time_out_of_range_is_a_decode_error() -> None:
    meta = len_field(1, b"n") + len_field(8, varint_field(1, 2**62))
    with pytest.raises(errors.BadRequest, match="out of range"):
        decode_object(wrap("v1", "ConfigMap", len_field(1, meta)), PB)


def test_random_messages_of_every_kind_decode_or_fail_cleanly() -> None:
    from apiserver.kinds import registry

    rng = random.Random(1414)
    for kind in registry():
        encoded = protobuf.encode(ROUND_TRIP[kind.resource.plural]())
        raw = protobuf.codec.unwrap(encoded)[2]
        for _ in range(300):
            noisy = bytearray(raw)
            for _ in range(rng.randint(1, 6)):
                noisy[rng.randrange(len(noisy))] = rng.randrange(256)
            for body in (bytes(noisy), rng.randbytes(rng.randint(1, 64))):
                with contextlib.suppress(protobuf.DecodeError):
                    protobuf.decode(wrap(kind.resource.api_version, kind.resource.kind, body))


# -- the models' protobuf_hints -------------------------------------------------------

def _flat(message: protobuf.schema.Message) -> dict[str, protobuf.schema.Field]:
    """A message's fields by name, those of Go's embedded structs included."""
    out: dict[str, protobuf.schema.Field] = {}
    for described in message.fields.values():
        kind = described.type
        if isinstance(kind, protobuf.schema.Message) and kind.inline:
            out.update(_flat(kind))
        else:
            out[described.name] = described
    return out


def test_protobuf_hints_name_real_fields_of_the_right_type() -> None:
    from apimachinery.models.schema import fields, iter_models
    from apiserver.kinds import registry
    from apiserver.protobuf.schema import Map, Message, hints, message

    structs = ("time", "microtime", "intorstr", "quantity", "loose")
    expected = {"pointer": ("string", "int", "bool"), "zero": ("string", "int", "bool"),
                "microtime": ("microtime",)}
    hinted = 0
    for model in iter_models(*(k.model for k in registry())):
        described = _flat(message(model))
        for name, declared in hints(model).items():
            where = f"{model.__name__}.{name}"
            assert name in fields(model), where
            field = described[name]
            for hint in declared:
                hinted += 1
                if hint == "bytes":
                    assert field.type in (Map("bytes"), "bytes"), where
                elif hint == "value":
                    assert isinstance(field.type, Message) or field.type in structs, where
                    assert not field.repeated and not field.pointer, where
                else:
                    assert field.type in expected[hint], f"{where}: {field.type}"
    assert hinted >= 80


def test_unserved_fields_take_numbers_the_model_leaves_free() -> None:
    from apimachinery.models.schema import fields, iter_models
    from apiserver.kinds import registry
    from apiserver.protobuf.schema import message

    seen = 0
    for model in iter_models(*(k.model for k in registry())):
        declared = getattr(model, "protobuf_unserved", {})
        numbers = {m.protobuf for m in fields(model).values() if m.embedded is None}
        for name, (number, _) in declared.items():
            seen += 1
            assert name not in fields(model) and number not in numbers, model.__name__
            assert message(model).fields[number].unserved
    assert seen >= 6


def test_unserved_fields_are_written_as_zeros_and_skipped_when_read() -> None:
    """ObjectMeta.selfLink (4) and PodSpec.serviceAccount (9): Go writes "" for both."""
    raw = protobuf.codec.unwrap(protobuf.encode(_pod()))[2]
    meta = dict((n, v) for n, _, v in iter_fields(dict(
        (n, v) for n, _, v in iter_fields(raw))[1]))
    assert meta[4] == b""
    spec = dict((n, v) for n, _, v in iter_fields(dict((n, v) for n, _, v in iter_fields(raw))[2]))
    assert spec[9] == b""
    sent = wrap("v1", "Pod", len_field(1, len_field(1, b"p") + len_field(4, b"/api/v1/p")))
    assert protobuf.decode(sent)["metadata"] == {"name": "p"}


def test_kubectl_create_priorityclass_value_zero_survives() -> None:
    raw = len_field(1, len_field(1, b"zero")) + varint_field(2, 0) + varint_field(3, 0)
    assert protobuf.decode(wrap("scheduling.k8s.io/v1", "PriorityClass", raw)) == {
        "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "zero"}, "value": 0}


def test_empty_strings_inside_lists_are_kept() -> None:
    obj = _pod(containers=[{"name": "c", "image": "busybox", "args": ["", "x", ""]}])
    assert_round_trip(obj)
