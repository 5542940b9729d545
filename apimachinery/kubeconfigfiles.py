"""Which kubeconfig files a client reads and writes, and how several merge (clientcmd's rules).

`kubectl` reads either the one file `--kubeconfig` names or every file of
`$KUBECONFIG` (a `:`-separated list) merged, and writes back where an entry came
from. Schooner follows the same loading rules, with its own default file when
neither is given (`$SCHOONER_HOME/kubeconfig`, else `~/.schooner/kubeconfig`):

- merging: for each named cluster, user and context, the first file that has the
  name wins; `current-context` is the first non-empty one;
- writing: an entry that exists goes back to the file it came from; a new entry and
  `current-context` go to the *default file*: the explicit file, else the first file
  of `$KUBECONFIG` that exists, else its last (the observed behaviour of kubectl v1.32);
- relative paths in a file (`certificate-authority`, `client-certificate`,
  `client-key`, `tokenFile`) are relative to that file's directory, so the merged view
  makes them absolute.

Files are written atomically with mode 0600, as kubectl writes them: they hold secrets.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
# The fields naming a file, per section body; relative ones are relative to their file.
PATH_FIELDS = {"cluster": ("certificate-authority",),
               "user": ("client-certificate", "client-key", "tokenFile")}


class KubeconfigError(Exception):
    """The kubeconfig is missing, unreadable or lacks what a client needs."""


def display(path: str) -> str:
    """The path with the home directory shortened to `~`, for messages."""
    home = os.path.expanduser("~")
    if home not in ("", "/", "~") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home):]
    return path


def schooner_default() -> str:
    """`$SCHOONER_HOME/kubeconfig`, else `~/.schooner/kubeconfig`: Schooner's own default."""
    home = os.environ.get("SCHOONER_HOME")
    if home:
        return os.path.join(os.path.expanduser(home), "kubeconfig")
    return os.path.expanduser(os.path.join("~", ".schooner", "kubeconfig"))


def loading_precedence(explicit: str | None = None) -> list[str]:
    """The files read, first wins: the explicit one, else `$KUBECONFIG`'s, else the default."""
    if explicit:
        return [os.path.expanduser(explicit)]
    env = [os.path.expanduser(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return list(dict.fromkeys(env)) or [schooner_default()]


def default_filename(explicit: str | None = None) -> str:
    """Where new entries and `current-context` are written (clientcmd's GetDefaultFilename)."""
    files = loading_precedence(explicit)
    return next((f for f in files if os.path.exists(f)), files[-1])


def empty_config() -> dict[str, Any]:
    """A kubeconfig with nothing in it, as kubectl starts a new file."""
    return {"apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": [],
            "users": [], "contexts": [], "current-context": ""}


def read_config(path: str, *, missing_ok: bool = True) -> dict[str, Any]:
    """One file's document as written (paths as they are); a missing file is empty."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        if missing_ok:
            return empty_config()
        raise KubeconfigError(f"cannot read kubeconfig {display(path)}: "
                              "No such file or directory") from None
    except OSError as exc:
        raise KubeconfigError(f"cannot read kubeconfig {display(path)}: {exc.strerror}") from None
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        line = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise KubeconfigError(f"kubeconfig {display(path)} is not valid YAML: {line}") from None
    if not isinstance(doc, dict):
        raise KubeconfigError(f"kubeconfig {display(path)} is not a mapping")
    for section, _ in SECTIONS:
        if not isinstance(doc.get(section) or [], list):
            raise KubeconfigError(f"kubeconfig {display(path)}: {section} is not a list")
    return doc


def _absolute(entry: Any, what: str, base: Path) -> Any:
    """The entry with the file paths of its body made absolute against `base`."""
    body = entry.get(what) if isinstance(entry, dict) else None
    if not isinstance(body, dict):
        return entry
    fixed = dict(body)
    for key in PATH_FIELDS.get(what, ()):
        value = fixed.get(key)
        if value and not os.path.isabs(os.path.expanduser(str(value))):
            fixed[key] = str(base / os.path.expanduser(str(value)))
    return {**entry, what: fixed}


@dataclass
class Merged:
    """The merged view of the files read, and which file each entry came from."""

    doc: dict[str, Any]
    files: list[str]
    origin: dict[tuple[str, str], str] = field(default_factory=dict)
    found: bool = False  # whether any of the files exists


def merge(explicit: str | None = None, *, resolve_paths: bool = True) -> Merged:
    """Read every file of the precedence list and merge them, first file wins."""
    files = loading_precedence(explicit)
    merged = Merged(empty_config(), files)
    for path in files:
        if not os.path.exists(path):  # kubectl reads a missing file as an empty one
            continue
        merged.found = True
        doc = read_config(path)
        if not merged.doc["current-context"] and doc.get("current-context"):
            merged.doc["current-context"] = str(doc["current-context"])
        base = Path(path).parent
        for section, what in SECTIONS:
            for entry in doc.get(section) or []:
                name = entry.get("name") if isinstance(entry, dict) else None
                if not isinstance(name, str) or (section, name) in merged.origin:
                    continue
                merged.origin[(section, name)] = path
                merged.doc[section].append(_absolute(entry, what, base) if resolve_paths
                                           else entry)
    return merged


def write_config(path: str, doc: dict[str, Any]) -> None:
    """Write `doc` to `path` atomically (temp file, then rename), mode 0600."""
    target = Path(os.path.expanduser(path))
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=target.parent)  # created 0600
    try:
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
