"""The patch `schooner apply` sends: a three-way JSON merge patch.

kubectl's client-side apply (k8s.io/kubectl/pkg/cmd/apply, on
`CreateThreeWayMergePatch`) diffs three documents: the last applied
configuration (original, kept in the `kubectl.kubernetes.io/
last-applied-configuration` annotation), the manifest being applied
(modified) and the live object (current). The patch deletes what the user
removed from the manifest and sets what the manifest has that the live object
lacks, and leaves alone everything else the server or other clients wrote.

This lives in `apimachinery` so the CLI can use it without importing the
apiserver.
"""

from __future__ import annotations

import copy
from typing import Any

from apimachinery.meta import Object

_MISSING = object()


def three_way_merge_patch(original: Object | None, modified: Object, current: Object) -> Object:
    """The JSON merge patch that moves `current` to what `modified` asks for.

    - Deletions: a key in `original` but not in `modified` becomes `null`,
      recursively through maps (the user removed it from the manifest).
    - Changes: a key of `modified` is included when its value differs. Maps
      recurse. Lists and scalars are compared whole against `original` when
      `original` has the key, so defaults the server filled in inside list
      items (a container's `terminationMessagePath`) cause no spurious diff,
      and against `current` otherwise.

    Lists are sent whole, so send the result as `application/merge-patch+json`
    (as kubectl does for kinds it has no schema for); as a strategic merge
    patch a removed container would survive the merge by name. An empty dict
    means the object is unchanged and no PATCH is needed ("unchanged").
    """
    return copy.deepcopy(_diff(original or {}, modified, current))


def _diff(original: Object, modified: Object, current: Object) -> Object:
    patch: Object = {}
    for key in original:
        if key not in modified:
            patch[key] = None
    for key, want in modified.items():
        was = original.get(key, _MISSING)
        live = current.get(key, _MISSING)
        if isinstance(want, dict) and isinstance(live, dict):
            sub = _diff(was if isinstance(was, dict) else {}, want, live)
            if sub:
                patch[key] = sub
        elif isinstance(want, dict):
            patch[key] = want
        elif want is None and live is _MISSING:
            continue
        else:
            base = was if was is not _MISSING else live
            if base is _MISSING or not _equal(base, want):
                patch[key] = want
    return patch


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: like `==`, but `true` is not `1` (Python says it is)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_equal, a, b))
    return bool(a == b)
