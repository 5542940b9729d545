"""pod-template-hash: a pod template's stable name, and equality that ignores it.

Kubernetes' controller.ComputeHash (pkg/controller/controller_utils.go) and
deployment util's EqualIgnoreHash, used by the Deployment controller (a
ReplicaSet is named and selected by its template's hash) and the StatefulSet
controller (a revision is `NAME-HASH`).

`template_hash` is FNV-1a (32 bit) over the pod template's canonical JSON
(sorted keys; nulls, empty maps and empty lists dropped; the pod-template-hash
label left out), plus the collision count, printed in Kubernetes' "safe"
alphabet. It is stable across processes and releases, and a template that
`kubectl rollout undo` sends back (with `creationTimestamp: null` and
`resources: {}`) hashes and compares equal to the one it came from, so the old
ReplicaSet is reused rather than cloned.
"""

from __future__ import annotations

import orjson

from apimachinery import meta
from apimachinery.meta import Object

POD_TEMPLATE_HASH = "pod-template-hash"
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand


def template_without_hash(template: Object | None) -> Object:
    """A canonical copy of a pod template with the pod-template-hash label removed."""
    tpl = meta.deep_copy(template or {})
    labels = (tpl.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH, None)
    result: Object = meta.canonical(tpl)
    return result


def _fnv1a_32(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: no vowels, no look-alikes, so a hash never spells a word."""
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in text)


def template_hash(template: Object | None, collision_count: int | None = None) -> str:
    """controller.ComputeHash: the pod-template-hash label value for this template."""
    data = orjson.dumps(template_without_hash(template), option=orjson.OPT_SORT_KEYS)
    if collision_count is not None:
        data += str(collision_count).encode()
    return safe_encode(str(_fnv1a_32(data)))


def equal_ignore_hash(a: Object | None, b: Object | None) -> bool:
    """EqualIgnoreHash: same template apart from the pod-template-hash label."""
    return template_without_hash(a) == template_without_hash(b)
