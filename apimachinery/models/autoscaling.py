"""Typed autoscaling/v1 Scale: the view of a workload that `{workload}/scale` serves.

Scale is no stored kind: `apiserver.kinds.apps.scale` builds it from a Deployment,
ReplicaSet or StatefulSet and writes `spec.replicas` back. The model gives it the
shape, wire names and protobuf numbers of Kubernetes' type, so the subresource speaks
protobuf as well as JSON (client-go's typed `GetScale`/`UpdateScale`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import ApiVersion, K8sModel, Kind, TypedObject
from apimachinery.models.schema import ProtobufHint, field


class ScaleSpec(K8sModel):
    """The replicas wanted."""

    # Go's int32 with omitempty; "zero" keeps a protobuf `replicas: 0` (scale to zero)
    # that the decoder would otherwise drop as an unset value scalar.
    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"replicas": "zero"}

    replicas: Annotated[int | None, field(
        "The replicas the workload should run; written to its spec.replicas.",
        protobuf=1)] = None


class ScaleStatus(K8sModel):
    """The replicas the workload has, and the selector that counts them."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"replicas": "zero"}

    replicas: Annotated[int | None, field(
        "The workload's status.replicas.", protobuf=1)] = None
    selector: Annotated[str | None, field(
        "The workload's label selector in its string form (`app=web`).",
        protobuf=2)] = None


class Scale(TypedObject):
    """A workload's replicas, as `kubectl scale` and autoscalers read and write them."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "autoscaling/v1"
    kind: Kind = "Scale"
    spec: Annotated[ScaleSpec | None, field(
        "The replicas wanted.", protobuf=2)] = None
    status: Annotated[ScaleStatus | None, field(
        "The replicas the workload has.", protobuf=3)] = None
