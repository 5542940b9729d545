"""The REST client against httpx.MockTransport: what goes on the wire, what comes back."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from apimachinery import errors
from apimachinery.client import AsyncClient, Client, WatchEvent
from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.pki import make_ca
from apimachinery.resources import UnknownResourceError, from_discovery, resolve

SERVER = "https://api.test:6443"
Handler = Callable[[httpx.Request], httpx.Response]


def json_response(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps(body),
                          headers={"Content-Type": "application/json"})


class Recorder:
    """A MockTransport handler that remembers every request and answers from a function."""

    def __init__(self, answer: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer or (lambda req: json_response({"kind": "Pod"}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.answer(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self) -> Any:
        return orjson.loads(self.last.content)


def sync_client(rec: Recorder, **kwargs: Any) -> Client:
    return Client(SERVER, token="tok", transport=httpx.MockTransport(rec), **kwargs)


def async_client(rec: Recorder) -> AsyncClient:
    return AsyncClient(SERVER, token="tok", transport=httpx.MockTransport(rec))


def params(req: httpx.Request) -> dict[str, str]:
    return dict(req.url.params)


# -- paths, headers, bodies --

def test_get_paths_and_headers() -> None:
    rec = Recorder()
    with sync_client(rec) as c:
        assert c.get("pods", "web", "prod") == {"kind": "Pod"}
        assert rec.last.url.path == "/api/v1/namespaces/prod/pods/web"
        assert rec.last.headers["Authorization"] == "Bearer tok"
        assert rec.last.headers["Accept"] == "application/json"
        c.get("deploy", "web")
        assert rec.last.url.path == "/apis/apps/v1/namespaces/default/deployments/web"
        c.get(resolve("nodes"), "n1", "ignored-for-cluster-scoped")
        assert rec.last.url.path == "/api/v1/nodes/n1"
        c.get("deployments.apps", "web", "prod", subresource="scale")
        assert rec.last.url.path == "/apis/apps/v1/namespaces/prod/deployments/web/scale"


def test_client_default_namespace() -> None:
    rec = Recorder()
    with sync_client(rec, namespace="team-a") as c:
        c.get("po", "web")
    assert rec.last.url.path == "/api/v1/namespaces/team-a/pods/web"


def test_list_params_and_items_never_none() -> None:
    rec = Recorder(lambda req: json_response(
        {"kind": "PodList", "metadata": {"resourceVersion": "7"}, "items": None}))
    with sync_client(rec) as c:
        result = c.list("pods", label_selector="app=web", field_selector="spec.nodeName=n1",
                        limit=10, continue_="tok2", resource_version="0")
        assert result["items"] == []
        assert rec.last.url.path == "/api/v1/pods"  # no namespace: all namespaces
        assert params(rec.last) == {"labelSelector": "app=web", "limit": "10",
                                    "fieldSelector": "spec.nodeName=n1", "continue": "tok2",
                                    "resourceVersion": "0"}
        c.list("pods", "prod")
        assert rec.last.url.path == "/api/v1/namespaces/prod/pods"
        assert params(rec.last) == {}


def paged(req: httpx.Request) -> httpx.Response:
    token = req.url.params.get("continue")
    if token is None:
        return json_response({"metadata": {"resourceVersion": "41", "continue": "p2"},
                              "items": [{"metadata": {"name": "a"}}]})
    return json_response({"metadata": {"resourceVersion": "41"},
                          "items": [{"metadata": {"name": "b"}}]})


def test_list_all_follows_continue() -> None:
    rec = Recorder(paged)
    with sync_client(rec) as c:
        items, rv = c.list_all("pods", "prod", label_selector="app=web", page_size=1)
    assert [i["metadata"]["name"] for i in items] == ["a", "b"]
    assert rv == "41"
    assert [params(r) for r in rec.requests] == [
        {"labelSelector": "app=web", "limit": "1"},
        {"labelSelector": "app=web", "limit": "1", "continue": "p2"},
    ]


def test_create_namespace_resolution() -> None:
    rec = Recorder()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "obj"}}
    with sync_client(rec) as c:
        c.create("pods", pod)
        assert (rec.last.method, rec.last.url.path) == ("POST", "/api/v1/namespaces/obj/pods")
        assert rec.last.headers["Content-Type"] == "application/json"
        assert rec.body() == pod
        c.create("pods", pod, "arg")
        assert rec.last.url.path == "/api/v1/namespaces/arg/pods"
        c.create("pods", {"metadata": {"name": "x"}})
        assert rec.last.url.path == "/api/v1/namespaces/default/pods"
        c.create("namespaces", {"metadata": {"name": "prod"}})
        assert rec.last.url.path == "/api/v1/namespaces"


def test_update_and_update_status() -> None:
    rec = Recorder()
    dep = {"metadata": {"name": "web", "namespace": "prod", "resourceVersion": "5"}}
    with sync_client(rec) as c:
        c.update("deployments", dep)
        assert (rec.last.method, rec.last.url.path) == (
            "PUT", "/apis/apps/v1/namespaces/prod/deployments/web")
        assert rec.body() == dep
        c.update_status("deployments", dep)
        assert rec.last.url.path == "/apis/apps/v1/namespaces/prod/deployments/web/status"
        with pytest.raises(ValueError, match=r"no metadata\.name"):
            c.update("pods", {"metadata": {}})


@pytest.mark.parametrize(("patch_type", "content_type"), [
    ("merge", "application/merge-patch+json"),
    ("json", "application/json-patch+json"),
    ("strategic", "application/strategic-merge-patch+json"),
    ("apply", "application/apply-patch+yaml"),
])
def test_patch_content_types(patch_type: str, content_type: str) -> None:
    rec = Recorder()
    body: Any = [{"op": "replace", "path": "/spec/replicas", "value": 3}] \
        if patch_type == "json" else {"spec": {"replicas": 3}}
    with sync_client(rec) as c:
        c.patch("deploy", "web", body, "prod", patch_type=patch_type)
    assert rec.last.method == "PATCH"
    assert rec.last.headers["Content-Type"] == content_type
    assert rec.body() == body
    expected = {"fieldManager": "schooner"} if patch_type == "apply" else {}
    assert params(rec.last) == expected


def test_patch_subresource_field_manager_and_bad_type() -> None:
    rec = Recorder()
    with sync_client(rec) as c:
        c.patch("deploy", "web", {"spec": {"replicas": 2}}, "prod", subresource="scale",
                field_manager="kubectl")
        assert rec.last.url.path == "/apis/apps/v1/namespaces/prod/deployments/web/scale"
        assert params(rec.last) == {"fieldManager": "kubectl"}
        with pytest.raises(ValueError, match="unknown patch type 'xml'"):
            c.patch("deploy", "web", {}, patch_type="xml")


def test_delete_sends_delete_options() -> None:
    rec = Recorder(lambda req: json_response({"kind": "Status", "status": "Success"}))
    with sync_client(rec) as c:
        out = c.delete("deploy", "web", "prod", propagation_policy="Foreground",
                       grace_period_seconds=0, preconditions={"uid": "u1"})
        assert out["status"] == "Success"
        assert (rec.last.method, rec.last.url.path) == (
            "DELETE", "/apis/apps/v1/namespaces/prod/deployments/web")
        assert rec.body() == {"kind": "DeleteOptions", "apiVersion": "v1",
                              "propagationPolicy": "Foreground", "gracePeriodSeconds": 0,
                              "preconditions": {"uid": "u1"}}
        c.delete_collection("pods", "prod", label_selector="app=web")
        assert (rec.last.method, rec.last.url.path) == ("DELETE", "/api/v1/namespaces/prod/pods")
        assert params(rec.last) == {"labelSelector": "app=web"}


def test_bind_posts_a_binding() -> None:
    rec = Recorder(lambda req: json_response({"kind": "Status", "status": "Success"}, 201))
    with sync_client(rec) as c:
        assert c.bind("web", "node1", "prod") is None
    assert (rec.last.method, rec.last.url.path) == (
        "POST", "/api/v1/namespaces/prod/pods/web/binding")
    assert rec.body() == {"apiVersion": "v1", "kind": "Binding",
                          "metadata": {"name": "web", "namespace": "prod"},
                          "target": {"apiVersion": "v1", "kind": "Node", "name": "node1"}}


def test_raw_request() -> None:
    rec = Recorder(lambda req: json_response({"minor": "32"}) if req.url.path != "/nope"
                   else json_response({}, 404))
    with sync_client(rec) as c:
        assert c.request("get", "/version", params={"timeout": "5s"}).json() == {"minor": "32"}
        assert params(rec.last) == {"timeout": "5s"}
        c.request("GET", "/openapi/v3/apis/apps/v1?hash=X", params={"a": 1})
        assert str(rec.last.url) == f"{SERVER}/openapi/v3/apis/apps/v1?hash=X&a=1"
        with pytest.raises(errors.NotFound):
            c.request("POST", "/nope", json={"a": 1})
        assert rec.last.headers["Content-Type"] == "application/json"


# -- errors --

INVALID = {"kind": "Status", "status": "Failure", "reason": "Invalid", "code": 422,
           "message": 'Pod "web" is invalid: spec.containers: Required value',
           "details": {"name": "web", "kind": "Pod", "causes": [
               {"reason": "FieldValueRequired", "message": "Required value",
                "field": "spec.containers"}]}}


@pytest.mark.parametrize(("status", "body", "exc", "message"), [
    (404, {"kind": "Status", "reason": "NotFound", "code": 404,
           "message": 'pods "web" not found'}, errors.NotFound, 'pods "web" not found'),
    (409, {"reason": "AlreadyExists", "code": 409, "message": "exists"},
     errors.AlreadyExists, "exists"),
    (409, {"reason": "Conflict", "code": 409, "message": "stale"}, errors.Conflict, "stale"),
    (410, {"reason": "Expired", "code": 410, "message": "too old"}, errors.Gone, "too old"),
    (422, INVALID, errors.Invalid, 'Pod "web" is invalid: spec.containers: Required value'),
    (403, None, errors.Forbidden, "HTTP 403"),
    (500, b"upstream exploded\nstack...", errors.InternalError, "upstream exploded"),
])
def test_error_mapping(status: int, body: Any, exc: type[errors.APIError],
                       message: str) -> None:
    content = body if isinstance(body, bytes) else b"" if body is None else orjson.dumps(body)
    rec = Recorder(lambda req: httpx.Response(status, content=content))
    with sync_client(rec) as c, pytest.raises(exc) as info:
        c.get("pods", "web")
    assert info.value.message == message
    assert type(info.value) is exc
    if exc is errors.Invalid:
        assert [e.path for e in info.value.errors] == ["spec.containers"]  # type: ignore[attr-defined]


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def test_unreachable() -> None:
    with sync_client(Recorder(refuse)) as c, pytest.raises(errors.Unreachable) as info:
        c.get("pods", "web")
    assert str(info.value) == (
        f"cannot reach the apiserver at {SERVER}: [Errno 111] Connection refused")
    assert isinstance(info.value, errors.ServiceUnavailable)


# -- streams: watch and logs --

WATCH_BODY = b"".join(orjson.dumps(e) + b"\n" for e in [
    {"type": "ADDED", "object": {"metadata": {"name": "a", "resourceVersion": "11"}}},
    {"type": "MODIFIED", "object": {"metadata": {"name": "a", "resourceVersion": "12"}}},
    {"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "15"}}},
    {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}},
]) + b"\n"


def test_watch_parses_lines_and_sends_params() -> None:
    rec = Recorder(lambda req: httpx.Response(200, content=WATCH_BODY))
    with sync_client(rec) as c:
        events = list(c.watch("pods", "prod", resource_version="10", allow_bookmarks=True,
                              label_selector="app=web", timeout_seconds=60))
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "BOOKMARK", "ERROR"]
    assert events[0] == WatchEvent("ADDED", {"metadata": {"name": "a", "resourceVersion": "11"}})
    assert events[3].object["code"] == 410
    assert rec.last.url.path == "/api/v1/namespaces/prod/pods"
    assert params(rec.last) == {"watch": "true", "resourceVersion": "10",
                                "labelSelector": "app=web", "allowWatchBookmarks": "true",
                                "timeoutSeconds": "60"}


def test_watch_refused_with_a_status() -> None:
    gone = {"kind": "Status", "reason": "Expired", "code": 410, "message": "too old"}
    with sync_client(Recorder(lambda req: json_response(gone, 410))) as c, \
            pytest.raises(errors.Gone, match="too old"):
        list(c.watch("pods", resource_version="1"))


class BrokenStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """One good line, then the connection drops."""

    def __iter__(self) -> Iterator[bytes]:
        yield WATCH_BODY.splitlines(keepends=True)[0]
        raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


def test_watch_dropped_mid_stream_is_unreachable() -> None:
    seen: list[str] = []
    with sync_client(Recorder(lambda req: httpx.Response(200, stream=BrokenStream()))) as c, \
            pytest.raises(errors.Unreachable, match="connection reset by peer"):
        for event in c.watch("pods"):
            seen.append(event.type)
    assert seen == ["ADDED"]


def test_logs() -> None:
    rec = Recorder(lambda req: httpx.Response(200, text="line 1\nline 2\n",
                                              headers={"Content-Type": "text/plain"}))
    with sync_client(rec) as c:
        lines = list(c.logs("web", "prod", container="app", follow=True, tail_lines=5))
    assert lines == ["line 1", "line 2"]
    assert rec.last.url.path == "/api/v1/namespaces/prod/pods/web/log"
    assert params(rec.last) == {"container": "app", "follow": "true", "tailLines": "5"}


# -- the async client: same builders, different transport --

def test_async_client_verbs() -> None:
    async def main() -> None:
        rec = Recorder(paged)
        async with async_client(rec) as c:
            items, rv = await c.list_all("pods", page_size=1)
            assert (len(items), rv) == (2, "41")
            rec.answer = lambda req: json_response({"kind": "Pod"})
            await c.get("pods", "web", "prod")
            assert rec.last.url.path == "/api/v1/namespaces/prod/pods/web"
            await c.patch("deploy", "web", {"spec": {}}, "prod", patch_type="strategic")
            assert rec.last.headers["Content-Type"] == "application/strategic-merge-patch+json"
            await c.update_status("pods", {"metadata": {"name": "web", "namespace": "p"}})
            assert (rec.last.method, rec.last.url.path) == (
                "PUT", "/api/v1/namespaces/p/pods/web/status")
            await c.delete("pods", "web", "p", grace_period_seconds=5)
            assert rec.body()["gracePeriodSeconds"] == 5
            await c.bind("web", "n1", "p")
            assert rec.last.url.path == "/api/v1/namespaces/p/pods/web/binding"
            rec.answer = lambda req: json_response({"reason": "NotFound", "code": 404}, 404)
            with pytest.raises(errors.NotFound):
                await c.create("pods", {"metadata": {"name": "web"}})
    asyncio.run(main())


def test_async_watch_logs_and_unreachable() -> None:
    async def main() -> None:
        rec = Recorder(lambda req: httpx.Response(200, content=WATCH_BODY))
        async with async_client(rec) as c:
            events = [e.type async for e in c.watch("pods", resource_version="3")]
            assert events == ["ADDED", "MODIFIED", "BOOKMARK", "ERROR"]
            rec.answer = lambda req: httpx.Response(200, text="a\nb")
            assert [line async for line in c.logs("web", "p")] == ["a", "b"]
            rec.answer = lambda req: httpx.Response(200, stream=BrokenStream())
            with pytest.raises(errors.Unreachable):
                async for _ in c.watch("pods"):
                    pass
            rec.answer = refuse
            with pytest.raises(errors.Unreachable, match="Connection refused"):
                await c.get("pods", "web")
    asyncio.run(main())


def test_from_kubeconfig(tmp_path: Path) -> None:
    ca, _key = make_ca()
    path = tmp_path / "kubeconfig"
    write_kubeconfig(str(path), "https://127.0.0.1:6443/", ca, "tok", namespace="team-a")
    with Client.from_kubeconfig(str(path)) as c:
        assert (c.server, c.namespace) == ("https://127.0.0.1:6443", "team-a")
        assert isinstance(c._verify, ssl.SSLContext)

    async def main() -> None:
        async with AsyncClient.from_kubeconfig(str(path)) as ac:
            assert ac.server == "https://127.0.0.1:6443"
    asyncio.run(main())


# -- names the built-in table lacks: the server's discovery --


def _discovery(req: httpx.Request) -> httpx.Response:
    docs: dict[str, Any] = {
        "/api/v1": {"groupVersion": "v1", "resources": [
            {"name": "pods", "kind": "Pod", "namespaced": True, "shortNames": ["po"]},
            {"name": "pods/log", "kind": "Pod", "namespaced": True}]},
        "/apis": {"groups": [{"name": "scheduling.k8s.io", "versions": [
            {"groupVersion": "scheduling.k8s.io/v1", "version": "v1"}]}]},
        "/apis/scheduling.k8s.io/v1": {"groupVersion": "scheduling.k8s.io/v1", "resources": [
            {"name": "priorityclasses", "kind": "PriorityClass", "namespaced": False,
             "shortNames": ["pc"], "verbs": ["get", "list"]}]},
    }
    if req.url.path in docs:
        return json_response(docs[req.url.path])
    return json_response({"kind": "PriorityClass"})


def test_a_kind_the_table_lacks_is_found_in_discovery_once() -> None:
    rec = Recorder(_discovery)
    with sync_client(rec) as c:
        pc = c.resolve("pc")
        assert (pc.group, pc.version, pc.kind, pc.plural, pc.namespaced) == (
            "scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False)
        c.get("priorityclasses.scheduling.k8s.io", "high")
        assert rec.last.url.path == "/apis/scheduling.k8s.io/v1/priorityclasses/high"
        assert c.resolve("deploy").kind == "Deployment"  # the table, no request
        with pytest.raises(UnknownResourceError):
            c.resolve("gadgets")
    discovery = [r.url.path for r in rec.requests if r.url.path.startswith("/api")]
    assert discovery.count("/apis") == 1, "discovery is read once per client"


def test_discovery_lists_fold_subresources_into_their_parent() -> None:
    infos = from_discovery(_discovery(httpx.Request("GET", "http://x/api/v1")).json())
    assert [(r.plural, r.subresources, r.short_names) for r in infos] == [
        ("pods", ("log",), ("po",))]
