"""The shared parts of `schooner describe`: kubectl's PrefixWriter and common sections.

Mirrors k8s.io/kubectl/pkg/describe/describe.go: a PrefixWriter (two spaces
per level) over a tabwriter with padding 2, so `Name:` and its siblings line
up the way kubectl's do, and a line without a tab starts a new alignment
block; plus the header, labels, annotations, owner and events sections that
the per-kind layouts (`pods`, `workloads`, `others`) share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apimachinery.meta import Object, labels_of, metadata, name_of, namespace_of, parse_time
from apimachinery.printers import since
from cli.output_formats import tabwrite

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_EPOCH = datetime.min.replace(tzinfo=UTC)


class Writer:
    """kubectl's PrefixWriter: `level` adds two spaces; `flush` starts a new alignment block."""

    def __init__(self) -> None:
        self._chunks: list[list[str]] = [[]]

    def __call__(self, level: int, text: str) -> None:
        self._chunks[-1].extend(("  " * level + text).split("\n"))

    def flush(self) -> None:
        self._chunks.append([])

    def text(self) -> str:
        return "".join(tabwrite(chunk) for chunk in self._chunks if chunk)


@dataclass(frozen=True)
class Context:
    """What a layout draws on besides the object: its events, the clock, related objects.

    `pods`, `replica_sets` and `endpoints` are None when the caller did not fetch them.
    """

    events: Sequence[Object]
    now: datetime
    pods: Sequence[Object] | None
    replica_sets: Sequence[Object] | None
    endpoints: Object | None


def go_string(value: Any) -> str:
    """A value as Go's `%v` prints it: `true`, `<nil>`, `[a b]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    return str(value)


def rfc1123(value: str | None) -> str:
    """time.RFC1123Z, kubectl describe's timestamp format: `Mon, 02 Jan 2006 15:04:05 -0700`."""
    when = parse_time(value)
    return when.strftime("%a, %d %b %Y %H:%M:%S %z") if when else "<unset>"


def write_labels(w: Writer, title: str, labels: dict[str, str] | None, indent: str = "") -> None:
    """printLabelsMultilineWithIndent: one `key=value` per line, sorted, or `<none>`."""
    keys = sorted(labels or {})
    if not keys:
        w(0, f"{indent}{title}:\t<none>")
    for i, key in enumerate(keys):
        w(0, (f"{indent}{title}:\t" if i == 0 else f"{indent}\t") + f"{key}={(labels or {})[key]}")


def write_annotations(w: Writer, title: str, annotations: dict[str, str] | None) -> None:
    """printAnnotationsMultiline: last-applied skipped, long or multi-line values folded."""
    keys = sorted(k for k in annotations or {} if k != _LAST_APPLIED)
    if not keys:
        w(0, f"{title}:\t<none>")
    for i, key in enumerate(keys):
        lead = f"{title}:\t" if i == 0 else "\t"
        value = (annotations or {})[key].removesuffix("\n")
        if len(value) + len(key) + 2 > 140 or "\n" in value:
            w(0, f"{lead}{key}:")
            for line in value.split("\n"):
                w(0, "\t  " + (line[:138] + "..." if len(line) > 138 else line))
        else:
            w(0, f"{lead}{key}: {value}")


def write_header(w: Writer, obj: Object, *, created: bool = False) -> None:
    w(0, f"Name:\t{name_of(obj)}")
    w(0, f"Namespace:\t{namespace_of(obj)}")
    if created:
        w(0, f"CreationTimestamp:\t{rfc1123(metadata(obj).get('creationTimestamp'))}")


def write_meta(w: Writer, obj: Object) -> None:
    write_labels(w, "Labels", labels_of(obj))
    write_annotations(w, "Annotations", metadata(obj).get("annotations"))


def controller_of(obj: Object) -> Object | None:
    refs = metadata(obj).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), None)


def controlled_by(obj: Object, owner: Object) -> bool:
    uid = metadata(owner).get("uid")
    ref = controller_of(obj)
    return not uid or (ref is not None and ref.get("uid") == uid)


def write_events(w: Writer, ctx: Context) -> None:
    """DescribeEvents: a Type/Reason/Age/From/Message table, oldest last-seen first."""
    if not ctx.events:
        w(0, "Events:\t<none>")
        return
    w.flush()
    w(0, "Events:")
    w(1, "Type\tReason\tAge\tFrom\tMessage")
    w(1, "----\t------\t----\t----\t-------")
    for e in sorted(ctx.events, key=lambda e: parse_time(e.get("lastTimestamp")) or _EPOCH):
        first = since(e.get("eventTime") or e.get("firstTimestamp"), ctx.now)
        interval, series = first, e.get("series")
        if series:
            last = since(series.get("lastObservedTime"), ctx.now)
            interval = f"{last} (x{series.get('count', 0)} over {first})"
        elif (e.get("count") or 0) > 1:
            interval = f"{since(e.get('lastTimestamp'), ctx.now)} (x{e['count']} over {first})"
        source = (e.get("source") or {}).get("component") or e.get("reportingController") or ""
        message = (e.get("message") or "").strip()
        field_path = (e.get("involvedObject") or {}).get("fieldPath")
        if field_path:
            message = f"{field_path}: {message}"
        w(1, f"{e.get('type', '')}\t{e.get('reason', '')}\t{interval}\t{source}\t{message}")

