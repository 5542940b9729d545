"""The `includeObject` table option: what each row of a Table answer carries."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from apimachinery import errors
from apiserver.wire import table_include


def request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/api/v1/pods", "headers": [],
                    "query_string": query.encode()})


@pytest.mark.parametrize(("query", "expected"), [
    ("", "Metadata"), ("includeObject=Metadata", "Metadata"),
    ("includeObject=Object", "Object"), ("includeObject=None", "None")])
def test_include_object_values(query: str, expected: str) -> None:
    assert table_include(request(query)) == expected


def test_an_unknown_include_object_is_a_bad_request() -> None:
    with pytest.raises(errors.BadRequest, match='includeObject: Unsupported value: "All"'):
        table_include(request("includeObject=All"))
