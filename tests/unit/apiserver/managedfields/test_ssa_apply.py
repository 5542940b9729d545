"""Apply: merge with owners, conflicts, force, pruning, before-first-apply, the CSA upgrade."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from apimachinery import errors
from apiserver.managedfields import managed
from apiserver.managedfields.apply import apply
from apiserver.managedfields.managed import Writer


def config(replicas: int | None = 2, labels: dict[str, str] | None = None,
           image: str = "nginx") -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": "web"}},
                            "template": {"spec": {"containers": [
                                {"name": "web", "image": image}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    meta: dict[str, Any] = {"name": "web"}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def run(live: dict[str, Any], cfg: dict[str, Any], manager: str,
        force: bool = False) -> dict[str, Any]:
    before = copy.deepcopy(live)
    got = apply(live, cfg, Writer(manager, force=force, applying=True), "apps/v1",
                "Deployment")
    assert live == before  # never mutates the live object
    return got


def fields(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    entry = next(e for e in obj["metadata"]["managedFields"] if e["manager"] == manager)
    result: dict[str, Any] = entry["fieldsV1"]
    return result


def test_apply_creates_with_an_apply_entry() -> None:
    got = run({}, config(labels={"a": "1"}), "alice")
    [entry] = got["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"], entry["apiVersion"]) == \
        ("alice", "Apply", "apps/v1")
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {"f:a": {}}}
    assert got["spec"]["replicas"] == 2


def test_conflicts_are_409_with_a_cause_per_field_and_force_takes_them() -> None:
    live = run({}, config(image="nginx"), "alice")
    with pytest.raises(errors.Conflict) as caught:
        run(live, config(replicas=3, image="nginx:2"), "bob")
    assert caught.value.message == (
        'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n'
        '- .spec.template.spec.containers[name="web"].image')
    assert caught.value.details["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"',
         "field": ".spec.replicas"},
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"',
         "field": '.spec.template.spec.containers[name="web"].image'}]
    assert caught.value.code == 409
    forced = run(live, config(replicas=3, image="nginx"), "bob", force=True)
    assert forced["spec"]["replicas"] == 3
    assert "f:replicas" not in fields(forced, "alice")["f:spec"]
    # The same value is no conflict: both own it.
    shared = run(forced, config(replicas=3), "carol")
    assert fields(shared, "carol")["f:spec"]["f:replicas"] == {}
    assert fields(shared, "bob")["f:spec"]["f:replicas"] == {}


def test_a_single_conflict_with_an_update_manager_names_its_api_version() -> None:
    live = run({}, config(), "alice")
    edited = copy.deepcopy(live)
    edited["spec"]["replicas"] = 7
    managed.record_update(live, edited, edited["metadata"]["managedFields"],
                          Writer("kubectl-edit"), "apps/v1", "Deployment")
    with pytest.raises(errors.Conflict) as caught:
        run(edited, config(replicas=2), "alice")
    assert caught.value.message == ('Apply failed with 1 conflict: conflict with '
                                    '"kubectl-edit" using apps/v1: .spec.replicas')


def test_fields_no_longer_applied_go_unless_another_manager_owns_them() -> None:
    live = run({}, config(labels={"a": "1", "b": "2"}), "alice")
    live = run(live, config(replicas=2, labels={"b": "2"}), "bob")
    got = run(live, config(replicas=None, labels={}), "alice")
    assert got["metadata"]["labels"] == {"b": "2"}  # a went, b is bob's
    assert got["spec"]["replicas"] == 2  # bob's too
    alone = run(got, config(replicas=None, labels={}), "bob")
    assert "replicas" not in alone["spec"] and "labels" not in alone["metadata"]


def test_a_container_no_longer_applied_goes_whole() -> None:
    two = config()
    two["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "b"})
    live = run({}, two, "alice")
    live["spec"]["template"]["spec"]["containers"][1]["imagePullPolicy"] = "Always"
    got = run(live, config(), "alice")
    assert [c["name"] for c in got["spec"]["template"]["spec"]["containers"]] == ["web"]


def test_an_object_without_managed_fields_belongs_to_before_first_apply() -> None:
    live = config(replicas=5)
    with pytest.raises(errors.Conflict) as caught:
        run(live, config(replicas=2), "alice")
    assert '"before-first-apply" using apps/v1' in caught.value.message
    got = run(live, config(replicas=5), "alice")  # the same values: no conflict
    assert {e["manager"] for e in got["metadata"]["managedFields"]} >= {"alice"}


def test_kubectls_first_server_side_apply_takes_client_side_fields() -> None:
    applied = config(replicas=2, labels={"a": "1"})
    live = copy.deepcopy(applied)
    live["metadata"]["annotations"] = {managed.LAST_APPLIED: json.dumps(applied)}
    managed.record_update(None, live, None, Writer("kubectl-client-side-apply"), "apps/v1",
                          "Deployment")
    got = run(live, config(replicas=3, labels={}), "kubectl")
    # replicas changes without a conflict; the label stays, as kubectl-client-side-apply
    # still owns it (kubectl itself moves that entry to its own before applying).
    assert got["spec"]["replicas"] == 3 and got["metadata"]["labels"] == {"a": "1"}
    last = json.loads(got["metadata"]["annotations"][managed.LAST_APPLIED])
    assert last["spec"]["replicas"] == 3  # kept current
    # Another manager gets no such pass, nor kubectl on a field changed since.
    with pytest.raises(errors.Conflict):
        run(live, config(replicas=3), "someone")
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 9
    managed.record_update(live, scaled, scaled["metadata"]["managedFields"],
                          Writer("kubectl-scale"), "apps/v1", "Deployment")
    with pytest.raises(errors.Conflict) as caught:
        run(scaled, config(replicas=3), "kubectl")
    assert '"kubectl-scale"' in caught.value.message


@pytest.mark.parametrize(("cfg", "message"), [
    ({**config(), "apiVersion": "apps/v2"}, "Incorrect version specified in apply patch"),
    ({**config(), "metadata": {"name": "web", "managedFields": []}},
     "metadata.managedFields must be nil"),
    ({**config(), "spec": {"template": {"spec": {"containers": [
        {"name": "a"}, {"name": "a"}]}}}}, "duplicate entries"),
])
def test_configurations_kubernetes_refuses_are_400(cfg: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        run({}, cfg, "alice")
    assert message in caught.value.message


def test_a_noop_apply_keeps_the_entry_time() -> None:
    live = run({}, config(), "alice")
    live["metadata"]["managedFields"][0]["time"] = "2020-01-01T00:00:00Z"
    again = run(live, config(), "alice")
    assert again["metadata"]["managedFields"][0]["time"] == "2020-01-01T00:00:00Z"
