"""Typed views of the objects Schooner serves, in Kubernetes' wire format.

    pod = Pod.from_dict(obj)          # camelCase dict -> model
    pod.spec.containers[0].image      # snake_case attributes
    obj = pod.to_dict()               # back to the wire dict, nothing lost

`model_for(kind)` picks the model for an object's `kind`, as the apiserver's
validation does. Every field carries its description, Kubernetes' protobuf
number and its list and patch semantics (`apimachinery.models.schema`):

    schema.field_meta(PodSpec, "containers").merge_key   # "name"
    schema.resolve(Pod, "spec.containers.image").protobuf  # 2
"""

from __future__ import annotations

from apimachinery.models import schema
from apimachinery.models.apps import (
    Deployment,
    DeploymentCondition,
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    ReplicaSet,
    ReplicaSetCondition,
    ReplicaSetSpec,
    ReplicaSetStatus,
    RollingUpdateDeployment,
    RollingUpdateStatefulSetStrategy,
    StatefulSet,
    StatefulSetCondition,
    StatefulSetSpec,
    StatefulSetStatus,
    StatefulSetUpdateStrategy,
)
from apimachinery.models.container import (
    ConfigMapEnvSource,
    ConfigMapKeySelector,
    Container,
    ContainerPort,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    EnvFromSource,
    EnvVar,
    EnvVarSource,
    ExecAction,
    HTTPGetAction,
    HTTPHeader,
    Lifecycle,
    LifecycleHandler,
    ObjectFieldSelector,
    Probe,
    ResourceRequirements,
    SecretEnvSource,
    SecretKeySelector,
    TCPSocketAction,
    VolumeMount,
)
from apimachinery.models.coordination import Lease, LeaseSpec
from apimachinery.models.core import (
    ConfigMap,
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSubset,
    Event,
    EventSource,
    Namespace,
    NamespaceSpec,
    NamespaceStatus,
    Node,
    NodeAddress,
    NodeCondition,
    NodeSpec,
    NodeStatus,
    Pod,
    Secret,
    Service,
    ServicePort,
    ServiceSpec,
    ServiceStatus,
    Taint,
)
from apimachinery.models.meta import (
    IntOrString,
    K8sModel,
    LabelSelector,
    LabelSelectorRequirement,
    LocalObjectReference,
    ObjectMeta,
    ObjectReference,
    OwnerReference,
    Quantity,
    ResourceList,
    Time,
    TypedObject,
)
from apimachinery.models.pod import (
    Affinity,
    ConfigMapVolumeSource,
    EmptyDirVolumeSource,
    HostIP,
    HostPathVolumeSource,
    KeyToPath,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PersistentVolumeClaimVolumeSource,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    PreferredSchedulingTerm,
    SecretVolumeSource,
    Toleration,
    Volume,
)

_BY_KIND: dict[str, type[TypedObject]] = {
    model.model_fields["kind"].default: model
    for model in (Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret, Event,
                  Deployment, ReplicaSet, StatefulSet, Lease)
}


def model_for(kind: str) -> type[TypedObject]:
    """The model class for `kind` (`"Pod"` -> `Pod`); KeyError names unknown kinds."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise KeyError(f"no model for kind {kind!r}") from None


__all__ = [
    "Affinity", "ConfigMap", "ConfigMapEnvSource", "ConfigMapKeySelector", "ConfigMapVolumeSource",
    "Container", "ContainerPort", "ContainerState", "ContainerStateRunning",
    "ContainerStateTerminated", "ContainerStateWaiting", "ContainerStatus", "Deployment",
    "DeploymentCondition", "DeploymentSpec", "DeploymentStatus", "DeploymentStrategy",
    "EmptyDirVolumeSource", "EndpointAddress", "EndpointPort", "EndpointSubset", "Endpoints",
    "EnvFromSource", "EnvVar", "EnvVarSource", "Event", "EventSource", "ExecAction",
    "HTTPGetAction", "HTTPHeader", "HostIP", "HostPathVolumeSource", "IntOrString", "K8sModel",
    "KeyToPath", "LabelSelector", "LabelSelectorRequirement", "Lease", "LeaseSpec", "Lifecycle",
    "LifecycleHandler", "LocalObjectReference", "Namespace", "NamespaceSpec", "NamespaceStatus",
    "Node", "NodeAddress", "NodeAffinity", "NodeCondition", "NodeSelector",
    "NodeSelectorRequirement", "NodeSelectorTerm", "NodeSpec", "NodeStatus", "ObjectFieldSelector",
    "ObjectMeta", "ObjectReference", "OwnerReference", "PersistentVolumeClaimVolumeSource", "Pod",
    "PodCondition", "PodIP", "PodSpec", "PodStatus", "PodTemplateSpec", "PreferredSchedulingTerm",
    "Probe", "Quantity", "ReplicaSet", "ReplicaSetCondition", "ReplicaSetSpec", "ReplicaSetStatus",
    "ResourceList", "ResourceRequirements", "RollingUpdateDeployment",
    "RollingUpdateStatefulSetStrategy", "Secret", "SecretEnvSource", "SecretKeySelector",
    "SecretVolumeSource", "Service", "ServicePort", "ServiceSpec", "ServiceStatus", "StatefulSet",
    "StatefulSetCondition", "StatefulSetSpec", "StatefulSetStatus", "StatefulSetUpdateStrategy",
    "TCPSocketAction", "Taint", "Time", "Toleration", "TypedObject", "Volume", "VolumeMount",
    "model_for", "schema"
]
