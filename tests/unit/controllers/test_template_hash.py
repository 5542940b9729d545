"""pod-template-hash, semantic template equality, and revision annotations."""

from __future__ import annotations

import copy
from typing import Any

from controllers.deployment_util import (
    POD_TEMPLATE_HASH,
    REVISION,
    REVISION_HISTORY,
    build_new_rs,
    equal_ignore_hash,
    find_new_rs,
    new_rs_annotations,
    template_hash,
)
from tests.unit.controllers.controller_fakes import obj

Object = dict[str, Any]
TEMPLATE: Object = {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "main", "image": "nginx:1"}]}}


def test_hash_is_stable_across_processes_and_releases() -> None:
    # Pinned: a change here renames every ReplicaSet of every Deployment on upgrade.
    assert template_hash(TEMPLATE) == "55cc6b6ff"
    assert template_hash(TEMPLATE, 1) == "5fcc88f5d6"


def test_hash_uses_the_safe_alphabet_and_ignores_key_order() -> None:
    reordered = {"spec": {"containers": [{"image": "nginx:1", "name": "main"}]},
                 "metadata": {"labels": {"app": "web"}}}
    assert template_hash(reordered) == template_hash(TEMPLATE)
    assert set(template_hash(TEMPLATE)) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_hash_changes_with_the_template_and_the_collision_count() -> None:
    changed = copy.deepcopy(TEMPLATE)
    changed["spec"]["containers"][0]["image"] = "nginx:2"
    assert template_hash(changed) != template_hash(TEMPLATE)
    assert template_hash(TEMPLATE, 0) != template_hash(TEMPLATE)


def test_a_template_back_from_rollout_undo_compares_and_hashes_equal() -> None:
    # kubectl sends the ReplicaSet's template with nulls and empty maps, hash label removed.
    undone = {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
              "spec": {"containers": [{"name": "main", "image": "nginx:1", "resources": {}}],
                       "volumes": []}}
    assert equal_ignore_hash(undone, TEMPLATE)
    assert template_hash(undone) == template_hash(TEMPLATE)


def test_equality_ignores_the_pod_template_hash_label() -> None:
    labelled = copy.deepcopy(TEMPLATE)
    labelled["metadata"]["labels"][POD_TEMPLATE_HASH] = "abc"
    assert equal_ignore_hash(labelled, TEMPLATE)
    assert template_hash(labelled) == template_hash(TEMPLATE)
    assert TEMPLATE["metadata"]["labels"] == {"app": "web"}  # inputs untouched


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
