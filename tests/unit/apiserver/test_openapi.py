"""The generated OpenAPI documents: every kind, every field described, refs resolve, extensions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from apimachinery.models import schema
from apiserver import kinds, openapi

SERVED = kinds.registry()
DOCS = openapi.OpenAPI(SERVED)
GROUP_VERSIONS = SERVED.group_versions()


def _doc(gv: str) -> dict[str, Any]:
    doc = DOCS.document(gv)
    assert doc is not None
    return doc


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _schema(gv: str, name: str) -> dict[str, Any]:
    schemas: dict[str, Any] = _doc(gv)["components"]["schemas"]
    return schemas[name]


@pytest.mark.parametrize("kind", list(SERVED), ids=lambda k: k.resource.group_resource)
def test_every_served_kind_has_a_schema_carrying_its_gvk(kind: kinds.Kind) -> None:
    r = kind.resource
    name = f"{openapi.package(r.group, r.version)}.{r.kind}"
    assert DOCS.schema_name(kind.model) == name
    gvk = {"group": r.group, "version": r.version, "kind": r.kind}
    assert _schema(r.api_version, name)["x-kubernetes-group-version-kind"] == [gvk]
    listed = _schema(r.api_version, f"{name}List")
    assert listed["x-kubernetes-group-version-kind"] == [{**gvk, "kind": r.list_kind}]


def test_schemas_are_named_as_kubernetes_names_them() -> None:
    core = _doc("v1")["components"]["schemas"]
    for name in ("io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.Container",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
                 "io.k8s.apimachinery.pkg.api.resource.Quantity"):
        assert name in core
    apps = _doc("apps/v1")["components"]["schemas"]
    assert {"io.k8s.api.apps.v1.Deployment", "io.k8s.api.core.v1.PodTemplateSpec",
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"} <= set(apps)
    assert "io.k8s.api.scheduling.v1.PriorityClass" in _doc(
        "scheduling.k8s.io/v1")["components"]["schemas"]


@pytest.mark.parametrize("gv", GROUP_VERSIONS)
def test_every_model_and_field_has_a_description(gv: str) -> None:
    for name, model_schema in _doc(gv)["components"]["schemas"].items():
        assert model_schema.get("description"), name
        for field_name, prop in model_schema.get("properties", {}).items():
            assert prop.get("description"), f"{name}.{field_name}"


@pytest.mark.parametrize("gv", GROUP_VERSIONS)
def test_no_default_contradicts_its_schema(gv: str) -> None:
    # `default: {}` beside a $ref to a schema with required fields fails OpenAPI validators.
    assert not [node for node in _walk(_doc(gv)) if "default" in node]


@pytest.mark.parametrize("gv", GROUP_VERSIONS)
def test_every_ref_resolves(gv: str) -> None:
    doc = _doc(gv)
    schemas = doc["components"]["schemas"]
    refs = [node["$ref"] for node in _walk(doc) if "$ref" in node]
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


@pytest.mark.parametrize("gv", GROUP_VERSIONS)
def test_schooners_own_keys_stay_out(gv: str) -> None:
    text = orjson.dumps(_doc(gv)).decode()
    assert schema.PROTOBUF not in text and "x-schooner" not in text


def test_list_and_patch_extensions_are_on_the_fields() -> None:
    container = _schema("v1", "io.k8s.api.core.v1.Container")["properties"]
    ports = container["ports"]
    assert ports["x-kubernetes-list-type"] == "map"
    assert ports["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"]
    assert ports["x-kubernetes-patch-merge-key"] == "containerPort"
    assert ports["x-kubernetes-patch-strategy"] == "merge"
    assert ports["items"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.core.v1.ContainerPort"}]
    assert container["env"]["x-kubernetes-patch-merge-key"] == "name"
    spec = _schema("v1", "io.k8s.api.core.v1.PodSpec")["properties"]
    assert spec["containers"]["x-kubernetes-list-map-keys"] == ["name"]
    assert spec["volumes"]["x-kubernetes-patch-strategy"] == "merge,retainKeys"


def test_the_value_types() -> None:
    schemas = _doc("v1")["components"]["schemas"]
    int_or_string = schemas["io.k8s.api.core.v1.ServicePort"]["properties"]["targetPort"]
    assert int_or_string["allOf"] == [
        {"$ref": f"#/components/schemas/{openapi.INT_OR_STRING}"}]
    assert schemas[openapi.INT_OR_STRING]["x-kubernetes-int-or-string"] is True
    limits = schemas["io.k8s.api.core.v1.ResourceRequirements"]["properties"]["limits"]
    assert limits["additionalProperties"] == {
        "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}
    created = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"][
        "creationTimestamp"]
    assert created["type"] == "string" and created["format"] == "date-time"
    metadata = schemas["io.k8s.api.core.v1.Pod"]["properties"]["metadata"]
    assert metadata["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]
    required = schemas["io.k8s.api.core.v1.ContainerPort"]["required"]
    assert "containerPort" in required


@pytest.mark.parametrize("kind", [k for k in SERVED if k.compute is None],
                         ids=lambda k: k.resource.group_resource)
def test_every_path_of_a_kind_with_its_operations(kind: kinds.Kind) -> None:
    r = kind.resource
    paths = _doc(r.api_version)["paths"]
    gvk = {"group": r.group, "version": r.version, "kind": r.kind}
    scope = "/namespaces/{namespace}" if r.namespaced else ""
    collection = f"{r.path_prefix}{scope}/{r.plural}"
    obj = f"{collection}/{{name}}"
    assert set(paths[collection]) >= {"get", "post", "delete", "parameters"}
    assert set(paths[obj]) >= {"get", "put", "patch", "delete", "parameters"}
    if r.namespaced:
        assert paths[f"{r.path_prefix}/{r.plural}"]["get"]["x-kubernetes-action"] == "list"
    actions = {(path, method): op["x-kubernetes-action"]
               for path in (collection, obj) for method, op in paths[path].items()
               if method != "parameters"}
    assert actions == {(collection, "get"): "list", (collection, "post"): "post",
                       (collection, "delete"): "deletecollection", (obj, "get"): "get",
                       (obj, "put"): "put", (obj, "patch"): "patch",
                       (obj, "delete"): "delete"}
    for method in ("post", "put", "patch"):
        op = paths[obj if method != "post" else collection][method]
        assert op["x-kubernetes-group-version-kind"] == gvk
        names = {p["name"] for p in op["parameters"]}
        assert {"fieldValidation", "fieldManager", "dryRun"} <= names, method
    patch_types = set(paths[obj]["patch"]["requestBody"]["content"])
    assert "application/strategic-merge-patch+json" in patch_types
    for sub in kind.subresources:
        assert f"{obj}/{sub.name}" in paths


def test_a_create_only_kind_has_only_its_post() -> None:
    """SelfSubjectReview is computed, never stored: no get, list, update or delete."""
    paths = _doc("authentication.k8s.io/v1")["paths"]
    collection = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    assert set(paths[collection]) == {"post", "parameters"}
    assert f"{collection}/{{name}}" not in paths


def test_subresources_carry_their_own_kind() -> None:
    paths = _doc("apps/v1")["paths"]
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["patch"]["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling", "version": "v1", "kind": "Scale"}
    status = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]
    assert status["put"]["x-kubernetes-group-version-kind"]["kind"] == "Deployment"


def test_the_index_lists_every_group_version_with_a_hash() -> None:
    index = DOCS.index()["paths"]
    assert set(index) == {openapi.group_version_key(gv) for gv in GROUP_VERSIONS}
    url = index["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    assert openapi.key_to_group_version("apis/apps/v1") == "apps/v1"
    assert openapi.key_to_group_version("api/v1") == "v1"
    assert openapi.key_to_group_version("apis/apps") is None


def test_documents_are_built_once() -> None:
    assert DOCS.document("v1") is DOCS.document("v1")
    assert DOCS.v2() is DOCS.v2()
    assert DOCS.document("nope/v1") is None


def test_v2_is_swagger_with_definitions_refs() -> None:
    v2 = DOCS.v2()
    assert v2["swagger"] == "2.0"
    assert "io.k8s.api.apps.v1.Deployment" in v2["definitions"]
    text = orjson.dumps(v2).decode()
    assert "#/components/" not in text
    refs = [node["$ref"] for node in _walk(v2) if "$ref" in node]
    assert all(ref.removeprefix("#/definitions/") in v2["definitions"] for ref in refs)
    patch = v2["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert any(p["name"] == "fieldValidation" and p["type"] == "string"
               for p in patch["parameters"])
    assert any(p["in"] == "body" for p in patch["parameters"])
    # Swagger 2.0 has no oneOf: the value types are strings there, as in Kubernetes' v2,
    # and the v3 documents keep theirs.
    assert v2["definitions"][openapi.INT_OR_STRING]["type"] == "string"
    assert "oneOf" not in v2["definitions"][openapi.QUANTITY]
    assert "oneOf" in _doc("v1")["components"]["schemas"][openapi.QUANTITY]
