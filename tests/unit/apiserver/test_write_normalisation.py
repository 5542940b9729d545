"""What the registry and storage do to every write, whatever the kind: a DELETE's body may
ask for a dry run, ObjectMeta's empty maps and lists are never stored, and an update that
changes nothing is recognised so it is not written (no new resourceVersion, no event);
kinds that are only data keep no metadata.generation."""

from __future__ import annotations

import orjson
import pytest

from apimachinery import errors
from apiserver.etcdcodec import encode, unchanged
from apiserver.kind import Strategy
from apiserver.registry import DeleteOptions, _drop_empty


def test_delete_options_read_dry_run_from_the_body() -> None:
    assert DeleteOptions.from_body({"dryRun": ["All"]}, {}).dry_run
    assert not DeleteOptions.from_body({"propagationPolicy": "Background"}, {}).dry_run
    assert not DeleteOptions.from_body(None, {}).dry_run


@pytest.mark.parametrize("value", [["Some"], "All", ["All", "x"]])
def test_delete_options_refuse_other_dry_run_values(value: object) -> None:
    with pytest.raises(errors.BadRequest, match="dryRun: unsupported value"):
        DeleteOptions.from_body({"dryRun": value}, {})


def test_empty_metadata_maps_and_lists_are_dropped() -> None:
    meta = {"name": "x", "labels": {}, "annotations": None, "finalizers": [],
            "ownerReferences": [], "namespace": ""}
    _drop_empty(meta)
    assert meta == {"name": "x", "namespace": ""}


def test_metadata_with_content_is_kept() -> None:
    meta = {"name": "x", "labels": {"a": "b"}, "annotations": {"k": ""},
            "finalizers": ["f"]}
    _drop_empty(meta)
    assert meta == {"name": "x", "labels": {"a": "b"}, "annotations": {"k": ""},
                    "finalizers": ["f"]}


def _stored(obj: dict[str, object]) -> bytes:
    return encode(obj)


def test_an_equal_object_is_unchanged_whatever_its_key_order_and_resource_version() -> None:
    stored = _stored({"metadata": {"name": "c", "uid": "u"}, "data": {"a": "1", "b": "2"}})
    same = {"data": {"b": "2", "a": "1"}, "metadata": {"uid": "u", "name": "c",
                                                      "resourceVersion": "41"}}
    assert unchanged(stored, same)
    assert orjson.loads(stored) == {"metadata": {"name": "c", "uid": "u"},
                                    "data": {"a": "1", "b": "2"}}


@pytest.mark.parametrize("other", [
    {"metadata": {"name": "c", "uid": "u"}, "data": {"a": "1", "b": "3"}},
    {"metadata": {"name": "c", "uid": "u"}, "data": {"a": "1", "b": "2", "c": "3"}},
    {"metadata": {"name": "c", "uid": "u", "labels": {"x": "y"}}, "data": {"a": "1", "b": "2"}},
    {"metadata": {"uid": "u", "name": "d"}, "data": {"b": "2", "a": "1"}},
])
def test_any_change_is_a_change(other: dict[str, object]) -> None:
    stored = _stored({"metadata": {"name": "c", "uid": "u"}, "data": {"a": "1", "b": "2"}})
    assert not unchanged(stored, other)


class _DataOnly(Strategy):
    has_status_subresource = False
    tracks_generation = False


def test_kinds_that_are_only_data_keep_no_generation() -> None:
    obj = {"metadata": {"name": "c"}, "data": {"a": "1"}}
    _DataOnly().prepare_for_create(obj)
    assert "generation" not in obj["metadata"]
    old = {"metadata": {"name": "c", "generation": 3}, "data": {"a": "1"}}
    new = {"metadata": {"name": "c", "generation": 3}, "data": {"a": "2"}}
    _DataOnly().prepare_for_update(new, old)
    assert "generation" not in new["metadata"]  # one stored before is dropped too


def test_other_kinds_count_changes_of_desired_state() -> None:
    obj = {"metadata": {"name": "d"}, "spec": {"replicas": 1}}
    Strategy().prepare_for_create(obj)
    assert obj["metadata"]["generation"] == 1
    new = {"metadata": {"name": "d"}, "spec": {"replicas": 2}}
    Strategy().prepare_for_update(new, obj)
    assert new["metadata"]["generation"] == 2
    same = {"metadata": {"name": "d"}, "spec": {"replicas": 2}}
    Strategy().prepare_for_update(same, new)
    assert same["metadata"]["generation"] == 2
