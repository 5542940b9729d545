"""A few of Kubernetes' protobuf messages, declared for Google's protobuf runtime.

The compatibility tests read the apiserver's protobuf answers with the `protobuf`
package (upb, the runtime every gRPC client uses), not with Schooner's own decoder, so
a wire-format mistake the encoder and decoder share cannot hide. The messages are
declared here from the field numbers of Kubernetes' `generated.proto` files
(k8s.io/apimachinery `pkg/runtime`, `pkg/apis/meta/v1`; k8s.io/api `core/v1`), only
the fields the tests read; proto2 keeps the others as unknown fields.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
OPTIONAL, REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
STRING, BYTES, INT64, INT32, MESSAGE = _F.TYPE_STRING, _F.TYPE_BYTES, _F.TYPE_INT64, \
    _F.TYPE_INT32, _F.TYPE_MESSAGE

Fields = list[tuple[str, int, int, int, str]]  # name, number, label, type, message type

_MESSAGES: dict[str, Fields] = {
    "Unknown": [("typeMeta", 1, OPTIONAL, MESSAGE, "TypeMeta"), ("raw", 2, OPTIONAL, BYTES, ""),
                ("contentEncoding", 3, OPTIONAL, STRING, ""),
                ("contentType", 4, OPTIONAL, STRING, "")],
    "TypeMeta": [("apiVersion", 1, OPTIONAL, STRING, ""), ("kind", 2, OPTIONAL, STRING, "")],
    "RawExtension": [("raw", 1, OPTIONAL, BYTES, "")],
    "WatchEvent": [("type", 1, OPTIONAL, STRING, ""),
                   ("object", 2, OPTIONAL, MESSAGE, "RawExtension")],
    "Time": [("seconds", 1, OPTIONAL, INT64, ""), ("nanos", 2, OPTIONAL, INT32, "")],
    "ObjectMeta": [("name", 1, OPTIONAL, STRING, ""), ("namespace", 3, OPTIONAL, STRING, ""),
                   ("uid", 5, OPTIONAL, STRING, ""),
                   ("resourceVersion", 6, OPTIONAL, STRING, ""),
                   ("creationTimestamp", 8, OPTIONAL, MESSAGE, "Time"),
                   ("labels", 11, REPEATED, MESSAGE, "StringEntry")],
    "StringEntry": [("key", 1, OPTIONAL, STRING, ""), ("value", 2, OPTIONAL, STRING, "")],
    "ListMeta": [("resourceVersion", 2, OPTIONAL, STRING, ""),
                 ("continue", 3, OPTIONAL, STRING, "")],
    "ConfigMap": [("metadata", 1, OPTIONAL, MESSAGE, "ObjectMeta"),
                  ("data", 2, REPEATED, MESSAGE, "StringEntry")],
    "ConfigMapList": [("metadata", 1, OPTIONAL, MESSAGE, "ListMeta"),
                      ("items", 2, REPEATED, MESSAGE, "ConfigMap")],
    "Status": [("metadata", 1, OPTIONAL, MESSAGE, "ListMeta"),
               ("status", 2, OPTIONAL, STRING, ""), ("message", 3, OPTIONAL, STRING, ""),
               ("reason", 4, OPTIONAL, STRING, ""), ("code", 6, OPTIONAL, INT32, "")],
}
_PACKAGE = "schooner.compat.k8s"


def _pool() -> descriptor_pool.DescriptorPool:
    file = descriptor_pb2.FileDescriptorProto(name="k8s_compat.proto", package=_PACKAGE,
                                              syntax="proto2")
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for field_name, number, label, kind, type_name in fields:
            declared = message.field.add(name=field_name, number=number, label=label,
                                         type=kind)
            if type_name:
                declared.type_name = f".{_PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return pool


_POOL = _pool()


def parse(name: str, data: bytes) -> Any:
    """`data` parsed as the message `name` by Google's protobuf runtime."""
    cls = message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
    parsed = cls()
    parsed.ParseFromString(data)
    return parsed


def unwrap(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, raw) of a `k8s\\0`-prefixed body."""
    assert body[:4] == b"k8s\x00", body[:16]
    unknown = parse("Unknown", body[4:])
    return unknown.typeMeta.apiVersion, unknown.typeMeta.kind, unknown.raw


def entries(repeated: Any) -> dict[str, str]:
    """A map field (repeated {key, value}) as a dict, checking Go's sorted key order."""
    keys = [e.key for e in repeated]
    assert keys == sorted(keys), keys
    return {e.key: e.value for e in repeated}
