"""Validation of objects before they are stored: every problem, with Kubernetes' paths.

`validate(resource, obj, old)` mirrors what a kind's strategy `Validate` /
`ValidateUpdate` does in Kubernetes' generic registry, in three passes:

1. **types**: the typed model (`apimachinery.models`) is run in strict mode
   over the wire dict, and pydantic's error locations (aliases, list indexes,
   map keys) are turned into field paths: `spec.replicas: Invalid value:
   "three": must be an integer`. Kubernetes rejects these while decoding;
   reporting them as field errors lets one response name every problem.
2. **metadata**: `ValidateObjectMeta(Update)`: names, namespace, labels,
   annotations, owner references, finalizers.
3. **the kind's own rules**: the `validate` its kind module declares
   (`apiserver/kinds/`).

Nothing is raised: the caller turns a non-empty list into `errors.Invalid`.
Each pass checks only values of the right type, leaving wrong types to pass 1,
and a bug in one pass is reported as an internal field error, not a crash.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from apimachinery.errors import FieldError
from apimachinery.meta import Object
from apimachinery.models.schema import unwrap
from apimachinery.resources import ResourceInfo
from apiserver.validation.fields import (
    Errs,
    as_dict,
    check,
    child,
    dict_items,
    dns1123_label,
    dns1123_subdomain,
    forbidden,
    invalid,
    qualified_name,
    required,
    type_invalid,
    validate_annotations,
    validate_labels,
)

if TYPE_CHECKING:
    from apiserver.kind import Kind

log = logging.getLogger(__name__)

Obj = Object  # the wire form: a JSON object


def validate(kind: Kind, obj: Obj, old: Obj | None = None) -> list[FieldError]:
    """Every problem with `obj` (an update of `old` when given); empty when valid."""
    if not isinstance(obj, dict):
        return [type_invalid("<root>", obj, "must be an object")]
    if not isinstance(old, dict):
        old = None
    resource, kind_validator = kind.resource, kind.validate
    passes: list[tuple[str, Callable[[], Errs]]] = [
        ("types", lambda: type_errors(kind.model, obj)),
        ("metadata", lambda: validate_object_meta(resource, obj.get("metadata"),
                                                  kind.name_rule or dns1123_subdomain)),
    ]
    if old is not None:
        passes.append(("metadata update", lambda: validate_object_meta_update(
            as_dict(obj.get("metadata")), as_dict(old.get("metadata")))))
    if kind_validator is not None:
        passes.append((resource.kind, lambda: kind_validator(obj, old)))
    errs: Errs = []
    for name, run in passes:
        try:
            errs += run()
        except Exception as exc:  # a validator bug must not become a 500 or hide other errors
            log.exception("component=apiserver validation pass failed kind=%s pass=%s",
                          resource.kind, name)
            errs.append(FieldError("<root>", f"Internal error: validating {name}: {exc!r}",
                                   type="InternalError"))
    return _dedupe(errs)


def _dedupe(errs: Errs) -> Errs:
    """Drop repeats (two passes may both report a missing field), keeping the order."""
    seen: set[tuple[str, str]] = set()
    unique: Errs = []
    for err in errs:
        if (err.path, err.message) not in seen:
            seen.add((err.path, err.message))
            unique.append(err)
    return unique


# -- pass 1: types ----------------------------------------------------------------

_TYPE_DETAILS = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be a boolean",
    "list_type": "must be an array",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
}


def type_errors(model: type[BaseModel], obj: Obj) -> Errs:
    """Run the kind's model strictly over `obj`; one FieldError per pydantic error."""
    try:
        model.model_validate(obj, strict=True)
    except ValidationError as exc:
        return [_to_field_error(model, err) for err in exc.errors(include_url=False)]
    return []


def _to_field_error(model: type[BaseModel], err: Any) -> FieldError:
    path = field_path(model, err["loc"]) or "<root>"
    if err["type"] == "missing":
        return required(path)
    return type_invalid(path, err.get("input"), _TYPE_DETAILS.get(err["type"], err["msg"]))


def field_path(model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    """Turn a pydantic error location into a Kubernetes field path.

    Walks the model's annotations alongside `loc`, so that a field alias
    becomes `.name`, a list index `[0]` and a map key `[key]`:
    `('spec', 'template', 'metadata', 'labels', 'app')` ->
    `spec.template.metadata.labels[app]`.
    """
    path = ""
    current: Any = model
    for part in loc:
        if part == "[key]":  # pydantic's marker for an invalid map key: the path stays
            continue
        current = unwrap(current)
        origin = get_origin(current)
        if isinstance(part, int) and origin is not dict:
            path += f"[{part}]"
            current = get_args(current)[0] if origin is list else Any
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = _fields_by_alias(current).get(str(part))
            path = child(path, str(part))
            current = field.annotation if field is not None else Any
        elif origin is dict:
            path += f"[{part}]"
            current = get_args(current)[1]
        else:
            path = child(path, str(part))
            current = Any
    return path


@functools.cache
def _fields_by_alias(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {(info.alias or name): info for name, info in model.model_fields.items()}


# -- pass 2: metadata -------------------------------------------------------------


def _mask_trailing_dash(prefix: str) -> str:
    """A generateName prefix may end in `-`: check it as if a suffix followed."""
    return prefix[:-1] + "a" if len(prefix) > 1 and prefix.endswith("-") else prefix


def validate_object_meta(resource: ResourceInfo, metadata: Any,
                         name_rule: Callable[[str], list[str]] = dns1123_subdomain) -> Errs:
    """ValidateObjectMeta: name, namespace scope, labels, annotations, owners, finalizers."""
    meta = as_dict(metadata)
    errs: Errs = []
    name = meta.get("name")
    if name is None or name == "":
        errs.append(required("metadata.name", "name or generateName is required"))
    elif isinstance(name, str):
        errs += check("metadata.name", name, name_rule)
    generate_name = meta.get("generateName")
    if isinstance(generate_name, str) and generate_name:
        errs += check("metadata.generateName", generate_name,
                      lambda g: name_rule(_mask_trailing_dash(g)))
    namespace = meta.get("namespace")
    if resource.namespaced:
        if namespace is None or namespace == "":
            errs.append(required("metadata.namespace"))
        elif isinstance(namespace, str):
            errs += check("metadata.namespace", namespace, dns1123_label)
    elif namespace:
        errs.append(forbidden("metadata.namespace", "not allowed on this type"))
    errs += validate_labels(meta.get("labels"), "metadata.labels")
    errs += validate_annotations(meta.get("annotations"), "metadata.annotations")
    errs += _validate_owner_references(meta.get("ownerReferences"))
    finalizers = meta.get("finalizers")
    for i, finalizer in enumerate(finalizers if isinstance(finalizers, list) else []):
        if isinstance(finalizer, str):
            errs += check(f"metadata.finalizers[{i}]", finalizer, qualified_name)
    return errs


def _validate_owner_references(refs: Any) -> Errs:
    """validateOwnerReference for each, and at most one `controller: true`."""
    errs: Errs = []
    controllers: list[str] = []
    for i, ref in dict_items(refs):
        path = f"metadata.ownerReferences[{i}]"
        for key, what in (("apiVersion", "version"), ("kind", "kind"), ("name", "name"),
                          ("uid", "uid")):
            if ref.get(key) == "":
                errs.append(required(child(path, key), f"{what} must not be empty"))
        if ref.get("controller") is True:
            controllers.append(f"{ref.get('kind')}/{ref.get('name')}")
    if len(controllers) > 1:
        errs.append(invalid("metadata.ownerReferences", refs,
                            'Only one reference can have Controller set to true. Found "true" '
                            f"in references for {' and '.join(controllers)}"))
    return errs


def validate_object_meta_update(meta: Obj, old_meta: Obj) -> Errs:
    """ValidateObjectMetaUpdate: name, namespace, uid and creation time never change."""
    errs: Errs = []
    for key in ("name", "namespace"):
        new, previous = meta.get(key) or "", old_meta.get(key) or ""
        if new != previous:
            errs.append(invalid(child("metadata", key), new, "field is immutable"))
    for key in ("uid", "creationTimestamp"):
        new, previous = meta.get(key), old_meta.get(key)
        if new and previous and new != previous:
            errs.append(invalid(child("metadata", key), new, "field is immutable"))
    return errs
