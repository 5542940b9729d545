"""A `pods/{name}/log` request's PodLogOptions, checked as Kubernetes checks them.

Kubernetes decodes the query into PodLogOptions (a value that is not a number is a
400) and runs `ValidatePodLogOptions`: `tailLines` >= 0, `limitBytes` and
`sinceSeconds` > 0, and at most one of `sinceSeconds` and `sinceTime` (an RFC 3339
time), each refused as one 422 Invalid on the PodLogOptions named for the pod. What
passes is forwarded to the node agent, which honours every one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from apimachinery import errors
from apimachinery.errors import FieldError
from apiserver.validation.fields import forbidden, invalid

__all__ = ["log_params"]

_FLAGS = ("follow", "timestamps", "previous")
_NUMBERS = ("tailLines", "limitBytes", "sinceSeconds")


def log_params(pod: str, query: Mapping[str, str]) -> dict[str, str]:
    """The options to forward to the agent; BadRequest or Invalid as Kubernetes answers."""
    numbers = {name: _integer(name, query[name]) for name in _NUMBERS if query.get(name)}
    since_time = query.get("sinceTime") or ""
    if since_time:
        _time(since_time)
    problems = _problems(numbers, bool(since_time))
    if problems:
        raise errors.Invalid("PodLogOptions", pod, problems)
    params = {name: query[name] for name in _FLAGS if query.get(name)}
    params.update({name: str(value) for name, value in numbers.items()})
    if since_time:
        params["sinceTime"] = since_time
    return params


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise errors.BadRequest(f"{name}: invalid value {value!r}: must be an integer") from None


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise errors.BadRequest(f"sinceTime: invalid value {value!r}: must be an RFC 3339 time")
    return parsed


def _problems(numbers: Mapping[str, int], since_time: bool) -> list[FieldError]:
    problems = []
    if numbers.get("tailLines", 0) < 0:
        problems.append(invalid("tailLines", numbers["tailLines"],
                                "must be greater than or equal to 0"))
    if numbers.get("limitBytes", 1) < 1:
        problems.append(invalid("limitBytes", numbers["limitBytes"], "must be greater than 0"))
    if "sinceSeconds" in numbers and since_time:
        problems.append(forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be "
                                      "specified"))
    elif numbers.get("sinceSeconds", 1) < 1:
        problems.append(invalid("sinceSeconds", numbers["sinceSeconds"],
                                "must be greater than 0"))
    return problems
