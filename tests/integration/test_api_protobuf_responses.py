"""The real apiserver answers in Kubernetes protobuf a client that accepts nothing else.

Each request is made twice, with `Accept: application/vnd.kubernetes.protobuf` and with
JSON; the protobuf answer decodes to the JSON answer (plus the zero values Go writes),
and is byte for byte the encoding of the JSON answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from apimachinery.client import Client
from apimachinery.models import Pod
from apiserver import protobuf
from apiserver.protobuf.codec import unwrap
from apiserver.protobuf.wireformat import iter_fields
from cli.cluster.processes import Apiserver
from tests.unit.apiserver.protobuf.roundtrip import covers, gained_pointers

pytestmark = pytest.mark.integration
PB = protobuf.MEDIA_TYPE
JSON = "application/json"


@pytest.fixture
def http(apiserver: Apiserver) -> Iterator[httpx.Client]:
    with apiserver.http() as client:
        yield client


def _both(http: httpx.Client, method: str, path: str, **kwargs: Any
          ) -> tuple[httpx.Response, httpx.Response]:
    as_pb = http.request(method, path, headers={"Accept": PB}, **kwargs)
    as_json = http.request(method, path, headers={"Accept": JSON}, **kwargs)
    return as_pb, as_json


def _same_answer(as_pb: httpx.Response, json_obj: dict[str, Any]) -> dict[str, Any]:
    """The protobuf answer is the JSON answer's encoding and decodes back to it (a list's
    items without apiVersion and kind, which protobuf, as Kubernetes' JSON, leaves out)."""
    assert as_pb.headers["content-type"] == PB, as_pb.text
    assert as_pb.content.startswith(b"k8s\x00")
    assert as_pb.content == protobuf.encode(json_obj)
    decoded = protobuf.decode(as_pb.content)
    expected = {**json_obj, "items": [_untyped(i) for i in json_obj["items"]]} \
        if "items" in json_obj else json_obj
    assert covers(decoded, expected, zeros_may_go=True) == []
    return decoded


def _untyped(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("apiVersion", "kind")}


def _deployment(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{
                                      "name": "c", "image": "busybox",
                                      "resources": {"requests": {"cpu": "100m"}},
                                      "ports": [{"containerPort": 80}]}]}}}}


def test_get(http: httpx.Client, client: Client, namespace: str) -> None:
    client.create("configmaps", {"metadata": {"name": "cfg", "labels": {"a": "b"}},
                                 "data": {"k": "v"}, "binaryData": {"b": "AAE="}},
                  namespace=namespace)
    client.create("deployments", _deployment("web"), namespace=namespace)
    for path in (f"/api/v1/namespaces/{namespace}/configmaps/cfg",
                 f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
                 f"/api/v1/namespaces/{namespace}"):
        as_pb, as_json = _both(http, "GET", path)
        assert as_pb.status_code == as_json.status_code == 200
        decoded = _same_answer(as_pb, as_json.json())
        assert decoded["metadata"]["resourceVersion"] == as_json.json()["metadata"][
            "resourceVersion"]
    web = protobuf.decode(http.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
                                   headers={"Accept": PB}).content)
    assert web["spec"]["replicas"] == 0  # a pointer zero survives
    assert web["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "100m"}}


def test_list_with_continue(http: httpx.Client, client: Client, namespace: str) -> None:
    for i in range(3):
        client.create("configmaps", {"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}},
                      namespace=namespace)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    first = http.get(path, params={"limit": "2"}, headers={"Accept": PB})
    assert first.status_code == 200
    page = protobuf.decode(first.content)
    assert page["kind"] == "ConfigMapList" and len(page["items"]) == 2
    rv, token = page["metadata"]["resourceVersion"], page["metadata"]["continue"]
    assert rv and token
    as_json = http.get(path, params={"limit": "2"}, headers={"Accept": JSON}).json()
    assert as_json["metadata"]["continue"] == token
    _same_answer(first, as_json)
    rest_pb, rest_json = _both(http, "GET", path, params={"limit": "2", "continue": token})
    rest = _same_answer(rest_pb, rest_json.json())
    assert [i["metadata"]["name"] for i in rest["items"]] == ["cm-2"]
    assert "continue" not in rest["metadata"]
    # ListMeta on the wire: selfLink=1 "", resourceVersion=2, continue=3 and
    # remainingItemCount=4 (a pointer, written because one object follows)
    meta = dict((n, v) for n, _, v in iter_fields(dict(
        (n, v) for n, _, v in iter_fields(unwrap(first.content)[2]))[1]))
    assert page["metadata"]["remainingItemCount"] == 1
    assert meta == {1: b"", 2: rv.encode(), 3: token.encode(), 4: 1}


def test_create(http: httpx.Client, client: Client, namespace: str) -> None:
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    created = http.post(path, json=_deployment("made"), headers={"Accept": PB})
    assert created.status_code == 201, created.text
    stored = http.get(f"{path}/made", headers={"Accept": JSON}).json()
    decoded = _same_answer(created, stored)
    assert decoded["metadata"]["uid"] == stored["metadata"]["uid"]
    assert decoded["metadata"]["creationTimestamp"] == stored["metadata"]["creationTimestamp"]


def test_protobuf_request_and_protobuf_answer(http: httpx.Client, namespace: str) -> None:
    """A Go client configured for protobuf alone: body and answer both protobuf."""
    body = protobuf.encode({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "pbonly"}, "data": {"a": "1"}})
    resp = http.post(f"/api/v1/namespaces/{namespace}/configmaps", content=body,
                     headers={"Content-Type": PB, "Accept": PB})
    assert resp.status_code == 201, resp.text
    stored = http.get(f"/api/v1/namespaces/{namespace}/configmaps/pbonly").json()
    _same_answer(resp, stored)


def test_error_status(http: httpx.Client, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/missing"
    as_pb, as_json = _both(http, "GET", path)
    assert as_pb.status_code == as_json.status_code == 404
    status = _same_answer(as_pb, as_json.json())
    assert status["reason"] == "NotFound" and status["code"] == 404
    invalid_pb, invalid_json = _both(
        http, "POST", f"/api/v1/namespaces/{namespace}/configmaps",
        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}})
    assert invalid_pb.status_code == invalid_json.status_code == 422
    invalid = _same_answer(invalid_pb, invalid_json.json())
    assert invalid["details"]["causes"][0]["field"] == "metadata.name"


SECURE_POD: dict[str, Any] = {"metadata": {"name": "sc"}, "spec": {
    "securityContext": {"runAsUser": 0, "supplementalGroups": [2000],
                        "seccompProfile": {"type": "RuntimeDefault"}},
    "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": {"matchExpressions": [
            {"key": "zone", "operator": "In", "values": ["a"]}]}}]}},
    "tolerations": [{"key": "k", "operator": "Exists"}],
    "containers": [{"name": "c", "image": "busybox", "securityContext": {
        "privileged": False, "capabilities": {"drop": ["ALL"]}}}]}}


def test_typed_security_and_scheduling_fields_in_protobuf(
        http: httpx.Client, client: Client, namespace: str) -> None:
    """Fields once untyped (a 406) are answered in protobuf: the encoding of the JSON
    answer, Go's pointers set to zero kept, pointers never set not gained."""
    client.create("pods", SECURE_POD, namespace=namespace)
    as_pb, as_json = _both(http, "GET", f"/api/v1/namespaces/{namespace}/pods/sc")
    assert as_pb.status_code == as_json.status_code == 200
    decoded = _same_answer(as_pb, as_json.json())
    assert gained_pointers(decoded, as_json.json(), Pod) == []
    assert decoded["spec"]["securityContext"]["runAsUser"] == 0
    assert "runAsNonRoot" not in decoded["spec"]["securityContext"]
    assert decoded["spec"]["containers"][0]["securityContext"]["privileged"] is False
    assert "tolerationSeconds" not in decoded["spec"]["tolerations"][0]
    listed_pb, listed_json = _both(http, "GET", f"/api/v1/namespaces/{namespace}/pods")
    assert listed_pb.status_code == 200
    _same_answer(listed_pb, listed_json.json())


def test_scale_subresource_in_protobuf(http: httpx.Client, client: Client,
                                      namespace: str) -> None:
    """`deployments/scale` answers autoscaling/v1 Scale in protobuf, and a protobuf Scale
    body (client-go's typed UpdateScale) with `replicas: 0` scales the Deployment to 0."""
    client.create("deployments", _deployment("web") | {"spec": {
        **_deployment("web")["spec"], "replicas": 2}}, namespace=namespace)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web/scale"
    as_pb, as_json = _both(http, "GET", path)
    assert as_pb.status_code == as_json.status_code == 200
    scale = _same_answer(as_pb, as_json.json())
    assert scale["kind"] == "Scale" and scale["spec"] == {"replicas": 2}
    scale["spec"]["replicas"] = 0
    put = http.put(path, content=protobuf.encode(scale),
                   headers={"Content-Type": PB, "Accept": PB})
    assert put.status_code == 200, put.text
    assert protobuf.decode(put.content)["spec"] == {"replicas": 0}
    assert client.get("deployments", "web", namespace=namespace)["spec"]["replicas"] == 0


def test_tables_are_json_only(http: httpx.Client, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    table = f"{PB};as=Table;v=v1;g=meta.k8s.io"
    assert http.get(path, headers={"Accept": table}).status_code == 406
    printed = http.get(path, headers={"Accept": f"application/json;as=Table;v=v1;g=meta.k8s.io,"
                                                f"{JSON}"})
    assert printed.status_code == 200 and printed.json()["kind"] == "Table"


def test_typed_client_accept_still_gets_json(http: httpx.Client, namespace: str) -> None:
    resp = http.get(f"/api/v1/namespaces/{namespace}", headers={"Accept": f"{PB},{JSON}"})
    assert resp.status_code == 200 and resp.headers["content-type"] == JSON


# -- watch ----------------------------------------------------------------------------

def _frames(stream: httpx.Response, count: int | None = None) -> list[bytes]:
    """`count` length-prefixed frames (all, to the stream's end, without a count), read
    as they arrive: chunks need not align with frames."""
    buffer, frames = b"", []
    for chunk in stream.iter_bytes():
        buffer += chunk
        while len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[:4], "big"):
            size = int.from_bytes(buffer[:4], "big")
            frames.append(buffer[4:4 + size])
            buffer = buffer[4 + size:]
        if count is not None and len(frames) >= count:
            break
    assert count is None or len(frames) >= count, f"{len(frames)} frames before the end"
    assert count is not None or buffer == b"", f"a partial frame at the end: {buffer!r}"
    return frames


def _event(frame: bytes) -> tuple[str, bytes]:
    fields = {n: v for n, _, v in iter_fields(frame)}
    raw = {n: v for n, _, v in iter_fields(fields[2])}[1]  # type: ignore[arg-type]
    assert isinstance(fields[1], bytes) and isinstance(raw, bytes)
    return fields[1].decode(), raw


def _json_events(http: httpx.Client, path: str, rv: str, count: int) -> list[dict[str, Any]]:
    import json

    events: list[dict[str, Any]] = []
    with http.stream("GET", path, params={"watch": "true", "resourceVersion": rv,
                                          "timeoutSeconds": "5"},
                     headers={"Accept": JSON}) as stream:
        for line in stream.iter_lines():
            if line.strip():
                events.append(json.loads(line))
            if len(events) >= count:
                break
    return events


def test_watch_stream(http: httpx.Client, client: Client, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = client.list("configmaps", namespace=namespace)["metadata"]["resourceVersion"]
    with http.stream("GET", path, params={"watch": "true", "resourceVersion": rv,
                                          "timeoutSeconds": "10"},
                     headers={"Accept": f"{PB};stream=watch"}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"] == f"{PB};stream=watch"
        client.create("configmaps", {"metadata": {"name": "w"}, "data": {"n": "1"}},
                      namespace=namespace)
        client.patch("configmaps", "w", {"data": {"n": "2"}}, namespace=namespace)
        client.create("configmaps", {"metadata": {"name": "x"}}, namespace=namespace)
        client.delete("configmaps", "w", namespace=namespace)
        frames = _frames(stream, 4)
    as_json = _json_events(http, path, rv, 4)
    assert [_event(f)[0] for f in frames] == [e["type"] for e in as_json] == [
        "ADDED", "MODIFIED", "ADDED", "DELETED"]
    for frame, expected in zip(frames, as_json, strict=True):
        _, raw = _event(frame)
        assert raw == protobuf.encode(expected["object"])
        assert covers(protobuf.decode(raw), expected["object"]) == []
    assert protobuf.decode(_event(frames[1])[1])["data"] == {"n": "2"}


def test_watch_without_resource_version_starts_with_the_objects(
        http: httpx.Client, client: Client, namespace: str) -> None:
    for name in ("a", "b"):
        client.create("configmaps", {"metadata": {"name": name}}, namespace=namespace)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    with http.stream("GET", path, params={"watch": "true", "timeoutSeconds": "5"},
                     headers={"Accept": f"{PB};stream=watch"}) as stream:
        frames = _frames(stream, 2)
    events = [_event(f) for f in frames]
    assert [t for t, _ in events] == ["ADDED", "ADDED"]
    assert sorted(protobuf.decode(raw)["metadata"]["name"] for _, raw in events) == ["a", "b"]


def test_watch_list_ends_its_initial_objects_with_an_annotated_bookmark(
        http: httpx.Client, client: Client, namespace: str) -> None:
    """sendInitialEvents in protobuf: the objects, then the BOOKMARK that says they are
    all there (`k8s.io/initial-events-end`), framed like every other event."""
    client.create("configmaps", {"metadata": {"name": "a"}}, namespace=namespace)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    with http.stream("GET", path, params={
            "watch": "true", "timeoutSeconds": "5", "sendInitialEvents": "true",
            "resourceVersionMatch": "NotOlderThan", "allowWatchBookmarks": "true"},
            headers={"Accept": f"{PB};stream=watch"}) as stream:
        assert stream.status_code == 200
        frames = _frames(stream, 2)
    (added, obj), (bookmark, marker) = (_event(f) for f in frames[:2])
    assert (added, protobuf.decode(obj)["metadata"]["name"]) == ("ADDED", "a")
    meta = protobuf.decode(marker)["metadata"]
    assert bookmark == "BOOKMARK" and meta["resourceVersion"]
    assert meta["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_watch_carries_the_typed_fields(http: httpx.Client, client: Client,
                                       namespace: str) -> None:
    """Each event's object is the encoding of the JSON watch's object. (An object the
    encoder cannot write ends the stream with an ERROR event; no stored object is such
    any more, so that path is tested on the encoder alone, in
    tests/unit/apiserver/protobuf/test_protobuf_encoder.py.)"""
    path = f"/api/v1/namespaces/{namespace}/pods"
    rv = client.list("pods", namespace=namespace)["metadata"]["resourceVersion"]
    with http.stream("GET", path, params={"watch": "true", "resourceVersion": rv,
                                          "timeoutSeconds": "10"},
                     headers={"Accept": f"{PB};stream=watch"}) as stream:
        assert stream.status_code == 200
        client.create("pods", SECURE_POD, namespace=namespace)
        client.patch("pods", "sc", {"metadata": {"labels": {"x": "y"}}}, namespace=namespace)
        frames = _frames(stream, 2)
    as_json = _json_events(http, path, rv, 2)
    assert [_event(f)[0] for f in frames] == [e["type"] for e in as_json] == [
        "ADDED", "MODIFIED"]
    for frame, expected in zip(frames, as_json, strict=True):
        _, raw = _event(frame)
        assert raw == protobuf.encode(expected["object"])
        decoded = protobuf.decode(raw)
        assert gained_pointers(decoded, expected["object"], Pod) == []
        assert decoded["spec"]["securityContext"]["runAsUser"] == 0
