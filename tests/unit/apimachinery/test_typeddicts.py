"""The TypedDicts of apimachinery/typeddicts.py stay those of the models, and the accessors."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

import apimachinery.models as models
from apimachinery import meta, typeddicts, typeddicts_gen
from apimachinery.models import schema


def test_committed_module_is_what_the_models_generate() -> None:
    """A model changed without `python -m apimachinery.typeddicts_gen` fails here."""
    assert typeddicts_gen.TARGET.read_text() == typeddicts_gen.render(), (
        "apimachinery/typeddicts.py is out of date: run python -m apimachinery.typeddicts_gen")


def test_check_mode_passes_on_the_committed_module() -> None:
    assert typeddicts_gen.main(["--check"]) == 0


@pytest.mark.parametrize("model", typeddicts_gen._models(), ids=lambda m: m.__name__)
def test_each_typeddict_has_its_models_wire_keys(model: type[BaseModel]) -> None:
    typed = getattr(typeddicts, typeddicts_gen.typed_name(model))
    assert typed.__total__ is False
    assert list(typed.__annotations__) == list(schema.fields(model))


def test_every_served_kind_is_covered() -> None:
    for kind in ("Namespace", "Node", "Pod", "Service", "Endpoints", "ConfigMap", "Secret",
                 "Event", "Deployment", "ReplicaSet", "StatefulSet", "Lease"):
        assert models.model_for(kind).__name__ == kind
        assert hasattr(typeddicts, kind)


def test_value_types_follow_the_models() -> None:
    hints = typing.get_type_hints(typeddicts.PodSpec)
    assert hints["containers"] == list[typeddicts.Container]
    assert hints["nodeSelector"] == dict[str, str]
    assert hints["nodeName"] is str
    assert hints["securityContext"] is typeddicts.PodSecurityContext
    assert typing.get_type_hints(typeddicts.ObjectMeta)["managedFields"] == list[
        dict[str, typing.Any]]
    assert typing.get_type_hints(typeddicts.ServicePort)["targetPort"] == int | str
    assert typing.get_type_hints(typeddicts.NodeStatus)["allocatable"] == dict[
        str, str | int | float]
    # the models' aliases, not the attribute names, are the keys
    assert "hostIP" in typing.get_type_hints(typeddicts.PodStatus)
    assert "podCIDR" in typing.get_type_hints(typeddicts.NodeSpec)


def test_spec_and_status_accessors_read_absent_and_null_as_empty() -> None:
    pod: typeddicts.Pod = {"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    assert meta.pod_spec(pod) == {"nodeName": "n1"}
    assert meta.pod_spec(pod) is pod["spec"]
    assert meta.pod_status(pod) == {"phase": "Running"}
    assert meta.spec_of(pod) is pod["spec"]
    assert meta.status_of({"status": None}) == {}
    assert meta.pod_spec({}) == {}
    assert meta.node_status({}) == {}
    assert meta.deployment_spec({"spec": {"replicas": 2}}) == {"replicas": 2}


def test_undeclared_reads_a_key_no_typeddict_has() -> None:
    spec: typeddicts.PodSpec = {"containers": []}
    assert meta.undeclared(spec, "overhead") is None
    assert meta.undeclared({"overhead": {"cpu": "1"}}, "overhead") == {"cpu": "1"}
