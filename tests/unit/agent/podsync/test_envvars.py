"""Environment and command line by Kubernetes' rules: envFrom, valueFrom, $(VAR), command/args."""

from __future__ import annotations

import base64

import pytest

from agent.podsync.envvars import (
    ConfigError,
    build_env,
    docker_command,
    expand,
    referenced_objects,
)
from agent.podsync.runspec import container_spec, resource_limits, sandbox_spec
from apimachinery.meta import Object
from tests.unit.agent.helpers import make_pod

OBJECTS: dict[tuple[str, str], Object] = {
    ("configmap", "cfg"): {"data": {"color": "blue", "size": "3", "bad-name!": "x"}},
    ("secret", "sec"): {"data": {"password": base64.b64encode(b"s3cret").decode()}},
}


def lookup(kind: str, name: str) -> Object | None:
    return OBJECTS.get((kind, name))


def env_of(container: Object, pod: Object | None = None) -> dict[str, str]:
    return build_env(pod or make_pod("a"), container, lookup, pod_ip="10.0.0.5",
                     host_ip="192.0.2.10")


def test_literal_values_and_references_to_earlier_variables() -> None:
    env = env_of({"env": [{"name": "A", "value": "one"},
                          {"name": "B", "value": "$(A)-two $(MISSING) $$(A)"}]})
    assert env == {"A": "one", "B": "one-two $(MISSING) $(A)"}


def test_value_from_config_maps_secrets_and_pod_fields() -> None:
    pod = make_pod("a")
    pod["metadata"]["labels"] = {"app": "web"}
    env = env_of({"env": [
        {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}},
        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}},
        {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
        {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
    ]}, pod)
    assert env == {"COLOR": "blue", "PW": "s3cret", "NAME": "p", "NS": "ns", "UID": "uid-1",
                   "NODE": "n1", "IP": "10.0.0.5", "HOST": "192.0.2.10", "APP": "web"}


def test_env_from_sources_then_env_overrides() -> None:
    env = env_of({"envFrom": [{"configMapRef": {"name": "cfg"}},
                              {"prefix": "S_", "secretRef": {"name": "sec"}}],
                  "env": [{"name": "color", "value": "red"}]})
    assert env == {"color": "red", "size": "3", "S_password": "s3cret"}  # bad names skipped


@pytest.mark.parametrize(("container", "message"), [
    ({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}]},
     'configmap "nope" not found'),
    ({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}]},
     "couldn't find key k in ConfigMap ns/cfg"),
    ({"envFrom": [{"secretRef": {"name": "nope"}}]}, 'secret "nope" not found'),
])
def test_missing_references_are_config_errors(container: Object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        env_of(container)


def test_optional_references_may_be_missing() -> None:
    env = env_of({"envFrom": [{"configMapRef": {"name": "nope", "optional": True}}],
                  "env": [{"name": "X", "valueFrom": {"secretKeyRef": {
                      "name": "sec", "key": "nope", "optional": True}}}]})
    assert env == {}


def test_resource_field_ref() -> None:
    env = env_of({"resources": {"limits": {"cpu": "500m", "memory": "64Mi"}},
                  "env": [{"name": "CPU", "valueFrom": {"resourceFieldRef": {
                      "resource": "limits.cpu", "divisor": "1m"}}},
                      {"name": "MEM", "valueFrom": {"resourceFieldRef": {
                          "resource": "limits.memory", "divisor": "1Mi"}}}]})
    assert env == {"CPU": "500", "MEM": "64"}


def test_resource_field_ref_reads_the_named_container() -> None:
    pod = make_pod("a", "b")
    pod["spec"]["containers"][1]["resources"] = {"limits": {"memory": "128Mi"}}
    ref = {"resource": "limits.memory", "divisor": "1Mi", "containerName": "b"}
    assert env_of({"name": "a", "env": [{"name": "B_MEM", "valueFrom": {
        "resourceFieldRef": ref}}]}, pod) == {"B_MEM": "128"}
    with pytest.raises(ConfigError, match='container "c" not found'):
        env_of({"name": "a", "env": [{"name": "X", "valueFrom": {"resourceFieldRef": {
            **ref, "containerName": "c"}}}]}, pod)


# Kubernetes' table ("Notes" in "Define a Command and Arguments for a Container"): image
# ENTRYPOINT ["/ep"] CMD ["/cmd"]; what runs is entrypoint (None = the image's) + cmd.
@pytest.mark.parametrize(("container", "entrypoint", "cmd"), [
    ({}, None, None),  # image's ENTRYPOINT and CMD
    ({"command": ["/c"]}, ["/c"], None),  # command only: the image's CMD is dropped
    ({"args": ["a1"]}, None, ["a1"]),  # args only: image's ENTRYPOINT with the args
    ({"command": ["/c"], "args": ["a1"]}, ["/c"], ["a1"]),  # both: the image's ignored
    ({"command": [], "args": []}, None, None),  # empty lists mean "not set"
])
def test_command_and_args_rules(container: Object, entrypoint: list[str] | None,
                                cmd: list[str] | None) -> None:
    assert docker_command(container, {}) == (entrypoint, cmd)


def test_command_and_args_expand_variables() -> None:
    container = {"command": ["echo", "$(GREETING)"], "args": ["$(NAME)", "$$(NAME)"]}
    assert docker_command(container, {"GREETING": "hi", "NAME": "bob"}) == (
        ["echo", "hi"], ["bob", "$(NAME)"])


def test_expand_edge_cases() -> None:
    assert expand("$(A", {"A": "x"}) == "$(A"
    assert expand("cost: $5", {}) == "cost: $5"
    assert expand("$", {}) == "$"


def test_container_spec_joins_the_sandbox_with_limits_and_labels() -> None:
    pod = make_pod("a")
    container = {**pod["spec"]["containers"][0], "workingDir": "/w", "command": ["sleep"],
                 "resources": {"limits": {"cpu": "1500m", "memory": "128Mi"},
                               "requests": {"cpu": "250m"}}}
    spec = container_spec(pod, container, sandbox_id="sb1", restart_count=3,
                          env={"A": "1"}, mounts=())
    assert spec.name == "schooner_a_p_ns_uid-1_3"
    assert spec.join_container == "sb1" and spec.working_dir == "/w"
    assert (spec.nano_cpus, spec.cpu_shares, spec.mem_limit) == (1_500_000_000, 256, 134217728)
    assert spec.labels["schooner.pod.uid"] == "uid-1"
    assert spec.labels["schooner.container.name"] == "a"
    assert spec.labels["schooner.container.restart-count"] == "3"
    assert len(spec.labels["schooner.container.hash"]) == 16
    assert resource_limits({}) == (None, None, None)


def test_sandbox_spec() -> None:
    spec = sandbox_spec(make_pod("a"), attempt=1, image="img", network="pods")
    assert (spec.cmd, spec.network, spec.hostname) == (["sleep", "2147483647"], "pods", "p")
    assert spec.labels["schooner.sandbox"] == "true"
    assert spec.name == "schooner_POD_p_ns_uid-1_1"


def test_referenced_objects() -> None:
    pod = make_pod("a")
    pod["spec"]["containers"][0]["envFrom"] = [{"secretRef": {"name": "s1"}}]
    pod["spec"]["containers"][0]["env"] = [
        {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "k"}}}]
    pod["spec"]["volumes"] = [{"name": "v", "configMap": {"name": "c2"}},
                              {"name": "w", "secret": {"secretName": "s2"}}]
    assert referenced_objects(pod) == {("secret", "s1"), ("configmap", "c1"),
                                       ("configmap", "c2"), ("secret", "s2")}
