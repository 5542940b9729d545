"""Parse a REST path into what it addresses, as Kubernetes' RequestInfoFactory does.

One parser instead of a route per kind: `/api/v1/namespaces/default/pods/web/status`
becomes (group "", version v1, namespace default, resource pods, name web,
subresource status). The tricky case is `namespaces`, which is both a resource
and the scope of the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from apimachinery import errors
from apimachinery.resources import ResourceInfo, UnknownResourceError, by_plural

_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class RequestInfo:
    verb: str
    resource: ResourceInfo
    namespace: str | None
    name: str | None
    subresource: str | None


def parse(method: str, path: str, query: dict[str, str]) -> RequestInfo:
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
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in _NAMESPACE_SUBRESOURCES:
        namespace, rest = rest[1], rest[2:]
    plural, name, sub = rest[0], _at(rest, 1), _at(rest, 2)
    if len(rest) > 3:
        raise errors.NotFound(f"the server could not find the requested resource ({path})")
    resource = _lookup(plural, group, version, path)
    if namespace is not None and not resource.namespaced:
        raise errors.NotFound(f"the server could not find the requested resource ({path})")
    if sub is not None and sub not in resource.subresources and not (
            plural == "namespaces" and sub == "finalize"):
        raise errors.NotFound(f"the server could not find the requested resource ({path})")
    return RequestInfo(_verb(method, name, query), resource, namespace, name, sub)


def _at(items: list[str], i: int) -> str | None:
    return items[i] if len(items) > i else None


def _lookup(plural: str, group: str, version: str, path: str) -> ResourceInfo:
    try:
        resource = by_plural(plural)
    except UnknownResourceError:
        raise errors.NotFound(
            f"the server could not find the requested resource ({path})") from None
    if resource.group != group or resource.version != version:
        raise errors.NotFound(f"the server could not find the requested resource ({path})")
    return resource


def _verb(method: str, name: str | None, query: dict[str, str]) -> str:
    watch = query.get("watch", "").lower() in ("true", "1")
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
