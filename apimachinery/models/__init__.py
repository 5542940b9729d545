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
    StatefulSetOrdinals,
    StatefulSetPersistentVolumeClaimRetentionPolicy,
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
    ObjectFieldSelector,
    ResourceFieldSelector,
    ResourceRequirements,
    SecretEnvSource,
    SecretKeySelector,
    VolumeMount,
)
from apimachinery.models.coordination import Lease, LeaseSpec
from apimachinery.models.core import (
    ClientIPConfig,
    ConfigMap,
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSubset,
    Event,
    EventSeries,
    EventSource,
    LoadBalancerIngress,
    LoadBalancerStatus,
    Namespace,
    NamespaceCondition,
    NamespaceSpec,
    NamespaceStatus,
    Pod,
    PortStatus,
    Secret,
    Service,
    ServicePort,
    ServiceSpec,
    ServiceStatus,
    SessionAffinityConfig,
)
from apimachinery.models.discovery import (
    Endpoint,
    EndpointConditions,
    EndpointHints,
    EndpointSlice,
    ForZone,
)
from apimachinery.models.meta import (
    Condition,
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
from apimachinery.models.node import (
    AttachedVolume,
    ContainerImage,
    DaemonEndpoint,
    Node,
    NodeAddress,
    NodeCondition,
    NodeDaemonEndpoints,
    NodeSpec,
    NodeStatus,
    NodeSystemInfo,
    Taint,
)
from apimachinery.models.pod import (
    ConfigMapVolumeSource,
    EmptyDirVolumeSource,
    HostIP,
    HostPathVolumeSource,
    KeyToPath,
    PersistentVolumeClaimVolumeSource,
    PodCondition,
    PodIP,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    SecretVolumeSource,
    Volume,
)
from apimachinery.models.probe import (
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    HTTPHeader,
    Lifecycle,
    LifecycleHandler,
    Probe,
    SleepAction,
    TCPSocketAction,
)
from apimachinery.models.scheduling import (
    Affinity,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodAffinity,
    PodAffinityTerm,
    PodAntiAffinity,
    PodSchedulingGate,
    PreferredSchedulingTerm,
    Toleration,
    TopologySpreadConstraint,
    WeightedPodAffinityTerm,
)
from apimachinery.models.security import (
    AppArmorProfile,
    Capabilities,
    PodSecurityContext,
    SeccompProfile,
    SecurityContext,
    SELinuxOptions,
    Sysctl,
    WindowsSecurityContextOptions,
)
from apimachinery.models.serviceaccount import ServiceAccount
from apimachinery.models.storage import (
    ModifyVolumeStatus,
    PersistentVolumeClaim,
    PersistentVolumeClaimCondition,
    PersistentVolumeClaimSpec,
    PersistentVolumeClaimStatus,
    TypedLocalObjectReference,
    TypedObjectReference,
    VolumeResourceRequirements,
)

_BY_KIND: dict[str, type[TypedObject]] = {
    model.model_fields["kind"].default: model
    for model in (Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret, Event,
                  Deployment, ReplicaSet, StatefulSet, Lease, EndpointSlice, ServiceAccount)
}


def model_for(kind: str) -> type[TypedObject]:
    """The model class for `kind` (`"Pod"` -> `Pod`); KeyError names unknown kinds."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise KeyError(f"no model for kind {kind!r}") from None


__all__ = [
    "Affinity", "AppArmorProfile", "AttachedVolume", "Capabilities", "ClientIPConfig", "Condition",
    "ConfigMap", "ConfigMapEnvSource", "ConfigMapKeySelector", "ConfigMapVolumeSource", "Container",
    "ContainerImage", "ContainerPort", "ContainerState", "ContainerStateRunning",
    "ContainerStateTerminated", "ContainerStateWaiting", "ContainerStatus", "DaemonEndpoint",
    "Deployment", "DeploymentCondition", "DeploymentSpec", "DeploymentStatus", "DeploymentStrategy",
    "EmptyDirVolumeSource", "Endpoint", "EndpointAddress", "EndpointConditions",
    "EndpointHints", "EndpointPort", "EndpointSlice", "EndpointSubset", "Endpoints",
    "EnvFromSource", "EnvVar", "EnvVarSource", "Event", "EventSeries", "EventSource", "ExecAction",
    "ForZone", "GRPCAction", "HTTPGetAction", "HTTPHeader", "HostIP", "HostPathVolumeSource",
    "IntOrString",
    "K8sModel", "KeyToPath", "LabelSelector", "LabelSelectorRequirement", "Lease", "LeaseSpec",
    "Lifecycle", "LifecycleHandler", "LoadBalancerIngress", "LoadBalancerStatus",
    "LocalObjectReference", "ModifyVolumeStatus", "Namespace", "NamespaceCondition",
    "NamespaceSpec", "NamespaceStatus", "Node", "NodeAddress", "NodeAffinity", "NodeCondition",
    "NodeDaemonEndpoints", "NodeSelector", "NodeSelectorRequirement", "NodeSelectorTerm",
    "NodeSpec", "NodeStatus", "NodeSystemInfo", "ObjectFieldSelector", "ObjectMeta",
    "ObjectReference", "OwnerReference", "PersistentVolumeClaim", "PersistentVolumeClaimCondition",
    "PersistentVolumeClaimSpec", "PersistentVolumeClaimStatus", "PersistentVolumeClaimVolumeSource",
    "Pod", "PodAffinity", "PodAffinityTerm", "PodAntiAffinity", "PodCondition", "PodIP",
    "PodSchedulingGate", "PodSecurityContext", "PodSpec", "PodStatus", "PodTemplateSpec",
    "PortStatus", "PreferredSchedulingTerm", "Probe", "Quantity", "ReplicaSet",
    "ReplicaSetCondition", "ReplicaSetSpec", "ReplicaSetStatus", "ResourceFieldSelector",
    "ResourceList", "ResourceRequirements", "RollingUpdateDeployment",
    "RollingUpdateStatefulSetStrategy", "SELinuxOptions", "SeccompProfile", "Secret",
    "SecretEnvSource", "SecretKeySelector", "SecretVolumeSource", "SecurityContext", "Service",
    "ServicePort", "ServiceSpec", "ServiceStatus", "SessionAffinityConfig", "SleepAction",
    "StatefulSet", "StatefulSetCondition", "StatefulSetOrdinals",
    "StatefulSetPersistentVolumeClaimRetentionPolicy", "StatefulSetSpec", "StatefulSetStatus",
    "StatefulSetUpdateStrategy", "Sysctl", "TCPSocketAction", "Taint", "Time", "Toleration",
    "TopologySpreadConstraint", "TypedLocalObjectReference", "TypedObject", "TypedObjectReference",
    "Volume", "VolumeMount", "VolumeResourceRequirements", "WeightedPodAffinityTerm",
    "WindowsSecurityContextOptions", "model_for", "schema"
]
