"""Typed authentication.k8s.io/v1 objects: who the apiserver took a request to be.

SelfSubjectReview (`kubectl auth whoami`) answers with the caller's UserInfo; the
apiserver computes it and stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import ApiVersion, K8sModel, Kind, Time, TypedObject
from apimachinery.models.schema import ProtobufHint, field


class UserInfo(K8sModel):
    """An authenticated user: the name, uid and groups authorizers read."""

    username: Annotated[str | None, field(
        "The user's name: a client certificate's CN, a token file's user, or "
        "system:serviceaccount:NAMESPACE:NAME.", protobuf=1)] = None
    uid: Annotated[str | None, field(
        "A unique value for the user across time (a token file's uid).", protobuf=2)] = None
    groups: Annotated[list[str] | None, field(
        "The groups the user is in, system:authenticated always among them.",
        protobuf=3, list_type="atomic")] = None


class SelfSubjectReviewStatus(K8sModel):
    """What the apiserver made of the request's credentials."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"userInfo": "value"}

    user_info: Annotated[UserInfo | None, field(
        "The user the request authenticated as.", protobuf=1)] = None


class SelfSubjectReview(TypedObject):
    """Create one to learn who the apiserver takes you to be (`kubectl auth whoami`)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"status": "value"}

    api_version: ApiVersion = "authentication.k8s.io/v1"
    kind: Kind = "SelfSubjectReview"
    status: Annotated[SelfSubjectReviewStatus | None, field(
        "Filled in by the apiserver; anything sent here is ignored.", protobuf=2)] = None


class BoundObjectReference(K8sModel):
    """The object a requested token is bound to: the token dies with it."""

    kind: Annotated[str | None, field("Pod (the kind Schooner binds to).", protobuf=1)] = None
    api_version: Annotated[str | None, field("v1 for a Pod.", protobuf=2)] = None
    name: Annotated[str | None, field("The object's name, in the account's namespace.",
                                      protobuf=3)] = None
    uid: Annotated[str | None, field(
        "The object's uid; filled in when empty, refused when it differs.",
        protobuf=4)] = None


class TokenRequestSpec(K8sModel):
    """What token is asked for."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"expirationSeconds": "pointer"}

    audiences: Annotated[list[str] | None, field(
        "Who the token is for; the apiserver's own audiences when empty.", protobuf=1,
        list_type="atomic")] = None
    expiration_seconds: Annotated[int | None, field(
        "How long the token lives: at least 600, 3600 by default.", protobuf=4)] = None
    bound_object_ref: Annotated[BoundObjectReference | None, field(
        "A Pod the token is bound to.", protobuf=3)] = None


class TokenRequestStatus(K8sModel):
    """The token issued."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"expirationTimestamp": "value"}

    token: Annotated[str | None, field("The signed token (a JWT).", protobuf=1)] = None
    expiration_timestamp: Annotated[Time | None, field(
        "When the token expires.", protobuf=2)] = None


class TokenRequest(TypedObject):
    """`serviceaccounts/NAME/token`: a token for the service account."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "authentication.k8s.io/v1"
    kind: Kind = "TokenRequest"
    spec: Annotated[TokenRequestSpec | None, field("The token asked for.", protobuf=2)] = None
    status: Annotated[TokenRequestStatus | None, field(
        "The token issued.", protobuf=3)] = None


class TokenReviewSpec(K8sModel):
    """The token to check, and for whom."""

    token: Annotated[str | None, field("The bearer token.", protobuf=1)] = None
    audiences: Annotated[list[str] | None, field(
        "Audiences the token must be good for one of; the apiserver's own when empty.",
        protobuf=2, list_type="atomic")] = None


class TokenReviewStatus(K8sModel):
    """Whether the token authenticates, and as whom."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"user": "value"}

    authenticated: Annotated[bool | None, field(
        "True when the token is good.", protobuf=1)] = None
    user: Annotated[UserInfo | None, field(
        "The user the token authenticates as.", protobuf=2)] = None
    audiences: Annotated[list[str] | None, field(
        "The audiences the token is good for.", protobuf=4, list_type="atomic")] = None
    error: Annotated[str | None, field("Why the token is not good.", protobuf=3)] = None


class TokenReview(TypedObject):
    """Ask the apiserver whether a bearer token authenticates (a webhook's question)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "authentication.k8s.io/v1"
    kind: Kind = "TokenReview"
    spec: Annotated[TokenReviewSpec | None, field("The token to check.", protobuf=2)] = None
    status: Annotated[TokenReviewStatus | None, field(
        "Filled in by the apiserver.", protobuf=3)] = None
