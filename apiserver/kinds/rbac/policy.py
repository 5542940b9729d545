"""Validation and printing the four RBAC kinds share (Kubernetes' pkg/apis/rbac/validation).

Not a kind itself (no KIND): the kind modules import it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apimachinery.meta import Object, metadata, name_of
from apimachinery.printers import age
from apiserver.defaulting import Obj
from apiserver.validation.fields import (
    Errs,
    as_dict,
    child,
    dict_items,
    invalid,
    not_supported,
    required,
)

GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def path_segment_name(name: str) -> list[str]:
    """ValidateRBACName (path.IsValidPathSegmentName): `system:node` is fine, `a/b` is not."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def validate_rules(obj: Object, *, namespaced: bool) -> Errs:
    """ValidatePolicyRule for each of `rules`."""
    errs: Errs = []
    for i, rule in dict_items(obj.get("rules")):
        errs += validate_rule(rule, f"rules[{i}]", namespaced=namespaced)
    return errs


def validate_rule(rule: dict[str, Any], path: str, *, namespaced: bool) -> Errs:
    """Verbs required; a rule is about resources or about URLs, never both."""
    errs: Errs = []
    if not rule.get("verbs"):
        errs.append(required(child(path, "verbs"), "verbs must contain at least one value"))
    urls = rule.get("nonResourceURLs")
    if urls:
        if namespaced:
            errs.append(invalid(child(path, "nonResourceURLs"), urls,
                                "namespaced rules cannot apply to non-resource URLs"))
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            errs.append(invalid(child(path, "nonResourceURLs"), urls,
                                "rules cannot apply to both regular resources and "
                                "non-resource URLs"))
        return errs
    if not rule.get("apiGroups"):
        errs.append(required(child(path, "apiGroups"),
                             "resource rules must supply at least one api group"))
    if not rule.get("resources"):
        errs.append(required(child(path, "resources"),
                             "resource rules must supply at least one resource"))
    return errs


def default_binding(obj: Obj) -> None:
    """SetDefaults_RoleBinding/Subject: the RBAC group on roleRef, User and Group subjects."""
    ref = obj.get("roleRef")
    if isinstance(ref, dict) and not ref.get("apiGroup"):
        ref["apiGroup"] = GROUP
    for _, subject in dict_items(obj.get("subjects")):
        if not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = GROUP


def validate_binding(obj: Object, old: Object | None, *, namespaced: bool) -> Errs:
    """ValidateRoleBinding / ValidateClusterRoleBinding (and their updates)."""
    errs: Errs = []
    ref = as_dict(obj.get("roleRef"))
    kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if ref.get("apiGroup") != GROUP:
        errs.append(not_supported("roleRef.apiGroup", ref.get("apiGroup"), [GROUP]))
    if ref.get("kind") not in kinds:
        errs.append(not_supported("roleRef.kind", ref.get("kind"), kinds))
    name = ref.get("name")
    if not name:
        errs.append(required("roleRef.name"))
    else:
        errs += [invalid("roleRef.name", name, m) for m in path_segment_name(str(name))]
    for i, subject in dict_items(obj.get("subjects")):
        errs += _validate_subject(subject, f"subjects[{i}]", namespaced=namespaced)
    if old is not None and obj.get("roleRef") != old.get("roleRef"):
        errs.append(invalid("roleRef", obj.get("roleRef"), "cannot change roleRef"))
    return errs


def _validate_subject(subject: dict[str, Any], path: str, *, namespaced: bool) -> Errs:
    """ValidateRoleBindingSubject."""
    errs: Errs = []
    name, kind, group = subject.get("name"), subject.get("kind"), subject.get("apiGroup") or ""
    if not name:
        errs.append(required(child(path, "name")))
    if kind == "ServiceAccount":
        if group:
            errs.append(not_supported(child(path, "apiGroup"), group, [""]))
        if not subject.get("namespace") and not namespaced:
            errs.append(required(child(path, "namespace")))
    elif kind in ("User", "Group"):
        if group != GROUP:
            errs.append(not_supported(child(path, "apiGroup"), group, [GROUP]))
    else:
        errs.append(not_supported(child(path, "kind"), kind, SUBJECT_KINDS))
    return errs


def created_at_row(obj: Object, now: datetime) -> list[Any]:
    """kubectl get roles/clusterroles: NAME, CREATED AT."""
    return [name_of(obj), metadata(obj).get("creationTimestamp") or ""]


def binding_row(obj: Object, now: datetime) -> list[Any]:
    """kubectl get (cluster)rolebindings: NAME, ROLE, AGE; wide: USERS, GROUPS, SAs."""
    ref = as_dict(obj.get("roleRef"))
    subjects = [s for _, s in dict_items(obj.get("subjects"))]

    def names(kind: str) -> str:
        return ", ".join(
            (f"{s.get('namespace')}/{s.get('name')}" if kind == "ServiceAccount"
             else str(s.get("name"))) for s in subjects if s.get("kind") == kind)

    return [name_of(obj), f"{ref.get('kind')}/{ref.get('name')}", age(obj, now),
            names("User"), names("Group"), names("ServiceAccount")]
