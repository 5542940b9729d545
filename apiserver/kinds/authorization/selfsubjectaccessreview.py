"""SelfSubjectAccessReview (authorization.k8s.io/v1): create-only.

The apiserver answers it in `status` and stores nothing (reviews.py).
"""

from __future__ import annotations

from apimachinery.models.authorization import SelfSubjectAccessReview
from apimachinery.resources import ResourceInfo
from apiserver.kind import Kind, Strategy
from apiserver.kinds.authorization import reviews

RESOURCE = ResourceInfo("authorization.k8s.io", "v1", "SelfSubjectAccessReview",
                        "selfsubjectaccessreviews", False, verbs=("create",))


class SelfSubjectAccessReviewStrategy(Strategy):
    has_status_subresource = False
    tracks_generation = False


KIND = Kind(resource=RESOURCE, model=SelfSubjectAccessReview,
            strategy=SelfSubjectAccessReviewStrategy(),
            compute=reviews.self_subject_access_review)
