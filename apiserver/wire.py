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
    """kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` first when it prints."""
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0]
    return "as=Table" in first


def check_acceptable(request: Request) -> None:
    """406 when the client accepts nothing but Kubernetes protobuf: answers are JSON only.

    client-go's typed clients send `application/vnd.kubernetes.protobuf,application/json`
    and decode by the response's Content-Type, so JSON suits them; only a client asking
    for protobuf alone is refused (Kubernetes would answer in protobuf).
    """
    accept = request.headers.get("accept", "")
    ranges = [r.split(";")[0].strip().lower() for r in accept.split(",") if r.strip()]
    if ranges and all(r == protobuf.MEDIA_TYPE for r in ranges):
        raise errors.NotAcceptable(
            f"only the following media types are accepted: {JSON} (the server does not "
            f"answer in {protobuf.MEDIA_TYPE} yet)")


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
    return b"".join(chunks)


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
