"""Request bodies: YAML as the JSON it stands for, bounded nesting, alias expansion and
integers, object-shaped metadata (inputs the API fuzzer and its probes found)."""

from __future__ import annotations

import pytest

from apimachinery import errors
from apiserver.bodies import MAX_DEPTH, check_bounds, load_yaml
from apiserver.patch import apply_patch
from apiserver.wire import decode_object

YAML = "application/yaml"


@pytest.mark.parametrize("body", [
    b'metadata: {name: "\\ud800"}\n',  # a lone surrogate: orjson refused to write the answer
    b'metadata: {name: s}\ndata: {a: "\\udc80"}\n',
    b'metadata: {name: s}\n"\\ud800": 1\n',
    b"metadata: {name: s}\nbinaryData: {a: !!binary aGk=}\n",
    b"metadata: {name: s}\ndata: !!set {a, b}\n",
])
def test_yaml_without_a_json_equivalent_is_a_400(body: bytes) -> None:
    """(libyaml refuses a surrogate escape itself; the pure-Python parser passed it on.)"""
    with pytest.raises(errors.BadRequest, match="invalid YAML in request body"):
        decode_object(body, YAML)


def test_yaml_dates_and_number_keys_become_strings() -> None:
    """As Kubernetes' YAML-to-JSON conversion: `2024-01-02` and `1:` are strings in JSON."""
    obj = decode_object(b"metadata: {name: s}\ndata: {when: 2024-01-02, 1: one}\n", YAML)
    assert obj["data"] == {"when": "2024-01-02", "1": "one"}


def test_yaml_that_does_not_parse_is_a_400() -> None:
    with pytest.raises(errors.BadRequest, match="invalid YAML in request body"):
        decode_object(b"metadata: {name: [\n", YAML)


BOMB = b"metadata: {name: bomb}\nz:\n  a: &a [x,x,x,x,x,x,x,x,x]\n" + b"".join(
    b"  %c: &%c [%s]\n" % (c, c, b",".join([b"*" + bytes([c - 1])] * 9))
    for c in b"bcdefgh")


def test_a_yaml_billion_laughs_is_refused_before_it_expands() -> None:
    """Eight levels of nine aliases: 43 million nodes from 500 bytes. The JSON round trip
    expanded it for 22 s of CPU before the request was answered."""
    with pytest.raises(errors.BadRequest, match="aliases expand to more nodes"):
        decode_object(BOMB, YAML)
    with pytest.raises(errors.BadRequest, match="aliases expand to more nodes"):
        apply_patch("application/apply-patch+yaml", {"metadata": {"name": "x"}}, BOMB, "Pod")


def test_a_few_aliases_are_fine() -> None:
    obj = decode_object(b"metadata: {name: s, labels: &l {a: b}, annotations: *l}\n", YAML)
    assert obj["metadata"]["annotations"] == {"a": "b"}


@pytest.mark.parametrize("body, content_type", [
    (b"[" * 5000 + b"]" * 5000, YAML),
    (b"metadata: {name: d}\nz: " + b"[" * 200 + b"]" * 200, YAML),
    (b'{"metadata":{"name":"d"},"z":' + b"[" * 500 + b"]" * 500 + b"}", "application/json"),
])
def test_a_body_nested_past_the_bound_is_a_400(body: bytes, content_type: str) -> None:
    """Depth 500 in any body (a patch, an unknown field) was a RecursionError: a 500.
    (Past 1,000 levels libyaml refuses it itself: "exceeded maximum nesting depth".)"""
    with pytest.raises(errors.BadRequest,
                       match=f"nested more than {MAX_DEPTH} levels deep|maximum nesting depth"):
        decode_object(body, content_type)


@pytest.mark.parametrize("content_type", [
    "application/merge-patch+json", "application/strategic-merge-patch+json",
    "application/apply-patch+yaml"])
def test_a_patch_nested_past_the_bound_is_a_400(content_type: str) -> None:
    deep = b'{"a":' * 500 + b"1" + b"}" * 500
    with pytest.raises(errors.BadRequest, match="the patch body is nested more than"):
        apply_patch(content_type, {"metadata": {"name": "x"}}, b'{"z":' + deep + b"}", "Pod")


def test_a_json_patch_cannot_nest_the_object_past_the_bound() -> None:
    """Each patch's value within the bound, but added under a path already deep."""
    target: dict = {"metadata": {"name": "x"}}
    node = target["z"] = {}
    for _ in range(60):
        node["a"] = {}
        node = node["a"]
    value = b'{"a":' * 60 + b"1" + b"}" * 60
    path = b"/z" + b"/a" * 60 + b"/b"
    with pytest.raises(errors.BadRequest, match="the patched object is nested more than"):
        apply_patch("application/json-patch+json", target,
                    b'[{"op":"add","path":"' + path + b'","value":' + value + b"}]", "Pod")


def test_depth_bound_is_exact() -> None:
    at_bound: object = 1
    for _ in range(MAX_DEPTH):
        at_bound = [at_bound]
    check_bounds(at_bound)
    with pytest.raises(errors.BadRequest):
        check_bounds([at_bound])
    assert load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 2**70])
def test_an_integer_past_64_bits_is_a_400(number: int) -> None:
    """Python's json reads any size; orjson could not write it back once stored (a 500)."""
    with pytest.raises(errors.BadRequest, match="integer past 64 bits"):
        check_bounds({"spec": {"replicas": number}})
    check_bounds({"a": [2**64 - 1, -(2**63)]})


@pytest.mark.parametrize("body", [b'{"metadata": [1]}', b'{"metadata": "x"}',
                                  b'{"metadata": 5}'])
def test_metadata_that_is_no_object_is_a_400(body: bytes) -> None:
    with pytest.raises(errors.BadRequest, match="metadata: expected an object"):
        decode_object(body, "application/json")


@pytest.mark.parametrize("content_type, patch", [
    ("application/merge-patch+json", b'{"metadata": [1]}'),
    ("application/strategic-merge-patch+json", b'{"metadata": "x"}'),
    ("application/json-patch+json", b'[{"op": "replace", "path": "/metadata", "value": 5}]'),
])
def test_a_patch_that_leaves_no_object_metadata_is_a_422(content_type: str, patch: bytes
                                                         ) -> None:
    """As Kubernetes, which decodes the patched object into its type: 422 on `patch`."""
    with pytest.raises(errors.Invalid, match='Pod "x" is invalid: patch: Invalid value'):
        apply_patch(content_type, {"metadata": {"name": "x"}}, patch, "Pod")


@pytest.mark.parametrize("scalar", [False, 1.5, None, "s", 7])
def test_a_scalar_body_passes_the_walk_to_the_check_that_names_it(scalar: object) -> None:
    """The walk iterated a scalar root (a patch body of `false`): a TypeError, a 500."""
    check_bounds(scalar)
    with pytest.raises(errors.BadRequest, match="integer past 64 bits"):
        check_bounds(2**70)
