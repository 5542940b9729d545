"""ConfigMap (core/v1): configuration a pod reads as files or environment variables.

Keys must be valid file names, `data` and `binaryData` may not share a key, the
whole is at most 1 MiB, and an `immutable` ConfigMap never changes again.
"""

from __future__ import annotations

from apimachinery.meta import Object
from apimachinery.models import ConfigMap
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.kind import Kind, Strategy
from apiserver.kinds.core.configdata import (
    MAX_DATA_BYTES,
    base64_size,
    validate_immutable,
    validate_keys,
)
from apiserver.validation.fields import Errs, as_dict, invalid, too_long

RESOURCE = ResourceInfo("", "v1", "ConfigMap", "configmaps", True, ("cm",))


class ConfigMapStrategy(Strategy):
    has_status_subresource = False
    tracks_generation = False


def validate_config_map(obj: Object, old: Object | None) -> Errs:
    """ValidateConfigMap(Update): keys, no key in both maps, at most 1 MiB."""
    data, binary = as_dict(obj.get("data")), as_dict(obj.get("binaryData"))
    errs = validate_keys(data, "data") + validate_keys(binary, "binaryData")
    errs += [invalid(f"data[{key}]", key, "duplicate of key present in binaryData")
             for key in data if key in binary]
    binary_errs, size = base64_size(binary, "binaryData")
    errs += binary_errs
    size += sum(len(v.encode()) for v in data.values() if isinstance(v, str))
    if size > MAX_DATA_BYTES:
        errs.append(too_long("data", MAX_DATA_BYTES))
    return errs + validate_immutable(obj, old, ("data", "binaryData"))


KIND = Kind(
    resource=RESOURCE,
    model=ConfigMap,
    strategy=ConfigMapStrategy(),
    validate=validate_config_map,
    table=LAYOUTS["ConfigMap"],
)
