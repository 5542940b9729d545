"""Typed authorization.k8s.io/v1: SubjectAccessReview, SelfSubjectAccessReview and
SelfSubjectRulesReview, the questions `kubectl auth can-i` asks.

Field numbers are k8s.io/api authorization/v1 generated.proto's (kubectl sends
these as protobuf). Reviews are never stored: the answer is the `status` of
the object sent back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import ApiVersion, K8sModel, Kind, TypedObject
from apimachinery.models.schema import ProtobufHint, field

_ATOMIC = "atomic"


class ResourceAttributes(K8sModel):
    """A resource request, as the authorizer sees one."""

    namespace: Annotated[str | None, field(
        "The namespace ('' for cluster-scoped resources or all namespaces).", protobuf=1)] = None
    verb: Annotated[str | None, field(
        "get, list, watch, create, update, patch, delete, deletecollection, or '*'.",
        protobuf=2)] = None
    group: Annotated[str | None, field("The API group ('' is core).", protobuf=3)] = None
    version: Annotated[str | None, field("The API version.", protobuf=4)] = None
    resource: Annotated[str | None, field("The resource, e.g. pods.", protobuf=5)] = None
    subresource: Annotated[str | None, field("The subresource, e.g. log.", protobuf=6)] = None
    name: Annotated[str | None, field("The object's name ('' for all).", protobuf=7)] = None


class NonResourceAttributes(K8sModel):
    """A request to a path that is no resource (/healthz, /api)."""

    path: Annotated[str | None, field("The URL path.", protobuf=1)] = None
    verb: Annotated[str | None, field("The HTTP verb in lower case.", protobuf=2)] = None


class SubjectAccessReviewSpec(K8sModel):
    """Whom the question is about, and what is asked."""

    resource_attributes: Annotated[ResourceAttributes | None, field(
        "A resource request; exactly one of this and nonResourceAttributes.",
        protobuf=1)] = None
    non_resource_attributes: Annotated[NonResourceAttributes | None, field(
        "A non-resource request.", protobuf=2)] = None
    user: Annotated[str | None, field("The user asked about.", protobuf=3)] = None
    groups: Annotated[list[str] | None, field(
        "The user's groups.", protobuf=4, list_type=_ATOMIC)] = None
    uid: Annotated[str | None, field("The user's UID.", protobuf=6)] = None


class SelfSubjectAccessReviewSpec(K8sModel):
    """What the requesting user asks about itself."""

    resource_attributes: Annotated[ResourceAttributes | None, field(
        "A resource request; exactly one of this and nonResourceAttributes.",
        protobuf=1)] = None
    non_resource_attributes: Annotated[NonResourceAttributes | None, field(
        "A non-resource request.", protobuf=2)] = None


class SubjectAccessReviewStatus(K8sModel):
    """The answer."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"allowed": "zero"}

    allowed: Annotated[bool | None, field("Whether the request is allowed.", protobuf=1)] = None
    denied: Annotated[bool | None, field(
        "Whether it is explicitly denied (RBAC never denies; always false).",
        protobuf=4)] = None
    reason: Annotated[str | None, field("Why, when known.", protobuf=2)] = None
    evaluation_error: Annotated[str | None, field(
        "What went wrong while deciding, if anything.", protobuf=3)] = None


class SubjectAccessReview(TypedObject):
    """May this user do this? Asked by components on behalf of others."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "authorization.k8s.io/v1"
    kind: Kind = "SubjectAccessReview"
    spec: Annotated[SubjectAccessReviewSpec, field("The question.", protobuf=2)]
    status: Annotated[SubjectAccessReviewStatus | None, field(
        "The answer, filled in by the apiserver.", protobuf=3)] = None


class SelfSubjectAccessReview(TypedObject):
    """May I do this? (`kubectl auth can-i VERB RESOURCE`)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "authorization.k8s.io/v1"
    kind: Kind = "SelfSubjectAccessReview"
    spec: Annotated[SelfSubjectAccessReviewSpec, field("The question.", protobuf=2)]
    status: Annotated[SubjectAccessReviewStatus | None, field(
        "The answer, filled in by the apiserver.", protobuf=3)] = None


class SelfSubjectRulesReviewSpec(K8sModel):
    """Which namespace to list the rules for."""

    namespace: Annotated[str | None, field("The namespace to evaluate rules in.",
                                           protobuf=1)] = None


class ResourceRule(K8sModel):
    """Verbs allowed on resources."""

    verbs: Annotated[list[str] | None, field("Allowed verbs.", protobuf=1,
                                             list_type=_ATOMIC)] = None
    api_groups: Annotated[list[str] | None, field("API groups.", protobuf=2,
                                                  list_type=_ATOMIC)] = None
    resources: Annotated[list[str] | None, field("Resources.", protobuf=3,
                                                 list_type=_ATOMIC)] = None
    resource_names: Annotated[list[str] | None, field("Object names (empty: all).", protobuf=4,
                                                      list_type=_ATOMIC)] = None


class NonResourceRule(K8sModel):
    """Verbs allowed on non-resource URLs."""

    verbs: Annotated[list[str] | None, field("Allowed verbs.", protobuf=1,
                                             list_type=_ATOMIC)] = None
    non_resource_urls: Annotated[list[str] | None, field(
        "URL paths ('*' suffix: a prefix).", protobuf=2, list_type=_ATOMIC,
        alias="nonResourceURLs")] = None


class SubjectRulesReviewStatus(K8sModel):
    """Everything the user may do in the namespace."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"incomplete": "zero"}

    resource_rules: Annotated[list[ResourceRule] | None, field(
        "Rules on resources.", protobuf=1, list_type=_ATOMIC)] = None
    non_resource_rules: Annotated[list[NonResourceRule] | None, field(
        "Rules on non-resource URLs.", protobuf=2, list_type=_ATOMIC)] = None
    incomplete: Annotated[bool | None, field(
        "True when the list may lack rules (an authorizer that cannot list them).",
        protobuf=3)] = None
    evaluation_error: Annotated[str | None, field(
        "What went wrong while listing, e.g. a bound role that does not exist.",
        protobuf=4)] = None


class SelfSubjectRulesReview(TypedObject):
    """What may I do in this namespace? (`kubectl auth can-i --list`)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "authorization.k8s.io/v1"
    kind: Kind = "SelfSubjectRulesReview"
    spec: Annotated[SelfSubjectRulesReviewSpec, field("The question.", protobuf=2)]
    status: Annotated[SubjectRulesReviewStatus | None, field(
        "The answer, filled in by the apiserver.", protobuf=3)] = None
