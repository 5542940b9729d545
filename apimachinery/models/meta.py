"""Typed object metadata and the base every Schooner model builds on.

Mirrors `k8s.io/apimachinery/pkg/apis/meta/v1` (ObjectMeta, OwnerReference,
LabelSelector) plus the value types the API shares: IntOrString, Quantity and
Time. Models use snake_case attributes with the camelCase wire names as
aliases, and keep every field they do not know (`extra="allow"`), so an object
read from the API and written back loses nothing a user or a newer client put
there. Wire dicts stay the currency between processes; these models are a typed
view for the code that wants one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")


def _int_or_string(value: Any) -> int | str:
    """Kubernetes' `intstr.IntOrString`: `targetPort: 8080` or `targetPort: http`."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError("int_or_string", "must be an integer or a string")
    return value


def _quantity(value: Any) -> str | int | float:
    """A `resource.Quantity` on the wire: a string (`500m`) or a JSON number (`1`).

    Only the JSON type is checked here; `apimachinery.quantity` parses the value
    and validation reports a malformed one with Kubernetes' message.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError("quantity_type", "must be a quantity string or a number")
    return value


def _time(value: str) -> str:
    """`metav1.Time`/`MicroTime`: RFC 3339, which the official clients insist on."""
    if not _RFC3339.fullmatch(value):
        raise PydanticCustomError(
            "rfc3339", "must be an RFC 3339 timestamp (e.g. 2006-01-02T15:04:05Z)")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PydanticCustomError(
            "rfc3339", "must be an RFC 3339 timestamp (e.g. 2006-01-02T15:04:05Z)") from None
    return value


IntOrString = Annotated[int | str, PlainValidator(_int_or_string)]
Quantity = Annotated[str | int | float, PlainValidator(_quantity)]
# Timestamps stay strings so objects round-trip byte for byte.
Time = Annotated[str, AfterValidator(_time)]
ResourceList = dict[str, Quantity]


class K8sModel(BaseModel):
    """Base of every model: camelCase aliases, unknown fields kept, lossless round trip.

    `to_dict` dumps only the fields that were present (or assigned), not the
    unset defaults: `exclude_none` would drop an explicit `creationTimestamp:
    null`, which `kubectl rollout undo` sends inside templates, so the round trip
    `Model.from_dict(d).to_dict() == d` holds only with `exclude_unset`.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the wire form (camelCase keys); the input is not modified."""
        return cls.model_validate(data)

    def to_dict(self) -> dict[str, Any]:
        """The wire form: camelCase keys, unknown fields included, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class OwnerReference(K8sModel):
    """Points at the controller or owner of an object; drives garbage collection."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectReference(K8sModel):
    """A reference to another object, as in `Event.involvedObject` or an endpoint's target."""

    api_version: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    field_path: str | None = None


class LocalObjectReference(K8sModel):
    """A name in the same namespace, as in `imagePullSecrets`."""

    name: str | None = None


class ObjectMeta(K8sModel):
    """`metadata` of every object (metav1.ObjectMeta)."""

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[str] | None = None
    managed_fields: list[dict[str, Any]] | None = None


class LabelSelectorRequirement(K8sModel):
    """One `matchExpressions` entry: `key`, `operator` (In, NotIn, Exists, DoesNotExist)."""

    key: str
    operator: str
    values: list[str] | None = None


class LabelSelector(K8sModel):
    """metav1.LabelSelector: matchLabels AND every matchExpressions entry."""

    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class TypedObject(K8sModel):
    """A top-level object: `apiVersion`, `kind`, `metadata` always present in `to_dict`.

    Subclasses set the `api_version` and `kind` defaults; they count as set so a
    model built in Python serialises as a complete object.
    """

    api_version: str = "v1"
    kind: str = ""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    def model_post_init(self, context: Any, /) -> None:
        self.__pydantic_fields_set__.update({"api_version", "kind", "metadata"})
