"""Discovery: the aggregated APIGroupDiscoveryList beside the legacy form, and the Accept
negotiation that picks between them."""

from __future__ import annotations

import orjson
import pytest
from starlette.requests import Request

from apimachinery.meta import Object
from apiserver import discovery
from apiserver.app import _discovery_root
from apiserver.discovery import MediaRange, negotiate_discovery, parse_accept
from apiserver.kinds import registry

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
KUBECTL = f"{V2},{V2BETA1},application/json"  # what client-go v0.32 sends


# -- Accept parsing ----------------------------------------------------------------------

def test_parse_accept_keeps_the_clients_order_among_equals() -> None:
    assert parse_accept(KUBECTL) == [
        MediaRange("application", "json",
                   {"g": "apidiscovery.k8s.io", "v": "v2", "as": "APIGroupDiscoveryList"}),
        MediaRange("application", "json",
                   {"g": "apidiscovery.k8s.io", "v": "v2beta1", "as": "APIGroupDiscoveryList"}),
        MediaRange("application", "json"),
    ]


def test_parse_accept_orders_by_q_then_concrete_before_wildcard() -> None:
    ranges = parse_accept("*/*;q=0.8, text/*;q=0.8, text/html;q=0.8, application/json;q=0.9")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("application", "json", 0.9), ("text", "html", 0.8), ("text", "*", 0.8),
        ("*", "*", 0.8)]


def test_parse_accept_case_spaces_quotes_and_junk() -> None:
    ranges = parse_accept(' Application/JSON ; AS="APIGroupDiscoveryList" ; q="0.5";'
                          ' x="a,b;\\"c" , nonsense, a/b;novalue, */html, text/plain;q=0,'
                          ' text/csv;q=abc, image/png;')
    assert ranges == [
        MediaRange("image", "png"),
        MediaRange("application", "json", {"as": "APIGroupDiscoveryList", "x": 'a,b;"c'},
                   0.5),
    ]


def test_parse_accept_of_nothing() -> None:
    assert parse_accept("") == []


# -- negotiation -------------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "expected"), [
    (KUBECTL, "v2"),
    (V2, "v2"),
    (V2BETA1, "v2beta1"),
    (f"{V2BETA1},{V2}", "v2beta1"),
    # parameters in any order, names in any case
    ("application/json;as=APIGroupDiscoveryList;V=v2;g=apidiscovery.k8s.io", "v2"),
    # q-values decide before position
    (f"application/json;q=0.5,{V2};q=0.9", "v2"),
    (f"{V2};q=0.5,{V2BETA1}", "v2beta1"),
    (f"{V2};q=0.5,application/json", None),
    # wildcards match the JSON the conversion is served in
    ("application/*;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "v2"),
    ("*/*;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "v2"),
    # legacy: no header, plain JSON, anything without a conversion, first acceptable wins
    (None, None),
    ("", None),
    ("application/json", None),
    ("*/*", None),
    (f"application/json,{V2}", None),
    ("application/yaml", None),
    (f"application/vnd.kubernetes.protobuf,{V2}", None),
    # ranges that are not acceptable are passed over
    (f"application/json;as=Table;v=v1;g=meta.k8s.io,{V2}", "v2"),
    (f"application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,{V2BETA1}",
     "v2beta1"),
    (f"application/json;g=apidiscovery.k8s.io;v=v2,{V2BETA1}", "v2beta1"),
    (f"text/html,{V2}", "v2"),
    (f"{V2};stream=watch,{V2BETA1}", "v2beta1"),
    (f"{V2};q=0,{V2BETA1}", "v2beta1"),
    # aggregated YAML or protobuf is not spoken here: the next range is taken
    (f"application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,{V2BETA1}",
     "v2beta1"),
    ("application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
     None),
    # nothing acceptable: the legacy form, as before
    ("text/html", None),
    (f"{V2}x", None),
])
def test_negotiate_discovery(accept: str | None, expected: str | None) -> None:
    assert negotiate_discovery(accept) == expected


# -- the document ------------------------------------------------------------------------

def _resources(doc: Object, group: str, version: str) -> dict[str, Object]:
    (item,) = [i for i in doc["items"] if i["metadata"].get("name", "") == group]
    (entry,) = [v for v in item["versions"] if v["version"] == version]
    assert entry["freshness"] == "Current"
    return {r["resource"]: r for r in entry["resources"]}


def test_core_document_holds_the_core_group_only() -> None:
    doc = discovery.aggregated_discovery(registry(), core=True)
    assert doc["kind"] == "APIGroupDiscoveryList"
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2"
    assert [item["metadata"] for item in doc["items"]] == [{}]
    assert [v["version"] for v in doc["items"][0]["versions"]] == ["v1"]


def test_pods_as_kubernetes_lists_them() -> None:
    pods = _resources(discovery.aggregated_discovery(registry(), core=True), "", "v1")["pods"]
    assert pods["responseKind"] == {"group": "", "version": "", "kind": "Pod"}
    assert pods["scope"] == "Namespaced"
    assert pods["singularResource"] == "pod"
    assert pods["shortNames"] == ["po"] and pods["categories"] == ["all"]
    assert set(pods["verbs"]) >= {"get", "list", "watch", "create", "delete", "patch"}
    subs = {s["subresource"]: s for s in pods["subresources"]}
    assert subs["binding"] == {"subresource": "binding", "verbs": ["create"],
                               "responseKind": {"group": "", "version": "", "kind": "Binding"}}
    assert subs["eviction"]["responseKind"] == {"group": "policy", "version": "v1",
                                                "kind": "Eviction"}
    assert subs["status"]["responseKind"] == {"group": "", "version": "", "kind": "Pod"}
    assert list(subs) == sorted(subs)


def test_cluster_scoped_and_scale() -> None:
    core = _resources(discovery.aggregated_discovery(registry(), core=True), "", "v1")
    assert core["nodes"]["scope"] == "Cluster"
    assert core["namespaces"]["scope"] == "Cluster"
    apps = _resources(discovery.aggregated_discovery(registry(), core=False), "apps", "v1")
    scale = {s["subresource"]: s for s in apps["deployments"]["subresources"]}["scale"]
    assert scale == {"subresource": "scale", "verbs": ["get", "patch", "update"],
                     "responseKind": {"group": "autoscaling", "version": "v1",
                                      "kind": "Scale"}}


def test_apis_document_holds_every_named_group_and_nothing_else() -> None:
    served = registry()
    doc = discovery.aggregated_discovery(served, core=False, version="v2beta1")
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    names = [item["metadata"]["name"] for item in doc["items"]]
    legacy = discovery.api_groups(served)
    assert names == [g["name"] for g in legacy["groups"]]
    for item, group in zip(doc["items"], legacy["groups"], strict=True):
        # the same versions in the same order: the first is the preferred one in both
        assert [v["version"] for v in item["versions"]] == [
            v["version"] for v in group["versions"]]


def test_every_served_resource_and_subresource_agrees_with_the_legacy_lists() -> None:
    """What a client rebuilds from the aggregated form (client-go's conversion) equals the
    legacy APIResourceList, resource for resource."""
    served = registry()
    docs = [discovery.aggregated_discovery(served, core=core) for core in (True, False)]
    for gv in served.group_versions():
        group, _, version = gv.rpartition("/")
        resources = _resources(docs[0] if not group else docs[1], group, version)
        legacy = discovery.resource_list(served, gv)
        assert legacy is not None
        rebuilt: dict[str, Object] = {}
        for r in resources.values():
            assert r["responseKind"]["kind"], r
            rebuilt[r["resource"]] = {
                "namespaced": r["scope"] == "Namespaced", "kind": r["responseKind"]["kind"],
                "verbs": r["verbs"], "singularName": r["singularResource"]}
            for sub in r.get("subresources", []):
                kind = sub["responseKind"]
                entry: Object = {"namespaced": r["scope"] == "Namespaced",
                                 "kind": kind["kind"], "verbs": sub["verbs"]}
                if kind["group"] or kind["version"]:
                    entry.update(group=kind["group"], version=kind["version"])
                rebuilt[f"{r['resource']}/{sub['subresource']}"] = entry
        expected = {e["name"]: {k: e[k] for k in ("namespaced", "kind", "verbs", "group",
                                                  "version", "singularName") if k in e and (
            k != "singularName" or "/" not in e["name"])}
            for e in legacy["resources"]}
        assert rebuilt == expected


# -- the route ---------------------------------------------------------------------------

def _request(accept: str | None) -> Request:
    headers = [(b"accept", accept.encode())] if accept is not None else []
    return Request({"type": "http", "method": "GET", "path": "/apis", "headers": headers,
                    "query_string": b""})


@pytest.mark.parametrize(("accept", "content_type"), [
    (KUBECTL, V2), (V2BETA1, V2BETA1)])
def test_the_route_answers_the_aggregated_form_with_its_exact_content_type(
        accept: str, content_type: str) -> None:
    response = _discovery_root(_request(accept), registry(), core=False,
                               legacy=lambda: {"kind": "APIGroupList"})
    assert response.headers["content-type"] == content_type
    assert response.headers["vary"] == "Accept"
    body = orjson.loads(response.body)
    assert body["kind"] == "APIGroupDiscoveryList"
    assert body["apiVersion"] == "apidiscovery.k8s.io/" + content_type.split(";v=")[1].split(";")[0]


@pytest.mark.parametrize("accept", [None, "application/json", "*/*"])
def test_the_route_answers_the_legacy_form_otherwise(accept: str | None) -> None:
    response = _discovery_root(_request(accept), registry(), core=True,
                               legacy=lambda: {"kind": "APIVersions"})
    assert response.headers["content-type"] == "application/json"
    assert orjson.loads(response.body) == {"kind": "APIVersions"}
