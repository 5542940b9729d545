"""Answering the access reviews: SubjectAccessReview, SelfSubjectAccessReview,
SelfSubjectRulesReview (`kubectl auth can-i`, `auth can-i --list`).

Not a kind (no KIND): each of the three kinds computes its POST's answer here
(Kind.compute, as authentication.k8s.io's reviews). The handler decodes and
field-checks the body as any create's; it is answered in `status` by the
configured authorizer and sent back with 201; nothing is stored. Who may ask
is the authorizer's business too: creating a SelfSubject*Review is granted to
every authenticated user by `system:basic-user`, a SubjectAccessReview (about
someone else) is not.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from apimachinery import errors
from apimachinery.meta import Object
from apiserver.auth import ANONYMOUS, UserInfo
from apiserver.authorizer import Attributes, Authorizer, Rules
from apiserver.validation.fields import Errs, as_dict, invalid, required

GROUP = "authorization.k8s.io"
SUBJECT, SELF = "SubjectAccessReview", "SelfSubjectAccessReview"


async def subject_access_review(request: Request, body: Object) -> Object:
    """SubjectAccessReview: may the spec's user (and groups) do what the spec says?"""
    spec = as_dict(body.get("spec"))
    _check(SUBJECT, body, _subject_errors(spec))
    subject = UserInfo(str(spec.get("user") or ""), str(spec.get("uid") or ""),
                       tuple(spec.get("groups") or ()))
    return await _decide(request, body, subject, spec)


async def self_subject_access_review(request: Request, body: Object) -> Object:
    """SelfSubjectAccessReview: may the caller do what the spec says (`auth can-i`)?"""
    spec = as_dict(body.get("spec"))
    _check(SELF, body, _attribute_errors(spec))
    return await _decide(request, body, _caller(request), spec)


async def self_subject_rules_review(request: Request, body: Object) -> Object:
    """SelfSubjectRulesReview: what may the caller do in spec.namespace (`auth can-i --list`)?"""
    spec = as_dict(body.get("spec"))
    rules = await _authorizer(request).rules_for(_caller(request),
                                                 str(spec.get("namespace") or ""))
    return _answer(body, _rules_status(rules))


async def _decide(request: Request, body: Object, subject: UserInfo,
                  spec: dict[str, Any]) -> Object:
    decision = await _authorizer(request).authorize(attributes(subject, spec))
    status: dict[str, Any] = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    return _answer(body, status)


def _answer(body: Object, status: dict[str, Any]) -> Object:
    """The body back with its status, as Kubernetes' review REST handlers answer."""
    body["status"] = status
    body.setdefault("metadata", {})
    return body


def _caller(request: Request) -> UserInfo:
    return getattr(request.state, "user", ANONYMOUS)


def _authorizer(request: Request) -> Authorizer:
    """The apiserver's configured authorizer (apiserver/app.py puts it on app.state)."""
    authorizer: Authorizer = request.app.state.authorizer
    return authorizer


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


def _check(kind: str, body: Object, errs: Errs) -> None:
    if errs:
        name = str(as_dict(body.get("metadata")).get("name") or "")
        raise errors.Invalid(kind, name, errs, group=GROUP)


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
