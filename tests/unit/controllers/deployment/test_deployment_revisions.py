"""The new ReplicaSet: named and selected by the hash, found among the old, its revision."""

from __future__ import annotations

import copy

from apimachinery.meta import Object
from controllers.common.template_hash import POD_TEMPLATE_HASH
from controllers.deployment.revisions import (
    REVISION_HISTORY,
    build_new_rs,
    find_new_rs,
    new_rs_annotations,
)
from controllers.deployment.rollout import REVISION
from tests.unit.controllers.controller_fakes import obj

TEMPLATE: Object = {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "main", "image": "nginx:1"}]}}


def test_the_new_replicaset_carries_the_hash_everywhere() -> None:
    d = obj("deployments", "web", spec={"replicas": 3, "template": TEMPLATE,
                                        "selector": {"matchLabels": {"app": "web"}}})
    rs = build_new_rs(d, "h4sh", 1, {REVISION: "1"})
    assert rs["metadata"]["name"] == "web-h4sh"
    assert rs["metadata"]["labels"] == {"app": "web", POD_TEMPLATE_HASH: "h4sh"}
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", POD_TEMPLATE_HASH: "h4sh"}
    assert rs["spec"]["template"]["metadata"]["labels"][POD_TEMPLATE_HASH] == "h4sh"
    assert rs["metadata"]["ownerReferences"][0] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "uid-web",
        "controller": True, "blockOwnerDeletion": True}
    assert "pod-template-hash" not in d["spec"]["template"]["metadata"]["labels"]


def test_find_new_rs_picks_the_oldest_equal_template() -> None:
    d = obj("deployments", "web", spec={"template": TEMPLATE})
    other = copy.deepcopy(TEMPLATE)
    other["spec"]["containers"][0]["image"] = "nginx:0"
    older = obj("replicasets", "a", metadata={"creationTimestamp": "2024-01-01T00:00:01Z"},
                spec={"template": TEMPLATE})
    newer = obj("replicasets", "b", metadata={"creationTimestamp": "2024-01-01T00:00:02Z"},
                spec={"template": TEMPLATE})
    unrelated = obj("replicasets", "c", spec={"template": other})
    assert find_new_rs(d, [newer, unrelated, older]) is older
    assert find_new_rs(d, [unrelated]) is None


def test_new_rs_annotations_copy_the_deployment_and_raise_the_revision() -> None:
    d = obj("deployments", "web", metadata={"annotations": {
        "kubernetes.io/change-cause": "v2", REVISION: "7",
        "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        spec={"replicas": 4, "strategy": {"type": "RollingUpdate", "rollingUpdate": {
            "maxSurge": 1, "maxUnavailable": 0}}})
    fresh, changed = new_rs_annotations(d, {}, 3, exists=False)
    assert changed
    assert fresh == {"kubernetes.io/change-cause": "v2", REVISION: "3",
                     "deployment.kubernetes.io/desired-replicas": "4",
                     "deployment.kubernetes.io/max-replicas": "5"}
    # an old ReplicaSet becoming new again (rollout undo): max+1, history kept
    undone, changed = new_rs_annotations(d, {REVISION: "1", "kubernetes.io/change-cause": "v2"},
                                         4, exists=True)
    assert changed and undone[REVISION] == "4" and undone[REVISION_HISTORY] == "1"
    # the current new ReplicaSet is already the newest: nothing to change
    same, changed = new_rs_annotations(d, undone, 4, exists=True)
    assert not changed and same == undone
