"""A namespace's Pod Security policy, from its `pod-security.kubernetes.io/*` labels.

Each mode (enforce, warn, audit) has a level (`privileged`, `baseline`,
`restricted`) and a version (`latest` or `v1.N`: the checks as Kubernetes 1.N
had them). A mode without its label takes Schooner's default: `baseline:latest`
(Kubernetes' own default is `privileged`; Schooner's is stricter, so a pod may
not mount the node's root or Docker socket unless a namespace says it may),
and `privileged` in `kube-system`, where the cluster's own pods run. A label
with a bad value makes the namespace invalid at write time; on a namespace
stored with one anyway, that mode is `restricted:latest`, as Kubernetes does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "warn", "audit")
LATEST = "latest"
# The newest minor release whose checks Schooner implements; `v1.N` above it is `latest`.
LATEST_MINOR = 35
PRIVILEGED_NAMESPACES = frozenset({"kube-system"})
_VERSION = re.compile(r"^v1\.(0|[1-9][0-9]*)$")


class Level(IntEnum):
    """The three Pod Security Standards, ordered from least to most restrictive."""

    PRIVILEGED = 0
    BASELINE = 1
    RESTRICTED = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class LevelVersion:
    """One mode's level and version: `baseline:latest`, `restricted:v1.24`."""

    level: Level
    minor: int | None = None  # None: latest

    def __str__(self) -> str:
        version = LATEST if self.minor is None else f"v1.{self.minor}"
        return f"{self.level.label}:{version}"

    def at_least(self, minor: int) -> bool:
        """Whether checks introduced in Kubernetes 1.`minor` apply at this version."""
        return self.minor is None or self.minor >= minor


@dataclass(frozen=True)
class Policy:
    enforce: LevelVersion
    warn: LevelVersion
    audit: LevelVersion


def parse_level(value: str) -> Level | None:
    return next((lv for lv in Level if lv.label == value), None)


def parse_version(value: str) -> int | str | None:
    """`latest` -> None, `v1.N` -> N (above LATEST_MINOR: None); anything else: the error."""
    if value == LATEST:
        return None
    match = _VERSION.match(value)
    if not match:
        return 'must be "latest" or "v1.x"'
    minor = int(match.group(1))
    return None if minor > LATEST_MINOR else minor


def label_errors(labels: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, message) for each pod-security label with a bad value."""
    problems = []
    for mode in MODES:
        key = PREFIX + mode
        if key in labels and parse_level(str(labels[key])) is None:
            problems.append((key, str(labels[key]),
                             "must be one of privileged, baseline, restricted"))
        vkey = f"{key}-version"
        if vkey in labels:
            parsed = parse_version(str(labels[vkey]))
            if isinstance(parsed, str):
                problems.append((vkey, str(labels[vkey]), parsed))
    return problems


def _mode(labels: dict[str, Any], mode: str, default: Level) -> LevelVersion:
    raw_level = labels.get(PREFIX + mode)
    raw_version = labels.get(f"{PREFIX}{mode}-version", LATEST)
    level = default if raw_level is None else parse_level(str(raw_level))
    minor = parse_version(str(raw_version))
    if level is None or isinstance(minor, str):
        return LevelVersion(Level.RESTRICTED)
    return LevelVersion(level, minor)


def policy_for(namespace: str, labels: dict[str, Any] | None) -> Policy:
    """The namespace's policy: its labels over Schooner's defaults."""
    default = Level.PRIVILEGED if namespace in PRIVILEGED_NAMESPACES else Level.BASELINE
    labels = labels if isinstance(labels, dict) else {}
    return Policy(*(_mode(labels, mode, default) for mode in MODES))
