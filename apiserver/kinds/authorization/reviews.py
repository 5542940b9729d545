"""Answering the access reviews: SubjectAccessReview, SelfSubjectAccessReview,
SelfSubjectRulesReview (`kubectl auth can-i`, `auth can-i --list`).

Not a kind (no KIND): the apiserver hands a create of any of the three here
instead of to the registry. Each is decoded and field-checked as any create
is, answered in `status` by the configured authorizer, and sent back with 201;
nothing is stored. Who may ask is the authorizer's business too: creating a
SelfSubject*Review is granted to every authenticated user by `system:basic-user`,
a SubjectAccessReview (about someone else) is not.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from apimachinery import errors
from apimachinery.meta import Object
from apiserver.auth import UserInfo
from apiserver.authorizer import Attributes, Authorizer, Rules
from apiserver.fieldvalidation import FieldValidation
from apiserver.kind import Kind
from apiserver.requestinfo import RequestInfo
from apiserver.validation.fields import Errs, as_dict, invalid, required
from apiserver.wire import JSON, check_kind, decode_object, read_body, respond

GROUP = "authorization.k8s.io"
_SUBJECT, _SELF, _RULES = ("subjectaccessreviews", "selfsubjectaccessreviews",
                           "selfsubjectrulesreviews")


def is_review(info: RequestInfo) -> bool:
    return info.resource.group == GROUP


async def create(request: Request, info: RequestInfo, kind: Kind, user: UserInfo,
                 authorizer: Authorizer, max_request_bytes: int) -> Response:
    """POST of a review: the body back with its `status` filled in."""
    if info.verb != "create" or info.name is not None:
        raise errors.MethodNotAllowed(f"{info.verb} is not supported on {info.resource.plural}")
    fields = FieldValidation(request, info.resource, kind.model)
    raw = await read_body(request, max_request_bytes)
    content_type = request.headers.get("content-type", JSON)
    body = decode_object(raw, content_type)
    fields.check_body(raw, content_type, body)
    check_kind(info.resource.api_version, info.resource.kind, body)
    fields.check(body)
    spec = as_dict(body.get("spec"))
    if info.resource.plural == _RULES:
        rules = await authorizer.rules_for(user, str(spec.get("namespace") or ""))
        body["status"] = _rules_status(rules)
    else:
        subject = user
        if info.resource.plural == _SUBJECT:
            _check(kind, body, _subject_errors(spec))
            subject = UserInfo(str(spec.get("user") or ""), str(spec.get("uid") or ""),
                               tuple(spec.get("groups") or ()))
        else:
            _check(kind, body, _attribute_errors(spec))
        decision = await authorizer.authorize(attributes(subject, spec))
        status: dict[str, Any] = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        body["status"] = status
    body.setdefault("metadata", {})
    return respond(request, body, 201)


def attributes(user: UserInfo, spec: dict[str, Any]) -> Attributes:
    """The request a review's spec describes, as the authorizer sees requests."""
    resource = spec.get("resourceAttributes")
    if isinstance(resource, dict):
        return Attributes(user, str(resource.get("verb") or ""),
                          str(resource.get("namespace") or ""), str(resource.get("group") or ""),
                          str(resource.get("version") or ""),
                          str(resource.get("resource") or ""),
                          str(resource.get("subresource") or ""),
                          str(resource.get("name") or ""))
    path = as_dict(spec.get("nonResourceAttributes"))
    return Attributes(user, str(path.get("verb") or ""), path=str(path.get("path") or ""))


def _check(kind: Kind, body: Object, errs: Errs) -> None:
    if errs:
        raise kind.invalid(body, errs)


def _attribute_errors(spec: dict[str, Any]) -> Errs:
    """ValidateSelfSubjectAccessReviewSpec: exactly one of the two attribute sets."""
    has_resource = spec.get("resourceAttributes") is not None
    has_path = spec.get("nonResourceAttributes") is not None
    if has_resource and has_path:
        return [invalid("spec.nonResourceAttributes", spec["nonResourceAttributes"],
                        "cannot be specified in combination with resourceAttributes")]
    if not has_resource and not has_path:
        return [required("spec.resourceAttributes", "exactly one of nonResourceAttributes or "
                                                    "resourceAttributes must be specified")]
    return []


def _subject_errors(spec: dict[str, Any]) -> Errs:
    """ValidateSubjectAccessReviewSpec: the attributes, and a user or a group."""
    errs = _attribute_errors(spec)
    if not spec.get("user") and not spec.get("groups"):
        errs.append(invalid("spec.user", spec.get("user") or "",
                            "at least one of user or group must be specified"))
    return errs


def _rules_status(rules: Rules) -> dict[str, Any]:
    status: dict[str, Any] = {"resourceRules": rules.resource_rules,
                              "nonResourceRules": rules.non_resource_rules,
                              "incomplete": rules.incomplete}
    if rules.evaluation_error:
        status["evaluationError"] = rules.evaluation_error
    return status
