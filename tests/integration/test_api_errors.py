"""Bad input gets the right v1 Status and code, never a 500; no token gets 401."""

from __future__ import annotations

import pytest

from cli.cluster.processes import Apiserver

NS = "default"
PODS = f"/api/v1/namespaces/{NS}/pods"
JSON = {"Content-Type": "application/json"}


def _pod(name: object = "ok", **spec: object) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


CASES = [
    # (what, method, path, body bytes, headers, expected code, text expected in message)
    ("malformed JSON", "POST", PODS, b'{"kind": "Pod", ', JSON, 400, "invalid JSON"),
    ("malformed YAML", "POST", PODS, b"kind: Pod\n  bad: [", {"Content-Type":
                                                              "application/yaml"},
     400, "invalid YAML"),
    ("body not an object", "POST", PODS, b"[1, 2]", JSON, 400, "must be a JSON or YAML"),
    ("unsupported media type", "POST", PODS, b"x", {"Content-Type": "application/cbor"},
     415, "unknown format"),
    ("malformed protobuf", "POST", PODS, b"x", {"Content-Type":
                                                "application/vnd.kubernetes.protobuf"},
     400, "invalid protobuf"),
    ("invalid name", "POST", PODS, _pod("Bad_Name"), JSON, 422, "metadata.name"),
    ("missing name", "POST", PODS, {"kind": "Pod", "metadata": {},
                                    "spec": {"containers": [{"name": "c", "image": "b"}]}},
     JSON, 422, "metadata.name"),
    ("wrong type", "POST", PODS, _pod(terminationGracePeriodSeconds="soon"), JSON, 422,
     "spec.terminationGracePeriodSeconds"),
    ("no containers", "POST", PODS, {"kind": "Pod", "metadata": {"name": "e"},
                                     "spec": {"containers": []}}, JSON, 422,
     "spec.containers"),
    ("negative replicas", "POST", f"/apis/apps/v1/namespaces/{NS}/deployments",
     {"kind": "Deployment", "metadata": {"name": "d"},
      "spec": {"replicas": -1, "selector": {"matchLabels": {"a": "b"}},
               "template": {"metadata": {"labels": {"a": "b"}},
                            "spec": {"containers": [{"name": "c", "image": "i"}]}}}},
     JSON, 422, "spec.replicas"),
    ("kind mismatch", "POST", PODS, {"kind": "Service", "metadata": {"name": "s"}}, JSON,
     400, "does not match"),
    ("unknown resource", "GET", f"/api/v1/namespaces/{NS}/widgets", b"", {}, 404,
     "could not find"),
    ("unknown group", "GET", "/apis/example.com/v1/widgets", b"", {}, 404, "could not find"),
    ("bad label selector", "GET", f"{PODS}?labelSelector=a%20in%20(b", b"", {}, 400, ""),
    ("bad field selector", "GET", f"{PODS}?fieldSelector=spec.foo%3Dx", b"", {}, 400,
     "field label not supported"),
    ("bad limit", "GET", f"{PODS}?limit=many", b"", {}, 400, "limit"),
    ("bad continue", "GET", f"{PODS}?limit=1&continue=garbage", b"", {}, 400, "continue"),
    ("oversized body", "POST", f"/api/v1/namespaces/{NS}/configmaps",
     {"kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"x": "y" * 2_000_000}},
     JSON, 413, "larger than"),
    ("bad patch type", "PATCH", f"{PODS}/nope", b"{}", {"Content-Type": "text/html"}, 404,
     ""),
    ("name mismatch on PUT", "PUT", f"/api/v1/namespaces/{NS}/configmaps/a",
     {"kind": "ConfigMap", "metadata": {"name": "b"}}, JSON, 400, "does not match"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_status(apiserver: Apiserver, case: tuple) -> None:
    _, method, path, body, headers, code, text = case
    import orjson
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    with apiserver.http() as http:
        resp = http.request(method, path, content=content, headers=headers)
    assert resp.status_code == code, resp.text
    status = resp.json()
    assert status["kind"] == "Status" and status["code"] == code
    assert status["status"] == "Failure" and status["reason"]
    assert text in status["message"]


def test_invalid_reports_every_field_with_its_path(apiserver: Apiserver) -> None:
    bad = {"kind": "Pod", "metadata": {"name": "x"},
           "spec": {"containers": [{"name": "c"}, {"name": "c", "image": "i",
                                                   "ports": [{"containerPort": 70000}]}]}}
    with apiserver.http() as http:
        status = http.post(PODS, json=bad).json()
    assert status["reason"] == "Invalid"
    fields = {c["field"] for c in status["details"]["causes"]}
    assert "spec.containers[0].image" in fields
    assert "spec.containers[1].ports[0].containerPort" in fields


def test_patch_with_unknown_content_type_is_415(apiserver: Apiserver) -> None:
    with apiserver.http() as http:
        http.post(f"/api/v1/namespaces/{NS}/configmaps",
                  json={"metadata": {"name": "patchme"}})
        resp = http.patch(f"/api/v1/namespaces/{NS}/configmaps/patchme", content=b"{}",
                          headers={"Content-Type": "text/html"})
        http.delete(f"/api/v1/namespaces/{NS}/configmaps/patchme")
    assert resp.status_code == 415 and resp.json()["reason"] == "UnsupportedMediaType"


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_requests_without_a_valid_token_are_401(apiserver: Apiserver, token: str | None
                                                ) -> None:
    with apiserver.http(token=token) as http:
        resp = http.get(PODS)
        assert resp.status_code == 401 and resp.json()["reason"] == "Unauthorized"
        assert http.get("/api").status_code == 401
        for public in ("/healthz", "/readyz", "/livez", "/version"):
            assert http.get(public).status_code == 200, public


def test_plain_http_is_refused(apiserver: Apiserver) -> None:
    import httpx
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{apiserver.port}/version", timeout=3).raise_for_status()


def test_metrics_count_requests(apiserver: Apiserver) -> None:
    with apiserver.http() as http:
        http.get(PODS)
        text = http.get("/metrics").text
    assert 'apiserver_request_total{code="200",resource="pods",subresource="",verb="list"}' \
        in text
    assert "etcd_request_duration_seconds_bucket" in text
    assert "apiserver_registered_watchers" in text
