"""Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) for the built-in kinds.

client-go's typed clients, and so kubectl's `create namespace|configmap|secret|
deployment` and every Go controller, send create, update and delete bodies in
Kubernetes protobuf. `decode` reads such a body into the object's JSON form: the
envelope names the kind, the registry gives its model, and the model's field
numbers (`field(..., protobuf=N)`) say what each field is (`schema`). `encode` is
the inverse, byte for byte as Go writes it (`encoder`): objects, their lists and
v1 Status (and the Scale that `{workload}/scale` serves), what the server answers a
client that accepts protobuf alone; `frame`
is one event of a protobuf watch stream. Custom resources, when they come, stay
JSON-only, as in Kubernetes.
"""

from __future__ import annotations

from typing import Any

from apimachinery.models.authentication import TokenRequest
from apimachinery.models.autoscaling import Scale
from apimachinery.models.meta import TypedObject

from .codec import DecodeError, Unsupported, decode_message, unwrap, wrap
from .encoder import Unencodable, encode_message
from .schema import DELETE_OPTIONS, STATUS, Message, list_message, message
from .wireformat import len_field

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
WATCH_MEDIA_TYPE = f"{MEDIA_TYPE};stream=watch"

__all__ = ["MEDIA_TYPE", "WATCH_MEDIA_TYPE", "DecodeError", "Unencodable", "Unsupported",
           "decode", "encode", "frame", "message_for"]

# Kinds every group version has, whatever the registry serves.
_SHARED = {"DeleteOptions": DELETE_OPTIONS, "Status": STATUS}
# Kinds only subresources serve: `{workload}/scale`, `serviceaccounts/token`.
SUBRESOURCE_MODELS: dict[tuple[str, str], type[TypedObject]] = {
    ("autoscaling/v1", "Scale"): Scale,
    ("authentication.k8s.io/v1", "TokenRequest"): TokenRequest}


def message_for(api_version: str, kind: str) -> Message:
    """The message of a served kind, of its list, of a subresource's kind (Scale), or of
    DeleteOptions or Status."""
    shared = _SHARED.get(kind)
    if shared is not None:
        return shared
    from ..kinds import UnknownKindError, registry  # the kinds import the wire module

    subresource = SUBRESOURCE_MODELS.get((api_version, kind))
    if subresource is not None:
        return message(subresource)
    served = registry()
    try:
        return message(served.by_kind(api_version, kind).model)
    except UnknownKindError:
        pass
    if kind.endswith("List"):
        try:
            item = served.by_kind(api_version, kind.removesuffix("List"))
        except UnknownKindError:
            pass
        else:
            if item.resource.list_kind == kind:
                return list_message(message(item.model))
    raise Unsupported(f"no protobuf encoding for {kind} in {api_version or 'no version'}"
                      "; use JSON")


def decode(body: bytes) -> dict[str, Any]:
    """A `k8s\\0`-prefixed body as the JSON object, apiVersion and kind first."""
    api_version, kind, raw = unwrap(body)
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind} if api_version else \
        {"kind": kind}
    obj.update(decode_message(raw, message_for(api_version, kind)))
    return obj


def encode(obj: dict[str, Any]) -> bytes:
    """The JSON object `obj` (with apiVersion and kind) as a `k8s\\0`-prefixed body.

    Unsupported for a kind without a protobuf form; Unencodable, naming the field, for
    an object holding a field Schooner has no protobuf form for.
    """
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    described = message_for(api_version, kind)
    try:
        raw = encode_message(obj, described)
    except Unencodable:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
        # not the shape the API stores
        raise Unencodable(f"{kind} cannot be encoded as protobuf: {exc}") from None
    return wrap(api_version, kind, raw)


def frame(event_type: str, obj: dict[str, Any]) -> bytes:
    """One protobuf watch event: a 4-byte big-endian length, then a bare meta/v1
    WatchEvent {type=1, object=2 RawExtension {raw=1: the object's prefixed body}}."""
    event = len_field(1, event_type.encode()) + len_field(2, len_field(1, encode(obj)))
    return len(event).to_bytes(4, "big") + event
