"""Load the objects named by `-f FILE|DIR|-`, as `kubectl apply -f` reads them.

A file holds one or more YAML documents (or JSON); a directory contributes its
`*.yaml`, `*.yml` and `*.json` files in sorted order, not recursively (kubectl
needs `-R` for that); `-` reads standard input. A `kind: List` document is
expanded into its items, as kubectl's resource builder flattens lists. Empty
documents are skipped.

Every problem is a `ManifestError` whose message says where it is: a YAML
syntax error as `FILE:LINE:COL: problem`, a bad document as
`FILE: document N: problem`, so the CLI can print it on one line.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from apimachinery.resources import ResourceInfo, UnknownResourceError, by_kind

STDIN = "-"
_STDIN_NAME = "<stdin>"
_SUFFIXES = (".yaml", ".yml", ".json")


class ManifestError(Exception):
    """A manifest that cannot be read, parsed or mapped onto a served kind."""


@dataclass(frozen=True)
class Manifest:
    """One object from a manifest, with the resource it maps to and where it came from."""

    obj: dict[str, Any]
    resource: ResourceInfo
    source: str
    document: int  # 1-based index of the YAML document within `source`

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str:
        return str((self.obj.get("metadata") or {}).get("namespace") or "")


class _Loader(yaml.SafeLoader):
    """A SafeLoader that keeps timestamps as strings, as sigs.k8s.io/yaml does.

    PyYAML would turn `2024-01-02` into a `date`, which is not JSON and is not
    what the apiserver expects in a string field.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_manifests(paths: list[str], stdin: IO[str] | None = None) -> list[Manifest]:
    """Every object named by the `-f` arguments, in order."""
    out: list[Manifest] = []
    for path in paths:
        for source, text in _read_sources(path, stdin):
            out.extend(parse_manifests(text, source))
    return out


def _read_sources(path: str, stdin: IO[str] | None) -> list[tuple[str, str]]:
    """(display name, text) of each file behind one `-f` argument."""
    if path == STDIN:
        return [(_STDIN_NAME, (stdin or sys.stdin).read())]
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix in _SUFFIXES)
        return [(str(f), _read_text(f)) for f in files]
    if not p.exists():
        raise ManifestError(f'the path "{path}" does not exist')
    return [(path, _read_text(p))]


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ManifestError(f"{path}: {why}") from None


def parse_manifests(text: str, source: str) -> list[Manifest]:
    """The objects in one file's text; `source` names it in error messages."""
    out: list[Manifest] = []
    for index, doc in enumerate(_documents(text, source), start=1):
        if doc is None:
            continue
        where = f"{source}: document {index}"
        if not isinstance(doc, dict):
            raise ManifestError(f"{where}: expected a mapping, got {type(doc).__name__}")
        if _is_list(doc):
            items = doc.get("items") or []
            if not isinstance(items, list):
                raise ManifestError(f"{where}: items must be a list")
            for n, item in enumerate(items, start=1):
                out.append(_manifest(item, source, index, f"{where}, item {n}"))
        else:
            out.append(_manifest(doc, source, index, where))
    return out


def _documents(text: str, source: str) -> list[Any]:
    """Parse the documents of one file: JSON for `*.json`, YAML otherwise."""
    if source.endswith(".json"):
        try:
            return [json.loads(text)] if text.strip() else []
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{source}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise ManifestError(f"{source}: {problem}") from None
        raise ManifestError(f"{source}:{mark.line + 1}:{mark.column + 1}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: {exc}") from None


def _is_list(doc: dict[str, Any]) -> bool:
    """`kind: List`, or any `*List` carrying items (what `get -o yaml` prints)."""
    kind = str(doc.get("kind") or "")
    return kind == "List" or (kind.endswith("List") and "items" in doc)


def _manifest(doc: Any, source: str, index: int, where: str) -> Manifest:
    """Check one object names a served kind and has a name, as kubectl's builder does."""
    if not isinstance(doc, dict):
        raise ManifestError(f"{where}: expected a mapping, got {type(doc).__name__}")
    missing = [f"{key} not set" for key in ("apiVersion", "kind") if not doc.get(key)]
    if missing:
        raise ManifestError(f"{where}: {', '.join(missing)}")
    api_version, kind = str(doc["apiVersion"]), str(doc["kind"])
    try:
        resource = by_kind(api_version, kind)
    except UnknownResourceError:
        raise ManifestError(
            f'{where}: no matches for kind "{kind}" in version "{api_version}"'
        ) from None
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        raise ManifestError(f"{where}: metadata.name is required")
    return Manifest(obj=doc, resource=resource, source=source, document=index)
