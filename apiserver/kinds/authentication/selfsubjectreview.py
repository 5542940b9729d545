"""SelfSubjectReview (authentication.k8s.io/v1): `kubectl auth whoami`.

Create-only and never stored: the answer is the request's own user, as the
authenticator (apiserver/auth.py) put it on the request, with the review's
creationTimestamp set to now, as Kubernetes' REST handler does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from apimachinery.meta import Object
from apimachinery.models.authentication import SelfSubjectReview
from apimachinery.resources import ResourceInfo
from apiserver.auth import ANONYMOUS, user_info
from apiserver.kind import Kind, Strategy

RESOURCE = ResourceInfo("authentication.k8s.io", "v1", "SelfSubjectReview",
                        "selfsubjectreviews", False, verbs=("create",))


async def review(request: Request, body: Object) -> Object:
    """The caller, as the apiserver authenticated them; the body's content is ignored."""
    user = getattr(request.state, "user", ANONYMOUS)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": RESOURCE.api_version, "kind": RESOURCE.kind,
            "metadata": {"creationTimestamp": now},
            "status": {"userInfo": user_info(user)}}


class ReviewStrategy(Strategy):
    has_status_subresource = False
    tracks_generation = False


KIND = Kind(resource=RESOURCE, model=SelfSubjectReview, strategy=ReviewStrategy(),
            compute=review)
