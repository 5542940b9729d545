"""Server-side apply: merge an applied configuration into the live object, with owners.

Kubernetes' `Updater.Apply` (sigs.k8s.io/structured-merge-diff/merge/update.go)
wrapped by the field manager's layers, as `managed.py` describes: the merge, the
applier's new set, the pruning of what it stopped applying, the conflicts with
other owners, and kubectl's upgrade from client-side apply, for which the server
forgives conflicts on fields the `last-applied-configuration` annotation shows the
client set (lastappliedmanager.go) and keeps that annotation current
(lastappliedupdater.go).
"""

from __future__ import annotations

import json
from dataclasses import replace

from apimachinery import errors
from apimachinery.meta import Object, deep_copy, now_rfc3339

from . import typed
from .fieldset import FieldSet
from .managed import (
    _ANNOTATIONS_LIMIT,
    _STRIPPED,
    BEFORE_FIRST_APPLY,
    KUBECTL,
    LAST_APPLIED,
    Conflicts,
    Entry,
    Managed,
    ManagerId,
    Writer,
    _set,
    _take,
    decode,
    encode,
    update,
)

__all__ = ["apply"]


def apply(live: Object, config: Object, writer: Writer, api_version: str,
          kind: str) -> Object:
    """The object after `writer` applied `config` to `live` (`{}` when it does not exist).

    Raises BadRequest for a configuration Kubernetes refuses (another apiVersion,
    managedFields set), Invalid for one the schema cannot key, Conflict (409, one
    cause per field) for fields other managers own unless `writer.force`.
    """
    _check_config(config, api_version, kind)
    kind_type = typed.root_type(kind)
    meta = live.get("metadata") or {}
    try:
        managed = decode(meta.get("managedFields"))
    except ValueError:
        managed = {}
    if not managed and live:
        managed = update({}, live, {}, ManagerId(BEFORE_FIRST_APPLY, "Update", api_version,
                                                 ""),
                         kind_type, writer.ignored(), api_version, now_rfc3339)
    ident = ManagerId(writer.manager, "Apply", "", writer.subresource)
    try:
        result, managed = _apply(live, config, managed, ident, kind_type, writer,
                                 api_version, writer.force)
    except Conflicts as conflicts:
        allowed = _allowed_by_last_applied(live, kind_type, api_version) \
            if writer.manager == KUBECTL else None
        if allowed is None:
            raise conflicts.error() from None
        left = conflicts.without(allowed)
        if left.by_manager:
            raise left.error() from None
        result, managed = _apply(live, config, managed, ident, kind_type, writer,
                                 api_version, True)
    result = {**result, "metadata": dict(result.get("metadata") or {})}  # live's is shared
    if writer.manager == KUBECTL:
        _update_last_applied(result, config)
    _set(result["metadata"], encode(managed))
    return result


def _check_config(config: Object, api_version: str, kind: str) -> None:
    """What structuredmerge.go refuses before merging (a 400 each)."""
    if config.get("apiVersion") != api_version:
        raise errors.BadRequest(
            "Incorrect version specified in apply patch. Specified patch version: "
            f"{config.get('apiVersion') or ''}, expected: {api_version}")
    if config.get("kind") != kind:
        raise errors.BadRequest(
            f"Incorrect kind specified in apply patch. Specified patch kind: "
            f"{config.get('kind') or ''}, expected: {kind}")
    meta = config.get("metadata")
    if isinstance(meta, dict) and meta.get("managedFields") is not None:
        raise errors.BadRequest("metadata.managedFields must be nil")


def _apply(live: Object, config: Object, managed: Managed, ident: ManagerId,
           kind_type: typed.Type, writer: Writer, api_version: str,
           force: bool) -> tuple[Object, Managed]:
    ignored = writer.ignored()
    try:
        applied = typed.field_set(config, kind_type, strict=True)
        merged = typed.merge(live, config, kind_type)
    except ValueError as exc:
        raise errors.BadRequest(f"failed to create typed patch object: {exc}") from None
    applied = applied.recursive_difference(ignored)
    last = managed.get(ident)
    managed = dict(managed)
    managed[ident] = Entry(applied, api_version, last.time if last else None)
    if last is not None:
        merged = _prune(merged, managed, last.fields, kind_type)
    others, _ = _take(live, merged, managed, ident, kind_type, ignored, force)
    own = others[ident].fields.difference(_STRIPPED)
    if own.empty():
        del others[ident]
    else:
        changed = not typed._same(_without_managed(live), _without_managed(merged))
        others[ident] = replace(others[ident].with_fields(own),
                                time=now_rfc3339() if changed or last is None
                                else others[ident].time)
    return merged, others


def _without_managed(obj: Object) -> Object:
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def _prune(merged: Object, managed: Managed, last: FieldSet, kind_type: typed.Type) -> Object:
    """Remove what the applier applied last time and no longer does, where no manager
    (the applier's new set included) owns it (update.go's prune, addBackOwnedItems and
    addBackDanglingItems: a removed path takes everything below it along)."""
    owned = FieldSet()
    for entry in managed.values():
        owned = owned.union(entry.fields)
    owned = typed.named_members(owned, kind_type)
    gone = typed.named_members(last, kind_type).difference(owned)
    if gone.empty():
        return merged
    result: Object = typed.remove(merged, gone, kind_type)
    return result


def _allowed_by_last_applied(live: Object, kind_type: typed.Type,
                             api_version: str) -> FieldSet | None:
    """The fields kubectl's client-side apply set and that still hold its values: what
    kubectl's first server-side apply may take without conflict. None without a usable
    annotation."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    if not text:
        return None
    try:
        last = json.loads(text)
        if not isinstance(last, dict) or last.get("apiVersion") != api_version:
            return None
        fields = typed.field_set(last, kind_type)
        diff = typed.compare(last, live, kind_type)
    except ValueError:
        return None
    return fields.difference(diff.modified).difference(diff.added).difference(diff.removed)


def _update_last_applied(result: Object, config: Object) -> None:
    """kubectl's server-side apply keeps an existing last-applied annotation current, so
    a later client-side apply still diffs against what was applied; dropped when the
    annotations would pass their size limit."""
    meta = result.setdefault("metadata", {})
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict) or not annotations.get(LAST_APPLIED):
        return
    applied = deep_copy(config)
    applied_annotations = (applied.get("metadata") or {}).get("annotations")
    if isinstance(applied_annotations, dict):
        applied_annotations.pop(LAST_APPLIED, None)
        if not applied_annotations:
            applied["metadata"].pop("annotations")
    value = json.dumps(applied, separators=(",", ":"), sort_keys=True)
    annotations = dict(annotations)
    annotations[LAST_APPLIED] = value
    if sum(len(k) + len(v) for k, v in annotations.items()) > _ANNOTATIONS_LIMIT:
        del annotations[LAST_APPLIED]
    meta["annotations"] = annotations
