"""The generic REST handler: every verb on every resource, driven by the kinds.

Kubernetes installs the same handler (`staging/.../endpoints/handlers`) for every
kind; so does Schooner. A request is parsed into a RequestInfo, then one
function per verb does the work through the Registry. A request to a
subresource goes to the handler its kind declares (`apiserver/kinds/`), which
answers each verb or refuses it with 405.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.printers import to_table
from apimachinery.resources import ResourceInfo
from apimachinery.selectors import (
    parse_field_selector,
    parse_label_selector,
    validate_field_selector,
)

from . import watch
from .fieldvalidation import FieldValidation
from .freshness import wait_until_fresh
from .kind import Call, Kind
from .listoptions import list_revision
from .managedfields import request as writers
from .params import parse_int64, parse_non_negative
from .patch import apply_patch
from .registry import DeleteOptions, Registry
from .requestinfo import RequestInfo
from .storage import DRY_RUN
from .wire import (
    JSON,
    check_kind,
    decode_object,
    json_response,
    read_body,
    respond,
    table_include,
    wants_table,
)


class Handlers:
    """Verb implementations over one Registry."""

    def __init__(self, registry: Registry, watches: watch.WatchService, *,
                 max_request_bytes: int) -> None:
        self.registry = registry
        self.watches = watches
        self.max_request_bytes = max_request_bytes

    async def handle(self, request: Request, info: RequestInfo) -> Response:
        token = DRY_RUN.set(_dry_run(request))
        try:
            with writers.writing(self._writer(request, info)):
                if info.subresource is not None:
                    return await self._subresource(request, info)
                if info.verb not in info.resource.verbs:
                    raise errors.MethodNotAllowed(f"{info.verb} is not supported on "
                                                  f"{info.resource.group_resource}")
                verb: Callable[[Request, RequestInfo], Awaitable[Response]] = getattr(
                    self, f"_{info.verb}")
                return await verb(request, info)
        finally:
            DRY_RUN.reset(token)

    def _writer(self, request: Request, info: RequestInfo) -> writers.Writer | None:
        """Who a create, update or patch writes as, for managedFields (422 for bad options)."""
        if info.verb not in ("create", "update", "patch"):
            return None
        strategy = self.registry.strategy(info.resource)
        return writers.writer_for(
            dict(request.query_params), request.headers.get("user-agent", ""), info.verb,
            request.headers.get("content-type", ""), info.subresource,
            strategy.has_status_subresource, info.resource.api_version, info.resource.kind)

    async def _subresource(self, request: Request, info: RequestInfo) -> Response:
        kind = self.registry.kind(info.resource)
        handler = kind.subresource(info.subresource or "")
        if handler is None:
            raise errors.NotFound(f"the server could not find the requested resource "
                                  f"({info.resource.plural}/{info.subresource})")
        call = Call(request, info, self.registry, kind, self.max_request_bytes)
        verb = {"get": handler.get, "create": handler.create, "update": handler.update,
                "patch": handler.patch, "delete": handler.delete}.get(info.verb)
        if verb is None:
            raise errors.MethodNotAllowed(f"{info.verb} is not supported on "
                                          f"{info.resource.plural}/{info.subresource}")
        return await verb(call)

    def _table(self, kind: Kind, items: list[Object], **kwargs: Any) -> Response:
        return json_response(to_table(kind.resource, items, datetime.now(UTC),
                                      layout=kind.table, **kwargs))

    # -- reads ------------------------------------------------------------------------

    async def _get(self, request: Request, info: RequestInfo) -> Response:
        await self._fresh(request.query_params.get("resourceVersion") or "")
        obj = await self.registry.get(info.resource, info.namespace, info.name or "")
        if wants_table(request):
            return self._table(self.registry.kind(info.resource), [obj],
                               resource_version=obj["metadata"]["resourceVersion"],
                               include_object=table_include(request))
        return respond(request, obj)

    async def _fresh(self, rv: str) -> None:
        """Wait (up to 3 s) for etcd to reach a read's resourceVersion, as Kubernetes'
        cacher does; `""` and `0` ask for no particular version."""
        if rv and rv != "0":
            await wait_until_fresh(self.registry.storage.current_revision,
                                   parse_non_negative(rv, "resourceVersion"))

    async def _list(self, request: Request, info: RequestInfo) -> Response:
        query = request.query_params
        keep = selector_predicate(info.resource, query.get("labelSelector"),
                                  query.get("fieldSelector"))
        limit = _int_param(query.get("limit"), "limit")
        if query.get("timeoutSeconds"):  # unused by a list, but ListOptions as Kubernetes reads it
            parse_int64(query["timeoutSeconds"], "timeoutSeconds")
        rv = query.get("resourceVersion") or ""
        at = list_revision(rv, query.get("resourceVersionMatch") or "",
                           query.get("continue") or "", query.get("sendInitialEvents"))
        if not query.get("continue"):  # a continue token carries its own revision
            await self._fresh(rv)
        items, revision, token, remaining = await self.registry.list(
            info.resource, info.namespace, limit=limit,
            continue_token=query.get("continue") or None, resource_version=at, keep=keep)
        if wants_table(request):
            return self._table(self.registry.kind(info.resource), items,
                               resource_version=str(revision), continue_token=token or "",
                               include_object=table_include(request))
        meta: Object = {"resourceVersion": str(revision)}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        return respond(request, {"kind": info.resource.list_kind,
                                 "apiVersion": info.resource.api_version,
                                 "metadata": meta, "items": items})

    async def _watch(self, request: Request, info: RequestInfo) -> Response:
        return await self.watches.serve(request, info, wants_table(request))

    # -- writes -----------------------------------------------------------------------

    def _validation(self, request: Request, info: RequestInfo) -> FieldValidation:
        return FieldValidation(request, info.resource, self.registry.kind(info.resource).model)

    async def _create(self, request: Request, info: RequestInfo) -> Response:
        fields = self._validation(request, info)
        raw = await read_body(request, self.max_request_bytes)
        content_type = request.headers.get("content-type", JSON)
        body = decode_object(raw, content_type)
        fields.check_body(raw, content_type, body)
        if info.name is not None:
            raise errors.MethodNotAllowed(f"POST is not supported on {info.resource.plural}/"
                                          f"{info.name}")
        check_kind(info.resource.api_version, info.resource.kind, body)
        if info.resource.namespaced and not info.namespace:
            raise errors.NotFound("the server could not find the requested resource: "
                                  f"{info.resource.plural} are namespaced; use "
                                  "/namespaces/{namespace}/" + info.resource.plural)
        fields.check(body)
        compute = self.registry.kind(info.resource).compute
        if compute is not None:
            return fields.warn(respond(request, await compute(request, body), 201))
        created = await self.registry.create(info.resource, info.namespace, body)
        return fields.warn(respond(request, created, 201))

    async def _update(self, request: Request, info: RequestInfo) -> Response:
        fields = self._validation(request, info)
        raw = await read_body(request, self.max_request_bytes)
        content_type = request.headers.get("content-type", JSON)
        body = decode_object(raw, content_type)
        fields.check_body(raw, content_type, body)
        check_kind(info.resource.api_version, info.resource.kind, body)
        fields.check(body)
        updated = await self.registry.update(info.resource, info.namespace, info.name or "",
                                             body)
        return fields.warn(respond(request, updated))

    async def _patch(self, request: Request, info: RequestInfo) -> Response:
        fields = self._validation(request, info)
        body = await read_body(request, self.max_request_bytes)
        content_type = request.headers.get("content-type", "")
        fields.check_body(body, content_type)
        if content_type.startswith("application/apply-patch"):
            return await self._server_side_apply(request, info, body, content_type, fields)
        kind = info.resource.kind
        updated = await self.registry.update_with(
            info.resource, info.namespace, info.name or "",
            fields.wrap(lambda current: apply_patch(content_type, current, body, kind)))
        return fields.warn(respond(request, updated))

    async def _server_side_apply(self, request: Request, info: RequestInfo, body: bytes,
                                 content_type: str, fields: FieldValidation) -> Response:
        """Server-side apply, an upsert: to a missing object it creates it (see
        apiserver/managedfields)."""
        try:
            return fields.warn(respond(request, await self.registry.update_with(
                info.resource, info.namespace, info.name or "",
                fields.wrap(lambda current: apply_patch(content_type, current, body,
                                                        info.resource.kind)))))
        except errors.NotFound:
            obj = fields.check(apply_patch(content_type, {}, body, info.resource.kind))
            obj.setdefault("metadata", {})["name"] = info.name
            created = await self.registry.create(info.resource, info.namespace, obj)
            return fields.warn(respond(request, created, 201))

    async def _delete(self, request: Request, info: RequestInfo) -> Response:
        raw = await read_body(request, self.max_request_bytes)
        body = decode_object(raw, request.headers.get("content-type", JSON)) \
            if raw.strip() else None
        options = DeleteOptions.from_body(body, dict(request.query_params))
        with _dry_run_if(options.dry_run):
            obj, gone = await self.registry.delete(info.resource, info.namespace,
                                                   info.name or "", options)
        if gone and not self.registry.strategy(info.resource).returns_deleted_object:
            return respond(request, deleted_status(info.resource, obj))
        return respond(request, obj)

    async def _deletecollection(self, request: Request, info: RequestInfo) -> Response:
        raw = await read_body(request, self.max_request_bytes)
        body = decode_object(raw, request.headers.get("content-type", JSON)) \
            if raw.strip() else None
        options = DeleteOptions.from_body(body, dict(request.query_params))
        query = request.query_params
        keep = selector_predicate(info.resource, query.get("labelSelector"),
                                  query.get("fieldSelector"))
        items = (await self.registry.list(info.resource, info.namespace, keep=keep)).items
        deleted = []
        with _dry_run_if(options.dry_run):
            for item in items:
                meta = item["metadata"]
                try:
                    obj, _ = await self.registry.delete(info.resource, meta.get("namespace"),
                                                        meta["name"], options)
                    deleted.append(obj)
                except errors.NotFound:
                    continue
        return respond(request, {"kind": info.resource.list_kind,
                                 "apiVersion": info.resource.api_version,
                                 "metadata": {}, "items": deleted})


def deleted_status(resource: ResourceInfo, obj: Object) -> Object:
    """The Success Status a DELETE that removed `obj` at once answers with, naming it by
    resource as Kubernetes' store does (`finalizeDelete`: "Yes we set Kind field to
    resource"); an object still pending (grace period, finalizers) is returned itself."""
    meta = obj.get("metadata") or {}
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": meta.get("name", ""), "group": resource.group,
                        "kind": resource.plural, "uid": meta.get("uid", "")}}


MAX_SELECTOR_LENGTH = 10 * 1024
MAX_SELECTOR_REQUIREMENTS = 100


def _bounded(name: str, text: str | None) -> str | None:
    """A selector no longer than 10 KiB: Kubernetes bounds it only by the request line,
    and every requirement is matched against every object a list or watch reads."""
    if text is not None and len(text) > MAX_SELECTOR_LENGTH:
        raise errors.BadRequest(f"{name}: Too long: may not be more than "
                                f"{MAX_SELECTOR_LENGTH} characters")
    return text


def _count_requirements(name: str, count: int) -> None:
    """At most 100 requirements (`a,b,c,...` is short per term and costly per object)."""
    if count > MAX_SELECTOR_REQUIREMENTS:
        raise errors.BadRequest(f"{name}: Too many: {count}: must have at most "
                                f"{MAX_SELECTOR_REQUIREMENTS} requirements")


def selector_predicate(resource: ResourceInfo, label_selector: str | None,
                       field_selector: str | None) -> Any:
    """A function keeping the objects both selectors match, or None when both are empty."""
    labels = parse_label_selector(_bounded("labelSelector", label_selector))
    fields = parse_field_selector(_bounded("fieldSelector", field_selector))
    _count_requirements("labelSelector", len(labels.requirements))
    _count_requirements("fieldSelector", len(fields.requirements))
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


@contextmanager
def _dry_run_if(asked: bool) -> Iterator[None]:
    """A dry run asked for in a DELETE's body (DeleteOptions.dryRun), where kubectl and
    the client libraries (the Python client's V1DeleteOptions) ask for it; the query's
    `dryRun` was set for the whole request already."""
    if not asked:
        yield
        return
    token = DRY_RUN.set(True)
    try:
        yield
    finally:
        DRY_RUN.reset(token)


def _int_param(value: str | None, name: str) -> int:
    return parse_non_negative(value, name) if value else 0

