"""Helpers for server-side defaulting: fill what Kubernetes fills before an object is stored.

Each kind's `default` (in its `apiserver/kinds/` module) mirrors the
`SetDefaults_*` functions of `k8s.io/kubernetes/pkg/apis/*/v1/defaults.go`,
limited to the defaults users see (`kubectl describe` prints `Port: 80/TCP`,
the strategy, the probe timings). Defaulting runs before validation, so every
default tolerates malformed input: a field of the wrong type is left alone for
validation to report, never "fixed" and never a crash. These helpers make that
easy to keep.
"""

from __future__ import annotations

from typing import Any

from apimachinery.meta import Object
from apiserver.validation.fields import is_int

Obj = Object  # the wire form: a JSON object


def dict_at(parent: Obj, key: str) -> Obj | None:
    """`parent[key]` when it is a dict, else None (wrong types are validation's business)."""
    value = parent.get(key)
    return value if isinstance(value, dict) else None


def dicts_at(parent: Obj, key: str) -> list[Obj]:
    """The dict items of the list `parent[key]`; empty when absent or not a list."""
    value = parent.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def ensure_dict(parent: Obj, key: str) -> Obj | None:
    """`parent[key]`, created as `{}` when absent or null; None when it has another type."""
    if parent.get(key) is None:
        parent[key] = {}
    return dict_at(parent, key)


def set_default(parent: Obj, key: str, value: Any) -> None:
    """Set `parent[key]` when absent or null (or `""` for a string default).

    Go defaulting fills a field left at its zero value; an empty string is the
    zero value of a string, while `replicas: 0` is a real choice and is kept.
    """
    current = parent.get(key)
    if current is None or (current == "" and isinstance(value, str)):
        parent[key] = value


__all__ = ["Obj", "dict_at", "dicts_at", "ensure_dict", "is_int", "set_default"]
