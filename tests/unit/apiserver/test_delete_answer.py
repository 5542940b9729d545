"""What a DELETE reads and answers: its options (dryRun in the body too), and a Success
Status naming the removed object by resource."""

from __future__ import annotations

import pytest

from apimachinery import errors
from apimachinery.resources import ResourceInfo
from apiserver.handlers import deleted_status
from apiserver.kinds import registry
from apiserver.registry import DeleteOptions


def _resource(group: str, plural: str) -> ResourceInfo:
    return registry().lookup(group, plural).resource


def test_a_removed_object_is_answered_with_a_success_status() -> None:
    cm = {"metadata": {"name": "cm", "namespace": "ns", "uid": "u-1"}, "data": {"k": "v"}}
    assert deleted_status(_resource("", "configmaps"), cm) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": "cm", "group": "", "kind": "configmaps", "uid": "u-1"}}
    web = {"metadata": {"name": "web", "uid": "u-2"}}
    assert deleted_status(_resource("apps", "deployments"), web)["details"] == {
        "name": "web", "group": "apps", "kind": "deployments", "uid": "u-2"}


def test_pods_and_services_return_the_deleted_object_as_kubernetes() -> None:
    returning = {plural for group, plural in [("", "pods"), ("", "services"),
                                               ("", "configmaps"), ("apps", "deployments"),
                                               ("", "nodes"), ("", "namespaces")]
                 if registry().lookup(group, plural).strategy.returns_deleted_object}
    assert returning == {"pods", "services"}


def test_delete_options_take_dry_run_from_the_body() -> None:
    assert DeleteOptions.from_body({"dryRun": ["All"]}, {}).dry_run
    assert not DeleteOptions.from_body({"gracePeriodSeconds": 3}, {}).dry_run
    for bad in (["Some"], "All", ["All", "x"]):
        with pytest.raises(errors.BadRequest):
            DeleteOptions.from_body({"dryRun": bad}, {})


def test_orphan_dependents_from_the_body_or_the_query() -> None:
    assert DeleteOptions.from_body({"orphanDependents": True}, {}).propagation_policy == \
        "Orphan"
    assert DeleteOptions.from_body(None, {"orphanDependents": "true"}).propagation_policy == \
        "Orphan"
    assert DeleteOptions.from_body(None, {"orphanDependents": "false"}).propagation_policy \
        is None
