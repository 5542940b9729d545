"""fieldValidation: unknown and duplicate fields of a written object, as Kubernetes treats them.

A field is known when the kind's model declares it (`apimachinery.models.schema`):
the walk follows the object's keys through the models by wire name, stepping
into list items and map values; a map (labels, data) keeps any key, and a
field the models type loosely (`dict[str, Any]`) keeps whatever is under it.
Every other key is unknown: it is never stored, and the request's
`fieldValidation` parameter says what the client hears of it
(`k8s.io/apiserver/pkg/endpoints/handlers/rest.go`):

- `Strict`: 400 BadRequest naming every unknown or duplicate field,
  `ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding
  error: unknown field "spec.foo"`;
- `Warn` (the default when absent): the write goes through without them, and
  each one comes back as a `Warning: 299 - "unknown field \\"spec.foo\\""` header;
- `Ignore`: dropped silently.

Paths are Kubernetes': `spec.containers[0].foo`, `metadata.labels[k]` style
for map values. Duplicate keys are found in a JSON body's text (a parsed body
has lost them); YAML and protobuf bodies are not checked for them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any, Final, get_args, get_origin

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.models.schema import fields, unwrap
from apimachinery.resources import ResourceInfo
from apiserver import admissionnotes

STRICT: Final = "Strict"
WARN: Final = "Warn"
IGNORE: Final = "Ignore"
_MODES = (STRICT, WARN, IGNORE)

# How a declared field's value is walked.
_LEAF, _MODEL, _LIST, _MAP = 0, 1, 2, 3
Plan = dict[str, tuple[int, Any]]


@functools.cache
def _plan(model: type[BaseModel]) -> Plan:
    """For each wire name `model` declares: how to walk its value, and the model below it."""
    out: Plan = {}
    for name, meta in fields(model).items():
        inner = unwrap(meta.annotation)
        origin = get_origin(inner)
        if origin is list:
            item = unwrap(get_args(inner)[0])
            out[name] = (_LIST, item) if _is_model(item) else (_LEAF, None)
        elif origin is dict:
            value = unwrap(get_args(inner)[1])
            out[name] = (_MAP, value) if _is_model(value) else (_LEAF, None)
        elif _is_model(inner):
            out[name] = (_MODEL, inner)
        else:
            out[name] = (_LEAF, None)
    return out


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def prune(model: type[BaseModel], obj: Object) -> list[str]:
    """Remove from `obj`, in place, every field `model` does not declare; their paths."""
    unknown: list[str] = []
    _prune(_plan(model), obj, "", unknown)
    return unknown


def _prune(plan: Plan, obj: dict[str, Any], prefix: str, unknown: list[str]) -> None:
    drop: list[str] | None = None
    for key, value in obj.items():
        step = plan.get(key)
        if step is None:
            if drop is None:
                drop = []
            drop.append(key)
            unknown.append(prefix + key)
            continue
        how = step[0]
        if how == _LEAF:
            continue
        kind = type(value)
        if how == _MODEL:
            if kind is dict:
                _prune(_plan(step[1]), value, f"{prefix}{key}.", unknown)
        elif how == _LIST:
            if kind is list:
                sub = _plan(step[1])
                for i, item in enumerate(value):
                    if type(item) is dict:
                        _prune(sub, item, f"{prefix}{key}[{i}].", unknown)
        elif kind is dict:  # _MAP
            sub = _plan(step[1])
            for k, item in value.items():
                if type(item) is dict:
                    _prune(sub, item, f"{prefix}{key}[{k}].", unknown)
    if drop is not None:
        for key in drop:
            del obj[key]


_JSON_MEDIA = frozenset({
    "application/json", "", "*/*", "text/plain", "application/merge-patch+json",
    "application/strategic-merge-patch+json", "application/json-patch+json",
    "application/apply-patch+json"})


def duplicate_fields(body: bytes, content_type: str, parsed: Any = None) -> list[str]:
    """The paths of keys a JSON body repeats inside one object (other encodings: none).

    `parsed` is the body already decoded, if the caller has it. The common case
    costs a re-encoding and two byte counts: the body's key ends (`":`) against
    those of its compact re-encoding, which has lost the repeats; only when they
    differ (a repeat, or `":` escaped differently inside a string) is the body
    parsed again to name them. A key written with blanks before its colon
    (`"a" : 1`, which no Kubernetes client sends) is not counted and can hide a
    repeat.
    """
    if content_type.split(";")[0].strip().lower() not in _JSON_MEDIA:
        return []
    try:
        if parsed is None:
            parsed = orjson.loads(body)
        canonical = orjson.dumps(parsed).count(b'":')
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return []  # the decoder has already refused or will refuse it
    if body.count(b'":') == canonical:
        return []
    return _repeated_keys(body)


def _repeated_keys(body: bytes) -> list[str]:
    repeated: dict[int, list[str]] = {}

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            seen: set[str] = set()
            keys: list[str] = []
            for key, _ in pairs:
                if key in seen and key not in keys:
                    keys.append(key)
                seen.add(key)
            repeated[id(out)] = keys
        return out

    try:
        parsed = json.loads(body, object_pairs_hook=pairs_hook)
    except ValueError:
        return []
    if not repeated:
        return []
    found: list[str] = []
    _find_repeated(parsed, "", repeated, found)
    return found


def _find_repeated(value: Any, prefix: str, repeated: dict[int, list[str]],
                   found: list[str]) -> None:
    if isinstance(value, dict):
        found.extend(prefix + key for key in repeated.get(id(value), ()))
        for key, item in value.items():
            _find_repeated(item, f"{prefix}{key}.", repeated, found)
    elif isinstance(value, list):
        base = prefix[:-1]
        for i, item in enumerate(value):
            _find_repeated(item, f"{base}[{i}].", repeated, found)


def mode(request: Request) -> str:
    """The request's `fieldValidation` (Warn when absent); 400 for any other value."""
    value = request.query_params.get("fieldValidation")
    if value is None or value == "":
        return WARN
    if value not in _MODES:
        raise errors.BadRequest(f'fieldValidation: unsupported value "{value}": must be one '
                                "of Strict, Warn, Ignore")
    return value


def problems(unknown: list[str], duplicates: list[str]) -> list[str]:
    return [f'duplicate field "{p}"' for p in duplicates] + \
        [f'unknown field "{p}"' for p in unknown]


class FieldValidation:
    """One write's fieldValidation: prunes objects, refuses (Strict) or collects warnings."""

    def __init__(self, request: Request, resource: ResourceInfo, model: type[BaseModel]
                 ) -> None:
        self.mode = mode(request)
        self.resource = resource
        self.model = model
        self.duplicates: list[str] = []
        self.unknown: list[str] = []
        self.admission = admissionnotes.begin()

    def check_body(self, body: bytes, content_type: str, parsed: Any = None) -> None:
        """Note the body's duplicate keys (JSON only; `parsed`: the body decoded, if it
        is); Strict refuses at `check`."""
        if self.mode != IGNORE:
            self.duplicates = duplicate_fields(body, content_type, parsed)

    def check(self, obj: Object) -> Object:
        """Prune `obj` in place; Strict raises BadRequest for any unknown or duplicate field.

        Called again for the same request (a patch retried on a conflict), the
        latest object's unknown fields replace the earlier ones.
        """
        self.unknown = prune(self.model, obj)
        if self.mode == STRICT and (self.unknown or self.duplicates):
            kind = self.resource.kind
            raise errors.BadRequest(
                f'{kind} in version "{self.resource.version}" cannot be handled as a {kind}: '
                f"strict decoding error: {', '.join(problems(self.unknown, self.duplicates))}")
        return obj

    def wrap(self, change: Callable[[Object], Object]) -> Callable[[Object], Object]:
        """`change` (a patch applied to a copy of the stored object) followed by `check`.

        The stored object is pruned silently first: an unknown field stored before
        Schooner pruned writes is dropped, not blamed on the patch.
        """
        def patched(current: Object) -> Object:
            prune(self.model, current)
            return self.check(change(current))
        return patched

    def warn(self, response: Response) -> Response:
        """Add one `Warning: 299` header per problem (Warn mode) and per admission warning
        (any mode: Pod Security's `warn`); the response, for chaining."""
        texts = problems(self.unknown, self.duplicates) if self.mode == WARN else []
        for text in bounded_warnings([*texts, *self.admission.warnings]):
            response.headers.append("Warning", warning_header(text))
        return response


MAX_WARNINGS = 50  # Python's http.client (the official client, requests) refuses > 100 headers
MAX_WARNING_RUNES = 4 * 1024  # k8s.io/apiserver's truncateAtTotalRunes
WARNING_ITEM_RUNES = 256  # and its truncateItemRunes


def bounded_warnings(texts: list[str]) -> list[str]:
    """The warnings a response carries: Kubernetes' bound of 4 KiB in all (an item past it
    cut to 256 characters, then none), and at most MAX_WARNINGS headers, the last of them
    saying how many were left out, so a body with thousands of unknown fields cannot make
    a response no client can read."""
    kept: list[str] = []
    total = 0
    for text in texts:
        if total + len(text) > MAX_WARNING_RUNES:
            text = text[:WARNING_ITEM_RUNES]
        if total + len(text) > MAX_WARNING_RUNES or len(kept) == MAX_WARNINGS - 1:
            kept.append(f"{len(texts) - len(kept)} more warnings left out")
            break
        kept.append(text)
        total += len(text)
    return kept


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def warning_header(text: str) -> str:
    """RFC 7234 warn-value with code 299 and agent `-`, as `k8s.io/apiserver` writes it.

    The text names fields a client wrote, so it may hold any character. As Go's
    net/http writes a header, a control character (which HTTP forbids in a header,
    and uvicorn refuses with a 500) becomes a space and the rest goes out as UTF-8;
    starlette encodes header values as Latin-1, hence the UTF-8 bytes decoded as
    Latin-1 here. A lone surrogate (YAML's `"\\ud800"`) becomes `?`.
    """
    escaped = _CONTROL.sub(" ", text).replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'.encode("utf-8", errors="replace").decode("latin-1")
