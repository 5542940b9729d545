"""PodLogOptions from a log request's query, with Kubernetes' checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.server.logoptions import InvalidLogOptions, LogOptions, parse

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_defaults_and_flags() -> None:
    assert parse({}, NOW) == LogOptions()
    assert parse({"follow": "true", "previous": "1", "timestamps": "true", "tailLines": "0"},
                 NOW) == LogOptions(follow=True, previous=True, timestamps=True, tail=0)


def test_since_seconds_counts_back_from_now_and_since_time_is_taken_as_is() -> None:
    assert parse({"sinceSeconds": "90"}, NOW).since == NOW - timedelta(seconds=90)
    assert parse({"sinceTime": "2026-01-02T03:00:00Z"}, NOW).since == datetime(
        2026, 1, 2, 3, 0, tzinfo=UTC)
    assert parse({"sinceTime": "2026-01-02T05:00:00+02:00"}, NOW).since == datetime(
        2026, 1, 2, 3, 0, tzinfo=UTC)


def test_limit_bytes_is_read() -> None:
    assert parse({"limitBytes": "4"}, NOW).limit_bytes == 4


@pytest.mark.parametrize(("query", "message"), [
    ({"tailLines": "-1"}, "tailLines: Invalid value: -1: must be greater than or equal to 0"),
    ({"tailLines": "x"}, 'tailLines: Invalid value: "x": must be an integer'),
    ({"sinceSeconds": "0"}, "sinceSeconds: Invalid value: 0: must be greater than 0"),
    ({"sinceTime": "yesterday"}, 'sinceTime: Invalid value: "yesterday": must be an RFC3339'),
    ({"sinceTime": "2026-01-02T03:00:00"},
     'sinceTime: Invalid value: "2026-01-02T03:00:00": must be an RFC3339'),
    ({"limitBytes": "0"}, "limitBytes: Invalid value: 0: must be greater than 0"),
    ({"sinceSeconds": "5", "sinceTime": "2026-01-02T03:00:00Z"},
     "at most one of `sinceTime` or `sinceSeconds` may be specified"),
])
def test_bad_values_name_their_field(query: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidLogOptions, match=message.replace("(", r"\(")):
        parse(query, NOW)
