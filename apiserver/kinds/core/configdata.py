"""Checks ConfigMap and Secret share: data keys, base64 values, the size cap, `immutable`.

Not a kind: the core group's shared piece for the two kinds that carry
configuration data.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from apimachinery.meta import Object
from apiserver.kinds.core.podtemplate import comparable
from apiserver.validation.fields import Errs, as_dict, check, config_key, forbidden, invalid

MAX_DATA_BYTES = 1024 * 1024  # MaxSecretSize and MaxConfigMapSize


_IMMUTABLE_DATA = "field is immutable when `immutable` is set"


def validate_keys(data: Any, path: str) -> Errs:
    return [e for key in as_dict(data) for e in check(f"{path}[{key}]", key, config_key)]


def base64_size(data: Any, path: str) -> tuple[Errs, int]:
    """Decode base64 values; the errors never echo a value, which may be secret."""
    errs: Errs = []
    size = 0
    for key, value in as_dict(data).items():
        if not isinstance(value, str):
            continue
        try:
            size += len(base64.b64decode(value.replace("\n", "").replace("\r", ""),
                                         validate=True))
        except (binascii.Error, ValueError):
            errs.append(invalid(f"{path}[{key}]", "<value omitted>",
                                "must be base64-encoded (standard alphabet, with padding)"))
    return errs, size


def validate_immutable(obj: Object, old: Object | None,
                        fields: tuple[str, ...]) -> Errs:
    """An object with `immutable: true` keeps its data and its immutability forever."""
    if old is None or old.get("immutable") is not True:
        return []
    errs = [forbidden(f, _IMMUTABLE_DATA) for f in fields
            if comparable(obj.get(f)) != comparable(old.get(f))]
    if obj.get("immutable") is not True:
        errs.append(forbidden("immutable", _IMMUTABLE_DATA))
    return errs
