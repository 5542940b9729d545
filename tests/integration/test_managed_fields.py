"""managedFields over HTTP: the writer a request names or its User-Agent implies, a body's
own managedFields honoured or cleared, the options Kubernetes refuses, and protobuf."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.client import Client
from apiserver import protobuf

pytestmark = pytest.mark.integration

CM = "/api/v1/namespaces/{ns}/configmaps"


def _send(client: Client, method: str, path: str, body: Any, content_type: str,
          **params: str) -> dict[str, Any]:
    answer = client.request(method, path, params=params or None,
                            content=json.dumps(body).encode(),
                            headers={"Content-Type": content_type,
                                     "User-Agent": "mytool/1.2 (linux)"})
    result: dict[str, Any] = answer.json()
    return result


def _managers(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"].get("managedFields") or []]


def test_writers_body_managed_fields_and_refused_options(client: Client,
                                                         namespace: str) -> None:
    base = CM.format(ns=namespace)
    made = _send(client, "POST", base, {"metadata": {"name": "cm"}, "data": {"a": "1"}},
                 "application/json")
    assert _managers(made) == [("mytool", "Update")]  # the User-Agent's program
    assert made["metadata"]["managedFields"][0]["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}

    patched = _send(client, "PATCH", f"{base}/cm", {"data": {"b": "2"}},
                    "application/merge-patch+json", fieldManager="other")
    assert _managers(patched) == [("mytool", "Update"), ("other", "Update")]  # time, name

    # A JSON patch of managedFields replaces them (kubectl's client-side-apply upgrade
    # sends one); `[{}]` clears them.
    mine = [{"manager": "me", "operation": "Apply", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}}]
    replaced = _send(client, "PATCH", f"{base}/cm",
                     [{"op": "replace", "path": "/metadata/managedFields", "value": mine}],
                     "application/json-patch+json")
    assert _managers(replaced) == [("me", "Apply")]
    cleared = _send(client, "PATCH", f"{base}/cm", {"metadata": {"managedFields": [{}]}},
                    "application/merge-patch+json")
    assert "managedFields" not in cleared["metadata"]

    with pytest.raises(errors.Invalid) as caught:
        _send(client, "PATCH", f"{base}/cm", {"data": {"c": "3"}},
              "application/merge-patch+json", force="true")
    assert "force: Forbidden: may not be specified for non-apply patch" in caught.value.message
    with pytest.raises(errors.Invalid) as caught:
        _send(client, "PATCH", f"{base}/cm", {"apiVersion": "v1", "kind": "ConfigMap",
                                              "metadata": {"name": "cm"}},
              "application/apply-patch+yaml")
    assert "fieldManager: Required value: is required for apply patch" in \
        caught.value.message


def test_managed_fields_travel_in_protobuf(client: Client, namespace: str) -> None:
    base = CM.format(ns=namespace)
    _send(client, "PATCH", f"{base}/cm", {"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": "cm"}, "data": {"a": "1"}},
          "application/apply-patch+yaml", fieldManager="applier")
    as_json = client.request("GET", f"{base}/cm").json()
    raw = client.request("GET", f"{base}/cm",
                         headers={"Accept": protobuf.MEDIA_TYPE}).content
    decoded = protobuf.decode(raw)
    assert decoded["metadata"]["managedFields"] == as_json["metadata"]["managedFields"]
    assert _managers(decoded) == [("applier", "Apply")]
