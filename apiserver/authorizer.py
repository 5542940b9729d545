"""Authorization: may this user do this request? (`--authorization-mode`).

Runs after authentication (auth.py). The request is described as Kubernetes'
authorizer.Attributes: a resource request (verb, API group, resource,
subresource, namespace, name) or a non-resource one (verb and path). Two modes,
as Kubernetes names them: `AlwaysAllow` (every authenticated user may do
everything; the behaviour before RBAC), `Node` (nodes read only what their pods
reference: nodeauthz/authorizer.py) and `RBAC` (kinds/rbac/rbacauthorizer.py),
in the order `--authorization-mode` lists them (`Node,RBAC` as Kubernetes). Members of
`system:masters` are always allowed, as Kubernetes' privileged-group
authorizer does before any mode is asked.

A refusal is Kubernetes' 403 Status, word for word, so kubectl prints
`pods is forbidden: User "alice" cannot list resource "pods" in API group ""
in the namespace "default"`.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any, Protocol

from apimachinery import errors

from .auth import UserInfo
from .requestinfo import RequestInfo

SUPERUSER_GROUP = "system:masters"
_NAMESPACES = "namespaces"  # URL grammar: the segment that scopes a path (requestinfo.py)
MODES = ("AlwaysAllow", "Node", "RBAC")


@dataclass(frozen=True)
class Attributes:
    """What is asked: a resource request when `resource` is set, else a non-resource path."""

    user: UserInfo
    verb: str
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""

    @property
    def resource_request(self) -> bool:
        return bool(self.resource)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


@dataclass
class Rules:
    """What a user may do in a namespace, as SelfSubjectRulesReview's status lists it."""

    resource_rules: list[dict[str, Any]] = field(default_factory=list)
    non_resource_rules: list[dict[str, Any]] = field(default_factory=list)
    incomplete: bool = False
    evaluation_error: str = ""


class Authorizer(Protocol):
    async def authorize(self, attrs: Attributes) -> Decision: ...

    async def rules_for(self, user: UserInfo, namespace: str) -> Rules: ...


EVERYTHING = Rules([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                   [{"verbs": ["*"], "nonResourceURLs": ["*"]}])


class AlwaysAllow:
    """`--authorization-mode=AlwaysAllow`: every authenticated request may proceed."""

    async def authorize(self, attrs: Attributes) -> Decision:
        return Decision(True)

    async def rules_for(self, user: UserInfo, namespace: str) -> Rules:
        return EVERYTHING


class Privileged:
    """system:masters first (Kubernetes' superuser group), then the configured mode."""

    def __init__(self, mode: Authorizer) -> None:
        self.mode = mode

    async def authorize(self, attrs: Attributes) -> Decision:
        if SUPERUSER_GROUP in attrs.user.groups:
            return Decision(True)
        return await self.mode.authorize(attrs)

    async def rules_for(self, user: UserInfo, namespace: str) -> Rules:
        """The mode's rules (RBAC lists system:masters' through the cluster-admin binding)."""
        return await self.mode.rules_for(user, namespace)


class Union:
    """Several modes in order: the first that allows decides (Kubernetes' union authorizer)."""

    def __init__(self, modes: list[Authorizer]) -> None:
        self.modes = modes

    async def authorize(self, attrs: Attributes) -> Decision:
        reasons = []
        for mode in self.modes:
            decision = await mode.authorize(attrs)
            if decision.allowed:
                return decision
            if decision.reason:
                reasons.append(decision.reason)
        return Decision(False, ", ".join(reasons))

    async def rules_for(self, user: UserInfo, namespace: str) -> Rules:
        union = Rules()
        for mode in self.modes:
            rules = await mode.rules_for(user, namespace)
            union.resource_rules += rules.resource_rules
            union.non_resource_rules += rules.non_resource_rules
            union.incomplete = union.incomplete or rules.incomplete
            union.evaluation_error = union.evaluation_error or rules.evaluation_error
        return union


def parse_modes(value: str) -> list[str]:
    """`--authorization-mode`: a comma-separated list of known modes; ValueError otherwise."""
    modes = [m.strip() for m in value.split(",") if m.strip()]
    if not modes:
        raise ValueError("--authorization-mode: at least one authorization mode must be passed")
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"--authorization-mode: authorization mode {mode!r} is not "
                             f"supported (supported: {', '.join(MODES)})")
    if len(set(modes)) != len(modes):
        raise ValueError(f"--authorization-mode: {value!r} names a mode more than once")
    return modes


def resource_attributes(user: UserInfo, info: RequestInfo,
                        field_selector: str | None = None) -> Attributes:
    """The attributes of a request the apiserver parsed into a RequestInfo.

    A list or watch whose field selector is only `metadata.name=X` is about the object X,
    as Kubernetes' RequestInfoFactory has it (`kubectl get pod x -w`), so a rule with
    resourceNames may allow it.
    """
    name = info.name or ""
    if info.verb in ("list", "watch") and not name:
        name = _selected_name(field_selector or "")
    namespace = info.namespace or ""
    if not info.resource.group and info.resource.plural == _NAMESPACES and name:
        namespace = name  # `/api/v1/namespaces/x` is in the namespace x, as Kubernetes parses it
    return Attributes(user, info.verb, namespace, info.resource.group,
                      info.resource.version, info.resource.plural, info.subresource or "",
                      name)


def _selected_name(selector: str) -> str:
    key, op, value = selector.partition("==") if "==" in selector else selector.partition("=")
    if op and key.strip() == "metadata.name" and "," not in value and not key.endswith("!"):
        return value.strip()
    return ""


def path_attributes(user: UserInfo, method: str, path: str) -> Attributes:
    """A non-resource request (`/api`, `/openapi/v3`, `/metrics`): the verb is the method."""
    return Attributes(user, method.lower(), path=path)


def forbidden(attrs: Attributes, reason: str = "") -> errors.Forbidden:
    """Kubernetes' responsewriters.Forbidden: the message and details as it builds them."""
    message = forbidden_message(attrs)
    if reason:
        message = f"{message}: {reason}"
    if not attrs.resource_request:
        return errors.Forbidden(f"forbidden: {message}")
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    if attrs.name:
        text = f'{qualified} "{attrs.name}" is forbidden: {message}'
    else:
        text = f"{qualified} is forbidden: {message}"
    details = {"name": attrs.name, "group": attrs.api_group, "kind": attrs.resource}
    return errors.Forbidden(text, details={k: v for k, v in details.items() if v})


def forbidden_message(attrs: Attributes) -> str:
    """`User "alice" cannot list resource "pods" in API group "" in the namespace "x"`."""
    user = attrs.user.name
    if not attrs.resource_request:
        return f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    where = (f'in the namespace "{attrs.namespace}"' if attrs.namespace
             else "at the cluster scope")
    return (f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group '
            f'"{attrs.api_group}" {where}')


async def check(authorizer: Authorizer, attrs: Attributes,
                annotations: dict[str, str] | None = None) -> None:
    """Raise the 403 when `authorizer` does not allow `attrs`. The decision and its reason
    go to `annotations` when given, for the request's audit event
    (`authorization.k8s.io/decision`, `/reason`), as Kubernetes annotates it."""
    decision = await authorizer.authorize(attrs)
    if annotations is not None:
        annotations["authorization.k8s.io/decision"] = ("allow" if decision.allowed
                                                        else "forbid")
        if decision.reason:
            annotations["authorization.k8s.io/reason"] = decision.reason
    if not decision.allowed:
        raise forbidden(attrs, decision.reason)


@dataclass(frozen=True)
class Requester:
    """Who is making the current request, and the authorizer that judges them: what the
    RBAC kinds' escalation checks need (kinds/rbac/escalation.py) deep in a write."""

    user: UserInfo
    authorizer: Authorizer


# Unset for the apiserver's own writes (the bootstrap policy): those are never refused.
REQUESTER: contextvars.ContextVar[Requester | None] = contextvars.ContextVar(
    "requester", default=None)
