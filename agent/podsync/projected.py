"""Projected and downwardAPI volumes: their files, and how they are written.

A `projected` volume gathers files from several sources into one folder (the
kubelet's projected volume plugin): `secret` and `configMap` keys (their `items`,
or every key), `downwardAPI` items (the pod's name, namespace, uid, labels,
annotations), and `serviceAccountToken`, a token of the pod's ServiceAccount bound
to the pod (agent/podsync/tokens.py). A `downwardAPI` volume is a projected
volume of one downwardAPI source. Modes: an item's `mode`, else the volume's
`defaultMode` (0644).

The folder is written the way Kubernetes' AtomicWriter writes it, so a program
reading the token while it is renewed never sees half a file: the files go into a
new hidden timestamped folder, the symlink `..data` is swapped to it by one rename,
and each visible name (`token`, `ca.crt`, ...) is a symlink through `..data`.
Planning (`projected_files`) is pure; `write_atomically` does the I/O.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from agent.podsync.envvars import ConfigError, Lookup
from apimachinery.meta import Object

DEFAULT_MODE = 0o644
DATA_DIR = "..data"
_DATA_TMP = "..data_tmp"
# (volume name, source index) -> the token fetched for that serviceAccountToken source
TokenLookup = Callable[[str, int], str | None]
Files = dict[str, tuple[bytes, int]]


def token_sources(volume: Object) -> list[tuple[int, Object]]:
    """The `serviceAccountToken` sources of a projected volume, with their indexes."""
    sources = ((volume.get("projected") or {}).get("sources")) or []
    return [(i, s["serviceAccountToken"]) for i, s in enumerate(sources)
            if isinstance(s, dict) and isinstance(s.get("serviceAccountToken"), dict)]


def _format_map(values: dict[str, str]) -> str:
    """The downward API's rendering of labels or annotations: `key="value"` lines, sorted
    (fieldpath.FormatMap; the value quoted as Go's %q quotes it)."""
    return "\n".join(f"{k}={json.dumps(str(values[k]), ensure_ascii=False)}"
                     for k in sorted(values))


def downward_value(pod: Object, field_path: str) -> str:
    """The file content of one downward API `fieldRef` (what validation allows)."""
    meta = pod.get("metadata") or {}
    if field_path in ("metadata.name", "metadata.namespace", "metadata.uid"):
        return str(meta.get(field_path.split(".", 1)[1]) or "")
    if field_path in ("metadata.labels", "metadata.annotations"):
        return _format_map(meta.get(field_path.split(".", 1)[1]) or {})
    for section in ("labels", "annotations"):
        prefix = f"metadata.{section}['"
        if field_path.startswith(prefix) and field_path.endswith("']"):
            return str((meta.get(section) or {}).get(field_path[len(prefix):-2], ""))
    raise ConfigError(f"unsupported fieldPath {field_path!r} in a downwardAPI volume")


def _safe(path: str, volume: str) -> str:
    if not path or path.startswith("/") or ".." in Path(path).parts:
        raise ConfigError(f'invalid path "{path}" in volume "{volume}"')
    return path


def _keyed(source: Object, data: dict[str, bytes], mode: int, volume: str,
           what: str) -> Files:
    """A secret or configMap source's files (`items`, or every key)."""
    items = source.get("items")
    if not items:
        return {_safe(k, volume): (v, mode) for k, v in data.items()}
    files: Files = {}
    for item in items:
        key = str(item.get("key") or "")
        if key not in data:
            if source.get("optional"):
                continue
            raise ConfigError(f"{what} references non-existent key: {key}")
        files[_safe(str(item.get("path") or ""), volume)] = (
            data[key], int(item.get("mode") if item.get("mode") is not None else mode))
    return files


def _downward(pod: Object, source: Object, mode: int, volume: str) -> Files:
    files: Files = {}
    for item in source.get("items") or []:
        field_ref = item.get("fieldRef") or {}
        if not field_ref:
            raise ConfigError(f'volume "{volume}": only fieldRef downward API items are '
                              "supported")
        value = downward_value(pod, str(field_ref.get("fieldPath") or ""))
        files[_safe(str(item.get("path") or ""), volume)] = (
            value.encode(), int(item.get("mode") if item.get("mode") is not None else mode))
    return files


def projected_files(pod: Object, volume: Object, lookup: Lookup, tokens: TokenLookup,
                    source_bytes: Callable[[Object, str], dict[str, bytes]]) -> Files:
    """Relative path -> (content, mode) for a `projected` or `downwardAPI` volume."""
    name = str(volume.get("name") or "")
    if "downwardAPI" in volume:
        spec = volume.get("downwardAPI") or {}
        return _downward(pod, spec, int(spec.get("defaultMode", DEFAULT_MODE)), name)
    spec = volume.get("projected") or {}
    mode = int(spec.get("defaultMode", DEFAULT_MODE))
    files: Files = {}
    for i, source in enumerate(spec.get("sources") or []):
        for key, kind, what in (("configMap", "configmap", "configmap"),
                                ("secret", "secret", "secret")):
            if key in source:
                sub = source.get(key) or {}
                obj = lookup(kind, str(sub.get("name") or ""))
                if obj is None:
                    if sub.get("optional"):
                        break
                    raise ConfigError(f'{kind} "{sub.get("name")}" not found')
                files.update(_keyed(sub, source_bytes(obj, kind), mode, name, what))
        if "downwardAPI" in source:
            files.update(_downward(pod, source.get("downwardAPI") or {}, mode, name))
        if "serviceAccountToken" in source:
            token = tokens(name, i)
            if token is None:
                raise ConfigError(f'volume "{name}": no service account token')
            path = str((source.get("serviceAccountToken") or {}).get("path") or "")
            files[_safe(path, name)] = (token.encode(), mode)
    return files


def write_atomically(base: Path, files: Files) -> None:
    """Write `files` under `base` as AtomicWriter does: a new timestamped folder, the
    `..data` symlink renamed onto it, visible names as symlinks through `..data`; the
    previous folder and names no longer written are removed afterwards."""
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
    new_dir = Path(tempfile.mkdtemp(prefix=stamp, dir=base))
    os.chmod(new_dir, 0o755)
    for rel, (content, mode) in files.items():
        target = new_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.chmod(target, mode & 0o777)
    data, tmp = base / DATA_DIR, base / _DATA_TMP
    old_dir = os.readlink(data) if data.is_symlink() else None
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(new_dir.name, tmp)
    os.replace(tmp, data)  # the one atomic step: readers see the old set or the new one
    visible = {rel.split("/", 1)[0] for rel in files}
    for name in visible:
        link = base / name
        if not link.is_symlink():
            if link.exists():
                _remove(link)
            os.symlink(f"{DATA_DIR}/{name}", link)
    for entry in base.iterdir():
        if entry.name.startswith(".."):
            if entry.name not in (DATA_DIR, new_dir.name) and entry.is_dir() \
                    and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
        elif entry.name not in visible:
            _remove(entry)
    if old_dir and old_dir != new_dir.name:
        shutil.rmtree(base / old_dir, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
