"""ServiceAccount (core/v1) and its `token` subresource (TokenRequest).

`POST serviceaccounts/NAME/token` takes an authentication.k8s.io/v1 TokenRequest
and answers it with a signed token (serviceaccount/tokens.py) in `status`, as
kube-apiserver's TokenREST does: `expirationSeconds` defaults to 3600 and may not
be under 600 (Kubernetes' minimum) or over 2^32; `audiences` default to the
apiserver's own; `boundObjectRef` may name a Pod of the account's namespace, whose
uid goes into the token so it stops working when that Pod is gone. Nothing is
stored: the token is the only record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Response

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.meta import Object
from apimachinery.models.serviceaccount import ServiceAccount
from apimachinery.resources import ResourceInfo
from apiserver.bodies import require_object
from apiserver.kind import Call, Kind, Strategy, Subresource
from apiserver.serviceaccount.tokens import POD_CLAIM, Bound, ServiceAccountTokens
from apiserver.validation.fields import invalid, not_supported
from apiserver.wire import check_kind, respond

RESOURCE = ResourceInfo("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",))
DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 600  # Kubernetes: "may not specify a duration less than 10 minutes"
MAX_EXPIRATION = 1 << 32


class ServiceAccountStrategy(Strategy):
    has_status_subresource = False
    tracks_generation = False


def _time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TokenSubresource(Subresource):
    """`serviceaccounts/NAME/token`: create a TokenRequest, get a token."""

    name, verbs = "token", ("create",)
    group, version, kind = "authentication.k8s.io", "v1", "TokenRequest"

    async def create(self, call: Call) -> Response:
        tokens: ServiceAccountTokens = call.request.app.state.service_account_tokens
        body = await call.object()
        check_kind("authentication.k8s.io/v1", "TokenRequest", body)
        spec = require_object(body.get("spec") or {}, "spec", "the TokenRequest")
        seconds, audiences = _expiration(call.name, spec), _audiences(call.name, spec)
        account = await call.registry.get(call.resource, call.namespace, call.name)
        if tokens.signing_key is None:
            raise errors.ServiceUnavailable(
                "tokens cannot be issued: the apiserver has no "
                "--service-account-signing-key-file")
        namespace = call.namespace or ""
        bound, ref = await _bound(call, namespace, spec.get("boundObjectRef"))
        token, expires = tokens.issue(
            namespace, call.name, account["metadata"]["uid"], audiences=audiences,
            seconds=seconds, bound=bound)
        out_spec: Object = {"audiences": audiences or list(tokens.api_audiences),
                            "expirationSeconds": seconds}
        if ref is not None:
            out_spec["boundObjectRef"] = ref
        return respond(call.request, {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": {"name": call.name, "namespace": namespace,
                         "creationTimestamp": _time(expires - seconds)},
            "spec": out_spec,
            "status": {"token": token, "expirationTimestamp": _time(expires)}}, 201)


def _refuse(name: str, problem: FieldError) -> errors.Invalid:
    return errors.Invalid("TokenRequest", name, [problem], group="authentication.k8s.io")


def _expiration(name: str, spec: Object) -> int:
    seconds = spec.get("expirationSeconds", DEFAULT_EXPIRATION)
    if seconds is None:
        return DEFAULT_EXPIRATION
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise _refuse(name, invalid("spec.expirationSeconds", seconds, "must be an integer"))
    if seconds < MIN_EXPIRATION:
        raise _refuse(name, invalid("spec.expirationSeconds", seconds,
                                    "may not specify a duration less than 10 minutes"))
    if seconds > MAX_EXPIRATION:
        raise _refuse(name, invalid("spec.expirationSeconds", seconds,
                                    "may not specify a duration larger than 2^32 seconds"))
    return seconds


def _audiences(name: str, spec: Object) -> list[str]:
    audiences = spec.get("audiences") or []
    if not isinstance(audiences, list) or not all(isinstance(a, str) and a for a in audiences):
        raise _refuse(name, invalid("spec.audiences", audiences,
                                    "must be a list of non-empty strings"))
    return list(audiences)


async def _bound(call: Call, namespace: str, ref: Any) -> tuple[Bound | None, Object | None]:
    """The Pod a token is bound to, checked to exist with the uid given (if any)."""
    if ref is None:
        return None, None
    ref = require_object(ref, "spec.boundObjectRef", "the TokenRequest")
    kind = ref.get("kind")
    if kind != "Pod":
        raise _refuse(call.name, not_supported("spec.boundObjectRef.kind", kind, ["Pod"]))
    if ref.get("apiVersion", "v1") != "v1":
        raise _refuse(call.name, not_supported("spec.boundObjectRef.apiVersion",
                                               ref.get("apiVersion"), ["v1"]))
    pods = call.registry.kinds.lookup("", "pods").resource
    pod = await call.registry.get(pods, namespace, str(ref.get("name") or ""))
    uid = pod["metadata"]["uid"]
    if ref.get("uid") and ref["uid"] != uid:
        raise errors.Conflict(f"the UID in the bound object reference ({ref['uid']}) does "
                              f"not match the UID in record. The object might have been "
                              f"deleted and then recreated")
    name = pod["metadata"]["name"]
    return Bound(POD_CLAIM, name, uid), {"kind": "Pod", "apiVersion": "v1", "name": name,
                                     "uid": uid}


KIND = Kind(
    resource=RESOURCE,
    model=ServiceAccount,
    strategy=ServiceAccountStrategy(),
    subresources=(TokenSubresource(),),
)
