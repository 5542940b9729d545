"""A log request's options (Kubernetes' PodLogOptions), read from the query and checked.

`tailLines`, `sinceSeconds`, `sinceTime`, `timestamps`, `follow`, `previous` and
`limitBytes` (the output ends after that many bytes), with
the checks Kubernetes' ValidatePodLogOptions makes and its words; `sinceSeconds` and
`sinceTime` both become `since`, the moment from which output is kept (the kubelet
turns sinceSeconds into now minus that many seconds the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

TRUE = ("true", "1", "yes")


class InvalidLogOptions(ValueError):
    """A query the agent refuses with a 400; the message names the field."""


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail: int | None = None
    since: datetime | None = None
    limit_bytes: int | None = None  # stop after this many bytes (the kubelet's LimitWriter)


def _int(query: Mapping[str, str], name: str, minimum: int, words: str) -> int | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidLogOptions(f"{name}: Invalid value: \"{raw}\": must be an integer") from None
    if value < minimum:
        raise InvalidLogOptions(f"{name}: Invalid value: {value}: must be {words}")
    return value


def _since_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidLogOptions(f'sinceTime: Invalid value: "{raw}": must be an RFC3339 '
                                "time") from None


def parse(query: Mapping[str, str], now: datetime) -> LogOptions:
    """The options of one request; InvalidLogOptions names the first bad field."""
    tail = _int(query, "tailLines", 0, "greater than or equal to 0")
    limit_bytes = _int(query, "limitBytes", 1, "greater than 0")
    since_seconds = _int(query, "sinceSeconds", 1, "greater than 0")
    since_time = _since_time(query.get("sinceTime"))
    if since_seconds is not None and since_time is not None:
        raise InvalidLogOptions("at most one of `sinceTime` or `sinceSeconds` may be specified")
    since = now - timedelta(seconds=since_seconds) if since_seconds is not None else since_time
    return LogOptions(follow=query.get("follow", "").lower() in TRUE,
                      previous=query.get("previous", "").lower() in TRUE,
                      timestamps=query.get("timestamps", "").lower() in TRUE,
                      tail=tail, since=since, limit_bytes=limit_bytes)
