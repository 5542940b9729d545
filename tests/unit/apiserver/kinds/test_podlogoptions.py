"""pods/{name}/log options: forwarded when valid, refused as Kubernetes refuses them."""

from __future__ import annotations

import pytest

from apimachinery import errors
from apiserver.kinds.core.pod.logoptions import log_params


def test_valid_options_are_forwarded_and_others_dropped() -> None:
    query = {"follow": "true", "tailLines": "0", "timestamps": "true", "previous": "false",
             "sinceSeconds": "5", "limitBytes": "10", "container": "main", "pretty": "1"}
    assert log_params("p", query) == {
        "follow": "true", "tailLines": "0", "timestamps": "true", "previous": "false",
        "sinceSeconds": "5", "limitBytes": "10"}
    assert log_params("p", {"sinceTime": "2026-12-07T01:02:03Z"}) == {
        "sinceTime": "2026-12-07T01:02:03Z"}


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"tailLines": "-1"}, "tailLines", "must be greater than or equal to 0"),
    ({"limitBytes": "0"}, "limitBytes", "must be greater than 0"),
    ({"sinceSeconds": "0"}, "sinceSeconds", "must be greater than 0"),
    ({"sinceSeconds": "3", "sinceTime": "2026-12-07T01:02:03Z"}, "",
     "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"),
])
def test_kubernetes_validation(query: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        log_params("web", query)
    status = caught.value.to_status()
    assert status["code"] == 422 and status["message"].startswith('PodLogOptions "web" is invalid')
    [cause] = status["details"]["causes"]
    assert cause["field"] == field and message in cause["message"]


@pytest.mark.parametrize("query", [{"tailLines": "x"}, {"limitBytes": "1.5"},
                                   {"sinceTime": "yesterday"}, {"sinceTime": "2026-12-07"}])
def test_values_that_do_not_decode_are_bad_requests(query: dict[str, str]) -> None:
    with pytest.raises(errors.BadRequest):
        log_params("web", query)
