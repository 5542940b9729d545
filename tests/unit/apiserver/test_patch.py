"""The PATCH engines: JSON merge patch, JSON patch, strategic merge patch, dispatch."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from apimachinery import errors
from apiserver.managedfields import request as writers
from apiserver.patch import (
    PATCH_CONTENT_TYPES,
    apply_json_patch,
    apply_merge_patch,
    apply_patch,
    apply_strategic_merge_patch,
)
from apiserver.strategicpatch import is_directive


def deployment() -> dict[str, Any]:
    """A live Deployment with a web container (ports, env) and a sidecar."""
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"},
                     "finalizers": ["a", "b"]},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.25",
                     "ports": [{"containerPort": 80, "name": "http"},
                               {"containerPort": 443, "name": "https"}],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "volumeMounts": [{"mountPath": "/data", "name": "data"}],
                     "args": ["--a", "--b"]},
                    {"name": "sidecar", "image": "busybox", "command": ["sleep", "inf"]},
                ],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "tolerations": [{"key": "x", "operator": "Exists"}],
            }},
        },
    }


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def web(obj: dict[str, Any]) -> dict[str, Any]:
    return pod_spec(obj)["containers"][0]


def tmpl(spec: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": spec}}}


def directive_keys(value: Any) -> list[str]:
    """Every strategic-merge directive key anywhere in `value`."""
    if isinstance(value, dict):
        own = [k for k in value if is_directive(k)]
        return own + [k for v in value.values() for k in directive_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in directive_keys(v)]
    return []


# --- JSON merge patch (RFC 7386, appendix A) --------------------------------------------

@pytest.mark.parametrize(("target", "patch", "want"), [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"a": "foo"}, ["c"], ["c"]),
    ({"metadata": {"labels": {"app": "x", "gone": "y"}}},
     {"metadata": {"labels": {"gone": None}}}, {"metadata": {"labels": {"app": "x"}}}),
])
def test_merge_patch_rfc7386_cases(target: Any, patch: Any, want: Any) -> None:
    assert apply_merge_patch(target, patch) == want


@pytest.mark.parametrize("engine", ["merge", "strategic"])
def test_replicas_only_change_keeps_everything_else(engine: str) -> None:
    patch = {"metadata": {"annotations": {"k": "v"}}, "spec": {"replicas": 5}}
    if engine == "merge":
        got = apply_merge_patch(deployment(), patch)
    else:
        got = apply_strategic_merge_patch(deployment(), patch, "Deployment")
    want = deployment()
    want["spec"]["replicas"] = 5
    want["metadata"]["annotations"] = {"k": "v"}
    assert got == want


# --- JSON patch (RFC 6902) --------------------------------------------------------------

def test_json_patch_applies_operations_in_order() -> None:
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/new", "value": "yes"},
        {"op": "remove", "path": "/metadata/labels/tier"},
        {"op": "add", "path": "/metadata/finalizers/-", "value": "c"},
        {"op": "move", "from": "/metadata/labels/app", "path": "/metadata/labels/name"},
    ]
    got = apply_json_patch(deployment(), ops)
    assert got["spec"]["replicas"] == 3
    assert got["metadata"]["labels"] == {"new": "yes", "name": "web"}
    assert got["metadata"]["finalizers"] == ["a", "b", "c"]


@pytest.mark.parametrize(("ops", "message"), [
    ({"op": "add"}, "must be a JSON array"),
    (["add"], "operation 0 must be an object"),
    ([{"op": "remove", "path": "/nope"}, 7], "operation 1 must be an object"),
    ([{"op": "replace", "path": "", "value": [1]}], "must leave an object"),
])
def test_json_patches_that_do_not_decode_are_bad_requests(ops: Any, message: str) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        apply_json_patch(deployment(), ops)
    assert message in caught.value.message


@pytest.mark.parametrize(("ops", "message"), [
    ([{"op": "bogus", "path": "/a"}], "Unknown operation 'bogus'"),
    ([{"path": "/a"}], "does not contain 'op'"),
    ([{"op": "replace", "path": "/nope/x", "value": 1}], "member 'nope' not found"),
    ([{"op": "remove", "path": "/metadata/zz"}], "operation 0 (remove /metadata/zz) failed"),
    ([{"op": "replace", "path": "/spec/replicas", "value": 1},
      {"op": "test", "path": "/spec/replicas", "value": 9}], "operation 1 (test /spec/replicas)"),
    ([{"op": "move", "from": "/q", "path": "/x"}], "member 'q' not found"),
    ([{"op": "add", "path": "no-slash", "value": 1}], "Location must start with /"),
])
def test_json_patch_operations_that_do_not_apply_are_invalid(ops: Any, message: str) -> None:
    """As Kubernetes: a 422 Invalid with no details and its generic message (plus the why)."""
    with pytest.raises(errors.Invalid) as caught:
        apply_json_patch(deployment(), ops)
    status = caught.value.to_status()
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert "details" not in status
    assert status["message"].startswith(
        "the server rejected our request due to an error in our request: json patch operation ")
    assert message in status["message"]
    assert "rollingUpdate" not in status["message"], "must not dump the whole document"


# --- strategic merge patch: the kubectl apply cases (KUBECTL.md section 3) -------------

def test_smp_image_change_with_set_element_order_keeps_sidecar_ports_and_env() -> None:
    patch = tmpl({"$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                  "containers": [{"image": "nginx:1.26", "name": "web"}]})
    got = apply_strategic_merge_patch(deployment(), patch, "Deployment")
    want = deployment()
    pod_spec(want)["containers"][0]["image"] = "nginx:1.26"
    assert got == want
    assert directive_keys(got) == []


def test_smp_removing_a_container_with_patch_delete() -> None:
    patch = tmpl({"$setElementOrder/containers": [{"name": "web"}],
                  "containers": [{"$patch": "delete", "name": "sidecar"}]})
    got = apply_strategic_merge_patch(deployment(), patch, "Deployment")
    assert pod_spec(got)["containers"] == pod_spec(deployment())["containers"][:1]


def test_smp_adding_an_env_var_puts_it_where_set_element_order_says() -> None:
    patch = tmpl({"containers": [{"name": "web",
                                  "$setElementOrder/env": [{"name": "A"}, {"name": "NEW"},
                                                           {"name": "B"}],
                                  "env": [{"name": "NEW", "value": "n"}]}],
                  "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}]})
    got = apply_strategic_merge_patch(deployment(), patch, "Deployment")
    assert pod_spec(got)["containers"][0]["env"] == [
        {"name": "A", "value": "1"}, {"name": "NEW", "value": "n"}, {"name": "B", "value": "2"}]
    assert pod_spec(got)["containers"][1]["name"] == "sidecar"
    assert directive_keys(got) == []


def test_smp_null_deletes_a_label_and_adds_another() -> None:
    patch = {"metadata": {"labels": {"tier": None, "new": "x"}}}
    got = apply_strategic_merge_patch(deployment(), patch, "Deployment")
    assert got["metadata"]["labels"] == {"app": "web", "new": "x"}


SERVICE = {"kind": "Service", "spec": {"ports": [
    {"port": 80, "targetPort": 8080, "name": "http"},
    {"port": 443, "targetPort": 8443, "name": "https"}], "selector": {"app": "web"}}}


@pytest.mark.parametrize(("patch", "want_ports"), [
    ({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}},
     [{"port": 80, "targetPort": 9090, "name": "http"},
      {"port": 443, "targetPort": 8443, "name": "https"}]),
    ({"spec": {"ports": [{"port": 8000, "name": "alt"}]}},
     [*SERVICE["spec"]["ports"], {"port": 8000, "name": "alt"}]),
    ({"spec": {"$setElementOrder/ports": [{"port": 80}],
               "ports": [{"$patch": "delete", "port": 443}]}},
     [{"port": 80, "targetPort": 8080, "name": "http"}]),
    ({"spec": {"$setElementOrder/ports": [{"port": 443}, {"port": 80}]}},
     [SERVICE["spec"]["ports"][1], SERVICE["spec"]["ports"][0]]),
])
def test_smp_service_ports_merge_by_port(patch: dict[str, Any], want_ports: list[Any]) -> None:
    got = apply_strategic_merge_patch(SERVICE, patch, "Service")
    assert got["spec"]["ports"] == want_ports
    assert got["spec"]["selector"] == {"app": "web"}
    assert directive_keys(got) == []


def test_smp_ports_outside_service_spec_and_containers_are_replaced() -> None:
    target = {"spec": {"ports": [{"port": 80}, {"port": 443}]}}
    got = apply_strategic_merge_patch(target, {"spec": {"ports": [{"port": 81}]}}, "Widget")
    assert got == {"spec": {"ports": [{"port": 81}]}}


def test_smp_finalizers_merge_as_an_ordered_set() -> None:
    patch = {"metadata": {"finalizers": ["c", "a", "c"]}}
    got = apply_strategic_merge_patch(deployment(), patch, "Deployment")
    assert got["metadata"]["finalizers"] == ["a", "b", "c"]


# Each case: a patch for the web container (merged by name) and what web must look like.
CONTAINER_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("container ports merge by containerPort",
     {"ports": [{"containerPort": 443, "name": "tls"}, {"containerPort": 8080}]},
     {"ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "tls"},
                {"containerPort": 8080}]}),
    ("removing a port with $patch delete and $setElementOrder/ports",
     {"$setElementOrder/ports": [{"containerPort": 443}],
      "ports": [{"$patch": "delete", "containerPort": 80}]},
     {"ports": [{"containerPort": 443, "name": "https"}]}),
    ("volumeMounts merge by mountPath",
     {"volumeMounts": [{"mountPath": "/data", "readOnly": True}, {"mountPath": "/t", "name": "t"}]},
     {"volumeMounts": [{"mountPath": "/data", "name": "data", "readOnly": True},
                       {"mountPath": "/t", "name": "t"}]}),
    ("args are replaced whole", {"args": ["--c"]}, {"args": ["--c"]}),
    ("env item field deleted with null", {"env": [{"name": "B", "value": None}]},
     {"env": [{"name": "A", "value": "1"}, {"name": "B"}]}),
    ("a keyed item with $patch replace replaces only that item",
     {"env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "x"}}, "$patch": "replace"}]},
     {"env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "x"}}},
              {"name": "B", "value": "2"}]}),
    ("a {$patch: replace} item replaces the whole list",
     {"env": [{"$patch": "replace"}, {"name": "Z", "value": "z"}]},
     {"env": [{"name": "Z", "value": "z"}]}),
    ("$setElementOrder leaves unnamed items after, in their order",
     {"$setElementOrder/env": [{"name": "B"}]},
     {"env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]}),
    ("$patch replace on the whole container",
     {"$patch": "replace", "image": "x"},
     {"name": "web", "image": "x", "ports": None, "env": None}),
]


@pytest.mark.parametrize(("patch", "want"), [(p, w) for _, p, w in CONTAINER_CASES],
                         ids=[c[0] for c in CONTAINER_CASES])
def test_smp_container_fields(patch: dict[str, Any], want: dict[str, Any]) -> None:
    got = apply_strategic_merge_patch(
        deployment(), tmpl({"containers": [{"name": "web", **patch}]}), "Deployment")
    for field, value in want.items():
        assert web(got).get(field) == value, field
    assert pod_spec(got)["containers"][1] == pod_spec(deployment())["containers"][1]
    assert directive_keys(got) == []


@pytest.mark.parametrize(("target", "patch", "want"), [
    ({"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}, {"uid": "2", "name": "b"}]}},
     {"metadata": {"ownerReferences": [{"uid": "2", "controller": True}]}},
     {"metadata": {"ownerReferences": [{"uid": "1", "name": "a"},
                                       {"uid": "2", "name": "b", "controller": True}]}}),
    ({"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "X"}]}},
     {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
     {"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "X"}]}}),
    ({"spec": {"tolerations": [{"key": "a"}], "hostAliases": [{"ip": "1.1.1.1"}]}},
     {"spec": {"tolerations": [{"key": "b"}], "hostAliases": [{"ip": "2.2.2.2"}]}},
     {"spec": {"tolerations": [{"key": "b"}], "hostAliases": [{"ip": "2.2.2.2"}]}}),
    ({"spec": {"imagePullSecrets": [{"name": "a"}], "volumes": [{"name": "v", "emptyDir": {}}]}},
     {"spec": {"imagePullSecrets": [{"name": "b"}], "volumes": [{"name": "v", "emptyDir": None,
                                                                 "hostPath": {"path": "/"}}]}},
     {"spec": {"imagePullSecrets": [{"name": "a"}, {"name": "b"}],
               "volumes": [{"name": "v", "hostPath": {"path": "/"}}]}}),
    ({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}},
     {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
     {"spec": {"strategy": {"type": "Recreate"}}}),
    ({"spec": {"a": {"x": 1, "y": 2}, "b": {"x": 1}}},
     {"spec": {"a": {"$patch": "replace", "z": 3}, "b": {"$patch": "delete"}}},
     {"spec": {"a": {"z": 3}}}),
    ({"spec": {"a": {"x": 1}}}, {"spec": {"a": {"$patch": "merge", "y": 2}}},
     {"spec": {"a": {"x": 1, "y": 2}}}),
    ({"metadata": {"finalizers": ["a", "b", "c"]}},
     {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}},
     {"metadata": {"finalizers": ["a", "c"]}}),
    ({"metadata": {"finalizers": ["a", "b"]}},
     {"metadata": {"$setElementOrder/finalizers": ["b", "c", "a"], "finalizers": ["c"]}},
     {"metadata": {"finalizers": ["b", "c", "a"]}}),
    ({"spec": {"schema": {"$ref": "#/a"}}}, {"spec": {"schema": {"$ref": "#/b"}}},
     {"spec": {"schema": {"$ref": "#/b"}}}),
    ({"spec": {"x": 1}}, {"$patch": "replace", "spec": {"y": 2}}, {"spec": {"y": 2}}),
    ({"spec": {"x": 1}}, {"$patch": "delete"}, {}),
])
def test_smp_table(target: dict[str, Any], patch: dict[str, Any], want: dict[str, Any]) -> None:
    assert apply_strategic_merge_patch(target, patch, "Pod") == want


def test_smp_directives_in_new_values_are_never_stored() -> None:
    patch = {"spec": {
        "containers": [{"name": "a", "env": [{"name": "X", "$patch": "delete"}],
                        "$setElementOrder/env": [{"name": "X"}], "ports": []}],
        "tolerations": [{"key": "t", "$patch": "merge"}],
        "new": {"$retainKeys": ["k"], "k": {"$patch": "merge", "v": 1}},
        "gone": {"$patch": "delete"},
        "$deleteFromPrimitiveList/finalizers": ["x"],
    }}
    got = apply_strategic_merge_patch({}, patch, "Pod")
    assert got == {"spec": {"containers": [{"name": "a", "env": [], "ports": []}],
                            "tolerations": [{"key": "t"}], "new": {"k": {"v": 1}}}}
    assert directive_keys(got) == []


@pytest.mark.parametrize(("patch", "message"), [
    ([], "must be a JSON object"),
    (tmpl({"containers": [{"image": "x"}]}), "does not contain merge key 'name'"),
    (tmpl({"containers": [{"$patch": "delete"}]}), "does not contain merge key 'name'"),
    ({"spec": {"$patch": "explode"}}, "unknown $patch directive 'explode'"),
    (tmpl({"containers": [{"name": "web", "$patch": "nope"}]}), "unknown $patch directive"),
    ({"spec": {"$retainKeys": "type"}}, "$retainKeys at spec must be a list"),
    ({"spec": {"$retainKeys": ["type"], "replicas": 1}}, "'replicas' at spec is not present"),
    ({"spec": {"$setElementOrder/x": {}}}, "must be a list"),
    ({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}, "must be a list"),
])
def test_smp_malformed_patches_are_bad_requests(patch: Any, message: str) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        apply_strategic_merge_patch(deployment(), patch, "Deployment")
    assert message in caught.value.message


# --- no engine mutates its inputs or aliases them into the result ----------------------

ENGINES = [
    ("merge", lambda t, p: apply_merge_patch(t, p),
     tmpl({"containers": [{"name": "web", "env": [{"name": "C"}]}], "extra": {"a": [1]}})),
    ("smp", lambda t, p: apply_strategic_merge_patch(t, p, "Deployment"),
     tmpl({"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}],
           "containers": [{"name": "web", "env": [{"name": "C"}]},
                          {"name": "new", "$patch": "replace"}],
           "extra": {"a": [1]}})),
    ("json", lambda t, p: apply_json_patch(t, p),
     [{"op": "add", "path": "/spec/template/spec/extra", "value": {"a": [1]}},
      {"op": "remove", "path": "/metadata/labels/app"}]),
]


@pytest.mark.parametrize(("apply", "patch"), [(a, p) for _, a, p in ENGINES],
                         ids=[e[0] for e in ENGINES])
def test_engines_never_mutate_or_alias_inputs(apply: Any, patch: Any) -> None:
    target, patch_before = deployment(), copy.deepcopy(patch)
    got = apply(target, patch)
    assert target == deployment()
    assert patch == patch_before
    pod_spec(got)["extra"]["a"].append(2)
    for container in got["spec"]["template"]["spec"]["containers"]:
        container["image"] = "mutated"
    assert target == deployment()
    assert patch == patch_before


# --- apply_patch: the Content-Type dispatcher -------------------------------------------

def test_patch_content_types_are_the_four_supported() -> None:
    assert set(PATCH_CONTENT_TYPES) == {
        "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json", "application/apply-patch+yaml"}


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


IMAGE_PATCH = tmpl({"containers": [{"name": "web", "image": "nginx:1.26"}]})


@pytest.mark.parametrize(("content_type", "payload", "sidecar_kept"), [
    ("application/strategic-merge-patch+json", body(IMAGE_PATCH), True),
    ("Application/Strategic-Merge-Patch+JSON; charset=utf-8", body(IMAGE_PATCH), True),
    ("application/merge-patch+json", body(IMAGE_PATCH), False),
    ("application/json-patch+json", body([{"op": "replace", "value": "nginx:1.26",
                                           "path": "/spec/template/spec/containers/0/image"}]),
     True),
    ("application/apply-patch+yaml",
     b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
     b"spec:\n  template:\n    spec:\n      containers:\n      - name: web\n"
     b"        image: nginx:1.26\n", True),
    ("application/apply-patch+yaml",
     body({"apiVersion": "apps/v1", "kind": "Deployment", **IMAGE_PATCH}), True),
])
def test_apply_patch_dispatches_by_content_type(content_type: str, payload: bytes,
                                                sidecar_kept: bool) -> None:
    writer = writers.Writer("test", applying=True, api_version="apps/v1", kind="Deployment",
                            force=True)  # the live object is before-first-apply's
    with writers.writing(writer):
        got = apply_patch(content_type, deployment(), payload, "Deployment")
    names = [c["name"] for c in pod_spec(got)["containers"]]
    assert names == (["web", "sidecar"] if sidecar_kept else ["web"])
    assert web(got)["image"] == "nginx:1.26"


def test_apply_patch_yaml_keeps_timestamps_and_stringifies_keys() -> None:
    payload = (b"apiVersion: v1\nkind: ConfigMap\n"
               b"metadata:\n  annotations:\n    when: 2024-01-02T03:04:05Z\n    1: yes\n")
    writer = writers.Writer("test", applying=True, api_version="v1", kind="ConfigMap")
    with writers.writing(writer):
        got = apply_patch("application/apply-patch+yaml", {}, payload, "ConfigMap")
    assert got["metadata"]["annotations"] == {"when": "2024-01-02T03:04:05Z", "1": True}


@pytest.mark.parametrize(("content_type", "payload", "message"), [
    ("application/merge-patch+json", b'{"spec": {"replicas": 3,}}', "invalid JSON"),
    ("application/merge-patch+json", b'{\n  "a": }', "line 2 column 8"),
    ("application/strategic-merge-patch+json", b"", "invalid JSON"),
    ("application/merge-patch+json", b'{"a": NaN}', "NaN is not valid JSON"),
    ("application/merge-patch+json", b'{"a": "\xff"}', "not UTF-8"),
    ("application/apply-patch+yaml", b"spec:\n  a: [1, 2\n", "invalid YAML"),
    ("application/apply-patch+yaml", b"a: b\n c: d\n", "line 2 column 3"),
    ("application/apply-patch+yaml", b"a: 1\n---\nb: 2\n", "invalid YAML"),
    ("application/apply-patch+yaml", b"a: !!binary aGk=\n", "cannot be represented"),
    ("application/apply-patch+yaml", b"", "must be an object, not null"),
    ("application/json-patch+json", b'{"op": "add"}', "must be a JSON array"),
    ("application/merge-patch+json", b"[1, 2]", "must be an object, not an array"),
    ("application/strategic-merge-patch+json", b'"x"', "must be an object, not a string"),
])
def test_apply_patch_bad_bodies_are_bad_requests(content_type: str, payload: bytes,
                                                 message: str) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        apply_patch(content_type, deployment(), payload, "Deployment")
    assert message in caught.value.message
    assert caught.value.code == 400


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "", "yaml"])
def test_apply_patch_unknown_content_type_is_unsupported_media_type(content_type: str) -> None:
    with pytest.raises(errors.UnsupportedMediaType) as caught:
        apply_patch(content_type, deployment(), b"{}", "Deployment")
    assert caught.value.code == 415
    for supported in PATCH_CONTENT_TYPES:
        assert supported in caught.value.message


# --- merge keys come from the models' Kubernetes tags -----------------------------------

@pytest.mark.parametrize(("kind", "target", "patch", "want"), [
    ("Node", {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"},
                                       {"type": "Hostname", "address": "n1"}]}},
     {"status": {"addresses": [{"type": "Hostname", "address": "n2"}]}},
     {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"},
                               {"type": "Hostname", "address": "n2"}]}}),
    ("Node", {"spec": {"podCIDRs": ["10.1.0.0/24"]}}, {"spec": {"podCIDRs": ["fd00::/64"]}},
     {"spec": {"podCIDRs": ["10.1.0.0/24", "fd00::/64"]}}),
    ("Pod", {"status": {"podIPs": [{"ip": "10.1.0.5"}]}},
     {"status": {"podIPs": [{"ip": "fd00::5"}]}},
     {"status": {"podIPs": [{"ip": "10.1.0.5"}, {"ip": "fd00::5"}]}}),
    ("Deployment",
     tmpl({"topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 1},
                                         {"topologyKey": "host", "maxSkew": 1}]}),
     tmpl({"topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 2}]}),
     tmpl({"topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 2},
                                         {"topologyKey": "host", "maxSkew": 1}]})),
    # Lists the models do not type are replaced whole, as Kubernetes does for untagged ones.
    ("Pod", {"spec": {"ephemeralContainers": [{"name": "a"}, {"name": "b"}]}},
     {"spec": {"ephemeralContainers": [{"name": "b", "image": "x"}]}},
     {"spec": {"ephemeralContainers": [{"name": "b", "image": "x"}]}}),
    ("Scale", {"status": {"conditions": [{"type": "A"}, {"type": "B"}]}},
     {"status": {"conditions": [{"type": "B", "status": "True"}]}},
     {"status": {"conditions": [{"type": "B", "status": "True"}]}}),
])
def test_smp_lists_merge_as_the_models_declare(kind: str, target: dict[str, Any],
                                               patch: dict[str, Any],
                                               want: dict[str, Any]) -> None:
    assert apply_strategic_merge_patch(target, patch, kind) == want
