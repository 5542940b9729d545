"""The schema the models carry: descriptions, protobuf numbers, list and patch semantics."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import BaseModel

import apimachinery.models as models
from apimachinery.models import (
    Container,
    ContainerPort,
    Deployment,
    DeploymentSpec,
    Event,
    Lease,
    Namespace,
    Node,
    ObjectMeta,
    Pod,
    PodSpec,
    Probe,
    ReplicaSetStatus,
    Service,
    StatefulSet,
    StatefulSetStatus,
    Volume,
    model_for,
    schema,
)

# The shared vocabulary, and the models kinds declare in their own modules (PriorityClass).
from apiserver.kinds import registry

ALL_MODELS = list(schema.iter_models(*(
    m for m in (getattr(models, name) for name in models.__all__)
    if isinstance(m, type) and issubclass(m, models.K8sModel)
), *(kind.model for kind in registry())))
ALL_FIELDS = [meta for model in ALL_MODELS for meta in schema.fields(model).values()]
# Kept typed so validation stays as it was, but Kubernetes' types have no such field.
NOT_IN_KUBERNETES = {("ReplicaSetCondition", "lastUpdateTime"),
                     ("StatefulSetCondition", "lastUpdateTime")}


def where(meta: schema.FieldMeta) -> str:
    return f"{meta.model.__name__}.{meta.json_name}"


def test_the_walk_reaches_every_served_kind_and_nested_model() -> None:
    names = {m.__name__ for m in ALL_MODELS}
    for kind in ("Namespace", "Node", "Pod", "Service", "Endpoints", "ConfigMap", "Secret",
                 "Event", "Deployment", "ReplicaSet", "StatefulSet", "Lease"):
        assert model_for(kind).__name__ in names
    assert {"Container", "Probe", "KeyToPath", "NodeSelectorRequirement", "HostIP",
            "DeploymentCondition", "OwnerReference"} <= names
    assert len(ALL_FIELDS) > 400


def test_every_field_has_a_description() -> None:
    missing = [where(m) for m in ALL_FIELDS if len(m.description.strip()) < 8]
    assert missing == []


def test_every_field_has_a_protobuf_number() -> None:
    missing = [where(m) for m in ALL_FIELDS
               if m.protobuf is None and (m.model.__name__, m.json_name) not in NOT_IN_KUBERNETES]
    assert missing == []
    for model_name, field_name in NOT_IN_KUBERNETES:
        meta = schema.field_meta(getattr(models, model_name), field_name)
        assert meta.protobuf is None
        assert "Not a field of Kubernetes'" in meta.description


def test_protobuf_numbers_are_unique_within_each_message() -> None:
    for model in ALL_MODELS:
        numbers = Counter((m.embedded, m.protobuf) for m in schema.fields(model).values()
                          if m.protobuf is not None)
        assert [n for n, c in numbers.items() if c > 1] == [], model.__name__


def test_every_model_has_its_own_docstring() -> None:
    assert [m.__name__ for m in ALL_MODELS if not (m.__dict__.get("__doc__") or "").strip()] == []


def test_every_list_field_declares_its_list_type() -> None:
    lists = [m for m in ALL_FIELDS if m.is_list]
    assert len(lists) > 40
    assert [where(m) for m in lists if m.list_type is None] == []
    assert [where(m) for m in ALL_FIELDS if not m.is_list and m.list_type is not None] == []


@pytest.mark.parametrize(("model", "path", "number"), [
    (PodSpec, "containers", 2),
    (PodSpec, "volumes", 1),
    (PodSpec, "initContainers", 20),
    (PodSpec, "tolerations", 22),
    (Container, "image", 2),
    (Container, "envFrom", 19),
    (Container, "startupProbe", 22),
    (ContainerPort, "containerPort", 3),
    (ObjectMeta, "name", 1),
    (ObjectMeta, "labels", 11),
    (ObjectMeta, "ownerReferences", 13),
    (ObjectMeta, "managedFields", 17),
    (DeploymentSpec, "replicas", 1),
    (DeploymentSpec, "progressDeadlineSeconds", 9),
    (Pod, "status.podIPs", 12),
    (Pod, "status.containerStatuses.imageID", 7),
    (Node, "spec.podCIDRs", 7),
    (Service, "spec.clusterIPs", 18),
    (Service, "spec.ports.targetPort", 4),
    (StatefulSetStatus, "availableReplicas", 11),
    (Lease, "spec.renewTime", 4),
    (Deployment, "status.conditions.lastTransitionTime", 7),
    (ReplicaSetStatus, "conditions.lastTransitionTime", 3),
    # typed from loose dicts, numbers from k8s.io/api v1.32's protobuf tags
    (PodSpec, "securityContext", 14),
    (PodSpec, "securityContext.seLinuxOptions.level", 4),
    (PodSpec, "securityContext.windowsOptions", 8),
    (PodSpec, "securityContext.windowsOptions.hostProcess", 4),
    (PodSpec, "securityContext.runAsUser", 2),
    (PodSpec, "securityContext.runAsGroup", 6),
    (PodSpec, "securityContext.supplementalGroups", 4),
    (PodSpec, "securityContext.supplementalGroupsPolicy", 12),
    (PodSpec, "securityContext.fsGroup", 5),
    (PodSpec, "securityContext.sysctls.value", 2),
    (PodSpec, "securityContext.fsGroupChangePolicy", 9),
    (PodSpec, "securityContext.seccompProfile.localhostProfile", 2),
    (PodSpec, "securityContext.appArmorProfile", 11),
    (PodSpec, "securityContext.seLinuxChangePolicy", 13),
    (Container, "securityContext", 15),
    (Container, "securityContext.capabilities.drop", 2),
    (Container, "securityContext.privileged", 2),
    (Container, "securityContext.seLinuxOptions", 3),
    (Container, "securityContext.windowsOptions", 10),
    (Container, "securityContext.runAsUser", 4),
    (Container, "securityContext.runAsGroup", 8),
    (Container, "securityContext.runAsNonRoot", 5),
    (Container, "securityContext.readOnlyRootFilesystem", 6),
    (Container, "securityContext.allowPrivilegeEscalation", 7),
    (Container, "securityContext.procMount", 9),
    (Container, "securityContext.seccompProfile", 11),
    (Container, "securityContext.appArmorProfile", 12),
    (Container, "env.valueFrom.resourceFieldRef.divisor", 3),
    (Container, "lifecycle.preStop.sleep.seconds", 1),
    (PodSpec, "affinity.podAffinity", 2),
    (PodSpec, "affinity.podAntiAffinity", 3),
    (PodSpec, "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution", 2),
    (PodSpec, "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"
              ".namespaceSelector", 4),
    (PodSpec, "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"
              ".topologyKey", 3),
    (PodSpec, "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"
              ".mismatchLabelKeys", 6),
    (PodSpec, "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"
              ".podAffinityTerm", 2),
    (PodSpec, "topologySpreadConstraints.whenUnsatisfiable", 3),
    (PodSpec, "topologySpreadConstraints.minDomains", 5),
    (PodSpec, "topologySpreadConstraints.nodeTaintsPolicy", 7),
    (PodSpec, "topologySpreadConstraints.matchLabelKeys", 8),
    (PodSpec, "schedulingGates.name", 1),
    (PodSpec, "dnsConfig", 26),
    (PodSpec, "dnsConfig.searches", 2),
    (PodSpec, "dnsConfig.options.value", 2),
    (StatefulSet, "spec.volumeClaimTemplates", 4),
    (StatefulSet, "spec.volumeClaimTemplates.spec.selector", 4),
    (StatefulSet, "spec.volumeClaimTemplates.spec.resources.requests", 2),
    (StatefulSet, "spec.volumeClaimTemplates.spec.volumeName", 3),
    (StatefulSet, "spec.volumeClaimTemplates.spec.storageClassName", 5),
    (StatefulSet, "spec.volumeClaimTemplates.spec.volumeMode", 6),
    (StatefulSet, "spec.volumeClaimTemplates.spec.dataSource", 7),
    (StatefulSet, "spec.volumeClaimTemplates.spec.dataSourceRef.namespace", 4),
    (StatefulSet, "spec.volumeClaimTemplates.spec.volumeAttributesClassName", 9),
    (StatefulSet, "spec.volumeClaimTemplates.status.allocatedResourceStatuses", 7),
    (StatefulSet, "spec.volumeClaimTemplates.status.modifyVolumeStatus", 9),
    (StatefulSet, "spec.persistentVolumeClaimRetentionPolicy.whenScaled", 2),
    (StatefulSet, "spec.ordinals.start", 1),
    (Node, "status.daemonEndpoints.kubeletEndpoint.Port", 1),
    (Node, "status.nodeInfo.machineID", 1),
    (Node, "status.nodeInfo.osImage", 5),
    (Node, "status.nodeInfo.kubeProxyVersion", 8),
    (Node, "status.nodeInfo.architecture", 10),
    (Node, "status.images.sizeBytes", 2),
    (Node, "status.volumesAttached.devicePath", 2),
    (Service, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 1),
    (Service, "status.loadBalancer.ingress.ipMode", 3),
    (Service, "status.loadBalancer.ingress.ports.error", 3),
    (Service, "status.conditions.observedGeneration", 3),
    (Service, "status.conditions.lastTransitionTime", 4),
    (Event, "series.lastObservedTime", 2),
    (Namespace, "status.conditions.lastTransitionTime", 4),
])
def test_protobuf_numbers_are_kubernetes(model: type[BaseModel], path: str,
                                         number: int) -> None:
    assert schema.resolve(model, path).protobuf == number


@pytest.mark.parametrize(("model", "path", "embedded", "number"), [
    (Volume, "emptyDir", ("volumeSource", 2), 2),
    (Volume, "configMap", ("volumeSource", 2), 19),
    (Probe, "httpGet", ("handler", 1), 2),
    (Pod, "spec.containers.env.valueFrom.secretKeyRef.name", ("localObjectReference", 1), 1),
    (Pod, "apiVersion", schema.TYPE_META, 1),
    (Deployment, "kind", schema.TYPE_META, 2),
])
def test_fields_of_inline_structs_name_their_member(model: type[BaseModel], path: str,
                                                    embedded: tuple[str, int],
                                                    number: int) -> None:
    meta = schema.resolve(model, path)
    assert (meta.embedded, meta.protobuf) == (embedded, number)
    assert schema.resolve(Pod, "metadata").embedded is None


@pytest.mark.parametrize(("path", "keys", "merge_key", "strategy"), [
    ("spec.containers", ("name",), "name", "merge"),
    ("spec.initContainers", ("name",), "name", "merge"),
    ("spec.containers.ports", ("containerPort", "protocol"), "containerPort", "merge"),
    ("spec.containers.env", ("name",), "name", "merge"),
    ("spec.containers.volumeMounts", ("mountPath",), "mountPath", "merge"),
    ("spec.volumes", ("name",), "name", "merge,retainKeys"),
    ("spec.imagePullSecrets", ("name",), "name", "merge"),
    ("status.conditions", ("type",), "type", "merge"),
    ("status.podIPs", ("ip",), "ip", "merge"),
    ("metadata.ownerReferences", ("uid",), "uid", "merge"),
])
def test_pod_list_maps_and_merge_keys(path: str, keys: tuple[str, ...], merge_key: str,
                                      strategy: str) -> None:
    meta = schema.resolve(Pod, path)
    assert (meta.list_type, meta.list_map_keys) == ("map", keys)
    assert (meta.merge_key, meta.patch_strategy) == (merge_key, strategy)


@pytest.mark.parametrize(("model", "path", "list_type", "keys", "merge_key", "strategy"), [
    (Service, "spec.ports", "map", ("port", "protocol"), "port", "merge"),
    (Node, "status.conditions", "map", ("type",), "type", "merge"),
    (Node, "status.addresses", "map", ("type",), "type", "merge"),
    (Node, "spec.podCIDRs", "set", (), None, "merge"),
    (Node, "spec.taints", "atomic", (), None, None),
    (Deployment, "status.conditions", "map", ("type",), "type", "merge"),
    (Deployment, "spec.template.metadata.finalizers", "set", (), None, "merge"),
    (Pod, "spec.tolerations", "atomic", (), None, None),
    (Pod, "spec.containers.args", "atomic", (), None, None),
    (Pod, "status.hostIPs", "atomic", (), "ip", "merge"),
    (Pod, "spec.topologySpreadConstraints", "map", ("topologyKey", "whenUnsatisfiable"),
     "topologyKey", "merge"),
    (Pod, "spec.schedulingGates", "map", ("name",), "name", "merge"),
    (Pod, "spec.securityContext.sysctls", "atomic", (), None, None),
    (Pod, "spec.containers.securityContext.capabilities.add", "atomic", (), None, None),
    (Pod, "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
     "atomic", (), None, None),
    (StatefulSet, "spec.volumeClaimTemplates", "atomic", (), None, None),
    (StatefulSet, "spec.volumeClaimTemplates.spec.accessModes", "atomic", (), None, None),
    (StatefulSet, "spec.volumeClaimTemplates.status.conditions", "map", ("type",), "type",
     "merge"),
    (Node, "status.images", "atomic", (), None, None),
    (Service, "status.conditions", "map", ("type",), "type", "merge"),
    (Namespace, "status.conditions", "map", ("type",), "type", "merge"),
])
def test_list_semantics_are_kubernetes(model: type[BaseModel], path: str, list_type: str,
                                       keys: tuple[str, ...], merge_key: str | None,
                                       strategy: str | None) -> None:
    meta = schema.resolve(model, path)
    assert (meta.list_type, meta.list_map_keys, meta.merge_key, meta.patch_strategy) == (
        list_type, keys, merge_key, strategy)


def test_a_map_field_may_carry_a_patch_strategy() -> None:
    strategy = schema.field_meta(DeploymentSpec, "strategy")
    assert strategy.patch_strategy == "retainKeys" and strategy.list_type is None
    assert schema.field_meta(PodSpec, "volumes").patch_strategies == {"merge", "retainKeys"}


def test_the_json_schema_carries_the_openapi_extensions() -> None:
    props = PodSpec.model_json_schema(by_alias=True)["properties"]
    assert props["containers"]["x-kubernetes-list-type"] == "map"
    assert props["containers"]["x-kubernetes-list-map-keys"] == ["name"]
    assert props["containers"]["x-kubernetes-patch-merge-key"] == "name"
    assert props["containers"]["x-kubernetes-patch-strategy"] == "merge"
    assert props["containers"]["x-schooner-protobuf"] == 2
    assert props["hostPID"]["description"] == schema.field_meta(PodSpec, "host_pid").description


def test_field_meta_takes_wire_or_attribute_names() -> None:
    by_wire = schema.field_meta(PodSpec, "hostPID")
    assert by_wire is schema.field_meta(PodSpec, "host_pid")
    assert (by_wire.name, by_wire.json_name, by_wire.required) == ("host_pid", "hostPID", False)
    assert schema.field_meta(PodSpec, "containers").required
    with pytest.raises(KeyError, match="PodSpec has no field 'nope'"):
        schema.field_meta(PodSpec, "nope")


def test_resolve_walks_through_lists_and_stops_where_the_models_do() -> None:
    image = schema.resolve(Deployment, "spec.template.spec.containers.image")
    assert (image.model, image.json_name) == (Container, "image")
    assert schema.resolve(Pod, ("spec", "containers")).value_model is Container
    assert schema.find(Pod, "spec.hostAliases") is None  # an extra field
    assert schema.find(Pod, "metadata.managedFields.manager") is None  # a loose dict
    assert schema.resolve(Pod, "spec.securityContext.runAsUser").protobuf == 2
    assert schema.find(Pod, "spec.topologySpreadConstraints") is not None
    with pytest.raises(KeyError, match=r"no typed field at 'spec\.nope\.x'"):
        schema.resolve(Pod, "spec.nope.x")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"protobuf": 0}, "start at 1"),
    ({"protobuf": 1, "list_map_keys": ("a",)}, "list_type='map'"),
    ({"protobuf": 1, "list_type": "map"}, "needs list_map_keys"),
    ({"protobuf": 1, "merge_key": "a"}, "needs patch_strategy"),
    ({"protobuf": 1, "patch_strategy": "merge,explode"}, "unknown patch strategy"),
])
def test_field_refuses_inconsistent_declarations(kwargs: dict[str, object],
                                                 message: str) -> None:
    with pytest.raises(ValueError, match=message):
        schema.field("A description.", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a description"):
        schema.field(" ", protobuf=1)
