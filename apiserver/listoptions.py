"""A list's resourceVersion and resourceVersionMatch, checked as Kubernetes checks them.

Kubernetes' `ValidateListOptions` (apimachinery/pkg/apis/meta/internalversion/
validation) refuses a `resourceVersionMatch` without a `resourceVersion`, beside a
`continue` token, of an unknown value, or `Exact` with `0`, as one 422 Invalid on
`ListOptions.meta.k8s.io`. What is left picks the revision the list is read at.
"""

from __future__ import annotations

from apimachinery import errors
from apimachinery.errors import FieldError

from .validation.fields import forbidden, not_supported

__all__ = ["list_revision"]

_MATCHES = ("Exact", "NotOlderThan")


def list_revision(rv: str, match: str, continue_token: str) -> int:
    """The etcd revision to list at: 0 (the latest) unless `Exact` asks for `rv`.

    `NotOlderThan` and no match are served at the latest revision, which is never
    older than what was asked for.
    """
    problems = _problems(rv, match, continue_token)
    if problems:
        err = errors.Invalid("ListOptions", "", problems, group="meta.k8s.io")
        err.message = err.args[0].replace("ListOptions", "ListOptions.meta.k8s.io", 1)
        err.args = (err.message,)
        raise err
    if not rv or rv == "0":
        return 0
    try:
        number = int(rv)
    except ValueError:
        raise errors.BadRequest(f"resourceVersion: invalid value {rv!r}: "
                                "must be an integer") from None
    if number < 0:
        raise errors.BadRequest(f"resourceVersion: invalid value {number}: must be >= 0")
    return number if match == "Exact" else 0


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
