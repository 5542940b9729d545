"""Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) for the built-in kinds.

client-go's typed clients, and so kubectl's `create namespace|configmap|secret|
deployment` and every Go controller, send create, update and delete bodies in
Kubernetes protobuf. `decode` reads such a body into the object's JSON form: the
envelope names the kind, the registry gives its model, and the model's field
numbers (`field(..., protobuf=N)`) say what each field is (`schema`). `encode` is
the inverse, used by the tests' round trips. Custom resources, when they come,
stay JSON-only, as in Kubernetes.
"""

from __future__ import annotations

from typing import Any

from .codec import DecodeError, Unsupported, decode_message, encode_message, unwrap, wrap
from .schema import DELETE_OPTIONS, Message, message

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"

__all__ = ["MEDIA_TYPE", "DecodeError", "Unsupported", "decode", "encode", "message_for"]


def message_for(api_version: str, kind: str) -> Message:
    """The message of a served kind (or DeleteOptions, which every group version takes)."""
    if kind == "DeleteOptions":
        return DELETE_OPTIONS
    from ..kinds import UnknownKindError, registry  # the kinds import the wire module

    try:
        served = registry().by_kind(api_version, kind)
    except UnknownKindError:
        raise Unsupported(f"no protobuf encoding for {kind} in {api_version or 'no version'}"
                          "; send it as JSON") from None
    return message(served.model)


def decode(body: bytes) -> dict[str, Any]:
    """A `k8s\\0`-prefixed body as the JSON object, apiVersion and kind first."""
    api_version, kind, raw = unwrap(body)
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind} if api_version else \
        {"kind": kind}
    obj.update(decode_message(raw, message_for(api_version, kind)))
    return obj


def encode(obj: dict[str, Any]) -> bytes:
    """The JSON object `obj` (with apiVersion and kind) as a `k8s\\0`-prefixed body."""
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    return wrap(api_version, kind, encode_message(obj, message_for(api_version, kind)))
