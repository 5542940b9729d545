"""TokenReview (authentication.k8s.io/v1): does a bearer token authenticate, and as whom?

Create-only and never stored, as Kubernetes' TokenReview REST: the apiserver runs
its own token authenticators (static tokens, service-account tokens) on
`spec.token` for `spec.audiences` (default: its own) and answers in `status`. A
token that does not authenticate is `authenticated: false` with an `error`, not
a failed request. An empty token is a 422 on `spec.token`, as Kubernetes'.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.meta import Object
from apimachinery.models.authentication import TokenReview
from apimachinery.resources import ResourceInfo
from apiserver.auth import Authenticator, user_info
from apiserver.bodies import require_object
from apiserver.kind import Kind, Strategy

RESOURCE = ResourceInfo("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", False,
                        verbs=("create",))


async def review(request: Request, body: Object) -> Object:
    spec = require_object(body.get("spec"), "spec", "the TokenReview")
    token, audiences = spec.get("token"), spec.get("audiences") or []
    if not isinstance(token, str) or not token:
        raise errors.Invalid("TokenReview", "", [FieldError(
            "spec.token", "Required value", None, "FieldValueRequired")],
            group=RESOURCE.group)
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise errors.Invalid("TokenReview", "", [FieldError(
            "spec.audiences", "Invalid value: must be a list of strings", audiences)],
            group=RESOURCE.group)
    authenticator: Authenticator = request.app.state.authenticator
    status: Object
    try:
        user, good = await authenticator.review(token, audiences)
        status = {"authenticated": True, "user": user_info(user), "audiences": list(good)}
    except errors.Unauthorized:
        status = {"user": {}, "error": "[invalid bearer token, token lookup failed]"}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": RESOURCE.api_version, "kind": RESOURCE.kind,
            "metadata": {"creationTimestamp": now},
            "spec": {"token": token, **({"audiences": audiences} if audiences else {})},
            "status": status}


class ReviewStrategy(Strategy):
    has_status_subresource = False
    tracks_generation = False


KIND = Kind(resource=RESOURCE, model=TokenReview, strategy=ReviewStrategy(), compute=review)
