"""Client-side output for `schooner get`: tables, names, JSON and YAML, as kubectl prints them.

The table layout is kubectl's HumanReadablePrinter over cli-runtime's
tabwriter (minwidth 6, padding 3, `RememberWidths`): headers are the column
names upper-cased (`UP-TO-DATE`, `PORT(S)`), `-o wide` adds the priority-1
columns, `-A` puts NAMESPACE first and `--show-labels` puts LABELS last. The
columns themselves come from `apimachinery.printers`, the same code the
apiserver uses for its Table replies, so `schooner get` and `kubectl get`
show the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

import yaml

from apimachinery.meta import Object, labels_of, name_of, namespace_of
from apimachinery.printers import (
    LAYOUTS,
    Layout,
    column_definitions,
    format_labels,
    row_cells,
)
from apimachinery.resources import ResourceInfo

GET_MINWIDTH, GET_PADDING = 6, 3


def tabwrite(lines: Sequence[str], *, minwidth: int = 0, padding: int = 2,
             remembered: dict[int, int] | None = None) -> str:
    """Align tab-separated cells as Go's text/tabwriter does (space padding, left aligned).

    A column block is a run of consecutive lines that all have a cell in that
    column; each block gets its own width, so a line without tabs resets the
    alignment, as in `kubectl describe`. The text after a line's last tab is
    not part of any column. `remembered` keeps the widest width seen per column
    across calls: liggitt/tabwriter's RememberWidths, which keeps `get -w` rows
    lined up with the header printed before them.
    """
    rows = [line.split("\t") for line in lines]
    out: list[str] = []
    widths: list[int] = []

    def write(line0: int, line1: int) -> None:
        for row in rows[line0:line1]:
            out.append("".join(cell.ljust(widths[j]) if j < len(widths) else cell
                               for j, cell in enumerate(row)) + "\n")

    def block(line0: int, line1: int) -> None:
        column, this = len(widths), line0
        while this < line1:
            if column >= len(rows[this]) - 1:
                this += 1
                continue
            write(line0, this)
            line0, width = this, minwidth
            while this < line1 and column < len(rows[this]) - 1:
                width = max(width, len(rows[this][column]) + padding)
                this += 1
            if remembered is not None:
                width = remembered[column] = max(width, remembered.get(column, 0))
            widths.append(width)
            block(line0, this)
            widths.pop()
            line0 = this
        write(line0, line1)

    block(0, len(rows))
    return "".join(out)


def _cell_text(cell: Any) -> str:
    """kubectl's printTable cell: cut at the first line break (adding `...`), bools as Go prints."""
    if cell is None:
        return ""
    text = ("true" if cell else "false") if isinstance(cell, bool) else str(cell)
    for i, ch in enumerate(text):
        if ch in "\n\r\f":
            text = text[:i] + "..."
            break
    return text.replace("\t", " ")


class TableOptions(TypedDict):
    """get's flags that shape a table: `-o wide`, `-A`, `--show-labels`, `--no-headers`."""

    wide: bool
    all_namespaces: bool
    show_labels: bool
    no_headers: bool


class TablePrinter:
    """kubectl's table printer with its memory: one header, widths that only grow.

    `get` renders once; `get -w` renders the initial list and then one object
    per watch event through the same printer, so later rows line up with
    earlier ones and the header is printed exactly once (when the first row is).
    """

    def __init__(self, resource: ResourceInfo, *, wide: bool = False,
                 all_namespaces: bool = False, show_labels: bool = False,
                 no_headers: bool = False, layout: Layout | None = None) -> None:
        self.resource = resource
        self.layout = layout
        columns = column_definitions(resource, layout)
        self._shown = [i for i, c in enumerate(columns) if wide or c.get("priority", 0) == 0]
        self._names = [columns[i]["name"] for i in self._shown]
        self._with_namespace = all_namespaces and resource.namespaced
        self._show_labels = show_labels
        self._header_pending = not no_headers
        self._widths: dict[int, int] = {}

    def header(self) -> list[str]:
        """The header cells: upper-cased column names, as kubectl's printTable writes them."""
        names = [n.upper() for n in self._names]
        if self._with_namespace:
            names.insert(0, "NAMESPACE")
        if self._show_labels:
            names.append("LABELS")
        return names

    def cells(self, obj: Object, now: datetime) -> list[str]:
        """One object's visible cells, with the NAMESPACE and LABELS decorations."""
        all_cells = row_cells(self.resource, obj, now, self.layout)
        cells = [_cell_text(all_cells[i]) if i < len(all_cells) else "" for i in self._shown]
        if self._with_namespace:
            cells.insert(0, namespace_of(obj))
        if self._show_labels:
            cells.append(format_labels(labels_of(obj)))
        return cells

    def render(self, objects: Sequence[Object], now: datetime) -> str:
        """Rows for `objects` (after the header, the first time); "" when there are none."""
        if not objects:
            return ""
        lines = []
        if self._header_pending:
            lines.append("\t".join(self.header()))
            self._header_pending = False
        lines.extend("\t".join(self.cells(obj, now)) for obj in objects)
        return tabwrite(lines, minwidth=GET_MINWIDTH, padding=GET_PADDING,
                        remembered=self._widths)


def render_table(resource: ResourceInfo, objects: Sequence[Object], now: datetime, *,
                 wide: bool = False, all_namespaces: bool = False, show_labels: bool = False,
                 no_headers: bool = False) -> str:
    """`kubectl get` output; "" for an empty list (the caller says `No resources found ...`)."""
    printer = TablePrinter(resource, wide=wide, all_namespaces=all_namespaces,
                           show_labels=show_labels, no_headers=no_headers)
    return printer.render(objects, now)


def format_watch_row(resource: ResourceInfo, obj: Object, now: datetime, *, wide: bool = False,
                     all_namespaces: bool = False, show_labels: bool = False,
                     with_header: bool = False) -> str:
    """One `get -w` row, its widths taken from the header and the row alone.

    Stateless; a caller that prints many rows should keep one `TablePrinter`
    instead, whose remembered widths keep the rows aligned with each other.
    """
    printer = TablePrinter(resource, wide=wide, all_namespaces=all_namespaces,
                           show_labels=show_labels)
    text = printer.render([obj], now)
    return text if with_header else text.split("\n", 1)[1]


def render_names(resource: ResourceInfo, objects: Sequence[Object]) -> str:
    """`-o name`: `deployment.apps/web`, or `pod/web` for the core group, one per line."""
    prefix = f"{resource.singular}.{resource.group}" if resource.group else resource.singular
    return "".join(f"{prefix}/{name_of(obj)}\n" for obj in objects)


def _as_document(objs_or_list: Object | Sequence[Object]) -> Object:
    """A single object stays itself; several become kubectl's `kind: List`."""
    if isinstance(objs_or_list, dict):
        return objs_or_list
    return {"apiVersion": "v1", "items": list(objs_or_list), "kind": "List",
            "metadata": {"resourceVersion": ""}}


def render_json(objs_or_list: Object | Sequence[Object]) -> str:
    """`-o json`: four-space indent and a trailing newline, as kubectl's JSONPrinter.

    Keys keep the object's order (kubectl sorts them), matching `render_yaml`.
    """
    return json.dumps(_as_document(objs_or_list), indent=4, ensure_ascii=False) + "\n"


class _YamlDumper(yaml.SafeDumper):
    """Block style, never anchors or aliases (a shared dict is written out twice)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_YamlDumper.add_representer(str, _represent_str)


def render_yaml(objs_or_list: Object | Sequence[Object]) -> str:
    """`-o yaml`: block style, keys in the object's order, multi-line strings as `|` blocks."""
    return yaml.dump(_as_document(objs_or_list), Dumper=_YamlDumper, default_flow_style=False,
                     sort_keys=False, allow_unicode=True)


def has_builtin_layout(resource: ResourceInfo) -> bool:
    """Whether the CLI knows the kind's columns itself (else it asks the server's Table)."""
    return resource.kind in LAYOUTS


def layout_from_table(table: Object) -> Layout:
    """The columns of a server's `meta.k8s.io/v1` Table, as a layout over the listed objects.

    kubectl prints what the server's Table says for every kind; the CLI does so
    for kinds whose columns it does not know (PriorityClass), keyed by uid.
    An object the Table does not hold (a later watch event) shows its name only.
    """
    specs = [("+" if col.get("priority") else "") + ("#" if col.get("type") == "integer" else "")
             + str(col.get("name") or "") for col in table.get("columnDefinitions") or []]
    cells = {str(((row.get("object") or {}).get("metadata") or {}).get("uid") or ""):
             list(row.get("cells") or []) for row in table.get("rows") or []}
    return Layout(",".join(specs), lambda obj, now: cells.get(
        str((obj.get("metadata") or {}).get("uid") or ""), [name_of(obj)]))

