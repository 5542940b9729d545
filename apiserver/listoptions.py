"""A list's or watch's resourceVersion, resourceVersionMatch and sendInitialEvents,
checked as Kubernetes checks them.

Kubernetes' `ValidateListOptions` (apimachinery/pkg/apis/meta/internalversion/
validation) refuses, for a list, a `resourceVersionMatch` without a
`resourceVersion`, beside a `continue` token, of an unknown value, or `Exact` with
`0`, and any `sendInitialEvents`; for a watch (`validateWatchOptions`, WatchList on as
in 1.32), `sendInitialEvents` without `resourceVersionMatch=NotOlderThan` and a match
without `sendInitialEvents`. Each is one 422 Invalid on `ListOptions.meta.k8s.io`.
What is left picks the revision a list is read at, and how a watch starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from apimachinery import errors
from apimachinery.errors import FieldError

from .params import parse_non_negative
from .validation.fields import forbidden, not_supported

__all__ = ["WatchStart", "list_revision", "watch_start"]

_MATCHES = ("Exact", "NotOlderThan")


@dataclass(frozen=True)
class WatchStart:
    """How a watch begins: with the current objects as ADDED events (then, when asked
    for bookmarks and `sendInitialEvents` was given, a BOOKMARK annotated
    `k8s.io/initial-events-end`), or from `revision` (0: now) with no initial events."""

    initial_events: bool
    revision: int
    end_bookmark: bool
    required: int = 0  # the version asked for, which etcd must reach before the watch starts


INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def list_revision(rv: str, match: str, continue_token: str,
                  send_initial_events: str | None = None) -> int:
    """The etcd revision to list at: 0 (the latest) unless `Exact` asks for `rv`.

    `NotOlderThan` and no match are served at the latest revision, which is never
    older than what was asked for.
    """
    problems = _problems(rv, match, continue_token)
    if send_initial_events is not None:
        problems.append(forbidden("sendInitialEvents", "sendInitialEvents is forbidden "
                                  "for list"))
    _raise(problems)
    revision = _revision(rv)  # a version that is no number is a 400 whatever the match
    return revision if match == "Exact" else 0


def watch_start(rv: str, match: str, continue_token: str, send_initial_events: str | None,
                bookmarks: bool) -> WatchStart:
    """Where a watch starts. Without `sendInitialEvents` the legacy rule: no version (or
    `0`) sends the current objects first, a version starts after it. With it (and the
    `NotOlderThan` it requires), `true` sends the current objects, at least as new as
    the version, then the end-of-initial-events bookmark; `false` only watches."""
    problems = []
    if send_initial_events is not None and match != "NotOlderThan":
        problems.append(forbidden("resourceVersionMatch", "sendInitialEvents requires "
                                  "setting resourceVersionMatch to NotOlderThan"))
    if match:
        if send_initial_events is None:
            problems.append(forbidden("resourceVersionMatch", "resourceVersionMatch is "
                                      "forbidden for watch unless sendInitialEvents is "
                                      "provided"))
        if match != "NotOlderThan":
            problems.append(not_supported("resourceVersionMatch", match, ["NotOlderThan"]))
        if continue_token:
            problems.append(forbidden("resourceVersionMatch", "resourceVersionMatch is "
                                      "forbidden when continue is provided"))
    _raise(problems)
    revision = _revision(rv)
    if send_initial_events is None:
        return WatchStart(revision == 0, revision, False, revision)
    initial = send_initial_events.lower() in ("true", "1")
    return WatchStart(initial, 0 if initial else revision, initial and bookmarks, revision)


def _raise(problems: list[FieldError]) -> None:
    if problems:
        raise errors.Invalid("ListOptions", "", problems, group="meta.k8s.io")


def _revision(rv: str) -> int:
    """A resourceVersion as a revision; `""` and `0` are 0, "any"."""
    if not rv or rv == "0":
        return 0
    return parse_non_negative(rv, "resourceVersion")


def _problems(rv: str, match: str, continue_token: str) -> list[FieldError]:
    if not match:
        return []
    problems = []
    if not rv:
        problems.append(forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden "
                                  "unless resourceVersion is provided"))
    if continue_token:
        problems.append(forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden "
                                  "when continue is provided"))
    if match not in _MATCHES:
        problems.append(not_supported("resourceVersionMatch", match, [*_MATCHES, ""]))
    if match == "Exact" and rv == "0":
        problems.append(forbidden("resourceVersionMatch", 'resourceVersionMatch "exact" is '
                                  'forbidden for resourceVersion "0"'))
    return problems
