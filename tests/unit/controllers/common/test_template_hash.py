"""pod-template-hash and semantic template equality."""

from __future__ import annotations

import copy

from apimachinery.meta import Object
from controllers.common.template_hash import POD_TEMPLATE_HASH, equal_ignore_hash, template_hash

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
