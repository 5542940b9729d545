"""The RBAC authorizer (`--authorization-mode=RBAC`): Kubernetes' rule matching over
Roles, ClusterRoles and their bindings.

A request is allowed when a rule of a role bound to the user allows it:
ClusterRoleBindings everywhere, RoleBindings in the request's namespace
(granting a Role of that namespace or a ClusterRole). Nothing denies; a
missing role only makes its bindings grant nothing (and is named in the
403's reason, as Kubernetes does).

The policy objects are read from etcd at most once a `ttl` (PolicyCache),
and at once after this apiserver writes one, so an apiserver's own writes are
seen by its next request; another apiserver's within `ttl` (Kubernetes'
informers lag too).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from apimachinery.meta import Object, metadata, name_of
from apimachinery.resources import ResourceInfo, resolve
from apiserver.auth import UserInfo
from apiserver.authorizer import Attributes, Decision, Rules
from apiserver.registry import Registry

GROUP = "rbac.authorization.k8s.io"
ROLES, CLUSTER_ROLES = resolve("roles"), resolve("clusterroles")
ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS = resolve("rolebindings"), resolve("clusterrolebindings")
READ_VERBS = frozenset({"get", "list", "watch"})
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
Rule = dict[str, Any]


# -- rule matching (Kubernetes' rbac.RuleAllows) ------------------------------------------

def _has(values: Any, wanted: str) -> bool:
    return isinstance(values, list) and ("*" in values or wanted in values)


def verb_matches(rule: Rule, verb: str) -> bool:
    return _has(rule.get("verbs"), verb)


def api_group_matches(rule: Rule, group: str) -> bool:
    return _has(rule.get("apiGroups"), group)


def resource_matches(rule: Rule, resource: str, subresource: str) -> bool:
    """`*` is everything; `pods/log` a subresource; `*/scale` that subresource of any."""
    wanted = f"{resource}/{subresource}" if subresource else resource
    for entry in rule.get("resources") or []:
        if entry in ("*", wanted) or (subresource and entry == f"*/{subresource}"):
            return True
    return False


def resource_name_matches(rule: Rule, name: str) -> bool:
    """No resourceNames is every object; otherwise only those (never a list or create)."""
    names = rule.get("resourceNames") or []
    return not names or name in names


def non_resource_url_matches(rule: Rule, path: str) -> bool:
    """An exact path, `*`, or a prefix ending in `*` (`/apis/*`)."""
    for url in rule.get("nonResourceURLs") or []:
        if url == "*" or url == path or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False


def rule_allows(rule: Rule, attrs: Attributes) -> bool:
    """Whether one PolicyRule allows the request."""
    if not verb_matches(rule, attrs.verb):
        return False
    if not attrs.resource_request:
        return non_resource_url_matches(rule, attrs.path)
    return (api_group_matches(rule, attrs.api_group)
            and resource_matches(rule, attrs.resource, attrs.subresource)
            and resource_name_matches(rule, attrs.name))


def subject_matches(subject: dict[str, Any], user: UserInfo, binding_namespace: str) -> bool:
    """A User by name, a Group the user is in, a ServiceAccount by its user name."""
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return bool(name == user.name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.name == f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"
    return False


# -- the policy as read from etcd -----------------------------------------------------------

@dataclass
class Policy:
    """One snapshot of every role and binding, indexed as the authorizer asks."""

    cluster_roles: dict[str, Object] = field(default_factory=dict)
    roles: dict[tuple[str, str], Object] = field(default_factory=dict)
    cluster_bindings: list[Object] = field(default_factory=list)
    bindings: dict[str, list[Object]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, cluster_roles: list[Object], roles: list[Object],
           cluster_bindings: list[Object], bindings: list[Object]) -> Policy:
        policy = cls(cluster_roles={name_of(r): r for r in cluster_roles},
                     roles={(_namespace(r), name_of(r)): r for r in roles},
                     cluster_bindings=cluster_bindings)
        for binding in bindings:
            policy.bindings[_namespace(binding)].append(binding)
        return policy

    def rules_for(self, user: UserInfo, namespace: str,
                  missing: list[str] | None = None) -> Iterator[Rule]:
        """Every rule granted to `user` cluster-wide and, when given, in `namespace`.

        Roles a binding names but that do not exist are appended to `missing`.
        """
        scopes: list[tuple[str, list[Object]]] = [("", self.cluster_bindings)]
        if namespace:
            scopes.append((namespace, self.bindings.get(namespace, [])))
        for scope, bindings in scopes:
            for binding in bindings:
                subjects = binding.get("subjects") or []
                if not any(isinstance(s, dict) and subject_matches(s, user, scope)
                           for s in subjects):
                    continue
                role = self._role(binding.get("roleRef") or {}, scope)
                if role is None:
                    if missing is not None:
                        missing.append(_missing(binding.get("roleRef") or {}, scope))
                    continue
                yield from (r for r in role.get("rules") or [] if isinstance(r, dict))

    def _role(self, ref: dict[str, Any], namespace: str) -> Object | None:
        if ref.get("kind") == "ClusterRole":
            return self.cluster_roles.get(str(ref.get("name")))
        if ref.get("kind") == "Role" and namespace:
            return self.roles.get((namespace, str(ref.get("name"))))
        return None


def _namespace(obj: Object) -> str:
    return str(metadata(obj).get("namespace") or "")


def _missing(ref: dict[str, Any], namespace: str) -> str:
    if ref.get("kind") == "Role":
        return f'role.{GROUP} "{ref.get("name")}" not found'
    return f'clusterrole.{GROUP} "{ref.get("name")}" not found'


class PolicyCache:
    """The Policy, read at most once a `ttl`; concurrent readers share one refresh."""

    def __init__(self, registry: Registry, ttl: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.registry, self.ttl, self.clock = registry, ttl, clock
        self._policy = Policy()
        self._read_at = -math.inf
        self._refresh: asyncio.Future[None] | None = None

    def invalidate(self) -> None:
        """The next request reads the policy afresh (after this apiserver wrote to it)."""
        self._read_at = -math.inf

    async def policy(self) -> Policy:
        if self.clock() - self._read_at >= self.ttl:
            if self._refresh is None:
                self._refresh = asyncio.ensure_future(self._read())
            refresh = self._refresh
            try:
                await asyncio.shield(refresh)
            finally:
                if refresh.done() and self._refresh is refresh:
                    self._refresh = None
        return self._policy

    async def _read(self) -> None:
        started = self.clock()
        lists = await asyncio.gather(*(self._all(r) for r in (
            CLUSTER_ROLES, ROLES, CLUSTER_ROLE_BINDINGS, ROLE_BINDINGS)))
        self._policy = Policy.of(*lists)
        self._read_at = started

    async def _all(self, resource: ResourceInfo) -> list[Object]:
        return (await self.registry.list(resource, None)).items


class RBACAuthorizer:
    """`--authorization-mode=RBAC`."""

    def __init__(self, cache: PolicyCache) -> None:
        self.cache = cache

    async def authorize(self, attrs: Attributes) -> Decision:
        policy = await self.cache.policy()
        missing: list[str] = []
        for rule in policy.rules_for(attrs.user, attrs.namespace, missing):
            if rule_allows(rule, attrs):
                return Decision(True)
        return Decision(False, _reason(missing))

    async def rules_for(self, user: UserInfo, namespace: str) -> Rules:
        """Every rule bound to `user` (cluster-wide, and in `namespace`), split as
        SelfSubjectRulesReview lists them; a missing role is the evaluation error."""
        policy = await self.cache.policy()
        missing: list[str] = []
        rules = Rules()
        for rule in policy.rules_for(user, namespace, missing):
            if rule.get("nonResourceURLs"):
                rules.non_resource_rules.append(
                    {"verbs": rule.get("verbs") or [], "nonResourceURLs": rule["nonResourceURLs"]})
            else:
                rules.resource_rules.append({k: rule[k] for k in (
                    "verbs", "apiGroups", "resources", "resourceNames") if rule.get(k)})
        rules.evaluation_error = _reason(missing).removeprefix("RBAC: ")
        return rules


def _reason(missing: list[str]) -> str:
    """As Kubernetes words it: `RBAC: <error>`, or `RBAC: [<error>, <error>]` for several."""
    if not missing:
        return ""
    return f"RBAC: {missing[0]}" if len(missing) == 1 else f"RBAC: [{', '.join(missing)}]"
