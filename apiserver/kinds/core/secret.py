"""Secret (core/v1): credentials a pod reads as files or environment variables.

`stringData` is folded into base64 `data` on write and never stored; values
must be base64, the whole at most 1 MiB; typed Secrets (TLS, docker config,
SSH, basic-auth, service-account token) need their keys, a Docker config
Secret a JSON object; the type never changes, and an `immutable` Secret never
changes again. Error messages never echo a value.
"""

from __future__ import annotations

import base64
import binascii
import json

from apimachinery.meta import Object
from apimachinery.models import Secret
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.defaulting import Obj, dict_at, ensure_dict, set_default
from apiserver.kind import Kind, Strategy
from apiserver.kinds.core.configdata import (
    MAX_DATA_BYTES,
    base64_size,
    validate_immutable,
    validate_keys,
)
from apiserver.validation.fields import Errs, as_dict, invalid, required, too_long

RESOURCE = ResourceInfo("", "v1", "Secret", "secrets", True, selectable_fields=("type",))
_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}
# Types whose one key must hold a JSON object (a Docker config file).
_JSON_KEYS = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson",
              "kubernetes.io/dockercfg": ".dockercfg"}
_BASIC_AUTH_KEYS = ("username", "password")
_JSON_TYPES = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}


class SecretStrategy(Strategy):
    has_status_subresource = False
    tracks_generation = False


def default_secret(obj: Obj) -> None:
    """`type: Opaque`, and `stringData` folded into base64 `data` then dropped.

    Kubernetes does the folding while converting the request (stringData wins
    over data for the same key) and never stores `stringData`. Values that are
    not strings stay in `stringData` so validation can name them.
    """
    set_default(obj, "type", "Opaque")
    string_data = dict_at(obj, "stringData")
    if string_data is None:
        return
    data = ensure_dict(obj, "data")
    if data is None:
        return
    for key, value in list(string_data.items()):
        if isinstance(value, str):
            data[key] = base64.b64encode(value.encode()).decode("ascii")
            del string_data[key]
    if not string_data:
        del obj["stringData"]


def validate_secret(obj: Object, old: Object | None) -> Errs:
    """ValidateSecret(Update): keys, base64 values, at most 1 MiB, the keys a type needs."""
    data = as_dict(obj.get("data"))
    errs = validate_keys(data, "data") + validate_keys(obj.get("stringData"), "stringData")
    decode_errs, size = base64_size(data, "data")
    errs += decode_errs
    if size > MAX_DATA_BYTES:
        errs.append(too_long("data", MAX_DATA_BYTES))
    secret_type = obj.get("type")
    if isinstance(secret_type, str):
        errs += _validate_type_keys(secret_type, data)
    if secret_type == "kubernetes.io/service-account-token":
        annotations = as_dict(as_dict(obj.get("metadata")).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    if old is not None and old.get("type") and secret_type != old.get("type"):
        errs.append(invalid("type", secret_type, "field is immutable"))
    return errs + validate_immutable(obj, old, ("data",))


def _validate_type_keys(secret_type: str, data: dict[str, object]) -> Errs:
    """The keys a typed Secret needs, as ValidateSecret: TLS needs both halves, SSH a
    non-empty private key, basic-auth a username or a password, a Docker config a
    JSON object. Contents are never echoed."""
    missing = [required(f"data[{key}]") for key in _SECRET_REQUIRED_KEYS.get(secret_type, ())
               if key not in data]
    if secret_type == "kubernetes.io/ssh-auth" and not missing and not data["ssh-privatekey"]:
        missing.append(required("data[ssh-privatekey]"))
    if secret_type == "kubernetes.io/basic-auth" and not any(k in data
                                                             for k in _BASIC_AUTH_KEYS):
        missing += [required(f"data[{key}]") for key in _BASIC_AUTH_KEYS]
    json_key = _JSON_KEYS.get(secret_type)
    if json_key and not missing and isinstance(data.get(json_key), str):
        problem = _not_a_json_object(str(data[json_key]))
        if problem:
            missing.append(invalid(f"data[{json_key}]", "<secret contents redacted>", problem))
    return missing


def _not_a_json_object(encoded: str) -> str | None:
    """Why base64 `encoded` is not a JSON object, or None (bad base64 is reported apart)."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except UnicodeDecodeError:
        return "invalid JSON: not UTF-8"
    if not isinstance(value, dict):
        return "must be a JSON object, not " + _JSON_TYPES.get(type(value), "a number")
    return None


KIND = Kind(
    resource=RESOURCE,
    model=Secret,
    strategy=SecretStrategy(),
    default=default_secret,
    validate=validate_secret,
    table=LAYOUTS["Secret"],
)
