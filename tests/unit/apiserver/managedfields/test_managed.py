"""managedFields on Update writes: who takes what, the request's own managedFields, caps."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apimachinery import errors
from apiserver import protobuf
from apiserver.managedfields import managed, request
from apiserver.managedfields.managed import Writer


def deployment(replicas: int = 2, image: str = "nginx") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns", "uid": "u", "resourceVersion": "5",
                         "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "web", "image": image}]}}},
            "status": {"replicas": 0}}


def write(live: dict[str, Any] | None, new: dict[str, Any], manager: str,
          subresource: str = "", requested: Any = None) -> dict[str, Any]:
    new = copy.deepcopy(new)
    if requested is None:
        requested = (new.get("metadata") or {}).get("managedFields")
    managed.record_update(live, new, requested, Writer(manager, subresource=subresource),
                          "apps/v1", "Deployment")
    return new


def owners(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"] + (f"/{e['subresource']}" if e.get("subresource") else ""): e
            for e in obj["metadata"].get("managedFields") or []}


def test_create_records_an_update_entry_without_server_set_fields() -> None:
    made = write(None, deployment(), "kubectl-create")
    [entry] = made["metadata"]["managedFields"]
    assert list(entry) == ["manager", "operation", "apiVersion", "time", "fieldsType",
                           "fieldsV1"]
    assert entry["operation"] == "Update" and entry["apiVersion"] == "apps/v1"
    # A map added whole is itself owned ("."), as Kubernetes' compare against Go's zero
    # object makes it; structs that object holds by value (spec, template) are not.
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    assert "f:status" not in entry["fieldsV1"]  # reset through the main resource
    spec = entry["fieldsV1"]["f:spec"]
    assert "." not in spec and "." not in spec["f:template"]
    assert spec["f:selector"] == {}
    assert spec["f:template"]["f:spec"]["f:containers"] == {
        'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}


def test_an_update_takes_what_it_changes_from_other_managers() -> None:
    made = write(None, deployment(), "creator")
    scaled = write(made, {**made, "spec": {**made["spec"], "replicas": 5}}, "scaler")
    got = owners(scaled)
    assert got["scaler"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in got["creator"]["fieldsV1"]["f:spec"]
    # The same manager again merges into its entry.
    relabelled = copy.deepcopy(scaled)
    relabelled["metadata"]["labels"]["tier"] = "x"
    again = owners(write(scaled, relabelled, "scaler"))["scaler"]["fieldsV1"]
    assert again == {"f:metadata": {"f:labels": {"f:tier": {}}}, "f:spec": {"f:replicas": {}}}


def test_removed_fields_leave_their_owner_and_empty_entries_go() -> None:
    made = write(None, deployment(), "creator")
    labeller = copy.deepcopy(made)
    labeller["metadata"]["labels"]["tier"] = "x"
    labelled = write(made, labeller, "labeller")
    unlabelled = copy.deepcopy(labelled)
    del unlabelled["metadata"]["labels"]["tier"]
    assert "labeller" not in owners(write(labelled, unlabelled, "someone"))


def test_status_writes_own_status_only() -> None:
    made = write(None, deployment(), "creator")
    new = copy.deepcopy(made)
    new["status"] = {"replicas": 2}
    got = owners(write(made, new, "controller", subresource="status"))
    assert got["controller/status"]["fieldsV1"] == {"f:status": {"f:replicas": {}}}


def test_request_managed_fields_are_honoured_or_cleared_as_kubernetes_does() -> None:
    made = write(None, deployment(), "creator")
    mine = [{"manager": "me", "operation": "Apply", "apiVersion": "apps/v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
    assert list(owners(write(made, made, "x", requested=mine))) == ["me"]
    for reset in ([], [{}]):
        assert "managedFields" not in write(made, made, "x", requested=reset)["metadata"]
    # Not decodable: the stored ones stay.
    assert list(owners(write(made, made, "x", requested=[{"manager": "m"}]))) == ["creator"]
    # Through a subresource, the request's managedFields are ignored.
    assert list(owners(write(made, made, "x", "status", requested=mine))) == ["creator"]


def test_an_untracked_object_stays_untracked_on_update() -> None:
    live = deployment()
    assert "managedFields" not in write(live, deployment(replicas=3), "x")["metadata"]


def test_at_most_ten_update_entries() -> None:
    obj = write(None, deployment(), "m0")
    for index in range(1, 13):
        nxt = copy.deepcopy(obj)
        nxt["metadata"]["labels"][f"l{index}"] = "x"
        obj = write(obj, nxt, f"m{index}")
    got = owners(obj)
    assert len(got) == 10 and "ancient-changes" in got


def test_entries_sort_apply_first_and_survive_protobuf() -> None:
    made = write(None, deployment(), "updater")
    entries = [{"manager": "applier", "operation": "Apply", "apiVersion": "apps/v1",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:paused": {}}}},
               *made["metadata"]["managedFields"],
               {"manager": "ctl", "operation": "Update", "apiVersion": "apps/v1",
                "time": "2020-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:status": {"f:replicas": {}}}, "subresource": "status"}]
    encoded = managed.encode(managed.decode(entries))
    assert encoded is not None
    assert [(e["manager"], e["operation"]) for e in encoded] == [
        ("applier", "Apply"), ("ctl", "Update"), ("updater", "Update")]
    obj = {**made, "metadata": {**made["metadata"], "managedFields": encoded}}
    del obj["status"]
    assert protobuf.decode(protobuf.encode(obj))["metadata"]["managedFields"] == encoded


@pytest.mark.parametrize(("query", "verb", "content_type", "message"), [
    ({}, "patch", "application/apply-patch+yaml",
     'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
     "for apply patch"),
    ({"fieldManager": "m", "force": "true"}, "patch", "application/merge-patch+json",
     "force: Forbidden: may not be specified for non-apply patch"),
    ({"fieldManager": "x" * 129}, "update", "application/json",
     'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more '
     "than 128 bytes"),
    ({"fieldManager": "a\tb"}, "create", "application/json",
     "invalid character U+0009 (at position 1)"),
])
def test_bad_field_manager_options_are_422(query: dict[str, str], verb: str,
                                           content_type: str, message: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        request.writer_for(query, "kubectl/v1.32.0 (linux/amd64)", verb, content_type, None,
                           True, "apps/v1", "Deployment")
    assert message in caught.value.message


def test_the_manager_defaults_to_the_user_agent_program() -> None:
    got = request.writer_for({}, "kubectl/v1.32.0 (linux/amd64) kubernetes/abc", "update",
                             "application/json", None, True, "apps/v1", "Deployment")
    assert got.manager == "kubectl" and not got.applying
    got = request.writer_for({"fieldManager": "kubectl-edit"}, "kubectl/v1.32.0", "patch",
                             "application/strategic-merge-patch+json", "scale", True,
                             "apps/v1", "Deployment")
    assert (got.manager, got.subresource) == ("kubectl-edit", "scale")


def test_an_object_the_schema_cannot_key_keeps_its_entries() -> None:
    made = write(None, deployment(), "creator")
    odd = copy.deepcopy(made)
    odd["spec"]["template"]["spec"]["containers"] = [{"image": "no-name"}]
    assert owners(write(made, odd, "x")) == owners(made)
