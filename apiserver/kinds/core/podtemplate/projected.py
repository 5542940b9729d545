"""Validation of `projected` and `downwardAPI` volumes (validateProjectedVolumeSource,
validateDownwardAPIVolumeSource in Kubernetes' core validation).

A projected volume's sources are each exactly one of `secret`, `configMap`,
`downwardAPI` and `serviceAccountToken`; their files may not share a path. A token's
`expirationSeconds` is at least 10 minutes and at most 2^32 s, its `path` required.
What Schooner's agent cannot write is refused here, naming the field, not stored and
ignored: `clusterTrustBundle` and `podCertificate` sources, `resourceFieldRef` items
and `fieldRef` paths other than the pod's name, namespace, uid, labels and
annotations (as Kubernetes' volume downward API allows them).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from apiserver.validation.fields import (
    Errs,
    as_dict,
    child,
    dict_items,
    forbidden,
    invalid,
    is_int,
    not_supported,
    required,
)

MIN_TOKEN_SECONDS = 600  # Kubernetes' minimum: 10 minutes
MAX_TOKEN_SECONDS = 2**32
_SOURCES = ("secret", "configMap", "downwardAPI", "serviceAccountToken",
            "clusterTrustBundle", "podCertificate")
_UNSUPPORTED_SOURCES = ("clusterTrustBundle", "podCertificate")
_NOT_CARRIED = "is not supported by Schooner's agent"
FIELD_PATHS = ("metadata.annotations", "metadata.labels", "metadata.name",
               "metadata.namespace", "metadata.uid")
_SUBSCRIPTED = re.compile(r"^metadata\.(labels|annotations)\['[^']+'\]$")


def _mode(path: str, mode: Any) -> Errs:
    if is_int(mode) and not 0 <= mode <= 0o777:
        return [invalid(path, mode,
                        "must be a number between 0 and 0777 (octal), both inclusive")]
    return []


def _file_path(path: str, value: Any) -> Errs:
    """validateLocalDescendingPath: relative, no `..` element, not empty."""
    if not isinstance(value, str):
        return []
    if value == "":
        return [required(path)]
    if value.startswith("/"):
        return [invalid(path, value, "must be a relative path")]
    if ".." in PurePosixPath(value).parts:
        return [invalid(path, value, "must not contain '..'")]
    return []


def _items(items: Any, path: str, paths: set[str]) -> Errs:
    errs: Errs = []
    for j, item in dict_items(items):
        ipath = f"{path}[{j}]"
        if item.get("key") in (None, ""):
            errs.append(required(child(ipath, "key")))
        errs += _file_path(child(ipath, "path"), item.get("path"))
        errs += _duplicate(child(ipath, "path"), item.get("path"), paths)
        errs += _mode(child(ipath, "mode"), item.get("mode"))
    return errs


def _duplicate(path: str, value: Any, paths: set[str]) -> Errs:
    if not isinstance(value, str) or not value:
        return []
    if value in paths:
        return [invalid(path, value, "conflicting duplicate paths")]
    paths.add(value)
    return []


def validate_downward_items(items: Any, path: str, paths: set[str]) -> Errs:
    """A downwardAPI volume's (or source's) items: a path and one supported fieldRef."""
    errs: Errs = []
    for j, item in dict_items(items):
        ipath = f"{path}[{j}]"
        errs += _file_path(child(ipath, "path"), item.get("path"))
        errs += _duplicate(child(ipath, "path"), item.get("path"), paths)
        errs += _mode(child(ipath, "mode"), item.get("mode"))
        if item.get("resourceFieldRef") is not None:
            errs.append(forbidden(child(ipath, "resourceFieldRef"),
                                  f"resource limits in volume files {_NOT_CARRIED}"))
            continue
        field_ref = item.get("fieldRef")
        if not isinstance(field_ref, dict):
            errs.append(required(child(ipath, "fieldRef")))
            continue
        fpath = child(child(ipath, "fieldRef"), "fieldPath")
        field = field_ref.get("fieldPath")
        if not isinstance(field, str) or not field:
            errs.append(required(fpath))
        elif field not in FIELD_PATHS and not _SUBSCRIPTED.match(field):
            errs.append(not_supported(fpath, field, FIELD_PATHS))
    return errs


def _token(source: dict[str, Any], path: str, paths: set[str]) -> Errs:
    errs = _file_path(child(path, "path"), source.get("path")) \
        if source.get("path") is not None else [required(child(path, "path"))]
    errs += _duplicate(child(path, "path"), source.get("path"), paths)
    seconds = source.get("expirationSeconds")
    if is_int(seconds) and seconds < MIN_TOKEN_SECONDS:
        errs.append(invalid(child(path, "expirationSeconds"), seconds,
                            "may not specify a duration less than 10 minutes"))
    elif is_int(seconds) and seconds > MAX_TOKEN_SECONDS:
        errs.append(invalid(child(path, "expirationSeconds"), seconds,
                            "may not specify a duration larger than 2^32 seconds"))
    return errs


def _source(source: dict[str, Any], path: str, paths: set[str]) -> Errs:
    kinds = [k for k in _SOURCES if source.get(k) is not None]
    if not kinds:
        return [required(path, "must specify exactly 1 of: secret, configMap, downwardAPI, "
                               "serviceAccountToken")]
    errs = [forbidden(path, "may not specify more than 1 volume type per source")] \
        if len(kinds) > 1 else []
    kind = kinds[0]
    spath, spec = child(path, kind), as_dict(source.get(kind))
    if kind in _UNSUPPORTED_SOURCES:
        errs.append(forbidden(spath, f"{kind} projections {_NOT_CARRIED}"))
    elif kind in ("secret", "configMap"):
        if spec.get("name") in (None, ""):
            errs.append(required(child(spath, "name")))
        errs += _items(spec.get("items"), child(spath, "items"), paths)
    elif kind == "downwardAPI":
        errs += validate_downward_items(spec.get("items"), child(spath, "items"), paths)
    else:
        errs += _token(spec, spath, paths)
    return errs


def validate_projected(volume: dict[str, Any], path: str) -> Errs:
    """The `projected` and `downwardAPI` sources of one volume (`path` is the volume's)."""
    errs: Errs = []
    projected = volume.get("projected")
    if isinstance(projected, dict):
        ppath = child(path, "projected")
        errs += _mode(child(ppath, "defaultMode"), projected.get("defaultMode"))
        paths: set[str] = set()
        for i, source in dict_items(projected.get("sources")):
            errs += _source(source, f"{child(ppath, 'sources')}[{i}]", paths)
    downward = volume.get("downwardAPI")
    if isinstance(downward, dict):
        dpath = child(path, "downwardAPI")
        errs += _mode(child(dpath, "defaultMode"), downward.get("defaultMode"))
        errs += validate_downward_items(downward.get("items"), child(dpath, "items"), set())
    return errs
