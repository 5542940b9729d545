"""Who writes: the field manager a request names, checked as Kubernetes checks it.

The handler reads it once per write (`writer_for`) and leaves it in a context
variable, so every path a write takes (the registry's create and update, a
subresource's handler, the apply engine inside a PATCH) records the same writer
without each signature carrying it, as the dry-run flag travels.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

from apimachinery import errors
from apimachinery.errors import FieldError

from .managed import Writer

__all__ = ["WRITER", "Writer", "current", "writer_for", "writing"]

WRITER: ContextVar[Writer | None] = ContextVar("schooner_writer", default=None)
FIELD_MANAGER_MAX_LENGTH = 128


def current() -> Writer | None:
    return WRITER.get()


@contextmanager
def writing(writer: Writer | None) -> Iterator[None]:
    token = WRITER.set(writer)
    try:
        yield
    finally:
        WRITER.reset(token)


def writer_for(query: dict[str, str], user_agent: str, verb: str, content_type: str,
               subresource: str | None, status_apart: bool, api_version: str,
               kind: str) -> Writer:
    """The Writer of a create, update or patch request, or 422 for bad options.

    `fieldManager` names the manager; without it, the User-Agent's program (the part
    before the first `/`, Kubernetes' prefixFromUserAgent). Apply requires it and
    only apply may `force`; each option is refused in Kubernetes' words, as a
    CreateOptions, UpdateOptions or PatchOptions that is invalid.
    """
    applying = verb == "patch" and content_type.split(";", 1)[0].strip().lower() \
        .startswith("application/apply-patch")
    given = query.get("fieldManager", "")
    force_text = query.get("force")
    problems = _check_manager(given)
    if applying and not given:
        problems.append(FieldError("fieldManager", "Required value: is required for apply "
                                   "patch", type="FieldValueRequired"))
    force = False
    if force_text is not None:
        force = force_text.lower() in ("true", "1")
        if not applying and verb == "patch":
            problems.append(FieldError("force", "Forbidden: may not be specified for "
                                       "non-apply patch", type="FieldValueForbidden"))
    if problems:
        options = {"create": "CreateOptions", "update": "UpdateOptions"}.get(verb,
                                                                             "PatchOptions")
        raise errors.Invalid(options, "", problems, group="meta.k8s.io")
    manager = given or user_agent.split("/", 1)[0]
    return Writer(manager=manager, subresource=subresource or "", status_apart=status_apart,
                  force=force, applying=applying, api_version=api_version, kind=kind)


def _check_manager(manager: str) -> list[FieldError]:
    """ValidateFieldManager: at most 128 bytes, printable characters only."""
    problems: list[FieldError] = []
    if len(manager.encode()) > FIELD_MANAGER_MAX_LENGTH:
        problems.append(FieldError("fieldManager", f"Too long: may not be more than "
                                   f"{FIELD_MANAGER_MAX_LENGTH} bytes", type="FieldValueTooLong"))
    for index, char in enumerate(manager):
        if not char.isprintable():
            problems.append(FieldError(
                "fieldManager", f"Invalid value: {json.dumps(manager)}: invalid character "
                f"U+{ord(char):04X} (at position {index})"))
    return problems


def for_subresource(writer: Writer | None, subresource: str) -> Writer | None:
    return replace(writer, subresource=subresource) if writer else None
