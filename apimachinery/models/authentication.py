"""Typed authentication.k8s.io/v1 objects: who the apiserver took a request to be.

SelfSubjectReview (`kubectl auth whoami`) answers with the caller's UserInfo; the
apiserver computes it and stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import ApiVersion, K8sModel, Kind, TypedObject
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
