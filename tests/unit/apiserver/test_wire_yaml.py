"""YAML request bodies become the JSON they stand for, or a 400 (inputs the fuzzer found)."""

from __future__ import annotations

import pytest

from apimachinery import errors
from apiserver.wire import decode_object

YAML = "application/yaml"


@pytest.mark.parametrize("body", [
    b'metadata: {name: "\\ud800"}\n',  # a lone surrogate: orjson refused to write the answer
    b'metadata: {name: s}\ndata: {a: "\\udc80"}\n',
    b'metadata: {name: s}\n"\\ud800": 1\n',
    b"metadata: {name: s}\nbinaryData: {a: !!binary aGk=}\n",
    b"metadata: {name: s}\ndata: !!set {a, b}\n",
])
def test_yaml_without_a_json_equivalent_is_a_400(body: bytes) -> None:
    with pytest.raises(errors.BadRequest, match="invalid YAML in request body: it has no JSON"):
        decode_object(body, YAML)


def test_yaml_dates_and_number_keys_become_strings() -> None:
    """As Kubernetes' YAML-to-JSON conversion: `2024-01-02` and `1:` are strings in JSON."""
    obj = decode_object(b"metadata: {name: s}\ndata: {when: 2024-01-02, 1: one}\n", YAML)
    assert obj["data"] == {"when": "2024-01-02", "1": "one"}


def test_yaml_that_does_not_parse_is_a_400() -> None:
    with pytest.raises(errors.BadRequest, match="invalid YAML in request body"):
        decode_object(b"metadata: {name: [\n", YAML)
