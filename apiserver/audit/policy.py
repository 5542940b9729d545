"""Kubernetes' audit Policy (audit.k8s.io/v1): which requests are logged, at what level.

Rules are tried in order and the first that matches decides the level; no match
means None (not logged), as kube-apiserver's policy checker does. A rule matches
when every list it sets holds the request's value: `users`, `userGroups` (any of
the user's groups), `verbs`, `namespaces` (resource requests only; "" is a
cluster-scoped object), `resources` (group, resources with `sub`, `*/sub` and
`res/*` forms, resourceNames) and `nonResourceURLs` (exact, or a prefix ending in
`*`; non-resource requests only). As in Kubernetes, `pods/*` also matches `pods`.
Stages named by the policy's or the rule's `omitStages` are not written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

API_VERSION = "audit.k8s.io/v1"
LEVELS = ("None", "Metadata", "Request", "RequestResponse")
STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")


class PolicyError(ValueError):
    """The file is not a valid audit Policy; the message names the field."""


@dataclass(frozen=True)
class Attributes:
    """What a rule is matched against: who asked for what."""

    user: str
    groups: tuple[str, ...]
    verb: str
    path: str
    resource: str = ""  # "" for a non-resource request
    subresource: str = ""
    group: str = ""
    namespace: str = ""
    name: str = ""


@dataclass(frozen=True)
class GroupResources:
    group: str
    resources: tuple[str, ...]
    names: tuple[str, ...]

    def matches(self, a: Attributes) -> bool:
        if a.group != self.group:
            return False
        if self.names and a.name not in self.names:
            return False
        if not self.resources:
            return True
        combined = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
        for wanted in self.resources:
            if wanted in (combined, "*", f"{a.resource}/*") or (
                    wanted.startswith("*/") and wanted[2:] == a.subresource):
                return True
        return False


@dataclass(frozen=True)
class Rule:
    level: str
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    resources: tuple[GroupResources, ...] = ()
    urls: tuple[str, ...] = ()
    omit: frozenset[str] = frozenset()

    def matches(self, a: Attributes) -> bool:
        if self.users and a.user not in self.users:
            return False
        if self.groups and not set(a.groups) & set(self.groups):
            return False
        if self.verbs and a.verb not in self.verbs:
            return False
        if not a.resource:  # a non-resource request
            if self.namespaces or self.resources:
                return False
            return not self.urls or any(_url_matches(u, a.path) for u in self.urls)
        if self.urls:
            return False
        if self.namespaces and a.namespace not in self.namespaces:
            return False
        return not self.resources or any(r.matches(a) for r in self.resources)


def _url_matches(pattern: str, path: str) -> bool:
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    omit: frozenset[str] = frozenset()

    def decide(self, a: Attributes) -> tuple[str, frozenset[str]]:
        """The level of a request and the stages left out of the log."""
        for rule in self.rules:
            if rule.matches(a):
                return rule.level, self.omit | rule.omit
        return "None", self.omit


def load(path: str | Path) -> Policy:
    try:
        document = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise PolicyError(f"failed to read audit policy file {str(path)!r}: "
                          f"{exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"failed decoding audit policy file {str(path)!r}: {exc}") from None
    return parse(document)


def parse(document: Any) -> Policy:
    if not isinstance(document, dict) or document.get("kind") != "Policy" or \
            document.get("apiVersion") != API_VERSION:
        raise PolicyError(f"audit policy must be kind Policy in {API_VERSION}")
    rules = document.get("rules")
    if not isinstance(rules, list) or not rules:
        raise PolicyError("loaded illegal policy with 0 rules")
    return Policy(tuple(_rule(r, f"rules[{i}]") for i, r in enumerate(rules)),
                  _stages(document.get("omitStages"), "omitStages"))


def _rule(raw: Any, path: str) -> Rule:
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: Invalid value: a rule must be an object")
    level = raw.get("level")
    if level not in LEVELS:
        raise PolicyError(f"{path}.level: Unsupported value: {level!r}: supported values: "
                          f"{', '.join(repr(v) for v in LEVELS)}")
    resources = tuple(_group_resources(g, f"{path}.resources[{j}]")
                      for j, g in enumerate(_list(raw, "resources", path)))
    urls = _strings(raw, "nonResourceURLs", path)
    namespaces = _strings(raw, "namespaces", path)
    if urls and (resources or namespaces):
        raise PolicyError(f"{path}.nonResourceURLs: Invalid value: {list(urls)!r}: rules "
                          f"cannot apply to both regular resources and non-resource URLs")
    for j, url in enumerate(urls):
        if not url.startswith("/") or "*" in url[:-1]:
            raise PolicyError(f"{path}.nonResourceURLs[{j}]: Invalid value: {url!r}: "
                              f"non-resource URLs must start with '/' and may only end in '*'")
    return Rule(level, _strings(raw, "users", path), _strings(raw, "userGroups", path),
                _strings(raw, "verbs", path), namespaces, resources, urls,
                _stages(raw.get("omitStages"), f"{path}.omitStages"))


def _group_resources(raw: Any, path: str) -> GroupResources:
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: Invalid value: must be an object")
    group = raw.get("group", "") or ""
    if not isinstance(group, str):
        raise PolicyError(f"{path}.group: Invalid value: {group!r}: must be a string")
    resources = _strings(raw, "resources", path)
    names = _strings(raw, "resourceNames", path)
    for k, res in enumerate(resources):
        if not res or res.count("/") > 1:
            raise PolicyError(f"{path}.resources[{k}]: Invalid value: {res!r}: a resource, "
                              f"`*`, `resource/sub`, `*/sub` or `resource/*`")
    return GroupResources(group, resources, names)


def _list(raw: dict[str, Any], field: str, path: str) -> list[Any]:
    value = raw.get(field) or []
    if not isinstance(value, list):
        raise PolicyError(f"{path}.{field}: Invalid value: must be a list")
    return value


def _strings(raw: dict[str, Any], field: str, path: str) -> tuple[str, ...]:
    values = _list(raw, field, path)
    for j, value in enumerate(values):
        if not isinstance(value, str):
            raise PolicyError(f"{path}.{field}[{j}]: Invalid value: {value!r}: must be a string")
    return tuple(values)


def _stages(raw: Any, path: str) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise PolicyError(f"{path}: Invalid value: must be a list")
    for j, stage in enumerate(raw):
        if stage not in STAGES:
            raise PolicyError(f"{path}[{j}]: Unsupported value: {stage!r}: supported values: "
                              f"{', '.join(repr(s) for s in STAGES)}")
    return frozenset(raw)
