"""Parse a REST path into what it addresses, as Kubernetes' RequestInfoFactory does.

One parser instead of a route per kind: `/api/v1/namespaces/default/pods/web/status`
becomes (group "", version v1, namespace default, resource pods, name web,
subresource status). The tricky case is `namespaces`, which is both a resource
and the scope of the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from apimachinery import errors
from apimachinery.resources import ResourceInfo

from .params import parse_bool

if TYPE_CHECKING:
    from .kinds import Kinds

# The URL segment that scopes a path to a namespace (and, alone, names the resource).
_NAMESPACES = "namespaces"


@dataclass(frozen=True)
class RequestInfo:
    verb: str
    resource: ResourceInfo
    namespace: str | None
    name: str | None
    subresource: str | None


def parse(method: str, path: str, query: dict[str, str], kinds: Kinds) -> RequestInfo:
    """Map `method` + `path` to a RequestInfo, or raise NotFound for paths we do not serve."""
    segments = [s for s in path.split("/") if s]
    if segments[:1] == ["api"] and len(segments) >= 2:
        group, version, rest = "", segments[1], segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        raise errors.NotFound(f"the server could not find the requested resource ({path})")
    if not rest:
        raise errors.NotFound(f"the server could not find the requested resource ({path})")

    namespace: str | None = None
    if rest[0] == _NAMESPACES and len(rest) >= 3 and not _namespace_subresource(
            kinds, group, rest[2]):
        namespace, rest = rest[1], rest[2:]
    plural, name, sub = rest[0], _at(rest, 1), _at(rest, 2)
    if len(rest) > 3:
        raise errors.NotFound(f"the server could not find the requested resource ({path})")
    resource = _lookup(kinds, plural, group, version, path)
    if namespace is not None and not resource.namespaced:
        raise errors.NotFound(f"the server could not find the requested resource ({path})")
    if sub is not None and sub not in resource.subresources:
        raise errors.NotFound(f"the server could not find the requested resource ({path})")
    return RequestInfo(_verb(method, name, query), resource, namespace, name, sub)


def _namespace_subresource(kinds: Kinds, group: str, segment: str) -> bool:
    """`/api/v1/namespaces/x/status` addresses a subresource of the namespace x, while
    `/api/v1/namespaces/x/pods` scopes pods to x: the namespaces' subresources decide."""
    if group:
        return False
    try:
        return segment in kinds.lookup("", _NAMESPACES).resource.subresources
    except LookupError:
        return False


def _at(items: list[str], i: int) -> str | None:
    return items[i] if len(items) > i else None


def _lookup(kinds: Kinds, plural: str, group: str, version: str, path: str) -> ResourceInfo:
    try:
        resource = kinds.lookup(group, plural).resource
    except LookupError:
        raise errors.NotFound(
            f"the server could not find the requested resource ({path})") from None
    if resource.group != group or resource.version != version:
        raise errors.NotFound(f"the server could not find the requested resource ({path})")
    return resource


def _verb(method: str, name: str | None, query: dict[str, str]) -> str:
    watch = parse_bool(query.get("watch"))
    verbs = {
        "GET": ("watch" if watch else "list") if name is None else "get",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "deletecollection" if name is None else "delete",
    }
    if method not in verbs:
        raise errors.MethodNotAllowed(f"method {method} is not supported")
    return verbs[method]
