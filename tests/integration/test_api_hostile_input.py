"""Hostile requests get a v1 Status with a 4xx, promptly: each case names the input, and
those marked "was a 500" (or "took 22 s") are what the API fuzzer and its probes found."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.cluster.processes import Apiserver

NS = "default"
CONFIGMAPS = f"/api/v1/namespaces/{NS}/configmaps"
PODS = f"/api/v1/namespaces/{NS}/pods"
JSON = {"Content-Type": "application/json"}
YAML = {"Content-Type": "application/yaml"}
MERGE = {"Content-Type": "application/merge-patch+json"}
DEEP_JSON = b'{"a":' * 500 + b"1" + b"}" * 500
BOMB = b"metadata: {name: bomb}\nz:\n  a: &a [x,x,x,x,x,x,x,x,x]\n" + b"".join(
    b"  %c: &%c [%s]\n" % (c, c, b",".join([b"*" + bytes([c - 1])] * 9)) for c in b"bcdefgh")

AHEAD = 2**62  # a resourceVersion etcd will not reach during the 3 s wait

CASES = [
    # (what, method, path, body, headers, expected code, text expected in the message)
    ("limit past int64 (was a 500)", "GET", f"{CONFIGMAPS}?limit=99999999999999999999999",
     b"", {}, 400, "limit: invalid value"),
    ("limit=-1", "GET", f"{CONFIGMAPS}?limit=-1", b"", {}, 400, "must be >= 0"),
    ("limit=1_000", "GET", f"{CONFIGMAPS}?limit=1_000", b"", {}, 400, "must be an integer"),
    ("resourceVersion=abc", "GET", f"{CONFIGMAPS}?resourceVersion=abc", b"", {}, 400,
     "resourceVersion: invalid value"),
    ("resourceVersion past int64 (was a 500)", "GET",
     f"{CONFIGMAPS}?resourceVersion=99999999999999999999&resourceVersionMatch=Exact", b"", {},
     400, "out of the range of a 64-bit integer"),
    ("timeoutSeconds=1e99 on a list", "GET", f"{CONFIGMAPS}?timeoutSeconds=1e99", b"", {}, 400,
     "timeoutSeconds: invalid value"),
    ("timeoutSeconds=1e99 on a watch", "GET", f"{CONFIGMAPS}?watch=1&timeoutSeconds=1e99", b"",
     {}, 400, "timeoutSeconds: invalid value"),
    ("gracePeriodSeconds=1e99", "DELETE", f"{CONFIGMAPS}/x?gracePeriodSeconds=1e99", b"", {},
     400, "gracePeriodSeconds: invalid value"),
    ("gracePeriodSeconds a string in the body", "DELETE", f"{CONFIGMAPS}/x",
     b'{"gracePeriodSeconds": "5"}', JSON, 400, "must be a 64-bit integer"),
    ("dryRun=bogus", "POST", f"{CONFIGMAPS}?dryRun=bogus", b'{"metadata":{"name":"d"}}', JSON,
     400, "dryRun"),
    ("propagationPolicy=bogus", "DELETE", f"{CONFIGMAPS}/x?propagationPolicy=bogus", b"", {},
     400, "propagationPolicy"),
    ("huge body, declared", "POST", CONFIGMAPS, b"x" * 20_000_000, JSON, 413, "larger than"),
    ("JSON nested 500 deep (was a 500 in a patch)", "PATCH", f"{CONFIGMAPS}/x",
     b'{"z":' + DEEP_JSON + b"}", MERGE, 400, "nested more than 100 levels"),
    ("JSON nested 500 deep in a create", "POST", CONFIGMAPS,
     b'{"metadata":{"name":"deep"},"z":' + DEEP_JSON + b"}", JSON, 400, "nested more than"),
    ("JSON nested 100,000 deep", "POST", CONFIGMAPS, b"[" * 100_000 + b"]" * 100_000, JSON, 400,
     "invalid JSON"),
    ("YAML nested 5,000 deep (was a 500)", "POST", CONFIGMAPS, b"[" * 5000 + b"]" * 5000, YAML,
     400, "nesting depth"),
    ("YAML billion laughs (took 22 s)", "POST", CONFIGMAPS, BOMB, YAML, 400,
     "aliases expand to more nodes"),
    ("YAML billion laughs as apply", "PATCH", f"{CONFIGMAPS}/x?fieldManager=m", BOMB,
     {"Content-Type": "application/apply-patch+yaml"}, 400, "aliases expand"),
    ("YAML binary value", "POST", CONFIGMAPS, b"metadata: {name: b}\ndata: {a: !!binary aGk=}\n",
     YAML, 400, "no JSON equivalent"),
    ("invalid UTF-8 in JSON", "POST", CONFIGMAPS, b'{"metadata":{"name":"\xff\xfe"}}', JSON,
     400, "invalid JSON"),
    ("lone surrogate in JSON", "POST", CONFIGMAPS, b'{"metadata":{"name":"\\ud800"}}', JSON, 400,
     "invalid JSON"),
    ("lone surrogate in YAML (was a 500)", "POST", CONFIGMAPS,
     b'metadata: {name: "\\ud800"}\n', YAML, 400, "invalid YAML"),
    ("XML", "POST", CONFIGMAPS, b"<ConfigMap/>", {"Content-Type": "application/xml"}, 415,
     "unknown format"),
    ("multipart", "POST", CONFIGMAPS, b"--x--", {"Content-Type": "multipart/form-data"}, 415,
     "unknown format"),
    ("a patch as text/plain", "PATCH", f"{CONFIGMAPS}/x", b"{}", {"Content-Type": "text/plain"},
     415, "unknown format"),
    ("a patch with no content type", "PATCH", f"{CONFIGMAPS}/x", b"{}", {}, 415,
     "no Content-Type"),
    ("JSON patch that is no list", "PATCH", f"{CONFIGMAPS}/x", b'{"op":"add"}',
     {"Content-Type": "application/json-patch+json"}, 400, ""),
    ("DELETE with preconditions a string (was a 500)", "DELETE", f"{CONFIGMAPS}/x",
     b'{"preconditions": "abc"}', JSON, 400, "preconditions: invalid value"),
    ("finalize with spec a list (was a 500)", "PUT", f"/api/v1/namespaces/{NS}/finalize",
     b'{"spec": [1]}', JSON, 400, "spec: expected an object"),
    ("a JSON patch that is `false` (was a 500)", "PATCH", f"{CONFIGMAPS}/x", b"false",
     {"Content-Type": "application/json-patch+json"}, 400, "must be a JSON array"),
    ("a merge patch that is 1.5 (was a 500)", "PATCH", f"{CONFIGMAPS}/x", b"1.5", MERGE, 400,
     "must be an object"),
    ("NaN", "POST", CONFIGMAPS, b'{"metadata":{"name":"n"},"data":{"a":NaN}}', JSON, 400,
     "invalid JSON"),
    ("a bearer token past ASCII (was a 500)", "GET", CONFIGMAPS, b"",
     {"Authorization": "Bearer s3cr\xe9t\xff".encode("latin-1")}, 401, "Unauthorized"),
    ("a bearer token in UTF-8", "GET", CONFIGMAPS, b"",
     {"Authorization": "Bearer \U0001f600".encode()}, 401, "Unauthorized"),
    ("a label selector of 11,000 characters", "GET",
     f"{CONFIGMAPS}?labelSelector=a%3D{'x' * 11_000}", b"", {}, 400,
     "labelSelector: Too long"),
    ("a field selector of 11,000 characters on a watch", "GET",
     f"{CONFIGMAPS}?watch=1&fieldSelector=metadata.name%3D{'x' * 11_000}", b"", {}, 400,
     "fieldSelector: Too long"),
    ("a label selector of 500 requirements", "GET",
     f"{CONFIGMAPS}?labelSelector={','.join(f'k{i}' for i in range(500))}", b"", {}, 400,
     "labelSelector: Too many: 500"),
    ("Endpoints at a loopback address", "POST", f"/api/v1/namespaces/{NS}/endpoints",
     b'{"metadata":{"name":"lo"},"subsets":[{"addresses":[{"ip":"127.0.0.1"}],'
     b'"ports":[{"port":80}]}]}', JSON, 422,
     "subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback"),
    ("Endpoints at the unspecified address", "POST", f"/api/v1/namespaces/{NS}/endpoints",
     b'{"metadata":{"name":"any"},"subsets":[{"addresses":[{"ip":"::"}],'
     b'"ports":[{"port":80}]}]}', JSON, 422, "may not be unspecified (::)"),
    ("an EndpointSlice at the metadata service", "POST",
     f"/apis/discovery.k8s.io/v1/namespaces/{NS}/endpointslices",
     b'{"metadata":{"name":"meta"},"addressType":"IPv4",'
     b'"endpoints":[{"addresses":["169.254.169.254"]}]}', JSON, 422,
     "endpoints[0].addresses[0]: Invalid value: \"169.254.169.254\": may not be in the "
     "link-local range"),
    ("a Node whose agent address is no IP (the apiserver dials it)", "POST", "/api/v1/nodes",
     b'{"metadata":{"name":"hostile-ip"},"status":{"addresses":[{"type":"InternalIP",'
     b'"address":"etcd.local:2379"}]}}', JSON, 422,
     'status.addresses[0].address: Invalid value: "etcd.local:2379": must be a valid IP'),
    ("a Node address of an unknown type", "POST", "/api/v1/nodes",
     b'{"metadata":{"name":"hostile-type"},"status":{"addresses":[{"type":"Agent",'
     b'"address":"10.0.0.1"}]}}', JSON, 422,
     'status.addresses[0].type: Unsupported value: "Agent"'),
    ("a Node's agent port past 65535", "POST", "/api/v1/nodes",
     b'{"metadata":{"name":"hostile-port"},"status":{"daemonEndpoints":{"kubeletEndpoint":'
     b'{"Port":70000}}}}', JSON, 422,
     "status.daemonEndpoints.kubeletEndpoint.Port: Invalid value: 70000: must be between"),
    ("a get at a resourceVersion etcd has not reached", "GET",
     f"{CONFIGMAPS}/x?resourceVersion={AHEAD}", b"", {}, 504,
     f"Too large resource version: {AHEAD}, current: "),
    ("a list at a resourceVersion etcd has not reached", "GET",
     f"{CONFIGMAPS}?resourceVersion={AHEAD}&resourceVersionMatch=NotOlderThan", b"", {}, 504,
     f"Too large resource version: {AHEAD}"),
    ("an Exact list at a resourceVersion etcd has not reached", "GET",
     f"{CONFIGMAPS}?resourceVersion={AHEAD}&resourceVersionMatch=Exact", b"", {}, 504,
     f"Too large resource version: {AHEAD}"),
]


@pytest.fixture(scope="module")
def configmap_x(apiserver: Apiserver) -> Iterator[None]:
    """The ConfigMap the PATCH and DELETE cases aim at (so they pass the lookup)."""
    with apiserver.http() as http:
        http.post(CONFIGMAPS, json={"metadata": {"name": "x"}})
        yield
        http.delete(f"{CONFIGMAPS}/x")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_gets_a_status(apiserver: Apiserver, configmap_x: None,
                                     case: tuple) -> None:
    _, method, path, body, headers, code, text = case
    started = time.monotonic()
    with apiserver.http() as http:
        resp = http.request(method, path, content=body, headers=headers)
    assert resp.status_code == code, resp.text
    status = resp.json()
    assert (status["kind"], status["apiVersion"], status["code"]) == ("Status", "v1", code)
    assert text in status["message"], status["message"]
    assert time.monotonic() - started < 5, "answered, but not promptly"


def test_a_watch_ahead_of_etcd_ends_with_an_error_event(apiserver: Apiserver) -> None:
    """Kubernetes' errWatcher: after the 3 s wait, a 200 stream of one ERROR event holding
    the 504 Status, which a reflector reads and retries after its retryAfterSeconds."""
    started = time.monotonic()
    with apiserver.http() as http:
        resp = http.get(f"{CONFIGMAPS}?watch=1&resourceVersion={AHEAD}")
    assert 3 <= time.monotonic() - started < 5
    assert resp.status_code == 200
    lines = resp.text.splitlines()
    assert len(lines) == 1, lines
    event = json.loads(lines[0])
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 504, "Timeout")
    assert status["details"]["causes"] == [{"reason": "ResourceVersionTooLarge",
                                            "message": "Too large resource version"}]
    assert status["details"]["retryAfterSeconds"] == 1


def test_a_list_ahead_of_etcd_waits_for_the_write_that_reaches_it(
        apiserver: Apiserver) -> None:
    """A version one past etcd's, written a second later, is waited for (a 200), and a
    504 carries Retry-After as Kubernetes' error writer sets it."""
    with apiserver.http() as http:
        current = int(http.get(CONFIGMAPS).json()["metadata"]["resourceVersion"])
        with apiserver.http() as writer:
            def write_later() -> None:
                time.sleep(1)
                writer.post(CONFIGMAPS, json={"metadata": {"name": "later"}})

            thread = threading.Thread(target=write_later)
            thread.start()
            started = time.monotonic()
            resp = http.get(f"{CONFIGMAPS}?resourceVersion={current + 1}")
            waited = time.monotonic() - started
            thread.join()
        http.delete(f"{CONFIGMAPS}/later")
        too_far = http.get(f"{CONFIGMAPS}?resourceVersion={AHEAD}")
    assert resp.status_code == 200, resp.text
    assert 0.5 < waited < 3
    assert int(resp.json()["metadata"]["resourceVersion"]) >= current + 1
    assert too_far.status_code == 504 and too_far.headers["Retry-After"] == "1"


def test_a_huge_chunked_body_is_refused_as_it_streams(apiserver: Apiserver) -> None:
    """No Content-Length to refuse by: the body is counted as it comes, never held whole."""
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 1_000_000

    with apiserver.http() as http:
        resp = http.post(CONFIGMAPS, content=chunks(), headers=JSON)
    assert resp.status_code == 413, resp.text
    assert "larger than the limit" in resp.json()["message"]


def test_a_field_name_past_latin1_comes_back_in_the_warning(apiserver: Apiserver) -> None:
    """An unknown field named with characters past Latin-1 or control characters made the
    Warning header unwritable (a 500); it is UTF-8 now, a control character a space."""
    with apiserver.http() as http:
        resp = http.post(CONFIGMAPS, json={"metadata": {"name": "warned"},
                                           "\U000326c3\n": "x"})
        http.delete(f"{CONFIGMAPS}/warned")
    assert resp.status_code == 201, resp.text
    assert resp.headers.get_list("warning") == ['299 - "unknown field \\"\U000326c3 \\""']


def test_watch_maybe_is_a_watch(apiserver: Apiserver) -> None:
    """Kubernetes reads any value but `false` or `0` as true: `?watch=maybe` watches (here
    for one second, with the object already there as its first event)."""
    with apiserver.http() as http:
        http.post(CONFIGMAPS, json={"metadata": {"name": "watched"}})
        try:
            resp = http.get(f"{CONFIGMAPS}?watch=maybe&timeoutSeconds=1"
                            "&fieldSelector=metadata.name%3Dwatched")
        finally:
            http.delete(f"{CONFIGMAPS}/watched")
    assert resp.status_code == 200
    assert resp.json()["type"] == "ADDED"


WRONG_SHAPES = [
    # (what, method, path under the namespace, body, content type, code, text in the message)
    ("Scale with metadata a list", "PUT", "apis/apps/v1/namespaces/{ns}/deployments/d/scale",
     {"metadata": [1], "spec": {"replicas": 1}}, "application/json", 400,
     "metadata: expected an object, got array"),
    ("Scale with spec a string", "PUT", "apis/apps/v1/namespaces/{ns}/deployments/d/scale",
     {"metadata": {"name": "d"}, "spec": "x"}, "application/json", 400,
     "spec: expected an object, got string"),
    ("Scale patched to spec a list", "PATCH",
     "apis/apps/v1/namespaces/{ns}/deployments/d/scale", {"spec": [1]},
     "application/merge-patch+json", 400, "spec: expected an object"),
    ("Scale replicas past 64 bits", "PATCH", "apis/apps/v1/namespaces/{ns}/deployments/d/scale",
     b'{"spec": {"replicas": 1180591620717411303424}}', "application/merge-patch+json", 400,
     "integer past 64 bits"),
    ("Scale replicas past 32 bits", "PUT", "apis/apps/v1/namespaces/{ns}/deployments/d/scale",
     {"metadata": {"name": "d"}, "spec": {"replicas": 2**40}}, "application/json", 422,
     "must be a 32-bit integer"),
    ("Binding with target a string", "POST", "api/v1/namespaces/{ns}/pods/p/binding",
     {"metadata": {"name": "p"}, "target": "x"}, "application/json", 400,
     "target: expected an object"),
    ("Binding with annotations a list", "POST", "api/v1/namespaces/{ns}/pods/p/binding",
     {"metadata": {"name": "p", "annotations": [1]}, "target": {"name": "n"}},
     "application/json", 400, "metadata.annotations: expected an object"),
    ("Binding with an annotation key no object may carry (made the pod unwritable)",
     "POST", "api/v1/namespaces/{ns}/pods/p/binding",
     {"metadata": {"name": "p", "annotations": {"bad key!": "x"}}, "target": {"name": "n"}},
     "application/json", 422, 'Binding "p" is invalid: metadata.annotations: Invalid value'),
    ("Binding with a label value no object may carry", "POST",
     "api/v1/namespaces/{ns}/pods/p/binding",
     {"metadata": {"name": "p", "labels": {"a": "b c"}}, "target": {"name": "n"}},
     "application/json", 422, "metadata.labels: Invalid value"),
    ("Eviction with metadata a string", "POST", "api/v1/namespaces/{ns}/pods/p/eviction",
     {"metadata": "p"}, "application/json", 400, "metadata: expected an object"),
    ("merge patch making metadata a list", "PATCH", "api/v1/namespaces/{ns}/pods/p",
     {"metadata": [1]}, "application/merge-patch+json", 422, "patch: Invalid value: metadata"),
    ("JSON patch replacing metadata with a list", "PATCH", "api/v1/namespaces/{ns}/pods/p",
     [{"op": "replace", "path": "/metadata", "value": [1]}], "application/json-patch+json",
     422, "patch: Invalid value: metadata"),
    ("strategic merge patch making metadata a string", "PATCH",
     "apis/apps/v1/namespaces/{ns}/deployments/d", {"metadata": "x"},
     "application/strategic-merge-patch+json", 422, "patch: Invalid value: metadata"),
]


@pytest.fixture(scope="module")
def workloads(apiserver: Apiserver) -> Iterator[str]:
    """A namespace with a Deployment `d` and an unscheduled Pod `p` for the subresources."""
    ns = "hostile-shapes"
    with apiserver.http() as http:
        http.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).raise_for_status()
        http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json={
            "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}}}},
        ).raise_for_status()
        http.post(f"/api/v1/namespaces/{ns}/pods", json={
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i"}]}}).raise_for_status()
        yield ns
        http.delete(f"/api/v1/namespaces/{ns}")


@pytest.mark.parametrize("case", WRONG_SHAPES, ids=[c[0] for c in WRONG_SHAPES])
def test_a_body_of_the_wrong_shape_gets_a_status(apiserver: Apiserver, workloads: str,
                                                 case: tuple) -> None:
    """Each was an AttributeError or TypeError (a 500) where the code read `.get` or an
    index from what the client sent (found by probing the subresources the fuzzer reaches)."""
    _, method, path, body, content_type, code, text = case
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with apiserver.http() as http:
        resp = http.request(method, "/" + path.format(ns=workloads), content=content,
                            headers={"Content-Type": content_type})
    assert resp.status_code == code, resp.text
    status = resp.json()
    assert (status["kind"], status["code"]) == ("Status", code)
    assert text in status["message"], status["message"]


def test_a_refused_binding_leaves_the_pod_unbound_and_writable(apiserver: Apiserver,
                                                                workloads: str) -> None:
    """A Binding's bad annotation key was written into the pod, after which every update
    of the pod (its validation sees the key) was a 422: now the Binding is refused."""
    pod = f"/api/v1/namespaces/{workloads}/pods/p"
    with apiserver.http() as http:
        refused = http.post(f"{pod}/binding", json={
            "metadata": {"name": "p", "annotations": {"bad key!": "x"}},
            "target": {"name": "n"}})
        patched = http.patch(pod, json={"metadata": {"labels": {"still": "writable"}}},
                             headers=MERGE)
    assert refused.status_code == 422, refused.text
    assert patched.status_code == 200, patched.text
    assert "nodeName" not in patched.json()["spec"]
    assert "bad key!" not in (patched.json()["metadata"].get("annotations") or {})


def _rss_kib(pid: int) -> int:
    """VmRSS of the apiserver, from /proc (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


ROUNDS = 5  # the table sent this many times, for the RSS figure


def test_the_table_within_the_targets(apiserver: Apiserver, configmap_x: None) -> None:
    """Issue 15's targets over the whole table, sent 5 times (the 3 s waits once): no 5xx
    but the 504s Kubernetes answers a version etcd has not reached, each answer within
    2 s (those 504s within the 3 s wait and 1 s), and apiserver RSS growing under 50 MB.
    `-s` prints the figures."""
    before = _rss_kib(apiserver.process.pid)
    slowest: dict[str, tuple[int, float]] = {}
    with apiserver.http() as http:
        for round_ in range(ROUNDS):
            for what, method, path, body, headers, code, _text in CASES:
                if round_ and "has not reached" in what:
                    continue
                started = time.monotonic()
                resp = http.request(method, path, content=body, headers=headers)
                took = time.monotonic() - started
                assert resp.status_code == code, (what, resp.text)
                slowest[what] = (code, max(took, slowest.get(what, (0, 0.0))[1]))
    growth_mb = (_rss_kib(apiserver.process.pid) - before) / 1024
    print(f"\n{len(CASES)} inputs x {ROUNDS}: apiserver RSS grew {growth_mb:.1f} MB")
    for what, (code, took) in slowest.items():
        print(f"| {what} | {code} | {took:.3f} s |")
    assert not [w for w, (code, _) in slowest.items() if code >= 500 and code != 504]
    waited = {w for w in slowest if "has not reached" in w}
    assert all(took < (4 if what in waited else 2) for what, (_, took) in slowest.items())
    assert growth_mb < 50
