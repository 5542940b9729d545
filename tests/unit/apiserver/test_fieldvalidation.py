"""The fieldValidation walk: unknown fields by Kubernetes path, pruned in place."""

from __future__ import annotations

import pytest

from apimachinery import models
from apiserver import fieldvalidation
from apiserver.fieldvalidation import duplicate_fields, prune, warning_header
from apiserver.kinds import registry


def test_prune_removes_unknown_fields_at_every_depth_and_names_them_in_order() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "extra": 1,
           "metadata": {"name": "p", "labels": {"any/key": "v"}, "foo": 1},
           "spec": {"containers": [{"name": "c", "image": "i", "bar": 2,
                                    "env": [{"name": "A", "value": "b", "baz": 3}]}],
                    "nodeSelector": {"free": "form"}, "qux": None}}
    assert prune(models.Pod, pod) == [
        "extra", "metadata.foo", "spec.containers[0].bar", "spec.containers[0].env[0].baz",
        "spec.qux"]
    assert pod == {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "p", "labels": {"any/key": "v"}},
                   "spec": {"containers": [{"name": "c", "image": "i",
                                            "env": [{"name": "A", "value": "b"}]}],
                            "nodeSelector": {"free": "form"}}}


def test_loosely_typed_fields_keep_what_is_under_them() -> None:
    pod = {"metadata": {"managedFields": [{"manager": "kubectl", "anything": 1,
                                           "fieldsV1": {"f:spec": {".": {}}}}]}}
    before = repr(pod)
    assert prune(models.Pod, pod) == []
    assert repr(pod) == before


def test_security_contexts_affinity_and_claim_templates_are_walked() -> None:
    """Typed now: what Kubernetes' types lack under them is unknown, like anywhere else."""
    pod = {"spec": {"containers": [{"name": "c", "securityContext": {
                        "runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"], "x": 1},
                        "anything": 1}}],
                    "securityContext": {"sysctls": [{"name": "a", "value": "1", "y": 2}]},
                    "affinity": {"podAntiAffinity": {"whatever": [1],
                                                     "requiredDuringSchedulingIgnored"
                                                     "DuringExecution": [
                                                         {"topologyKey": "k", "z": 3}]}},
                    "topologySpreadConstraints": [{"maxSkew": 1, "q": 1}]}}
    assert prune(models.Pod, pod) == [
        "spec.containers[0].securityContext.capabilities.x",
        "spec.containers[0].securityContext.anything",
        "spec.securityContext.sysctls[0].y",
        "spec.affinity.podAntiAffinity.whatever",
        "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].z",
        "spec.topologySpreadConstraints[0].q"]
    assert pod["spec"]["containers"][0]["securityContext"] == {
        "runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}}
    sts = {"spec": {"volumeClaimTemplates": [{
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                 "size": "big"}}]}}
    assert prune(models.StatefulSet, sts) == ["spec.volumeClaimTemplates[0].spec.size"]
    node = {"status": {"nodeInfo": {"kernelVersion": "6.1", "gpu": "none"},
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}
    assert prune(models.Node, node) == ["status.nodeInfo.gpu"]


def test_what_schooner_components_write_is_declared() -> None:
    pod = {"spec": {"containers": [], "overhead": {"cpu": "1"},
                    "schedulingGates": [{"name": "g"}],
                    "dnsConfig": {"nameservers": ["192.0.2.53"], "searches": ["example.org"],
                                  "options": [{"name": "ndots", "value": "2"}]},
                    "initContainers": [{"name": "s", "restartPolicy": "Always",
                                        "stdinOnce": True}]}}
    node = {"status": {"volumesAttached": [{"name": "schooner.io/pvc/ns/c",
                                            "devicePath": ""}]}}
    assert prune(models.Pod, pod) == [] and prune(models.Node, node) == []


def test_every_served_kind_accepts_its_own_wire_names() -> None:
    for kind in registry():
        obj = {"apiVersion": kind.resource.api_version, "kind": kind.resource.kind,
               "metadata": {"name": "x"}}
        assert prune(kind.model, obj) == [], kind.resource.kind


def test_duplicate_fields_in_json_bodies_by_path() -> None:
    body = b'{"a":1,"a":2,"spec":{"containers":[{"x":1,"y":0,"x":2}]},"m":{"k":1,"k":1}}'
    assert duplicate_fields(body, "application/json") == ["a", "spec.containers[0].x", "m.k"]
    assert duplicate_fields(b'{"a":1}', "application/json; charset=utf-8") == []
    assert duplicate_fields(b"a: 1\na: 2\n", "application/yaml") == []
    assert duplicate_fields(b"{not json", "application/json") == []
    # `":` inside strings (kubectl's last-applied annotation) neither hides nor invents one.
    embedded = b'{"a":"{\\"k\\":1}","b":{"c":"\\u0022:"}}'
    assert duplicate_fields(embedded, "application/json") == []
    assert duplicate_fields(embedded[:-1] + b',"b":1}', "application/json") == ["b"]
    pretty = b'{\n  "a": 1,\n  "a": 2\n}'
    assert duplicate_fields(pretty, "application/json", {"a": 2}) == ["a"]


def test_problems_and_warning_headers() -> None:
    assert fieldvalidation.problems(["spec.foo"], ["x"]) == [
        'duplicate field "x"', 'unknown field "spec.foo"']
    assert warning_header('unknown field "spec.foo"') == \
        '299 - "unknown field \\"spec.foo\\""'


@pytest.mark.parametrize("value,expected", [(None, "Warn"), ("", "Warn"),
                                            ("Strict", "Strict"), ("Ignore", "Ignore")])
def test_mode_defaults_to_warn(value: str | None, expected: str) -> None:
    class Request:
        query_params = {} if value is None else {"fieldValidation": value}
    assert fieldvalidation.mode(Request()) == expected  # type: ignore[arg-type]


def test_mode_refuses_other_values() -> None:
    class Request:
        query_params = {"fieldValidation": "strict"}
    from apimachinery import errors
    with pytest.raises(errors.BadRequest, match="unsupported value"):
        fieldvalidation.mode(Request())  # type: ignore[arg-type]


def test_a_patch_is_blamed_only_for_the_unknown_fields_it_brings() -> None:
    from apimachinery import errors
    from apimachinery.resources import by_plural

    class Request:
        query_params = {"fieldValidation": "Strict"}
    check = fieldvalidation.FieldValidation(Request(), by_plural("configmaps"),  # type: ignore[arg-type]
                                            models.ConfigMap)
    stored = {"metadata": {"name": "c"}, "data": {"a": "b"}, "old": 1}
    assert check.wrap(lambda obj: {**obj, "data": {"a": "c"}})(stored) == {
        "metadata": {"name": "c"}, "data": {"a": "c"}}
    with pytest.raises(errors.BadRequest, match='unknown field "new"'):
        check.wrap(lambda obj: {**obj, "new": 1})({"metadata": {}, "old": 1})


def test_warning_header_carries_any_field_name_a_client_wrote() -> None:
    """The fuzzer's PATCH with a field named `\\U000326c3` (past Latin-1) and one with a
    control character were 500s: starlette could not encode the header, uvicorn refused
    it. Control characters become spaces (as Go's net/http writes CR and LF), the rest
    goes out as UTF-8."""
    header = warning_header('unknown field "\U000326c3\x00a\nb\x7f"')
    assert header.encode("latin-1").decode("utf-8") == \
        '299 - "unknown field \\"\U000326c3 a b \\""'
    assert warning_header("\ud800") == '299 - "?"'


def test_warnings_are_bounded_in_count_and_size() -> None:
    from apiserver.fieldvalidation import MAX_WARNINGS, bounded_warnings

    texts = [f'unknown field "spec.f{i}"' for i in range(500)]
    kept = bounded_warnings(texts)
    assert len(kept) == MAX_WARNINGS
    assert kept[:3] == texts[:3] and kept[-1] == f"{500 - MAX_WARNINGS + 1} more warnings left out"
    big = ["x" * 3000] + ["y" * 3000] * 19
    assert bounded_warnings(big) == ["x" * 3000, *["y" * 256] * 4, "15 more warnings left out"]
    assert bounded_warnings(texts[:4]) == texts[:4]
