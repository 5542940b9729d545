"""One error hierarchy for the whole project.

The apiserver raises these and turns them into `v1 Status` bodies with the
matching HTTP code; the client turns a `Status` back into the same exception,
so a controller can write `except Conflict:` whichever side raised it. The
reasons and codes are Kubernetes' (k8s.io/apimachinery/pkg/api/errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One invalid field: `spec.replicas: Invalid value: -1: must be >= 0`."""

    path: str
    message: str
    value: Any = None
    type: str = "FieldValueInvalid"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_cause(self) -> dict[str, str]:
        return {"reason": self.type, "message": self.message, "field": self.path}


class APIError(Exception):
    """Base of every error that maps onto a v1 Status."""

    code: ClassVar[int] = 500
    reason: ClassVar[str] = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_status(self) -> dict[str, Any]:
        """The `v1 Status` body the apiserver sends for this error."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            status["details"] = self.details
        return status


class BadRequest(APIError):
    code, reason = 400, "BadRequest"


class Unauthorized(APIError):
    code, reason = 401, "Unauthorized"


class Forbidden(APIError):
    code, reason = 403, "Forbidden"


class NotFound(APIError):
    code, reason = 404, "NotFound"


class MethodNotAllowed(APIError):
    code, reason = 405, "MethodNotAllowed"


class NotAcceptable(APIError):
    code, reason = 406, "NotAcceptable"


class AlreadyExists(APIError):
    code, reason = 409, "AlreadyExists"


class Conflict(APIError):
    code, reason = 409, "Conflict"


class Gone(APIError):
    """A watch or list asked for a resourceVersion etcd has compacted away."""

    code, reason = 410, "Expired"


class RequestEntityTooLarge(APIError):
    code, reason = 413, "RequestEntityTooLarge"


class UnsupportedMediaType(APIError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(APIError):
    """422: the object failed validation; `causes` name each offending field.

    The message is Kubernetes' NewInvalid: the group-qualified kind
    (`Deployment.apps "web" is invalid: ...`, which kubectl's create generators
    print as is) and the errors as an aggregate, bracketed when there are several.
    """

    code, reason = 422, "Invalid"

    def __init__(self, kind: str, name: str, errors: list[FieldError],
                 *, group: str = "") -> None:
        self.kind, self.name, self.errors = kind, name, errors
        qualified = f"{kind}.{group}" if group else kind
        super().__init__(
            f'{qualified} "{name}" is invalid: {_aggregate(errors)}',
            details={"name": name, "group": group, "kind": kind,
                     "causes": [e.to_cause() for e in errors]},
        )


def _aggregate(errors: list[FieldError]) -> str:
    """apimachinery's Aggregate.Error(): one message alone, several as `[a, b]`, no repeats."""
    messages = list(dict.fromkeys(str(e) for e in errors))
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"


class TooManyRequests(APIError):
    code, reason = 429, "TooManyRequests"


class InternalError(APIError):
    code, reason = 500, "InternalError"


class ServiceUnavailable(APIError):
    code, reason = 503, "ServiceUnavailable"


class Timeout(APIError):
    code, reason = 504, "Timeout"


class Unreachable(ServiceUnavailable):
    """The client could not reach the apiserver at all (raised client-side only)."""


_BY_REASON: dict[str, type[APIError]] = {
    cls.reason: cls
    for cls in (BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed,
                NotAcceptable, AlreadyExists, Conflict, Gone, RequestEntityTooLarge,
                UnsupportedMediaType, TooManyRequests, InternalError,
                ServiceUnavailable, Timeout)
}
_BY_CODE: dict[int, type[APIError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
    405: MethodNotAllowed, 406: NotAcceptable, 409: Conflict, 410: Gone,
    413: RequestEntityTooLarge, 415: UnsupportedMediaType, 429: TooManyRequests,
    503: ServiceUnavailable, 504: Timeout,
}


def from_status(status: dict[str, Any], http_code: int | None = None) -> APIError:
    """Rebuild the exception a v1 Status (or any error body) stands for."""
    reason = str(status.get("reason") or "")
    code = int(status.get("code") or http_code or 500)
    message = str(status.get("message") or f"HTTP {code}")
    details = status.get("details") or {}
    if reason == "Invalid" or code == 422:
        causes = details.get("causes") or []
        errors = [FieldError(c.get("field", ""), c.get("message", ""),
                             type=c.get("reason", "FieldValueInvalid")) for c in causes]
        err = Invalid(details.get("kind", ""), details.get("name", ""), errors,
                      group=details.get("group", ""))
        err.message = message
        err.args = (message,)
        return err
    cls = _BY_REASON.get(reason) or _BY_CODE.get(code) or InternalError
    return cls(message, details=details)


def not_found(group_resource: str, name: str) -> NotFound:
    """`pods "web" not found`, kubectl's wording."""
    kind = group_resource.split(".")[0]
    group = group_resource.partition(".")[2]
    return NotFound(f'{group_resource} "{name}" not found',
                    details={"name": name, "group": group, "kind": kind})


def already_exists(group_resource: str, name: str) -> AlreadyExists:
    kind = group_resource.split(".")[0]
    group = group_resource.partition(".")[2]
    return AlreadyExists(f'{group_resource} "{name}" already exists',
                         details={"name": name, "group": group, "kind": kind})


def conflict(group_resource: str, name: str, why: str) -> Conflict:
    kind = group_resource.split(".")[0]
    group = group_resource.partition(".")[2]
    return Conflict(
        f'Operation cannot be fulfilled on {group_resource} "{name}": {why}',
        details={"name": name, "group": group, "kind": kind},
    )
