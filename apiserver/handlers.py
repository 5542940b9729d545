"""The generic REST handler: every verb on every resource, driven by the resource table.

Kubernetes installs the same handler (`staging/.../endpoints/handlers`) for every
kind; so does Schooner. A request is parsed into a RequestInfo, then one
function per verb does the work through the Registry. The subresources
(`scale` and `binding`, views of the object, and `eviction`, a delete) are handled
here on top of the same registry calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import yaml
from fastapi import Request, Response

from apimachinery import errors
from apimachinery.meta import deep_copy
from apimachinery.printers import to_table
from apimachinery.resources import ResourceInfo
from apimachinery.selectors import (
    parse_field_selector,
    parse_label_selector,
    validate_field_selector,
)

from . import eviction, subresources, watch
from .nodeproxy import NodeProxy
from .patch import apply_patch
from .registry import DeleteOptions, Registry
from .requestinfo import RequestInfo
from .storage import DRY_RUN

Object = dict[str, Any]

JSON = "application/json"


def json_response(obj: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status_code, media_type=JSON)


def wants_table(request: Request) -> bool:
    """kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` first when it prints."""
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0]
    return "as=Table" in first


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes (etcd's request size limit)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise errors.RequestEntityTooLarge(
            f"request body of {declared} bytes is larger than the limit of {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise errors.RequestEntityTooLarge(
            f"request body of {len(body)} bytes is larger than the limit of {limit} bytes")
    return body


def decode_object(body: bytes, content_type: str) -> Object:
    """A JSON or YAML request body as an object; 400 when it is malformed or not an object."""
    media = content_type.split(";")[0].strip().lower() or JSON
    if media in ("application/yaml", "application/x-yaml", "text/yaml"):
        try:
            obj = yaml.safe_load(body.decode("utf-8", errors="replace"))
        except yaml.YAMLError as exc:
            raise errors.BadRequest(f"invalid YAML in request body: {exc}") from None
    elif media in (JSON, "*/*", "text/plain"):
        try:
            obj = orjson.loads(body) if body.strip() else None
        except orjson.JSONDecodeError as exc:
            raise errors.BadRequest(f"invalid JSON in request body: {exc}") from None
    else:
        raise errors.UnsupportedMediaType(
            f"the body of the request was in an unknown format ({media}); accepted media "
            "types are application/json and application/yaml")
    if not isinstance(obj, dict):
        raise errors.BadRequest("the request body must be a JSON or YAML object, got "
                                f"{type(obj).__name__ if obj is not None else 'nothing'}")
    return obj


def _check_kind(resource: ResourceInfo, obj: Object, *, expected: str | None = None) -> None:
    """A body's apiVersion/kind, when given, must be the resource's (or Binding/Scale)."""
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    want_kind = expected or resource.kind
    if kind is not None and kind != want_kind:
        raise errors.BadRequest(
            f"the kind of the object ({kind}) does not match the resource ({want_kind})")
    if expected is None and api_version is not None and api_version != resource.api_version:
        raise errors.BadRequest(
            f"the API version of the object ({api_version}) does not match the resource "
            f"({resource.api_version})")


class Handlers:
    """Verb implementations over one Registry."""

    def __init__(self, registry: Registry, watches: watch.WatchService, *,
                 max_request_bytes: int) -> None:
        self.registry = registry
        self.node_proxy = NodeProxy(registry)
        self.watches = watches
        self.max_request_bytes = max_request_bytes

    async def handle(self, request: Request, info: RequestInfo) -> Response:
        handler: Callable[[Request, RequestInfo], Awaitable[Response]] = getattr(
            self, f"_{info.verb}")
        token = DRY_RUN.set(_dry_run(request))
        try:
            return await handler(request, info)
        finally:
            DRY_RUN.reset(token)

    # -- reads ------------------------------------------------------------------------

    async def _get(self, request: Request, info: RequestInfo) -> Response:
        obj = await self.registry.get(info.resource, info.namespace, info.name or "")
        if info.subresource == "scale":
            return json_response(subresources.to_scale(info.resource, obj))
        if info.subresource == "log":
            return await self.node_proxy.logs(request, info.namespace or "", info.name or "")
        if wants_table(request) and info.subresource is None:
            return json_response(to_table(info.resource, [obj], datetime.now(UTC),
                                          resource_version=obj["metadata"]["resourceVersion"]))
        return json_response(obj)

    async def _list(self, request: Request, info: RequestInfo) -> Response:
        query = request.query_params
        keep = selector_predicate(info.resource, query.get("labelSelector"),
                                  query.get("fieldSelector"))
        limit = _int_param(query.get("limit"), "limit")
        rv = query.get("resourceVersion") or ""
        items, revision, token = await self.registry.list(
            info.resource, info.namespace, limit=limit,
            continue_token=query.get("continue") or None,
            resource_version=_list_revision(rv, query.get("resourceVersionMatch")), keep=keep)
        if wants_table(request):
            return json_response(to_table(info.resource, items, datetime.now(UTC),
                                          resource_version=str(revision),
                                          continue_token=token))
        meta: Object = {"resourceVersion": str(revision)}
        if token:
            meta["continue"] = token
        return json_response({"kind": info.resource.list_kind,
                              "apiVersion": info.resource.api_version,
                              "metadata": meta, "items": items})

    async def _watch(self, request: Request, info: RequestInfo) -> Response:
        return await self.watches.serve(request, info, wants_table(request))

    # -- writes -----------------------------------------------------------------------

    async def _create(self, request: Request, info: RequestInfo) -> Response:
        body = decode_object(await read_body(request, self.max_request_bytes),
                             request.headers.get("content-type", JSON))
        if info.subresource == "eviction":
            return await self._evict(info, body)
        if info.subresource == "binding":
            return await self._bind(info, body)
        if info.subresource == "exec":
            return await self.node_proxy.exec(request, info.namespace or "", info.name or "",
                                              body)
        if info.name is not None:
            raise errors.MethodNotAllowed(f"POST is not supported on {info.resource.plural}/"
                                          f"{info.name}")
        _check_kind(info.resource, body)
        if info.resource.namespaced and not info.namespace:
            raise errors.NotFound("the server could not find the requested resource: "
                                  f"{info.resource.plural} are namespaced; use "
                                  "/namespaces/{namespace}/" + info.resource.plural)
        created = await self.registry.create(info.resource, info.namespace, body)
        return json_response(created, 201)

    async def _bind(self, info: RequestInfo, binding: Object) -> Response:
        _check_kind(info.resource, binding, expected="Binding")
        await self.registry.update_raw(
            info.resource, info.namespace, info.name or "",
            lambda pod: _scheduled(subresources.bind(pod, binding)))
        return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Success", "code": 201}, 201)

    async def _evict(self, info: RequestInfo, body: Object) -> Response:
        """Delete the pod with the Eviction's options; no PodDisruptionBudgets to check."""
        options, dry_run = eviction.delete_options_for(info.name or "", body)
        token = DRY_RUN.set(True) if dry_run else None
        try:
            await self.registry.delete(info.resource, info.namespace, info.name or "", options)
        finally:
            if token is not None:
                DRY_RUN.reset(token)
        return json_response(eviction.success(), 201)

    async def _update(self, request: Request, info: RequestInfo) -> Response:
        body = decode_object(await read_body(request, self.max_request_bytes),
                             request.headers.get("content-type", JSON))
        name = info.name or ""
        if info.subresource == "scale":
            _check_kind(info.resource, body, expected="Scale")
            return await self._write_scale(info, lambda scale: body)
        _check_kind(info.resource, body)
        sub = "status" if info.subresource == "status" else None
        if info.subresource == "finalize":
            return json_response(await self.registry.update_with(
                info.resource, None, name, lambda cur: _finalize(cur, body)))
        updated = await self.registry.update(info.resource, info.namespace, name, body,
                                             subresource=sub)
        return json_response(updated)

    async def _patch(self, request: Request, info: RequestInfo) -> Response:
        body = await read_body(request, self.max_request_bytes)
        content_type = request.headers.get("content-type", "")
        name = info.name or ""
        if info.subresource == "scale":
            return await self._write_scale(
                info, lambda scale: apply_patch(content_type, scale, body, "Scale"))
        if content_type.startswith("application/apply-patch"):
            return await self._server_side_apply(info, body, content_type)
        sub = "status" if info.subresource == "status" else None
        kind = info.resource.kind
        updated = await self.registry.update_with(
            info.resource, info.namespace, name,
            lambda current: apply_patch(content_type, current, body, kind), subresource=sub)
        return json_response(updated)

    async def _server_side_apply(self, info: RequestInfo, body: bytes,
                                 content_type: str) -> Response:
        """Apply as an upsert (approximated by a strategic merge; see docs/architecture.md)."""
        try:
            return json_response(await self.registry.update_with(
                info.resource, info.namespace, info.name or "",
                lambda current: apply_patch(content_type, current, body, info.resource.kind)))
        except errors.NotFound:
            obj = apply_patch(content_type, {}, body, info.resource.kind)
            obj.setdefault("metadata", {})["name"] = info.name
            created = await self.registry.create(info.resource, info.namespace, obj)
            return json_response(created, 201)

    async def _write_scale(self, info: RequestInfo, new_scale: Any) -> Response:
        def change(current: Object) -> Object:
            scale = new_scale(subresources.to_scale(info.resource, current))
            if not isinstance(scale, dict):
                raise errors.BadRequest("the request body must be a Scale object")
            return subresources.apply_scale(info.resource, current, scale)

        updated = await self.registry.update_with(info.resource, info.namespace,
                                                  info.name or "", change)
        return json_response(subresources.to_scale(info.resource, updated))

    async def _delete(self, request: Request, info: RequestInfo) -> Response:
        raw = await read_body(request, self.max_request_bytes)
        body = decode_object(raw, request.headers.get("content-type", JSON)) \
            if raw.strip() else None
        options = DeleteOptions.from_body(body, dict(request.query_params))
        obj, _ = await self.registry.delete(info.resource, info.namespace, info.name or "",
                                            options)
        return json_response(obj)

    async def _deletecollection(self, request: Request, info: RequestInfo) -> Response:
        raw = await read_body(request, self.max_request_bytes)
        body = decode_object(raw, request.headers.get("content-type", JSON)) \
            if raw.strip() else None
        options = DeleteOptions.from_body(body, dict(request.query_params))
        query = request.query_params
        keep = selector_predicate(info.resource, query.get("labelSelector"),
                                  query.get("fieldSelector"))
        items, _, _ = await self.registry.list(info.resource, info.namespace, keep=keep)
        deleted = []
        for item in items:
            meta = item["metadata"]
            try:
                obj, _ = await self.registry.delete(info.resource, meta.get("namespace"),
                                                    meta["name"], options)
                deleted.append(obj)
            except errors.NotFound:
                continue
        return json_response({"kind": info.resource.list_kind,
                              "apiVersion": info.resource.api_version,
                              "metadata": {}, "items": deleted})


def selector_predicate(resource: ResourceInfo, label_selector: str | None,
                       field_selector: str | None) -> Any:
    """A function keeping the objects both selectors match, or None when both are empty."""
    labels = parse_label_selector(label_selector)
    fields = parse_field_selector(field_selector)
    validate_field_selector(fields, resource.selectable_fields)
    if labels.empty and not fields.requirements:
        return None

    def keep(obj: Object) -> bool:
        return labels.matches((obj.get("metadata") or {}).get("labels")) and fields.matches(obj)

    return keep


def _dry_run(request: Request) -> bool:
    """`?dryRun=All` runs a write through everything but storage; other values are refused."""
    values = request.query_params.getlist("dryRun")
    if any(v != "All" for v in values):
        raise errors.BadRequest(f"dryRun: unsupported value {values!r}: must be All")
    if values and request.method == "GET":
        raise errors.BadRequest("dryRun is only valid for writes")
    return bool(values)


def _int_param(value: str | None, name: str) -> int:
    if not value:
        return 0
    try:
        number = int(value)
    except ValueError:
        raise errors.BadRequest(f"{name}: invalid value {value!r}: must be an integer") from None
    if number < 0:
        raise errors.BadRequest(f"{name}: invalid value {number}: must be >= 0")
    return number


def _list_revision(rv: str, match: str | None) -> int:
    """Lists are served at the latest revision unless an exact one is asked for."""
    if not rv or rv == "0":
        return 0
    number = _int_param(rv, "resourceVersion")
    return number if match == "Exact" else 0


def _scheduled(pod: Object) -> Object:
    """Record the PodScheduled=True condition that binding implies."""
    status = pod.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    conditions.append({"type": "PodScheduled", "status": "True",
                       "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    status["conditions"] = conditions
    return pod


def _finalize(namespace: Object, body: Object) -> Object:
    """`namespaces/{name}/finalize`: the namespace controller clears spec.finalizers here."""
    updated = deep_copy(namespace)
    updated.setdefault("spec", {})["finalizers"] = (body.get("spec") or {}).get("finalizers") \
        or []
    return updated
