"""Pod Security labels: levels, versions, Schooner's defaults, bad values."""

from __future__ import annotations

from apiserver.kinds.core.podsecurity.levels import (
    Level,
    LevelVersion,
    label_errors,
    parse_version,
    policy_for,
)

P = "pod-security.kubernetes.io/"


def test_a_namespace_without_labels_is_baseline_latest_in_every_mode() -> None:
    policy = policy_for("team-a", None)
    assert str(policy.enforce) == str(policy.warn) == str(policy.audit) == "baseline:latest"


def test_kube_system_is_privileged_by_default_but_its_labels_still_count() -> None:
    assert policy_for("kube-system", {}).enforce.level == Level.PRIVILEGED
    labelled = policy_for("kube-system", {P + "enforce": "restricted"})
    assert labelled.enforce.level == Level.RESTRICTED


def test_each_mode_reads_its_own_label_and_version() -> None:
    policy = policy_for("ns", {P + "enforce": "restricted", P + "enforce-version": "v1.24",
                               P + "warn": "privileged", P + "audit": "baseline"})
    assert str(policy.enforce) == "restricted:v1.24"
    assert str(policy.warn) == "privileged:latest"
    assert str(policy.audit) == "baseline:latest"


def test_versions_parse_as_kubernetes_does() -> None:
    assert parse_version("latest") is None
    assert parse_version("v1.22") == 22
    assert parse_version("v1.999") is None  # newer than Schooner knows: latest
    assert parse_version("1.22") == 'must be "latest" or "v1.x"'
    assert parse_version("v2.0") == 'must be "latest" or "v1.x"'


def test_a_bad_label_value_is_named_and_treated_as_restricted_latest() -> None:
    labels = {P + "enforce": "strict", P + "warn-version": "next"}
    assert label_errors(labels) == [
        (P + "enforce", "strict", "must be one of privileged, baseline, restricted"),
        (P + "warn-version", "next", 'must be "latest" or "v1.x"')]
    policy = policy_for("ns", labels)
    assert policy.enforce == LevelVersion(Level.RESTRICTED)
    assert policy.warn == LevelVersion(Level.RESTRICTED)
    assert policy.audit == LevelVersion(Level.BASELINE)


def test_checks_introduced_later_do_not_apply_at_older_versions() -> None:
    assert LevelVersion(Level.RESTRICTED, 21).at_least(22) is False
    assert LevelVersion(Level.RESTRICTED, 22).at_least(22) is True
    assert LevelVersion(Level.RESTRICTED).at_least(99) is True
