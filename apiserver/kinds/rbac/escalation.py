"""Escalation prevention: no one grants what they do not hold (Kubernetes' RBAC storage).

Creating or updating a Role or ClusterRole is allowed when the requester may
`escalate` it, or already holds every rule it contains (in the Role's namespace,
cluster-wide for a ClusterRole); setting an aggregationRule needs `escalate`.
Creating or updating a binding is allowed when the requester may `bind` the
role it names, or holds every rule of that role (in the binding's namespace
for a RoleBinding). system:masters may do all of it. The refusal is Kubernetes'
403, listing the rules not held.
"""

from __future__ import annotations

from typing import Any

from apimachinery import errors
from apimachinery.meta import Object, name_of
from apimachinery.resources import ResourceInfo
from apiserver.auth import UserInfo
from apiserver.authorizer import REQUESTER, SUPERUSER_GROUP, Attributes, Requester
from apiserver.registry import Registry
from apiserver.validation.fields import as_dict

from .rbacauthorizer import (
    CLUSTER_ROLES,
    GROUP,
    ROLES,
    Rule,
    api_group_matches,
    non_resource_url_matches,
    resource_matches,
    resource_name_matches,
    verb_matches,
)


async def check_role(registry: Registry, resource: ResourceInfo, namespace: str | None,
                     obj: Object, old: Object | None) -> None:
    """Admission for Role and ClusterRole writes."""
    requester = REQUESTER.get()
    if requester is None or SUPERUSER_GROUP in requester.user.groups:
        return
    ns = namespace or ""
    if await _may(requester, "escalate", resource.plural, ns, name_of(obj)):
        return
    name = f'{resource.plural}.{GROUP} "{name_of(obj)}"'
    if obj.get("aggregationRule") or (old or {}).get("aggregationRule"):
        raise errors.Forbidden(f"{name} is forbidden: must have cluster-admin privileges to "
                               "use the aggregationRule")
    await _confirm_no_escalation(requester, name, ns, obj.get("rules") or [])


async def check_binding(registry: Registry, resource: ResourceInfo, namespace: str | None,
                        obj: Object, old: Object | None) -> None:
    """Admission for RoleBinding and ClusterRoleBinding writes."""
    requester = REQUESTER.get()
    if requester is None or SUPERUSER_GROUP in requester.user.groups:
        return
    ns = namespace or ""
    ref = as_dict(obj.get("roleRef"))
    role_kind, role_name = ref.get("kind"), str(ref.get("name") or "")
    role_resource = ROLES if role_kind == "Role" else CLUSTER_ROLES
    if await _may(requester, "bind", role_resource.plural, ns, role_name):
        return
    name = f'{resource.plural}.{GROUP} "{name_of(obj)}"'
    try:
        role = await registry.get(role_resource, ns if role_kind == "Role" else None, role_name)
    except errors.NotFound as exc:
        raise errors.Forbidden(f"{name} is forbidden: {exc.message}") from None
    await _confirm_no_escalation(requester, name, ns, role.get("rules") or [])


async def _may(requester: Requester, verb: str, plural: str, namespace: str,
               name: str) -> bool:
    decision = await requester.authorizer.authorize(Attributes(
        requester.user, verb, namespace, GROUP, "v1", plural, "", name))
    return decision.allowed


async def _confirm_no_escalation(requester: Requester, name: str, namespace: str,
                                 rules: list[Any]) -> None:
    held = await requester.authorizer.rules_for(requester.user, namespace)
    owner = [*held.resource_rules, *held.non_resource_rules]
    missing = [r for r in rules if isinstance(r, dict) and not covers(owner, r)]
    if not missing:
        return
    message = (f"{name} is forbidden: {_who(requester.user)} is attempting to grant RBAC "
               "permissions not currently held:\n" + "\n".join(_format(r) for r in missing))
    if held.evaluation_error:
        message += f"; resolution errors: [{held.evaluation_error}]"
    raise errors.Forbidden(message)


def covers(owner: list[Rule], servant: Rule) -> bool:
    """Whether `owner`'s rules together allow everything `servant` allows (Kubernetes'
    validation.Covers): each verb x group x resource x name, or verb x URL, of it."""
    verbs = servant.get("verbs") or []
    urls = servant.get("nonResourceURLs") or []
    if urls:
        return all(any(verb_matches(o, v) and non_resource_url_matches(o, u) for o in owner)
                   for v in verbs for u in urls)
    names = servant.get("resourceNames") or [""]
    for verb in verbs:
        for group in servant.get("apiGroups") or []:
            for resource in servant.get("resources") or []:
                base, _, sub = str(resource).partition("/")
                for name in names:
                    if not any(verb_matches(o, verb) and api_group_matches(o, group)
                               and resource_matches(o, base, sub)
                               and resource_name_matches(o, name) for o in owner):
                        return False
    return True


def _who(user: UserInfo) -> str:
    groups = " ".join(f'"{g}"' for g in user.groups)
    return f'user "{user.name}" (groups=[{groups}])'


def _format(rule: Rule) -> str:
    """A rule as Kubernetes' PolicyRule.CompactString prints it."""
    parts = []
    for key, label in (("apiGroups", "APIGroups"), ("resources", "Resources"),
                       ("resourceNames", "ResourceNames"), ("nonResourceURLs", "NonResourceURLs"),
                       ("verbs", "Verbs")):
        values = rule.get(key)
        if values:
            parts.append(f"{label}:[{' '.join(chr(34) + str(v) + chr(34) for v in values)}]")
    return "{" + ", ".join(parts) + "}"
