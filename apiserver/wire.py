"""Request bodies in, responses out: the encodings every handler shares.

Kept apart from the handlers so that a kind's subresource handlers decode and
answer exactly as the generic verbs do, without importing the handlers.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from fastapi import Request, Response

from apimachinery import errors
from apimachinery.meta import Object

from . import protobuf
from .bodies import check_bounds, load_yaml, require_object

JSON = "application/json"


def json_response(obj: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status_code, media_type=JSON)


def wants_table(request: Request) -> bool:
    """kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` first when it prints.

    Tables are JSON only: a client that takes protobuf alone gets the plain object.
    """
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0]
    return "as=Table" in first and answer_media(request) == JSON


def answer_media(request: Request) -> str:
    """The media type to answer in: Kubernetes protobuf for a client that accepts nothing
    else, JSON for everyone else.

    client-go's typed clients send `application/vnd.kubernetes.protobuf,application/json`
    and decode by the response's Content-Type, so they keep getting JSON, which every
    client reads (as does `kubectl top`, which accepts protobuf and `*/*`); a client
    asking for protobuf alone (a Go client whose AcceptContentTypes name only protobuf)
    gets protobuf.
    Tables and other `as=` forms are JSON only: protobuf alone with `as=` is a 406, as in
    Kubernetes.
    """
    accept = request.headers.get("accept", "")
    ranges = [r for r in accept.split(",") if r.strip()]
    if not ranges or any(_media(r) != protobuf.MEDIA_TYPE for r in ranges):
        return JSON
    if all("as=" in r for r in ranges):
        raise errors.NotAcceptable(
            f"only the following media types are accepted: {JSON} (Tables and other "
            f"as= forms are not served in {protobuf.MEDIA_TYPE})")
    return protobuf.MEDIA_TYPE


def _media(media_range: str) -> str:
    return media_range.split(";")[0].strip().lower()


INCLUDE_OBJECT = ("None", "Metadata", "Object")


def table_include(request: Request) -> str:
    """What each Table row carries, from `includeObject` (Kubernetes' TableOptions):
    `Metadata` (the default) a PartialObjectMetadata, `Object` the whole object (kubectl
    asks for it with `--sort-by`, which sorts rows by a path into the object), `None`
    nothing."""
    value = request.query_params.get("includeObject") or "Metadata"
    if value not in INCLUDE_OBJECT:
        raise errors.BadRequest(f"includeObject: Unsupported value: \"{value}\": supported "
                                f"values: \"None\", \"Metadata\", \"Object\"")
    return value


def check_acceptable(request: Request) -> None:
    """406 for a client that accepts protobuf alone where only JSON is served (discovery)."""
    if answer_media(request) != JSON:
        raise errors.NotAcceptable(
            f"only the following media types are accepted: {JSON} (this document is not "
            f"served in {protobuf.MEDIA_TYPE})")


def respond(request: Request, obj: Object, status_code: int = 200) -> Response:
    """`obj` in the media type the client accepts (`answer_media`).

    An object holding a field Schooner has no protobuf form for is a 406 naming the
    field, rather than protobuf that silently lacks it.
    """
    if answer_media(request) == JSON:
        return json_response(obj, status_code)
    try:
        body = protobuf.encode(obj)
    except protobuf.Unencodable as exc:
        meta = obj.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        shown = f'{obj.get("kind")} "{name}"' if name else str(obj.get("kind"))
        raise errors.NotAcceptable(
            f"{shown} cannot be served as {protobuf.MEDIA_TYPE} by this server: {exc}; "
            f"only the following media types are accepted: {JSON}") from None
    except protobuf.Unsupported as exc:
        raise errors.NotAcceptable(
            f"{exc}; only the following media types are accepted: {JSON}") from None
    return Response(body, status_code=status_code, media_type=protobuf.MEDIA_TYPE)


def error_response(request: Request, exc: errors.APIError) -> Response:
    """An error's Status, in protobuf for a protobuf-only client; a 406 stays JSON, as
    Kubernetes writes a failed negotiation's Status (`WriteRawJSON`)."""
    if isinstance(exc, errors.NotAcceptable):
        return json_response(exc.to_status(), exc.code)
    try:
        response = respond(request, exc.to_status(), exc.code)
    except errors.NotAcceptable:
        response = json_response(exc.to_status(), exc.code)
    retry = exc.details.get("retryAfterSeconds")
    if isinstance(retry, int) and retry > 0:  # as Kubernetes' ErrorNegotiated does
        response.headers["Retry-After"] = str(retry)
    return response


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes (etcd's request size limit),
    without holding more than `limit` bytes of a body that declares no Content-Length."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise errors.RequestEntityTooLarge(
            f"request body of {declared} bytes is larger than the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():  # a chunked body declares no length: count as it comes
        size += len(chunk)
        if size > limit:
            raise errors.RequestEntityTooLarge(
                f"request body of more than {limit} bytes is larger than the limit of "
                f"{limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request.state.audit_body = body  # what the audit log records at Request level
    return body


def decode_object(body: bytes, content_type: str) -> Object:
    """A JSON, YAML or Kubernetes protobuf request body as an object; 400 when it is
    malformed or not an object, 415 for a protobuf kind Schooner cannot read."""
    media = content_type.split(";")[0].strip().lower() or JSON
    if media == protobuf.MEDIA_TYPE:
        try:
            obj: Any = protobuf.decode(body)
        except protobuf.Unsupported as exc:
            raise errors.UnsupportedMediaType(str(exc)) from None
        except protobuf.DecodeError as exc:
            raise errors.BadRequest(f"invalid protobuf in request body: {exc}") from None
    elif media in ("application/yaml", "application/x-yaml", "text/yaml"):
        obj = _load_yaml(body)
    elif media in (JSON, "*/*", "text/plain"):
        try:
            obj = orjson.loads(body) if body.strip() else None
        except orjson.JSONDecodeError as exc:
            raise errors.BadRequest(f"invalid JSON in request body: {exc}") from None
    else:
        raise errors.UnsupportedMediaType(
            f"the body of the request was in an unknown format ({media}); accepted media "
            "types are application/json, application/yaml and "
            f"{protobuf.MEDIA_TYPE}")
    if not isinstance(obj, dict):
        raise errors.BadRequest("the request body must be a JSON or YAML object, got "
                                f"{type(obj).__name__ if obj is not None else 'nothing'}")
    check_bounds(obj)
    require_object(obj.get("metadata"), "metadata")
    return obj


def _load_yaml(body: bytes) -> Any:
    """YAML as the JSON it stands for (Kubernetes converts YAML to JSON before decoding),
    bounded in depth and alias expansion (`apiserver.bodies`)."""
    try:
        return load_yaml(body.decode("utf-8", errors="replace"))
    except yaml.YAMLError as exc:
        raise errors.BadRequest(f"invalid YAML in request body: {exc}") from None
    except ValueError as exc:
        raise errors.BadRequest(
            f"invalid YAML in request body: it has no JSON equivalent: {exc}") from None


def check_kind(api_version: str, kind: str, obj: Object, *, check_version: bool = True
               ) -> None:
    """A body's apiVersion/kind, when given, must be the ones the endpoint takes."""
    got_kind, got_version = obj.get("kind"), obj.get("apiVersion")
    if got_kind is not None and got_kind != kind:
        raise errors.BadRequest(
            f"the kind of the object ({got_kind}) does not match the resource ({kind})")
    if check_version and got_version is not None and got_version != api_version:
        raise errors.BadRequest(
            f"the API version of the object ({got_version}) does not match the resource "
            f"({api_version})")
