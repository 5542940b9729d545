"""fieldValidation over HTTP: Strict refuses, Warn (the default) warns, Ignore is silent;
no unknown field is ever stored."""

from __future__ import annotations

import uuid

import orjson
import pytest

from cli.cluster.processes import Apiserver

NS = "default"
CMS = f"/api/v1/namespaces/{NS}/configmaps"
JSON = {"Content-Type": "application/json"}


def _name() -> str:
    return f"fv-{uuid.uuid4().hex[:8]}"


def _cm(name: str, **extra: object) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"any-key": "kept"}},
            "data": {"k": "v"}, **extra}


def _warnings(resp) -> list[str]:  # type: ignore[no-untyped-def]
    return resp.headers.get_list("warning")


def test_strict_refuses_naming_every_unknown_field(apiserver: Apiserver) -> None:
    name = _name()
    body = _cm(name, bar=1)
    body["metadata"]["foo"] = "x"
    with apiserver.http() as http:
        resp = http.post(f"{CMS}?fieldValidation=Strict", json=body)
        assert resp.status_code == 400, resp.text
        status = resp.json()
        assert status["reason"] == "BadRequest"
        assert status["message"] == (
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding '
            'error: unknown field "metadata.foo", unknown field "bar"')
        assert http.get(f"{CMS}/{name}").status_code == 404


def test_strict_refuses_duplicate_fields(apiserver: Apiserver) -> None:
    raw = b'{"kind":"ConfigMap","metadata":{"name":"dup","name":"dup"},"data":{}}'
    with apiserver.http() as http:
        resp = http.post(f"{CMS}?fieldValidation=Strict", content=raw, headers=JSON)
    assert resp.status_code == 400
    assert 'strict decoding error: duplicate field "metadata.name"' in resp.json()["message"]


@pytest.mark.parametrize("query", ["", "?fieldValidation=Warn"])
def test_warn_drops_unknown_fields_with_one_warning_each(apiserver: Apiserver,
                                                         query: str) -> None:
    name = _name()
    with apiserver.http() as http:
        resp = http.post(CMS + query, json=_cm(name, bar=1, spec={"foo": 2}))
        assert resp.status_code == 201, resp.text
        assert _warnings(resp) == ['299 - "unknown field \\"bar\\""',
                                   '299 - "unknown field \\"spec\\""']
        stored = http.get(f"{CMS}/{name}").json()
        assert "bar" not in stored and "spec" not in stored
        assert stored["metadata"]["labels"] == {"any-key": "kept"}
        http.delete(f"{CMS}/{name}")


def test_warn_on_duplicate_fields(apiserver: Apiserver) -> None:
    name = _name()
    raw = orjson.dumps(_cm(name))[:-1] + b',"data":{"k":"w"}}'
    with apiserver.http() as http:
        resp = http.post(CMS, content=raw, headers=JSON)
        assert resp.status_code == 201, resp.text
        assert _warnings(resp) == ['299 - "duplicate field \\"data\\""']
        assert resp.json()["data"] == {"k": "w"}
        http.delete(f"{CMS}/{name}")


def test_ignore_drops_silently(apiserver: Apiserver) -> None:
    name = _name()
    with apiserver.http() as http:
        resp = http.post(f"{CMS}?fieldValidation=Ignore", json=_cm(name, bar=1))
        assert resp.status_code == 201 and not _warnings(resp)
        assert "bar" not in http.get(f"{CMS}/{name}").json()
        http.delete(f"{CMS}/{name}")


def test_other_values_are_refused(apiserver: Apiserver) -> None:
    with apiserver.http() as http:
        resp = http.post(f"{CMS}?fieldValidation=Loose", json=_cm(_name()))
    assert resp.status_code == 400 and "fieldValidation" in resp.json()["message"]


def test_update_and_patches(apiserver: Apiserver) -> None:
    name = _name()
    path = f"{CMS}/{name}"
    with apiserver.http() as http:
        created = http.post(CMS, json=_cm(name)).json()
        created["bar"] = 1
        resp = http.put(f"{path}?fieldValidation=Strict", json=created)
        assert resp.status_code == 400 and 'unknown field "bar"' in resp.json()["message"]
        resp = http.put(path, json=created)
        assert resp.status_code == 200 and _warnings(resp) == [
            '299 - "unknown field \\"bar\\""']
        for content_type in ("application/merge-patch+json",
                             "application/strategic-merge-patch+json"):
            patch = b'{"data":{"k":"p"},"spec":{"foo":1}}'
            resp = http.patch(f"{path}?fieldValidation=Strict", content=patch,
                              headers={"Content-Type": content_type})
            assert resp.status_code == 400, content_type
            assert 'unknown field "spec"' in resp.json()["message"]
            resp = http.patch(path, content=patch, headers={"Content-Type": content_type})
            assert resp.status_code == 200, resp.text
            assert _warnings(resp) == ['299 - "unknown field \\"spec\\""']
        resp = http.patch(f"{path}?fieldValidation=Ignore",
                          content=b'[{"op":"add","path":"/baz","value":1}]',
                          headers={"Content-Type": "application/json-patch+json"})
        assert resp.status_code == 200 and not _warnings(resp)
        stored = http.get(path).json()
        assert not {"bar", "spec", "baz"} & stored.keys() and stored["data"] == {"k": "p"}
        http.delete(path)


def test_nested_unknown_fields_of_a_pod(apiserver: Apiserver) -> None:
    name = _name()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "c", "image": "busybox", "foo": 1}],
                    "overhead": {"cpu": "10m"}, "schedulingGates": [{"name": "g"}]}}
    path = f"/api/v1/namespaces/{NS}/pods"
    with apiserver.http() as http:
        resp = http.post(path, json=pod)
        assert resp.status_code == 201, resp.text
        assert _warnings(resp) == ['299 - "unknown field \\"spec.containers[0].foo\\""']
        spec = resp.json()["spec"]
        assert "foo" not in spec["containers"][0]
        assert spec["overhead"] == {"cpu": "10m"} and spec["schedulingGates"] == [{"name": "g"}]
        resp = http.patch(f"{path}/{name}/status?fieldValidation=Strict",
                          content=b'{"status":{"bogus":1}}',
                          headers={"Content-Type": "application/merge-patch+json"})
        assert resp.status_code == 400
        assert 'unknown field "status.bogus"' in resp.json()["message"]
        http.delete(f"{path}/{name}?gracePeriodSeconds=0")
