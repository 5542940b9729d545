"""kubectl describe's Service, Node, ConfigMap, Secret and Namespace layouts, and its generic one.

Mirrors the matching describers in k8s.io/kubectl/pkg/describe; any kind
without a layout of its own gets genericDescriber, a sorted dump of the object
with "smart" labels (`apiVersion` -> `API Version`).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from apimachinery.meta import Object, metadata, name_of
from apimachinery.printers import format_endpoints, format_labels, node_roles
from cli.describe._writer import (
    Context,
    Writer,
    go_string,
    rfc1123,
    write_events,
    write_header,
    write_meta,
)

_ACRONYMS = {"API", "URL", "UID", "GUID"}


def describe_service(w: Writer, svc: Object, ctx: Context) -> None:
    spec = svc.get("spec") or {}
    write_header(w, svc)
    write_meta(w, svc)
    w(0, f"Selector:\t{format_labels(spec.get('selector'))}")
    w(0, f"Type:\t{spec.get('type') or 'ClusterIP'}")
    if spec.get("ipFamilyPolicy"):
        w(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}")
    w(0, f"IP Families:\t{','.join(spec.get('ipFamilies') or []) or '<none>'}")
    w(0, f"IP:\t{spec.get('clusterIP', '')}")
    w(0, f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}")
    if spec.get("externalIPs"):
        w(0, f"External IPs:\t{','.join(spec['externalIPs'])}")
    if spec.get("externalName"):
        w(0, f"External Name:\t{spec['externalName']}")
    for port in spec.get("ports") or []:
        name, proto = port.get("name") or "<unset>", port.get("protocol") or "TCP"
        w(0, f"Port:\t{name}\t{port.get('port')}/{proto}")
        w(0, f"TargetPort:\t{port.get('targetPort', port.get('port'))}/{proto}")
        if port.get("nodePort"):
            w(0, f"NodePort:\t{name}\t{port['nodePort']}/{proto}")
        endpoints = format_endpoints(ctx.endpoints, {port.get("name") or ""}) \
            if ctx.endpoints else "<none>"
        w(0, f"Endpoints:\t{endpoints}")
    w(0, f"Session Affinity:\t{spec.get('sessionAffinity') or 'None'}")
    for label, key in (("External Traffic Policy", "externalTrafficPolicy"),
                       ("Internal Traffic Policy", "internalTrafficPolicy")):
        if spec.get(key):
            w(0, f"{label}:\t{spec[key]}")
    write_events(w, ctx)


def describe_node(w: Writer, node: Object, ctx: Context) -> None:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    w(0, f"Name:\t{name_of(node)}")
    w(0, f"Roles:\t{','.join(node_roles(node)) or '<none>'}")
    write_meta(w, node)
    w(0, f"CreationTimestamp:\t{rfc1123(metadata(node).get('creationTimestamp'))}")
    taints = sorted(spec.get("taints") or [], key=lambda t: f"{t.get('effect')},{t.get('key')}")
    if not taints:
        w(0, "Taints:\t<none>")
    for i, t in enumerate(taints):
        value = f"={t['value']}" if t.get("value") else ""
        w(0, ("Taints:\t" if i == 0 else "\t") + f"{t.get('key')}{value}:{t.get('effect')}")
    w(0, f"Unschedulable:\t{go_string(bool(spec.get('unschedulable')))}")
    if status.get("conditions"):
        w(0, "Conditions:")
        w(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
        w(1, "----\t------\t-----------------\t------------------\t------\t-------")
    for c in status.get("conditions") or []:
        w(1, f"{c.get('type', '')} \t{c.get('status', '')} \t"
             f"{rfc1123(c.get('lastHeartbeatTime'))} \t{rfc1123(c.get('lastTransitionTime'))} \t"
             f"{c.get('reason', '')} \t{c.get('message', '')}")
    w(0, "Addresses:")
    for address in status.get("addresses") or []:
        w(1, f"{address.get('type')}:\t{address.get('address')}")
    for title in ("Capacity", "Allocatable"):
        resources = status.get(title.lower()) or {}
        if resources:
            w(0, f"{title}:")
        for res in sorted(resources):
            w(1, f"{res}:\t{resources[res]}")
    info = status.get("nodeInfo") or {}
    w(0, "System Info:")
    for label, key in (("Machine ID", "machineID"), ("System UUID", "systemUUID"),
                       ("Boot ID", "bootID"), ("Kernel Version", "kernelVersion"),
                       ("OS Image", "osImage"), ("Operating System", "operatingSystem"),
                       ("Architecture", "architecture"),
                       ("Container Runtime Version", "containerRuntimeVersion"),
                       ("Kubelet Version", "kubeletVersion")):
        w(1, f"{label}:\t{info.get(key, '')}")
    if spec.get("podCIDR"):
        w(0, f"PodCIDR:\t{spec['podCIDR']}")
    if spec.get("podCIDRs"):
        w(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}")
    write_events(w, ctx)


def describe_config_map(w: Writer, cm: Object, ctx: Context) -> None:
    write_header(w, cm)
    write_meta(w, cm)
    w(0, "\nData\n====")
    data = cm.get("data") or {}
    for key in sorted(data):
        w(0, f"{key}:\n----\n{data[key]}\n")
    w(0, "\nBinaryData\n====")
    binary = cm.get("binaryData") or {}
    for key in sorted(binary):
        w(0, f"{key}: {_decoded_size(binary[key])} bytes")
    w(0, "")
    write_events(w, ctx)


def _decoded_size(value: str) -> int:
    """The byte length of base64 data, as kubectl reports for Secret and binary ConfigMap data."""
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return len(value)


def describe_secret(w: Writer, secret: Object, ctx: Context) -> None:
    """describeSecret: sizes only, never values (and, as in kubectl, no events)."""
    write_header(w, secret)
    write_meta(w, secret)
    w(0, f"\nType:\t{secret.get('type') or 'Opaque'}")
    w(0, "\nData\n====")
    data = secret.get("data") or {}
    for key in sorted(data):
        w(0, f"{key}:\t{_decoded_size(data[key])} bytes")


def describe_namespace(w: Writer, ns: Object, ctx: Context) -> None:
    w(0, f"Name:\t{name_of(ns)}")
    write_meta(w, ns)
    w(0, f"Status:\t{(ns.get('status') or {}).get('phase', '')}")


def _smart_label(field: str) -> str:
    """smartLabelFor: `apiVersion` -> `API Version`, `holderIdentity` -> `Holder Identity`."""
    if not field or any(not (ch.isalpha() or ch == "-") for ch in field):
        return field
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|-+|.", field)
    merged: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if (len(part) >= 2 and part.isupper() and i + 1 < len(parts)
                and parts[i + 1][:1].isupper()):
            part, i = part + parts[i + 1], i + 1
        merged.append(part)
        i += 1
    return " ".join(p.upper() if p.upper() in _ACRONYMS else
                    (p[:1].upper() + p[1:] if p.islower() else p) for p in merged)


def _dump(w: Writer, level: int, content: dict[str, Any], prefix: str) -> None:
    """printUnstructuredContent: every field, sorted, nested maps and lists indented."""
    for field in sorted(content):
        value, path = content[field], f"{prefix}.{field}"
        if path in _GENERIC_SKIP:
            continue
        if isinstance(value, dict | list):
            w(level, f"{_smart_label(field)}:")
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, dict):
                    _dump(w, level + 1, child, path)
                else:
                    w(level + 1, go_string(child))
        else:
            w(level, f"{_smart_label(field)}:\t{go_string(value)}")


_GENERIC_SKIP = {".metadata.managedFields", ".metadata.name", ".metadata.namespace",
                 ".metadata.labels", ".metadata.annotations"}


def describe_generic(w: Writer, obj: Object, ctx: Context) -> None:
    """kubectl's genericDescriber, used for kinds without a describer of their own."""
    write_header(w, obj)
    write_meta(w, obj)
    _dump(w, 0, obj, "")
    write_events(w, ctx)
