"""Field sets: FieldsV1 both ways, the set algebra, Kubernetes' printed paths."""

from __future__ import annotations

import pytest

from apiserver.managedfields.fieldset import FieldSet, key_element, path_string, value_element

FIELDS = {
    "f:metadata": {"f:labels": {"f:app": {}}, "f:finalizers": {"v:\"a\"": {}}},
    "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
        "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}},
}


def test_fields_v1_round_trips_with_self_members() -> None:
    fields = FieldSet.from_fields(FIELDS)
    assert fields.to_fields() == FIELDS
    container = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}')
    assert fields.has(container) and fields.has((*container, "f:image"))
    assert not fields.has(("f:spec",)) and not fields.has(("f:spec", "f:template"))


def test_fields_v1_orders_fields_then_keys_values_and_indices() -> None:
    fields = FieldSet.of(("f:b",), ("f:a",), ('k:{"port":8080}',), ('k:{"port":80}',),
                         ('v:"x"',), ("i:10",), ("i:2",))
    assert list(fields.to_fields()) == ["f:a", "f:b", 'k:{"port":80}', 'k:{"port":8080}',
                                        'v:"x"', "i:2", "i:10"]


@pytest.mark.parametrize("bad", [{"x:y": {}}, {"k:[1]": {}}, {"v:{nope": {}},
                                 {"f:a": []}, {"i:x": {}}, []])
def test_malformed_fields_v1_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        FieldSet.from_fields(bad)


def test_set_algebra_is_path_by_path() -> None:
    a = FieldSet.of(("f:spec", "f:replicas"), ("f:spec", "f:paused"), ("f:data", "f:x"))
    b = FieldSet.of(("f:spec", "f:replicas"), ("f:status",))
    assert a.difference(b) == FieldSet.of(("f:spec", "f:paused"), ("f:data", "f:x"))
    assert a.intersection(b) == FieldSet.of(("f:spec", "f:replicas"))
    assert a.union(b).difference(a) == FieldSet.of(("f:status",))
    assert a.difference(a).empty()
    # A member takes everything below it along only in a recursive difference.
    status = FieldSet.of(("f:status", "f:replicas"), ("f:spec", "f:replicas"))
    assert status.difference(FieldSet.of(("f:status",))) == status
    assert status.recursive_difference(FieldSet.of(("f:status",))) == \
        FieldSet.of(("f:spec", "f:replicas"))


def test_operations_leave_their_inputs_alone() -> None:
    a = FieldSet.from_fields(FIELDS)
    before = a.to_fields()
    a.union(FieldSet.of(("f:x",))).insert(("f:y",))
    a.difference(a).insert(("f:z",))
    assert a.to_fields() == before


def test_paths_print_as_kubernetes_prints_them() -> None:
    item = key_element({"protocol": "TCP", "containerPort": 80})
    assert item == 'k:{"containerPort":80,"protocol":"TCP"}'
    assert path_string(("f:spec", "f:replicas")) == ".spec.replicas"
    assert path_string(("f:spec", "f:containers", key_element({"name": "web"}), "f:image")) \
        == '.spec.containers[name="web"].image'
    assert path_string(("f:ports", item)) == '.ports[containerPort=80,protocol="TCP"]'
    assert path_string(("f:finalizers", value_element("a"))) == '.finalizers[="a"]'
    assert path_string(("f:args", "i:3")) == ".args[3]"
