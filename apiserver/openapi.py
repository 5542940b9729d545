"""OpenAPI v3 (per group version) and v2 documents, generated from the served kinds' models.

Every model field is declared with `apimachinery.models.schema.field`: its
description and its Kubernetes extensions (`x-kubernetes-list-type`,
`x-kubernetes-list-map-keys`, `x-kubernetes-patch-merge-key`,
`x-kubernetes-patch-strategy`) become the field's schema here, and each model
becomes one `components.schemas` entry named as Kubernetes names it
(`io.k8s.api.core.v1.Pod`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`).
A top-level kind (and its list) carries `x-kubernetes-group-version-kind`,
which `kubectl explain` looks its kind up by. Every path of a kind (collection,
object, all-namespaces list, subresources) has its operations with their
parameters; the `fieldValidation` parameter on PATCH is what makes kubectl's
default `--validate=strict` send `fieldValidation=Strict` (shared KUBECTL.md §6.5).

A field of a model type is `{"allOf": [{"$ref": ...}], "description": ...}`,
as in Kubernetes' own documents, since OpenAPI 3.0 ignores siblings of a
`$ref`. IntOrString and Quantity are Kubernetes' shared schemas
(`io.k8s.apimachinery.pkg.util.intstr.IntOrString`, marked
`x-kubernetes-int-or-string`, and `io.k8s.apimachinery.pkg.api.resource.Quantity`,
a string or a number); Time is a `date-time` string. Schooner's protobuf keys stay
out of the documents.

Documents are built once per `Kinds` and cached (`OpenAPI`).
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Iterable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import orjson
from pydantic import BaseModel

from apimachinery.meta import Object
from apimachinery.models import meta as meta_models
from apimachinery.models import schema
from apimachinery.resources import ResourceInfo

from .discovery import KUBERNETES_MINOR
from .kinds import Kinds

TITLE = "Kubernetes"
API_VERSION = f"v1.{KUBERNETES_MINOR}.0"

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_VALUE_TYPES = frozenset({QUANTITY, INT_OR_STRING})  # refs to a scalar: no `allOf` for items
_REF3 = "#/components/schemas/"
_REF2 = "#/definitions/"

# Models that live outside a kind's own module, by module: where Kubernetes keeps them.
_MODULE_PACKAGES = {
    "apimachinery.models.meta": META,
    "apimachinery.models.container": "io.k8s.api.core.v1",
    "apimachinery.models.pod": "io.k8s.api.core.v1",
    "apimachinery.models.node": "io.k8s.api.core.v1",
    "apimachinery.models.probe": "io.k8s.api.core.v1",
    "apimachinery.models.scheduling": "io.k8s.api.core.v1",
    "apimachinery.models.security": "io.k8s.api.core.v1",
    "apimachinery.models.storage": "io.k8s.api.core.v1",
}
# The extensions `schema.field` keeps that belong in the documents (not the protobuf keys).
_EXTENSIONS = (schema.LIST_TYPE, schema.LIST_MAP_KEYS, schema.MAP_TYPE, schema.PATCH_MERGE_KEY,
               schema.PATCH_STRATEGY)

JSON_TYPES = ["application/json", "application/yaml"]
PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml"]


def package(group: str, version: str) -> str:
    """`io.k8s.api.apps.v1` for apps/v1; `io.k8s.api.core.v1` for the core group."""
    return f"io.k8s.api.{group.split('.')[0] if group else 'core'}.{version}"


def group_version_key(gv: str) -> str:
    """`apps/v1` -> `apis/apps/v1`; `v1` -> `api/v1` (the `/openapi/v3/...` key)."""
    return f"apis/{gv}" if "/" in gv else f"api/{gv}"


def key_to_group_version(key: str) -> str | None:
    """`apis/apps/v1` -> `apps/v1`; `api/v1` -> `v1`."""
    parts = key.strip("/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        return parts[1]
    if parts[:1] == ["apis"] and len(parts) == 3:
        return f"{parts[1]}/{parts[2]}"
    return None


def _gvk(group: str, version: str, kind: str) -> Object:
    return {"group": group, "version": version, "kind": kind}


class OpenAPI:
    """The documents of one set of served kinds, each built on first use and then kept."""

    def __init__(self, kinds: Kinds) -> None:
        self._kinds = kinds
        self._names = self._schema_names()
        self._v3: dict[str, Object] = {}
        self._index: Object | None = None
        self._v2: Object | None = None

    # --- names -------------------------------------------------------------------------

    def _schema_names(self) -> dict[type[BaseModel], str]:
        modules = dict(_MODULE_PACKAGES)
        for kind in self._kinds:
            r = kind.resource
            modules.setdefault(kind.model.__module__, package(r.group, r.version))
        names: dict[type[BaseModel], str] = {}
        for model in schema.iter_models(*(k.model for k in self._kinds)):
            try:
                names[model] = f"{modules[model.__module__]}.{model.__name__}"
            except KeyError:
                raise ValueError(f"no Kubernetes package known for {model.__module__}."
                                 f"{model.__name__} (add it to _MODULE_PACKAGES)") from None
        if len(set(names.values())) != len(names):
            raise ValueError("two models share one OpenAPI schema name")
        return names

    def schema_name(self, model: type[BaseModel]) -> str:
        return self._names[model]

    # --- schemas -----------------------------------------------------------------------

    def _ref(self, name: str) -> Object:
        return {"$ref": _REF3 + name}

    def _value_schema(self, annotation: Any) -> Object:
        """The schema of a type: a scalar, a list, a map or a `$ref` to a model."""
        while True:
            if annotation is meta_models.IntOrString:
                return self._ref(INT_OR_STRING)
            if annotation is meta_models.Quantity:
                return self._ref(QUANTITY)
            if annotation is meta_models.Time:
                return {"type": "string", "format": "date-time"}
            origin = get_origin(annotation)
            if origin is Annotated:
                annotation = get_args(annotation)[0]
            elif origin in (Union, types.UnionType):
                members = [a for a in get_args(annotation) if a is not type(None)]
                if len(members) != 1:
                    return self._union(members)
                annotation = members[0]
            else:
                break
        origin = get_origin(annotation)
        if origin is list:
            return {"type": "array", "items": self._item_schema(get_args(annotation)[0])}
        if origin is dict:
            return {"type": "object",
                    "additionalProperties": self._item_schema(get_args(annotation)[1])}
        if origin is Literal:
            values = list(get_args(annotation))
            return {"type": _scalar_type(type(values[0])) or "string", "enum": values}
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self._ref(self._names[annotation])
        scalar = _scalar_type(annotation)
        if scalar is None:  # Any: free-form
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        out: Object = {"type": scalar}
        if scalar == "integer":
            out["format"] = "int64"
        elif scalar == "number":
            out["format"] = "double"
        return out

    def _union(self, members: list[Any]) -> Object:
        types_ = {_scalar_type(get_origin(m) or m) for m in members}
        if types_ == {"integer", "string"}:
            return self._ref(INT_OR_STRING)
        return {"anyOf": [self._value_schema(m) for m in members]}

    def _item_schema(self, annotation: Any) -> Object:
        inner = self._value_schema(annotation)
        if "$ref" in inner and inner["$ref"].removeprefix(_REF3) not in _VALUE_TYPES:
            return {"allOf": [inner]}
        return inner

    def _field_schema(self, meta: schema.FieldMeta, extra: Object) -> Object:
        value = self._value_schema(meta.annotation)
        out: Object = ({"allOf": [value]} if "$ref" in value else dict(value))
        out["description"] = meta.description
        for key in _EXTENSIONS:
            if key in extra:
                out[key] = extra[key]
        return out

    def model_schema(self, model: type[BaseModel]) -> Object:
        properties: Object = {}
        required: list[str] = []
        for meta in schema.fields(model).values():
            info = model.model_fields[meta.name]
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            properties[meta.json_name] = self._field_schema(meta, dict(extra))
            if meta.required:
                required.append(meta.json_name)
        out: Object = {"description": _doc(model), "type": "object", "properties": properties}
        if required:
            out["required"] = required
        return out

    def _schemas(self, roots: Iterable[type[BaseModel]]) -> Object:
        """The schema of every model `roots` reach, by Kubernetes name, plus the shared ones."""
        out: Object = dict(_shared_schemas())
        for model in schema.iter_models(*roots):
            out[self._names[model]] = self.model_schema(model)
        return dict(sorted(out.items()))

    # --- documents ---------------------------------------------------------------------

    def document(self, group_version: str) -> Object | None:
        """The OpenAPI v3 document of one group version, or None if nothing is served there."""
        if group_version in self._v3:
            return self._v3[group_version]
        served = [k for k in self._kinds if k.resource.api_version == group_version]
        if not served:
            return None
        schemas = self._schemas(k.model for k in served)
        paths: Object = {}
        for kind in served:
            r = kind.resource
            name = self._names[kind.model]
            gvk = _gvk(r.group, r.version, r.kind)
            schemas[name]["x-kubernetes-group-version-kind"] = [gvk]
            list_name = f"{name}List"
            schemas[list_name] = _list_schema(r, name)
            paths.update(_paths(kind.resource, name, list_name,
                                [(s.name, s.verbs, s.group, s.version, s.kind)
                                 for s in kind.subresources]))
        doc: Object = {"openapi": "3.0.0",
                       "info": {"title": TITLE, "version": API_VERSION},
                       "paths": paths,
                       "components": {"securitySchemes": {"BearerToken": {
                           "type": "apiKey", "name": "authorization", "in": "header",
                           "description": "Bearer token authentication"}},
                           "schemas": dict(sorted(schemas.items()))}}
        self._v3[group_version] = doc
        return doc

    def index(self) -> Object:
        """`/openapi/v3`: each group version's document with a content hash in its URL."""
        if self._index is None:
            paths: Object = {}
            for gv in self._kinds.group_versions():
                doc = self.document(gv)
                digest = hashlib.sha512(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))
                key = group_version_key(gv)
                paths[key] = {"serverRelativeURL":
                              f"/openapi/v3/{key}?hash={digest.hexdigest()[:128].upper()}"}
            self._index = {"paths": paths}
        return self._index

    def v2(self) -> Object:
        """`/openapi/v2` (Swagger 2.0, JSON): every group version in one document."""
        if self._v2 is None:
            definitions: Object = {}
            paths: Object = {}
            for gv in self._kinds.group_versions():
                doc = self.document(gv)
                assert doc is not None
                definitions.update(doc["components"]["schemas"])
                for path, item in doc["paths"].items():
                    paths[path] = _v2_path(item)
            # Swagger 2.0 has no oneOf: the value types are strings, as in Kubernetes' v2.
            for name in (INT_OR_STRING, QUANTITY):
                definitions[name] = {key: value for key, value in definitions[name].items()
                                     if key != "oneOf"} | {"type": "string"}
            v2: Object = {"swagger": "2.0", "info": {"title": TITLE, "version": API_VERSION},
                          "paths": paths, "definitions": dict(sorted(definitions.items())),
                          "securityDefinitions": {"BearerToken": {
                              "type": "apiKey", "name": "authorization", "in": "header"}},
                          "security": [{"BearerToken": []}]}
            self._v2 = _rewrite_refs(v2)
        return self._v2


def _scalar_type(annotation: Any) -> str | None:
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    if annotation is str:
        return "string"
    return None


def _doc(model: type[BaseModel]) -> str:
    text = (model.__doc__ or "").strip()
    return " ".join(text.split("\n\n")[0].split()) if text else model.__name__


def _shared_schemas() -> Object:
    """The meta/v1 and resource types every document refers to that have no model."""
    string = {"type": "string"}
    return {
        QUANTITY: {"description": "A fixed-point number with a suffix, as a string "
                                  "(`500m`, `128Mi`, `2`) or a JSON number.",
                   "oneOf": [{"type": "string"}, {"type": "number"}]},
        INT_OR_STRING: {"description": "An integer or a string, e.g. a port number or a "
                                       "port name, a count or a percentage.",
                        "oneOf": [{"type": "integer"}, {"type": "string"}],
                        "format": "int-or-string", "x-kubernetes-int-or-string": True},
        f"{META}.ListMeta": {
            "description": "Metadata of a list: the resourceVersion it was read at and the "
                           "continue token of a paged list.",
            "type": "object", "properties": {
                "resourceVersion": {**string, "description": "The etcd revision the list "
                                    "was read at; a watch from it misses nothing."},
                "continue": {**string, "description": "Token for the next page when the "
                             "list was limited."},
                "remainingItemCount": {"type": "integer", "format": "int64",
                                       "description": "How many items the next pages hold."},
            }},
        f"{META}.Status": {
            "description": "The outcome of a call that returns no object, and every error.",
            "type": "object", "properties": {
                "apiVersion": {**string, "description": "`v1`."},
                "kind": {**string, "description": "`Status`."},
                "status": {**string, "description": "`Success` or `Failure`."},
                "message": {**string, "description": "What happened, for people."},
                "reason": {**string, "description": "Why, for programs (`NotFound`, ...)."},
                "code": {"type": "integer", "format": "int32",
                         "description": "The HTTP status code."},
                "details": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                            "description": "The object concerned and the causes."},
            },
            "x-kubernetes-group-version-kind": [_gvk("", "v1", "Status")]},
        f"{META}.DeleteOptions": {
            "description": "Options of a delete: grace period, preconditions and "
                           "propagation policy.",
            "type": "object", "properties": {
                "apiVersion": {**string, "description": "`v1`."},
                "kind": {**string, "description": "`DeleteOptions`."},
                "gracePeriodSeconds": {"type": "integer", "format": "int64",
                                       "description": "Seconds before the object goes."},
                "propagationPolicy": {**string, "description": "`Orphan`, `Background` "
                                      "or `Foreground`: what happens to dependents."},
                "preconditions": {"type": "object", "description": "uid and "
                                  "resourceVersion the object must still have.",
                                  "x-kubernetes-preserve-unknown-fields": True},
                "dryRun": {"type": "array", "items": string,
                           "description": "`All` to only check the delete."},
            }},
        f"{META}.Patch": {"description": "A patch body: JSON patch, merge patch, strategic "
                                         "merge patch or apply configuration.",
                          "type": "object"},
        "io.k8s.apimachinery.pkg.runtime.RawExtension": {
            "description": "An embedded object of any kind.", "type": "object",
            "x-kubernetes-preserve-unknown-fields": True},
    }


def _list_schema(r: ResourceInfo, item: str) -> Object:
    string = {"type": "string"}
    return {
        "description": f"A list of {r.kind} objects.",
        "type": "object", "required": ["items"],
        "properties": {
            "apiVersion": {**string, "description": f"`{r.api_version}`."},
            "kind": {**string, "description": f"`{r.list_kind}`."},
            "items": {"type": "array", "description": f"The {r.plural}.",
                      "items": {"allOf": [{"$ref": _REF3 + item}]}},
            "metadata": {"allOf": [{"$ref": f"{_REF3}{META}.ListMeta"}],
                         "description": "The list's resourceVersion and continue token."},
        },
        "x-kubernetes-group-version-kind": [_gvk(r.group, r.version, r.list_kind)],
    }


# --- paths ---------------------------------------------------------------------------------

def _query(name: str, description: str, type_: str = "string") -> Object:
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": type_, "uniqueItems": True}}


def _path_param(name: str, description: str) -> Object:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "uniqueItems": True}}


_PRETTY = _query("pretty", "If 'true', the output is pretty printed.")
_DRY_RUN = _query("dryRun", "`All` runs every stage of the request but stores nothing.")
_FIELD_MANAGER = _query("fieldManager", "The name of the actor making the change, "
                                        "recorded in managedFields.")
_FIELD_VALIDATION = _query(
    "fieldValidation", "What to do with unknown or duplicate fields in the body: `Ignore`, "
                       "`Warn` (the default) or `Strict` (reject the request).")
_FORCE = _query("force", "Take over fields other managers own (server-side apply only).",
                "boolean")
_LIST_PARAMS = [
    _query("allowWatchBookmarks", "Ask a watch for BOOKMARK events.", "boolean"),
    _query("continue", "The continue token of the previous page."),
    _query("fieldSelector", "Only objects whose fields match, e.g. `metadata.name=web`."),
    _query("labelSelector", "Only objects whose labels match, e.g. `app=web`."),
    _query("limit", "At most this many items per page.", "integer"),
    _query("resourceVersion", "Read (or watch from) this resourceVersion."),
    _query("resourceVersionMatch", "How resourceVersion applies to a list."),
    _query("sendInitialEvents", "Start a watch with the current objects.", "boolean"),
    _query("timeoutSeconds", "End a list or watch after this many seconds.", "integer"),
    _query("watch", "Stream changes (watch events) instead of listing.", "boolean"),
]
_DELETE_PARAMS = [
    _DRY_RUN,
    _query("gracePeriodSeconds", "Seconds before the object goes; 0 deletes now.", "integer"),
    _query("propagationPolicy", "`Orphan`, `Background` or `Foreground`."),
]


def _content(name: str, media_types: list[str]) -> Object:
    return {media: {"schema": {"$ref": _REF3 + name}} for media in media_types}


def _responses(name: str, *codes: str) -> Object:
    out: Object = {code: {"description": {"200": "OK", "201": "Created",
                                          "202": "Accepted"}[code],
                          "content": _content(name, ["application/json", "application/yaml"])}
                   for code in codes}
    out["401"] = {"description": "Unauthorized"}
    return out


def _operation(r: ResourceInfo, op_id: str, action: str, gvk: Object, response: str,
               codes: tuple[str, ...], params: list[Object], body: str | None = None,
               body_types: list[str] | None = None) -> Object:
    op: Object = {"tags": [r.api_version.replace("/", "_").replace(".", "")],
                  "description": f"{action} {r.kind}", "operationId": op_id,
                  "parameters": params, "responses": _responses(response, *codes),
                  "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk}
    if body is not None:
        op["requestBody"] = {"content": _content(body, body_types or JSON_TYPES),
                             "required": True}
    return op


def _paths(r: ResourceInfo, name: str, list_name: str,
           subresources: list[tuple[str, tuple[str, ...], str | None, str | None, str | None]],
           ) -> Object:
    """Every path of one kind, with its operations (as Kubernetes' documents lay them out)."""
    gvk = _gvk(r.group, r.version, r.kind)
    ident = f"{r.kind}{'Namespaced' if r.namespaced else ''}"
    write = [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION]
    verbs = set(r.verbs)
    status = f"{META}.Status"
    ns = [_path_param("namespace", "The object's namespace.")] if r.namespaced else []
    obj_params = [_path_param("name", f"The {r.singular}'s name."), *ns, _PRETTY]
    scope = "/namespaces/{namespace}" if r.namespaced else ""
    collection = f"{r.path_prefix}{scope}/{r.plural}"
    paths: Object = {}

    item: Object = {"parameters": [*ns, _PRETTY]}
    if "list" in verbs:
        item["get"] = _operation(r, f"list{ident}", "list", gvk, list_name, ("200",),
                                 list(_LIST_PARAMS))
    if "create" in verbs:
        item["post"] = _operation(r, f"create{ident}", "post", gvk, name,
                                  ("200", "201", "202"), write, body=name)
    if "deletecollection" in verbs:
        item["delete"] = _operation(r, f"deleteCollection{ident}", "deletecollection", gvk,
                                    status, ("200",), [*_DELETE_PARAMS, *_LIST_PARAMS],
                                    body=f"{META}.DeleteOptions")
        item["delete"]["requestBody"]["required"] = False
    paths[collection] = item

    if r.namespaced and "list" in verbs:
        paths[f"{r.path_prefix}/{r.plural}"] = {
            "parameters": [_PRETTY],
            "get": _operation(r, f"list{r.kind}ForAllNamespaces", "list", gvk, list_name,
                              ("200",), list(_LIST_PARAMS))}

    item = {"parameters": obj_params}
    if "get" in verbs:
        item["get"] = _operation(r, f"read{ident}", "get", gvk, name, ("200",), [])
    if "update" in verbs:
        item["put"] = _operation(r, f"replace{ident}", "put", gvk, name, ("200", "201"),
                                 write, body=name)
    if "delete" in verbs:
        item["delete"] = _operation(r, f"delete{ident}", "delete", gvk, status,
                                    ("200", "202"), list(_DELETE_PARAMS),
                                    body=f"{META}.DeleteOptions")
        item["delete"]["requestBody"]["required"] = False
    if "patch" in verbs:
        item["patch"] = _operation(r, f"patch{ident}", "patch", gvk, name, ("200", "201"),
                                   [*write, _FORCE], body=f"{META}.Patch",
                                   body_types=PATCH_TYPES)
    if len(item) > 1 or subresources:  # a create-only kind (a review) has no object path
        paths[f"{collection}/{{name}}"] = item

    for sub, sub_verbs, group, version, kind in subresources:
        sub_gvk = gvk if kind is None else _gvk(group if group is not None else r.group,
                                                version or r.version, kind)
        own = kind is None
        body = name if own else "io.k8s.apimachinery.pkg.runtime.RawExtension"
        sub_ident = f"{ident}{sub[:1].upper()}{sub[1:]}"
        item = {"parameters": obj_params}
        for verb in sub_verbs:
            if verb == "get":
                item["get"] = _operation(r, f"read{sub_ident}", "get", sub_gvk, body,
                                         ("200",), [])
            elif verb == "create":
                item["post"] = _operation(r, f"create{sub_ident}", "post", sub_gvk, body,
                                          ("200", "201", "202"), write, body=body)
            elif verb == "update":
                item["put"] = _operation(r, f"replace{sub_ident}", "put", sub_gvk, body,
                                         ("200", "201"), write, body=body)
            elif verb == "patch":
                item["patch"] = _operation(r, f"patch{sub_ident}", "patch", sub_gvk, body,
                                           ("200", "201"), [*write, _FORCE],
                                           body=f"{META}.Patch", body_types=PATCH_TYPES)
            elif verb == "delete":
                item["delete"] = _operation(r, f"delete{sub_ident}", "delete", sub_gvk,
                                            status, ("200", "202"), list(_DELETE_PARAMS))
        paths[f"{collection}/{{name}}/{sub}"] = item
    return paths


# --- v2 ------------------------------------------------------------------------------------

def _v2_param(param: Object) -> Object:
    out = {k: v for k, v in param.items() if k != "schema"}
    out.update(param.get("schema", {}))
    return out


def _v2_path(item: Object) -> Object:
    out: Object = {}
    for method, op in item.items():
        if method == "parameters":
            out["parameters"] = [_v2_param(p) for p in op]
            continue
        converted = {k: v for k, v in op.items() if k not in ("requestBody", "responses")}
        params = [_v2_param(p) for p in op["parameters"]]
        body = op.get("requestBody")
        if body is not None:
            media = next(iter(body["content"].values()))
            params.insert(0, {"name": "body", "in": "body", "required": body["required"],
                              "schema": media["schema"]})
            converted["consumes"] = list(body["content"])
        converted["parameters"] = params
        converted["produces"] = ["application/json", "application/yaml"]
        converted["schemes"] = ["https"]
        converted["responses"] = {
            code: ({"description": resp["description"],
                    "schema": next(iter(resp["content"].values()))["schema"]}
                   if "content" in resp else {"description": resp["description"]})
            for code, resp in op["responses"].items()}
        out[method] = converted
    return out


def _rewrite_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (v.replace(_REF3, _REF2) if k == "$ref" and isinstance(v, str)
                    else _rewrite_refs(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value
