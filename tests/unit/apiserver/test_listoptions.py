"""A list's resourceVersion and resourceVersionMatch, as Kubernetes' ValidateListOptions."""

from __future__ import annotations

import pytest

from apimachinery import errors
from apiserver.listoptions import WatchStart, list_revision, watch_start


@pytest.mark.parametrize(("rv", "match", "want"), [
    ("", "", 0), ("0", "", 0), ("12", "", 0), ("12", "NotOlderThan", 0), ("0", "NotOlderThan", 0),
    ("12", "Exact", 12),
])
def test_the_revision_a_list_is_read_at(rv: str, match: str, want: int) -> None:
    assert list_revision(rv, match, "") == want


@pytest.mark.parametrize(("rv", "match", "token", "why"), [
    ("", "Exact", "", "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden "
                      "unless resourceVersion is provided"),
    ("5", "Exact", "tok", "resourceVersionMatch is forbidden when continue is provided"),
    ("5", "Newest", "", 'resourceVersionMatch: Unsupported value: "Newest": supported values: '
                        '"Exact", "NotOlderThan", ""'),
    ("0", "Exact", "", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
])
def test_matches_kubernetes_refuses_are_invalid_list_options(rv: str, match: str, token: str,
                                                              why: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        list_revision(rv, match, token)
    status = caught.value.to_status()
    assert status["code"] == 422
    assert status["message"].startswith('ListOptions.meta.k8s.io "" is invalid: ')
    assert why in status["message"]
    assert {c["field"] for c in status["details"]["causes"]} == {"resourceVersionMatch"}
    assert (status["details"]["kind"], status["details"]["group"]) == \
        ("ListOptions", "meta.k8s.io")


@pytest.mark.parametrize("rv", ["abc", "-3"])
def test_a_resource_version_that_is_no_number_is_a_bad_request(rv: str) -> None:
    with pytest.raises(errors.BadRequest):
        list_revision(rv, "Exact", "")


def test_a_list_refuses_send_initial_events() -> None:
    with pytest.raises(errors.Invalid) as caught:
        list_revision("", "", "", "true")
    assert "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list" in \
        caught.value.message


@pytest.mark.parametrize(("rv", "match", "send", "bookmarks", "want"), [
    ("", "", None, False, WatchStart(True, 0, False)),  # legacy: the state first
    ("0", "", None, True, WatchStart(True, 0, False)),
    ("42", "", None, True, WatchStart(False, 42, False, 42)),  # legacy: after 42
    ("", "NotOlderThan", "true", True, WatchStart(True, 0, True)),
    ("42", "NotOlderThan", "true", True, WatchStart(True, 0, True, 42)),  # once etcd has 42
    ("42", "NotOlderThan", "true", False, WatchStart(True, 0, False, 42)),
    ("42", "NotOlderThan", "false", True, WatchStart(False, 42, False, 42)),
    ("", "NotOlderThan", "false", True, WatchStart(False, 0, False)),
])
def test_where_a_watch_starts(rv: str, match: str, send: str | None, bookmarks: bool,
                              want: WatchStart) -> None:
    assert watch_start(rv, match, "", send, bookmarks) == want


@pytest.mark.parametrize(("match", "send", "token", "why"), [
    ("", "true", "", "resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
                     "resourceVersionMatch to NotOlderThan"),
    ("NotOlderThan", None, "", "resourceVersionMatch: Forbidden: resourceVersionMatch is "
                               "forbidden for watch unless sendInitialEvents is provided"),
    ("Exact", "true", "", 'resourceVersionMatch: Unsupported value: "Exact": supported '
                          'values: "NotOlderThan"'),
    ("NotOlderThan", "true", "t", "resourceVersionMatch is forbidden when continue is "
                                  "provided"),
])
def test_watch_options_kubernetes_refuses(match: str, send: str | None, token: str,
                                          why: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        watch_start("", match, token, send, True)
    assert caught.value.to_status()["code"] == 422 and why in caught.value.message
