"""A list's resourceVersion and resourceVersionMatch, as Kubernetes' ValidateListOptions."""

from __future__ import annotations

import pytest

from apimachinery import errors
from apiserver.listoptions import list_revision


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
