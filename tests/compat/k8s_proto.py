"""A few of Kubernetes' protobuf messages, declared for Google's protobuf runtime.

The compatibility tests read the apiserver's protobuf answers with the `protobuf`
package (upb, the runtime every gRPC client uses), not with Schooner's own decoder, so
a wire-format mistake the encoder and decoder share cannot hide. The messages are
declared here from the field numbers of Kubernetes' `generated.proto` files
(k8s.io/apimachinery `pkg/runtime`, `pkg/apis/meta/v1`; k8s.io/api `core/v1`,
`apps/v1`, `autoscaling/v1`), only the fields the tests read; proto2 keeps the others
as unknown fields, and tells a field that is on the wire (`HasField`) from one that is
not, which is how a Go pointer left nil differs from one set to zero.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
OPTIONAL, REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
STRING, BYTES, INT64, INT32, BOOL, MESSAGE = _F.TYPE_STRING, _F.TYPE_BYTES, _F.TYPE_INT64, \
    _F.TYPE_INT32, _F.TYPE_BOOL, _F.TYPE_MESSAGE

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
    # core/v1 Node: the agent's daemon endpoint and system facts
    "Node": [("metadata", 1, OPTIONAL, MESSAGE, "ObjectMeta"),
             ("status", 3, OPTIONAL, MESSAGE, "NodeStatus")],
    "NodeList": [("metadata", 1, OPTIONAL, MESSAGE, "ListMeta"),
                 ("items", 2, REPEATED, MESSAGE, "Node")],
    "NodeStatus": [("daemonEndpoints", 6, OPTIONAL, MESSAGE, "NodeDaemonEndpoints"),
                   ("nodeInfo", 7, OPTIONAL, MESSAGE, "NodeSystemInfo")],
    "NodeDaemonEndpoints": [("kubeletEndpoint", 1, OPTIONAL, MESSAGE, "DaemonEndpoint")],
    "DaemonEndpoint": [("Port", 1, OPTIONAL, INT32, "")],
    "NodeSystemInfo": [("machineID", 1, OPTIONAL, STRING, ""),
                       ("kernelVersion", 4, OPTIONAL, STRING, ""),
                       ("osImage", 5, OPTIONAL, STRING, ""),
                       ("containerRuntimeVersion", 6, OPTIONAL, STRING, ""),
                       ("kubeletVersion", 7, OPTIONAL, STRING, ""),
                       ("operatingSystem", 9, OPTIONAL, STRING, ""),
                       ("architecture", 10, OPTIONAL, STRING, "")],
    # autoscaling/v1 Scale, what `{workload}/scale` serves
    "Scale": [("metadata", 1, OPTIONAL, MESSAGE, "ObjectMeta"),
              ("spec", 2, OPTIONAL, MESSAGE, "ScaleSpec"),
              ("status", 3, OPTIONAL, MESSAGE, "ScaleStatus")],
    "ScaleSpec": [("replicas", 1, OPTIONAL, INT32, "")],
    "ScaleStatus": [("replicas", 1, OPTIONAL, INT32, ""), ("selector", 2, OPTIONAL, STRING, "")],
    # apps/v1 Deployment down to the security contexts of its pod template
    "Deployment": [("metadata", 1, OPTIONAL, MESSAGE, "ObjectMeta"),
                   ("spec", 2, OPTIONAL, MESSAGE, "DeploymentSpec")],
    "DeploymentSpec": [("replicas", 1, OPTIONAL, INT32, ""),
                       ("template", 3, OPTIONAL, MESSAGE, "PodTemplateSpec")],
    "PodTemplateSpec": [("spec", 2, OPTIONAL, MESSAGE, "PodSpec")],
    "PodSpec": [("containers", 2, REPEATED, MESSAGE, "Container"),
                ("securityContext", 14, OPTIONAL, MESSAGE, "PodSecurityContext")],
    "PodSecurityContext": [("runAsUser", 2, OPTIONAL, INT64, ""),
                           ("runAsNonRoot", 3, OPTIONAL, BOOL, ""),
                           ("fsGroup", 5, OPTIONAL, INT64, ""),
                           ("runAsGroup", 6, OPTIONAL, INT64, "")],
    "Container": [("name", 1, OPTIONAL, STRING, ""),
                  ("securityContext", 15, OPTIONAL, MESSAGE, "SecurityContext")],
    "SecurityContext": [("privileged", 2, OPTIONAL, BOOL, ""),
                        ("runAsUser", 4, OPTIONAL, INT64, ""),
                        ("runAsNonRoot", 5, OPTIONAL, BOOL, "")],
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
