"""The apiserver's PATCH engines, as pure functions on wire-format dicts.

Kubernetes' PATCH verb (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/
patch.go) picks an engine by the request's Content-Type:

- `application/merge-patch+json`: RFC 7386 JSON merge patch;
- `application/json-patch+json`: RFC 6902 JSON patch (a list of operations);
- `application/strategic-merge-patch+json`: strategic merge patch, which
  merges keyed lists item by item (see `apiserver.strategicpatch`);
- `application/apply-patch+yaml`: server-side apply, with field ownership
  (`apiserver.managedfields`).

`apply_patch` is the dispatcher the REST handler calls: it parses the body,
checks its shape and runs the engine. Every engine returns a new object and
never mutates its inputs, which may be shared cache entries.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

import jsonpatch
import jsonpointer
import yaml

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.meta import Object, deep_copy
from apiserver.bodies import check_bounds, json_type, load_yaml, too_deep
from apiserver.managedfields import apply as ssa
from apiserver.managedfields import request as writers
from apiserver.strategicpatch import apply_strategic_merge_patch, json_type_name

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_CONTENT_TYPES",
    "STRATEGIC_MERGE_PATCH",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_patch",
    "apply_strategic_merge_patch",
]


JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

PATCH_CONTENT_TYPES: tuple[str, ...] = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH,
                                        APPLY_PATCH)


def apply_merge_patch(target: Object, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch and return the result (Kubernetes' merge-patch+json).

    Objects merge recursively, `null` deletes a key and any other value,
    lists included, replaces what was there; a patch that is not an object
    replaces the target whole, as the RFC says (so the result is a dict
    exactly when the patch is one; `apply_patch` only accepts object bodies).
    Neither input is mutated.
    """
    return _merge_patch(deep_copy(target), deep_copy(patch))


def _merge_patch(target: Any, patch: Any) -> Any:
    """The RFC 7386 `MergePatch` pseudo-code, in place on private copies of both inputs."""
    if not isinstance(patch, dict):
        return patch
    result = target if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def apply_json_patch(target: Object, operations: Any) -> Object:
    """Apply an RFC 6902 JSON patch (Kubernetes' json-patch+json) with the `jsonpatch` library.

    Operations run in order on a private copy. A body that is not a list of
    objects is a `BadRequest` (Kubernetes' `DecodePatch` reads them all before
    any applies, so it wins over a failing operation before it); the first operation
    that does not apply (an unknown op, a bad path, a failed `test`) aborts the
    whole patch with the 422 Kubernetes answers, naming its index, op and path.
    The result must still be an object. Neither input is mutated.
    """
    if not isinstance(operations, list):
        raise errors.BadRequest(
            f"json patch must be a JSON array of operations, not {json_type_name(operations)}"
        )
    for index, operation in enumerate(operations):  # all decode before any applies
        if not isinstance(operation, dict):
            raise errors.BadRequest(f"json patch operation {index} must be an object, "
                                    f"not {json_type_name(operation)}")
    document: Any = deep_copy(target)
    for index, operation in enumerate(deep_copy(operations)):
        document = _apply_json_operation(document, index, operation)
    if not isinstance(document, dict):
        raise errors.BadRequest(
            f"json patch must leave an object, but the result is {json_type_name(document)}"
        )
    return document


def _apply_json_operation(document: Any, index: int, operation: dict[str, Any]) -> Any:
    where = " ".join(str(operation[k]) for k in ("op", "from", "path") if k in operation)
    try:
        return jsonpatch.JsonPatch([operation]).apply(document, in_place=True)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException,
            TypeError, ValueError, KeyError, IndexError) as exc:
        detail = _readable(exc)
        raise _does_not_apply(f"json patch operation {index} ({where}) failed: {detail}") \
            from exc


def _does_not_apply(detail: str) -> errors.Invalid:
    """Kubernetes' answer to a JSON patch that decodes but does not apply.

    Its PATCH handler answers `NewGenericServerResponse(422, ...)`: reason Invalid,
    no kind, name or causes, and the message "the server rejected our request due
    to an error in our request", which kubectl prints after `The request is
    invalid: `. Kubernetes drops the json-patch library's reason there; Schooner
    appends which operation failed and why, so the same prefix says more.
    """
    err = errors.Invalid("", "", [])
    err.message = f"{_REJECTED}: {detail}"
    err.args = (err.message,)
    err.details = {}
    return err


_REJECTED = "the server rejected our request due to an error in our request"


def _readable(exc: Exception) -> str:
    """The library's message without the whole document it sometimes quotes."""
    message = str(exc)
    if isinstance(exc, jsonpatch.JsonPatchTestFailed):
        return f"test failed: {message}"
    message = re.sub(r"^(member '.*?' not found) in .*$", r"\1", message, flags=re.DOTALL)
    if isinstance(exc, jsonpatch.JsonPatchPathNotFound | KeyError) and \
            re.fullmatch(r"'.*'", message):
        message = f"member {message} not found"
    return message if len(message) <= 300 else message[:297] + "..."


def apply_patch(content_type: str, target: Object, body: bytes, kind: str) -> Object:
    """Parse a PATCH request body and apply it to `target` by its Content-Type.

    Mirrors the apiserver's PATCH handler: parameters after `;` are ignored;
    a body that does not parse, or has the wrong shape (a JSON patch must be
    an array, the other kinds an object), is a `BadRequest`; any other media
    type is `UnsupportedMediaType` naming the supported ones.

    `application/apply-patch+yaml` (server-side apply; YAML or JSON) merges the
    body into `target` by the schema as the request's writer (the field manager
    the handler put in `managedfields.request`), with field ownership, conflicts
    and the removal of fields the manager stopped applying.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in PATCH_CONTENT_TYPES:
        raise errors.UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types "
            f"include: {', '.join(PATCH_CONTENT_TYPES)}"
            + (f" (got {media_type!r})" if media_type else " (no Content-Type given)")
        )
    patch = _parse_yaml(body) if media_type == APPLY_PATCH else _parse_json(body)
    result = _apply(media_type, target, patch, kind)
    check_bounds(result, "the patched object")  # a JSON patch can nest a value under a path
    _check_shape(result, target, kind)
    return result


def _check_shape(result: Any, target: Object, kind: str) -> None:
    """The patched object must still be an object with object metadata: Kubernetes decodes
    it into the kind's type and answers 422 on `patch` when that fails. (`"metadata": [1]`
    was a TypeError further on: a 500.)"""
    metadata = result.get("metadata") if isinstance(result, dict) else None
    if isinstance(result, dict) and isinstance(metadata, dict | None):
        return
    what = f"metadata: expected an object, got {json_type(metadata)}" \
        if isinstance(result, dict) else f"expected an object, got {json_type(result)}"
    name = (target.get("metadata") or {}).get("name", "")
    raise errors.Invalid(kind, str(name), [FieldError("patch", f"Invalid value: {what}")])


def _apply(media_type: str, target: Object, patch: Any, kind: str) -> Object:
    if media_type == JSON_PATCH:
        return apply_json_patch(target, patch)
    if not isinstance(patch, dict):
        raise errors.BadRequest(
            f"{media_type} body must be an object, not {json_type_name(patch)}"
        )
    if media_type == MERGE_PATCH:
        return cast(Object, apply_merge_patch(target, patch))  # an object merged into one
    if media_type == APPLY_PATCH:
        writer = writers.current()
        if writer is None or not writer.manager:
            raise errors.Invalid("PatchOptions", "", [FieldError(
                "fieldManager", "Required value: is required for apply patch",
                type="FieldValueRequired")], group="meta.k8s.io")
        api_version = str(target.get("apiVersion") or writer.api_version)
        return ssa.apply(target, patch, writer, api_version, kind)
    return apply_strategic_merge_patch(target, patch, kind)


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.BadRequest(
            f"patch body is invalid {what}: not UTF-8 at byte {exc.start}"
        ) from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(body: bytes) -> Any:
    """Parse a JSON body strictly (no NaN/Infinity); errors carry line and column."""
    text = _decode(body, "JSON")
    try:
        patch = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise too_deep("the patch body") from None
    except json.JSONDecodeError as exc:
        raise errors.BadRequest(
            f"patch body is invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except ValueError as exc:
        raise errors.BadRequest(f"patch body is invalid JSON: {exc}") from exc
    check_bounds(patch, "the patch body")
    return patch


def _parse_yaml(body: bytes) -> Any:
    """Parse one YAML (or JSON) document into JSON-shaped data; errors carry line and column."""
    text = _decode(body, "YAML")
    try:
        return load_yaml(text, "the patch body")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise errors.BadRequest(f"patch body is invalid YAML: {problem}{where}") from exc
    except ValueError as exc:
        raise errors.BadRequest(f"patch body is invalid YAML: {exc}") from exc
