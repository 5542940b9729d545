"""`metadata.managedFields`: who owns which fields, kept on every write.

Kubernetes' field manager (k8s.io/apimachinery/pkg/util/managedfields/internal) is
a stack of small managers around structured-merge-diff's `Updater`; the same rules
here, on wire dicts:

- an entry is identified by manager, operation, subresource and, for `Update`,
  apiVersion (`BuildManagerIdentifier`); its time is not part of it;
- `Update` (create, update, non-apply patch): fields the write changed or added
  move to the writer, whoever had them (no conflicts), fields it removed leave
  every owner, and the writer's entry is merged with its earlier one and gets a
  new time when it took anything;
- `Apply`: the applied configuration's fields become the applier's whole set;
  fields another manager owns whose value the apply changes are conflicts unless
  forced (then they move); fields the applier applied last time and no longer
  does are removed from the object when nobody else owns them;
- ObjectMeta's server-set fields (`stripmeta.go`) are never owned, nor `status`
  through the main resource or `spec` through `/status` (the strategies' reset
  fields); empty entries go; at most 10 `Update` entries, the oldest folded into
  `ancient-changes` (`capmanagers.go`);
- an object without managedFields that is applied to first gives all its fields
  to `before-first-apply` (`skipnonapplied.go`), and an update of such an object
  leaves it untracked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from apimachinery import errors
from apimachinery.meta import Object, now_rfc3339

from . import typed
from .fieldset import FieldSet, path_string

__all__ = ["Conflicts", "Entry", "ManagerId", "Writer", "decode", "encode", "is_reset",
           "record_update", "update"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
BEFORE_FIRST_APPLY = "before-first-apply"
ANCIENT_CHANGES = "ancient-changes"
MAX_UPDATE_MANAGERS = 10
# kubectl's `apply --server-side` manager: the one the client-side-apply upgrade
# (lastappliedmanager.go, lastappliedupdater.go) is for.
KUBECTL = "kubectl"
_ANNOTATIONS_LIMIT = 256 * 1024

# ObjectMeta's fields nobody owns (stripmeta.go), removed from each writer's set.
_STRIPPED = FieldSet.of(
    ("f:apiVersion",), ("f:kind",), ("f:metadata",),
    *[("f:metadata", "f:" + name) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
        "generation", "managedFields", "resourceVersion")])


@dataclass(frozen=True, order=True)
class ManagerId:
    """An entry's identity; `api_version` is empty for Apply entries."""

    manager: str
    operation: str  # Apply or Update
    api_version: str
    subresource: str

    def printed(self) -> str:
        """How a conflict names the manager (conflict.go's printManager)."""
        shown = json.dumps(self.manager)
        if self.subresource:
            shown += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            shown += f" using {self.api_version}"
        return shown


@dataclass(frozen=True)
class Entry:
    fields: FieldSet
    api_version: str
    time: str | None
    # The FieldsV1 the entry was decoded from, written back as it was while `fields` is
    # unchanged (most writes change one entry; re-encoding the others was a third of
    # the cost of tracking).
    raw: dict[str, Any] | None = field(default=None, compare=False)

    def with_fields(self, fields: FieldSet) -> Entry:
        return self if fields is self.fields else replace(self, fields=fields, raw=None)


Managed = dict[ManagerId, Entry]


@dataclass(frozen=True)
class Writer:
    """Who writes, as the request says: the manager name (the `fieldManager` parameter,
    else the User-Agent's program), the subresource written through, and whether the
    kind keeps status apart (then `status` is reset through the main resource)."""

    manager: str
    subresource: str = ""
    status_apart: bool = True
    force: bool = False
    applying: bool = False  # an apply PATCH: the body's managedFields are computed already
    api_version: str = ""
    kind: str = ""

    def ignored(self) -> FieldSet:
        if self.subresource == "status":
            return FieldSet.of(("f:spec",))
        return FieldSet.of(("f:status",)) if self.status_apart else FieldSet()


# -- encoding ---------------------------------------------------------------------------


def decode(entries: Any) -> Managed:
    """Decode managedFields as Kubernetes' DecodeManagedFields; ValueError says why not."""
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise ValueError("managedFields must be a list")
    managed: Managed = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"managed fields entry {index} must be an object")
        operation = entry.get("operation")
        if operation not in ("Apply", "Update"):
            raise ValueError("operation must be `Apply` or `Update`")
        api_version = entry.get("apiVersion")
        if not isinstance(api_version, str) or not api_version:
            raise ValueError("apiVersion must not be empty")
        fields_type = entry.get("fieldsType") or ""
        if fields_type != "FieldsV1":
            raise ValueError(f"missing fieldsType in managed fields entry {index}"
                             if not fields_type else
                             f"invalid fieldsType {fields_type!r} in managed fields entry "
                             f"{index}")
        ident = ManagerId(str(entry.get("manager") or ""), operation,
                          "" if operation == "Apply" else api_version,
                          str(entry.get("subresource") or ""))
        time = entry.get("time")
        raw = entry.get("fieldsV1") or {}
        managed[ident] = Entry(FieldSet.from_fields(raw), api_version,
                               time if isinstance(time, str) else None, raw)
    return managed


def is_reset(entries: Any) -> bool:
    """`managedFields: []` or `[{}]` in a write clears them (isResetManagedFields)."""
    return isinstance(entries, list) and (entries == [] or entries == [{}])


def encode(managed: Managed) -> list[Object] | None:
    """The managedFields list, sorted as Kubernetes sorts it: Apply entries first, then
    by time, manager, apiVersion, subresource."""
    out: list[tuple[Any, Object]] = []
    for ident, entry in managed.items():
        item: Object = {"manager": ident.manager, "operation": ident.operation,
                        "apiVersion": entry.api_version}
        if entry.time:
            item["time"] = entry.time
        item["fieldsType"] = "FieldsV1"
        item["fieldsV1"] = entry.raw if entry.raw is not None else entry.fields.to_fields()
        if ident.subresource:
            item["subresource"] = ident.subresource
        key = (ident.operation, entry.time or "", ident.manager, entry.api_version,
               ident.subresource)
        out.append((key, item))
    return [item for _, item in sorted(out, key=lambda pair: pair[0])] or None


# -- the shared step --------------------------------------------------------------------


class Conflicts(Exception):
    """Fields of other managers an apply would change, by manager."""

    def __init__(self, by_manager: Mapping[ManagerId, FieldSet]) -> None:
        super().__init__("conflicts")
        self.by_manager = dict(by_manager)

    def as_set(self) -> FieldSet:
        out = FieldSet()
        for fields in self.by_manager.values():
            out = out.union(fields)
        return out

    def without(self, allowed: FieldSet) -> Conflicts:
        left = {m: s.difference(allowed) for m, s in self.by_manager.items()}
        return Conflicts({m: s for m, s in left.items() if not s.empty()})

    def error(self) -> errors.Conflict:
        """409 Conflict as Kubernetes' NewConflictError writes it."""
        pairs = [(ident, path) for ident in sorted(self.by_manager)
                 for path in self.by_manager[ident].paths()]
        causes = [{"reason": "FieldManagerConflict",
                   "message": f"conflict with {ident.printed()}",
                   "field": path_string(path)} for ident, path in pairs]
        if len(pairs) == 1:
            ident, path = pairs[0]
            message = (f"Apply failed with 1 conflict: conflict with {ident.printed()}: "
                       f"{path_string(path)}")
        else:
            lines: list[str] = []
            for ident in sorted(self.by_manager, key=lambda i: i.printed()):
                lines.append(f"conflicts with {ident.printed()}:")
                lines.extend(f"- {path_string(p)}" for p in self.by_manager[ident].paths())
            message = f"Apply failed with {len(pairs)} conflicts: " + "\n".join(lines)
        return errors.Conflict(message, details={"causes": causes})


def _take(live: Object, new: Object, managed: Managed, writer_id: ManagerId,
          kind_type: typed.Type, ignored: FieldSet, force: bool,
          ) -> tuple[Managed, typed.Comparison]:
    """structured-merge-diff's `Updater.update`: what `new` changes of `live` leaves the
    other managers (conflicts unless forced) and the fields it removed leave everyone."""
    diff = typed.compare(live, new, kind_type)
    diff = typed.Comparison(diff.added.recursive_difference(ignored),
                            diff.modified.recursive_difference(ignored),
                            diff.removed.recursive_difference(ignored))
    changed = diff.modified.union(diff.added)
    conflicts: dict[ManagerId, FieldSet] = {}
    out: Managed = {}
    for ident, entry in managed.items():
        if ident == writer_id:
            out[ident] = entry
            continue
        taken = entry.fields.intersection(changed)
        if not taken.empty():
            conflicts[ident] = taken
        left = entry.fields.difference(taken).difference(diff.removed)
        if not left.empty():
            out[ident] = entry.with_fields(left)
    if conflicts and not force:
        raise Conflicts(conflicts)
    return out, diff


def _strip(managed: Managed, ident: ManagerId) -> None:
    entry = managed.get(ident)
    if entry is None:
        return
    left = entry.fields.difference(_STRIPPED)
    if left.empty():
        del managed[ident]
    else:
        managed[ident] = entry.with_fields(left)


# -- Update -----------------------------------------------------------------------------


def record_update(live: Object | None, new: Object, requested: Any, writer: Writer,
                  api_version: str, kind: str) -> None:
    """Set `new`'s managedFields after an Update by `writer` (live None: a create).

    `requested` is the managedFields the request carried: honoured through the main
    resource when they decode and are not empty, `[]`/`[{}]` clear them, anything
    else keeps the stored ones (decodeLiveOrNew). Stored managed fields that do not
    decode are dropped, and an object the schema cannot key (a list item without its
    key) keeps the stored ones, rather than failing the write (UpdateNoErrors).
    """
    live_entries = (live or {}).get("metadata", {}).get("managedFields")
    managed = _base(live_entries, requested, writer)
    meta = new.setdefault("metadata", {})
    if not managed and live is not None:
        meta.pop("managedFields", None)  # an untracked object stays untracked
        return
    ident = ManagerId(writer.manager or "unknown", "Update", api_version, writer.subresource)
    try:
        result = update(live or {}, new, managed, ident, typed.root_type(kind),
                        writer.ignored(), api_version, now_rfc3339)
    except ValueError:  # a list item without its keys: the stored entries stay
        _set(meta, live_entries if isinstance(live_entries, list) else None)
        return
    _set(meta, encode(result))


def _base(live_entries: Any, requested: Any, writer: Writer) -> Managed:
    def live_or_empty() -> Managed:
        try:
            return decode(live_entries)
        except ValueError:
            return {}
    if writer.subresource:
        return live_or_empty()
    if is_reset(requested):
        return {}
    try:
        managed = decode(requested)
    except ValueError:
        return live_or_empty()
    return managed or live_or_empty()


def update(live: Object, new: Object, managed: Managed, ident: ManagerId,
           kind_type: typed.Type, ignored: FieldSet, api_version: str,
           clock: Callable[[], str]) -> Managed:
    """The managed fields after `ident` updated `live` to `new` (Update operation)."""
    others, diff = _take(live, new, managed, ident, kind_type, ignored, True)
    took = diff.modified.union(diff.added).recursive_difference(ignored).difference(_STRIPPED)
    previous = others.pop(ident, None)
    kept = previous.fields.difference(diff.removed) if previous else FieldSet()
    if not took.empty():
        others[ident] = Entry(kept.union(took), api_version, clock())
    elif previous is not None and not kept.empty():
        others[ident] = previous.with_fields(kept)
    return _cap_updaters(others)


def _cap_updaters(managed: Managed) -> Managed:
    """At most 10 Update entries: the oldest fold into `ancient-changes` (capmanagers.go)."""
    updaters = sorted((i for i in managed if i.operation == "Update"),
                      key=lambda i: (managed[i].time or "", i.manager))
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return managed
    out = dict(managed)
    for ident in updaters[:len(updaters) - MAX_UPDATE_MANAGERS + 1]:
        entry = out.pop(ident)
        bucket = ManagerId(ANCIENT_CHANGES, "Update", entry.api_version, "")
        old = out.get(bucket)
        out[bucket] = Entry(entry.fields.union(old.fields) if old else entry.fields,
                            entry.api_version, entry.time)
    return out


def _set(meta: Object, entries: list[Object] | None) -> None:
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)
