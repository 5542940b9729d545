"""Typed rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding.

Field numbers are k8s.io/api rbac/v1 generated.proto's: kubectl sends these
kinds as protobuf (`kubectl create role`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from apimachinery.models.meta import ApiVersion, K8sModel, Kind, LabelSelector, TypedObject
from apimachinery.models.schema import ProtobufHint, field

_ATOMIC = "atomic"


class PolicyRule(K8sModel):
    """Verbs allowed on resources (by API group, optionally by name) or on non-resource URLs."""

    verbs: Annotated[list[str], field(
        "The verbs this rule allows (get, list, watch, create, update, patch, delete, "
        "deletecollection, or any other; '*' is all).", protobuf=1, list_type=_ATOMIC)]
    api_groups: Annotated[list[str] | None, field(
        "The API groups of the resources ('' is the core group, '*' all).",
        protobuf=2, list_type=_ATOMIC)] = None
    resources: Annotated[list[str] | None, field(
        "The resources ('pods', 'pods/log' for a subresource, '*' all, '*/scale' a "
        "subresource of any).", protobuf=3, list_type=_ATOMIC)] = None
    resource_names: Annotated[list[str] | None, field(
        "Only these objects by name; empty is every object.", protobuf=4, list_type=_ATOMIC)] = None
    non_resource_urls: Annotated[list[str] | None, field(
        "Non-resource paths ('/healthz', '/apis/*' a prefix); only in a ClusterRole and "
        "only with ClusterRoleBindings.", protobuf=5, list_type=_ATOMIC,
        alias="nonResourceURLs")] = None


class AggregationRule(K8sModel):
    """Which ClusterRoles' rules the aggregation controller gathers into this one."""

    cluster_role_selectors: Annotated[list[LabelSelector] | None, field(
        "ClusterRoles matching any of these selectors have their rules copied into this "
        "role's rules by the controller-manager.", protobuf=1, list_type=_ATOMIC)] = None


class Subject(K8sModel):
    """Who a binding grants to: a User, a Group or a ServiceAccount."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    kind: Annotated[str, field("User, Group or ServiceAccount.", protobuf=1)]
    api_group: Annotated[str | None, field(
        "'rbac.authorization.k8s.io' for User and Group, '' for ServiceAccount.",
        protobuf=2)] = None
    name: Annotated[str, field("The subject's name.", protobuf=3)]
    namespace: Annotated[str | None, field(
        "A ServiceAccount's namespace.", protobuf=4)] = None


class RoleRef(K8sModel):
    """The role a binding grants; it never changes once the binding exists."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    api_group: Annotated[str | None, field("rbac.authorization.k8s.io.", protobuf=1)] = None
    kind: Annotated[str | None, field("Role or ClusterRole.", protobuf=2)] = None
    name: Annotated[str | None, field("The role's name.", protobuf=3)] = None


class Role(TypedObject):
    """Rules that apply within the Role's namespace."""

    api_version: ApiVersion = "rbac.authorization.k8s.io/v1"
    kind: Kind = "Role"
    rules: Annotated[list[PolicyRule] | None, field(
        "What the role allows.", protobuf=2, list_type=_ATOMIC)] = None


class ClusterRole(TypedObject):
    """Rules usable cluster-wide (ClusterRoleBinding) or in one namespace (RoleBinding)."""

    api_version: ApiVersion = "rbac.authorization.k8s.io/v1"
    kind: Kind = "ClusterRole"
    rules: Annotated[list[PolicyRule] | None, field(
        "What the role allows.", protobuf=2, list_type=_ATOMIC)] = None
    aggregation_rule: Annotated[AggregationRule | None, field(
        "When set, rules are kept by the controller-manager from the selected ClusterRoles.",
        protobuf=3)] = None


class RoleBinding(TypedObject):
    """Grants a Role or ClusterRole's rules to subjects within the binding's namespace."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"roleRef": "value"}

    api_version: ApiVersion = "rbac.authorization.k8s.io/v1"
    kind: Kind = "RoleBinding"
    subjects: Annotated[list[Subject] | None, field(
        "Who is granted the role.", protobuf=2, list_type=_ATOMIC)] = None
    role_ref: Annotated[RoleRef, field(
        "The Role (same namespace) or ClusterRole granted; immutable.", protobuf=3)]


class ClusterRoleBinding(TypedObject):
    """Grants a ClusterRole's rules to subjects in every namespace and cluster-wide."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"roleRef": "value"}

    api_version: ApiVersion = "rbac.authorization.k8s.io/v1"
    kind: Kind = "ClusterRoleBinding"
    subjects: Annotated[list[Subject] | None, field(
        "Who is granted the role.", protobuf=2, list_type=_ATOMIC)] = None
    role_ref: Annotated[RoleRef, field(
        "The ClusterRole granted; immutable.", protobuf=3)]
