"""What admission says about a request besides yes or no: warnings and audit annotations.

Admission checks run deep in the registry, far from the response; a check that
admits with a warning (Pod Security's `warn` mode, a Deployment whose template
would be refused) notes it here, and the handler adds each one as a
`Warning: 299` header. Audit annotations (`pod-security.kubernetes.io/audit-violations`)
are kept the same way for the audit log to add to the request's event. The notes
belong to the request's context (a ContextVar set by `begin`); outside a request
they are dropped.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class Notes:
    warnings: list[str] = field(default_factory=list)
    audit_annotations: dict[str, str] = field(default_factory=dict)


_NOTES: ContextVar[Notes | None] = ContextVar("admission_notes", default=None)


def begin() -> Notes:
    """A fresh set of notes for the request being served (handlers call this first)."""
    notes = Notes()
    _NOTES.set(notes)
    return notes


def current() -> Notes | None:
    return _NOTES.get()


def warn(text: str) -> None:
    notes = _NOTES.get()
    if notes is not None and text not in notes.warnings:
        notes.warnings.append(text)


def annotate_audit(key: str, value: str) -> None:
    notes = _NOTES.get()
    if notes is not None:
        notes.audit_annotations[key] = value
