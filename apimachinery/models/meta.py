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
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from apimachinery.models.schema import TYPE_META, ProtobufHint, ProtobufZero, field

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
    # Facts of Kubernetes' Go type that the JSON types do not tell, by wire name, for the
    # protobuf codec, which writes bytes as Go's gogo-protobuf does. A subclass's hints
    # add to its bases'.
    # - "pointer": a pointer scalar (`*int32`, `*bool`, `*string`). Go omits it when
    #   unset, so a zero on the wire means something (`replicas: 0`, `optional: false`).
    #   Other scalars are written even when zero, where a zero means "unset".
    # - "value": a struct, Time, IntOrString or Quantity held by value, which Go writes
    #   even when empty (`metadata`, `spec`, `creationTimestamp`, `resources`). Without
    #   the hint such a field is a pointer, written only when present.
    # - "zero": a value scalar Go's JSON always carries (no `omitempty`), so a zero read
    #   from protobuf is kept: PriorityClass `value: 0`.
    # - "bytes": a map of bytes, base64 in JSON (Secret.data); "microtime":
    #   metav1.MicroTime, microseconds in JSON.
    # A field may carry several: `("microtime", "value")`.
    protobuf_hints: ClassVar[Mapping[str, ProtobufHint | tuple[ProtobufHint, ...]]] = {}
    # Value scalars of Kubernetes' Go type that Schooner does not serve (deprecated or not
    # implemented), by wire name: (field number, zero). Go writes them even when zero, so
    # the encoder writes their zero for bytes equal to Kubernetes'; the decoder skips them.
    protobuf_unserved: ClassVar[Mapping[str, tuple[int, ProtobufZero]]] = {}
    # Kubernetes' `+structType=atomic`: server-side apply owns the struct whole, as one
    # field (a LabelSelector, an ObjectReference), instead of field by field.
    struct_type: ClassVar[Literal["atomic", "granular"]] = "granular"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the wire form (camelCase keys); the input is not modified."""
        return cls.model_validate(data)

    def to_dict(self) -> dict[str, Any]:
        """The wire form: camelCase keys, unknown fields included, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class OwnerReference(K8sModel):
    """Points at an object that owns this one; the garbage collector follows these links."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "controller": "pointer", "blockOwnerDeletion": "pointer"}

    api_version: Annotated[str, field(
        "API group and version of the owner, e.g. `apps/v1`.", protobuf=5)]
    kind: Annotated[str, field("Kind of the owner, e.g. `ReplicaSet`.", protobuf=1)]
    name: Annotated[str, field("Name of the owner, in this object's namespace.", protobuf=3)]
    uid: Annotated[str, field(
        "UID of the owner. The garbage collector deletes this object once no owner with this "
        "UID exists any more, so a recreated owner of the same name does not adopt it.",
        protobuf=4)]
    controller: Annotated[bool | None, field(
        "True on the one owner that manages this object (a ReplicaSet for its pods). "
        "Schooner refuses more than one controller reference per object.", protobuf=6)] = None
    block_owner_deletion: Annotated[bool | None, field(
        "When true, a foreground deletion of the owner waits until this object is gone.",
        protobuf=7)] = None


class ObjectReference(K8sModel):
    """A reference to another object, as in `Event.involvedObject` or an endpoint's target."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    api_version: Annotated[str | None, field(
        "API group and version of the referent.", protobuf=5)] = None
    kind: Annotated[str | None, field("Kind of the referent.", protobuf=1)] = None
    namespace: Annotated[str | None, field(
        "Namespace of the referent; empty for cluster-scoped objects.", protobuf=2)] = None
    name: Annotated[str | None, field("Name of the referent.", protobuf=3)] = None
    uid: Annotated[str | None, field("UID of the referent.", protobuf=4)] = None
    resource_version: Annotated[str | None, field(
        "The referent's resourceVersion when the reference was made, if it matters.",
        protobuf=6)] = None
    field_path: Annotated[str | None, field(
        "A part of the referent the reference is about, e.g. `spec.containers{web}` for "
        "an event about one container.", protobuf=7)] = None


class LocalObjectReference(K8sModel):
    """A name in the same namespace, as in `imagePullSecrets`."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    name: Annotated[str | None, field(
        "Name of the referenced object, in the referrer's namespace.", protobuf=1)] = None


class ObjectMeta(K8sModel):
    """`metadata` of every object (metav1.ObjectMeta)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "creationTimestamp": "value", "deletionGracePeriodSeconds": "pointer"}
    protobuf_unserved: ClassVar[Mapping[str, tuple[int, ProtobufZero]]] = {
        "selfLink": (4, "string")}

    name: Annotated[str | None, field(
        "The object's name, unique per kind within its namespace. Required unless "
        "generateName is given; most kinds require a DNS-1123 subdomain, Namespaces a "
        "DNS label and Services a DNS-1035 label. It cannot change.", protobuf=1)] = None
    generate_name: Annotated[str | None, field(
        "A prefix from which the apiserver makes a unique name (five random characters "
        "appended) when `name` is empty.", protobuf=2)] = None
    namespace: Annotated[str | None, field(
        "The namespace of a namespaced object (filled from the request path, required); "
        "refused on cluster-scoped kinds. It cannot change.", protobuf=3)] = None
    uid: Annotated[str | None, field(
        "Set by the apiserver on create, unique for all time; owner references and "
        "delete preconditions name objects by it. It cannot change.", protobuf=5)] = None
    resource_version: Annotated[str | None, field(
        "The etcd revision of the object's last write, set by the apiserver. Sent back on "
        "an update, it makes the write fail with a Conflict if the object changed since; "
        "watches resume from it.", protobuf=6)] = None
    generation: Annotated[int | None, field(
        "Counts changes to the object's desired state, set by the apiserver; controllers "
        "report the generation they acted on as status.observedGeneration.",
        protobuf=7)] = None
    creation_timestamp: Annotated[Time | None, field(
        "When the apiserver stored the object first (RFC 3339, set by the server). It "
        "cannot change.", protobuf=8)] = None
    deletion_timestamp: Annotated[Time | None, field(
        "Set by the apiserver when deletion was asked for but finalizers, or a pod's "
        "graceful termination, still hold the object; read-only for clients.",
        protobuf=9)] = None
    deletion_grace_period_seconds: Annotated[int | None, field(
        "The grace period of a pending deletion, in seconds, set with deletionTimestamp; "
        "the agent gives a deleted pod's containers this long to stop.",
        protobuf=10)] = None
    labels: Annotated[dict[str, str] | None, field(
        "Key/value pairs selectors match: Services, ReplicaSets, Deployments and "
        "`kubectl get -l` find objects by them. Keys are qualified names, values label "
        "values.", protobuf=11)] = None
    annotations: Annotated[dict[str, str] | None, field(
        "Key/value pairs for tools and controllers (kubectl's last-applied "
        "configuration, a Deployment's revision); not used to select objects. At most "
        "256 KiB in total.", protobuf=12)] = None
    owner_references: Annotated[list[OwnerReference] | None, field(
        "The objects this one depends on. The garbage collector deletes the object when "
        "all its owners are gone, unless it is orphaned.", protobuf=13, list_type="map",
        list_map_keys=("uid",), merge_key="uid", patch_strategy="merge")] = None
    finalizers: Annotated[list[str] | None, field(
        "Names of cleanups that must finish before the object is removed: a deletion only "
        "sets deletionTimestamp while this list is non-empty, and each controller removes "
        "its own entry when done.", protobuf=14, list_type="set",
        patch_strategy="merge")] = None
    managed_fields: Annotated[list[dict[str, Any]] | None, field(
        "Which manager owns which fields (FieldsV1), kept by the apiserver on every write: "
        "server-side apply's conflicts and removals follow it.", protobuf=17,
        list_type="atomic")] = None


class LabelSelectorRequirement(K8sModel):
    """One `matchExpressions` entry: `key`, `operator` (In, NotIn, Exists, DoesNotExist)."""

    key: Annotated[str, field("The label key the requirement tests.", protobuf=1)]
    operator: Annotated[str, field(
        "How the label is tested: In, NotIn, Exists or DoesNotExist.", protobuf=2)]
    values: Annotated[list[str] | None, field(
        "The values In and NotIn compare with (at least one); must be empty for Exists "
        "and DoesNotExist.", protobuf=3, list_type="atomic")] = None


class LabelSelector(K8sModel):
    """metav1.LabelSelector: matchLabels AND every matchExpressions entry."""

    struct_type: ClassVar[Literal["atomic", "granular"]] = "atomic"

    match_labels: Annotated[dict[str, str] | None, field(
        "Labels an object must carry with exactly these values.", protobuf=1)] = None
    match_expressions: Annotated[list[LabelSelectorRequirement] | None, field(
        "Further requirements, all of which must hold as well as matchLabels.",
        protobuf=2, list_type="atomic")] = None


class Condition(K8sModel):
    """metav1.Condition: one aspect of an object's state, the shape newer kinds share."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"lastTransitionTime": "value"}

    type: Annotated[str | None, field(
        "The aspect, in CamelCase (or `foo.example.com/CamelCase`).", protobuf=1)] = None
    status: Annotated[str | None, field("True, False or Unknown.", protobuf=2)] = None
    observed_generation: Annotated[int | None, field(
        "The metadata.generation the condition was set for.", protobuf=3)] = None
    last_transition_time: Annotated[Time | None, field(
        "When status last changed.", protobuf=4)] = None
    reason: Annotated[str | None, field(
        "A CamelCase reason for the last transition.", protobuf=5)] = None
    message: Annotated[str | None, field(
        "Details of the transition, for people.", protobuf=6)] = None


# `apiVersion` and `kind` of every top-level object: TypeMeta's fields, which the protobuf
# encoding carries in the runtime.Unknown envelope (`schema.TYPE_META`).
ApiVersion = Annotated[str, field(
    "The API group and version the object is written in (`v1`, `apps/v1`); the "
    "apiserver fills it in on every object it returns.", protobuf=1, embedded=TYPE_META)]
Kind = Annotated[str, field(
    "The object's kind (`Pod`, `Deployment`), which picks its schema; the apiserver "
    "fills it in on every object it returns.", protobuf=2, embedded=TYPE_META)]
Metadata = Annotated[ObjectMeta, field(
    "The object's metadata: name, namespace, labels, owners and the fields the apiserver "
    "sets.", protobuf=1)]


class TypedObject(K8sModel):
    """A top-level object: `apiVersion`, `kind`, `metadata` always present in `to_dict`.

    Subclasses set the `api_version` and `kind` defaults (annotated with
    `ApiVersion` and `Kind`); they count as set so a model built in Python
    serialises as a complete object.
    """

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint | tuple[ProtobufHint, ...]]] = {
        "metadata": "value"}

    api_version: ApiVersion = "v1"
    kind: Kind = ""
    metadata: Metadata = Field(default_factory=ObjectMeta)

    def model_post_init(self, context: Any, /) -> None:
        self.__pydantic_fields_set__.update({"api_version", "kind", "metadata"})
