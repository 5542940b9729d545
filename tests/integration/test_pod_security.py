"""Pod Security admission on a real apiserver, and a real controller-manager's FailedCreate.

Schooner's default level is `baseline`: without any label a namespace refuses
the node's root, its Docker socket and its network; a `restricted` namespace
asks for everything Kubernetes' restricted standard does; `warn` answers with
a Warning header. A Deployment is admitted with a warning, and its
ReplicaSet's pod creates fail with a FailedCreate event naming the violation.
This module runs its own etcd and apiserver, so its controller-manager never
touches other modules' objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apimachinery.meta import Object
from cli.cluster.processes import Apiserver, own_control_plane, start_controller_manager, wait_for

P = "pod-security.kubernetes.io/"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    with own_control_plane(tmp_path_factory.mktemp("psa")) as server:
        yield server


@pytest.fixture(scope="module")
def http(apiserver: Apiserver) -> Iterator[httpx.Client]:
    with apiserver.http() as client:
        yield client


def _namespace(http: httpx.Client, labels: dict[str, str] | None = None) -> str:
    name = f"psa-{uuid.uuid4().hex[:8]}"
    resp = http.post("/api/v1/namespaces",
                     json={"metadata": {"name": name, "labels": labels or {}}})
    assert resp.status_code == 201, resp.text
    return name


def _pod(name: str, *, volumes: list[Object] | None = None, container: Object | None = None,
         **spec: Any) -> Object:
    body = {"name": "c", "image": "busybox", **(container or {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [body], "volumes": volumes or [], **spec}}


def _create(http: httpx.Client, ns: str, pod: Object) -> httpx.Response:
    return http.post(f"/api/v1/namespaces/{ns}/pods", json=pod)


def _host_path(name: str, path: str) -> list[Object]:
    return [{"name": name, "hostPath": {"path": path}}]


@pytest.mark.parametrize(("pod", "why"), [
    (_pod("x", volumes=_host_path("root", "/")), 'hostPath volumes (volume "root")'),
    (_pod("sock", volumes=_host_path("docker", "/var/run/docker.sock")),
     'hostPath volumes (volume "docker")'),
    (_pod("pid", hostPID=True, hostIPC=True), "host namespaces (hostIPC, hostPID)"),
    (_pod("net", hostNetwork=True), "host namespaces (hostNetwork)"),
    (_pod("port", container={"ports": [{"containerPort": 80, "hostPort": 8080}]}),
     'hostPort (container "c" uses hostPort 8080)'),
    (_pod("caps", container={"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}),
     'non-default capabilities (container "c" must not include "SYS_ADMIN" in '
     "securityContext.capabilities.add)"),
])
def test_a_namespace_without_labels_refuses_what_baseline_refuses(
        http: httpx.Client, pod: Object, why: str) -> None:
    ns = _namespace(http)
    resp = _create(http, ns, pod)
    assert resp.status_code == 403, resp.text
    name = pod["metadata"]["name"]
    assert resp.json()["reason"] == "Forbidden"
    assert resp.json()["message"] == \
        f'pods "{name}" is forbidden: violates PodSecurity "baseline:latest": {why}'
    assert http.get(f"/api/v1/namespaces/{ns}/pods/{name}").status_code == 404


def test_a_privileged_namespace_and_kube_system_admit_host_paths(http: httpx.Client) -> None:
    ns = _namespace(http, {P + "enforce": "privileged"})
    assert _create(http, ns, _pod("root", volumes=_host_path("root", "/"))).status_code == 201
    resp = _create(http, "kube-system", _pod(f"net-{ns}", hostNetwork=True))
    assert resp.status_code == 201, resp.text
    http.delete(f"/api/v1/namespaces/kube-system/pods/net-{ns}")


@pytest.mark.parametrize(("pod", "field", "why"), [
    (_pod("priv", container={"securityContext": {"privileged": True}}),
     "spec.containers[0].securityContext.privileged",
     "Forbidden: privileged containers are not supported: the Docker engines of Schooner's "
     "nodes (these machines' and the lab nodes') refuse them"),
    (_pod("se", securityContext={"seLinuxOptions": {"type": "spc_t"}}),
     "spec.securityContext.seLinuxOptions",
     "Forbidden: SELinux labelling is not supported by Schooner's agent"),
])
def test_what_the_agent_cannot_carry_is_a_422_even_in_a_privileged_namespace(
        http: httpx.Client, pod: Object, field: str, why: str) -> None:
    ns = _namespace(http, {P + "enforce": "privileged"})
    resp = _create(http, ns, pod)
    assert resp.status_code == 422, resp.text
    assert resp.json()["details"]["causes"] == [
        {"reason": "FieldValueForbidden", "field": field, "message": why}]
    deployment = _deployment("d")
    deployment["spec"]["template"]["spec"] = pod["spec"]
    resp = http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment)
    assert resp.status_code == 422, resp.text
    assert resp.json()["details"]["causes"][0]["field"] == \
        field.replace("spec.", "spec.template.spec.", 1)


def test_restricted_refuses_a_plain_pod_and_admits_a_hardened_one(http: httpx.Client) -> None:
    ns = _namespace(http, {P + "enforce": "restricted"})
    resp = _create(http, ns, _pod("plain"))
    assert resp.status_code == 403, resp.text
    assert resp.json()["message"] == (
        'pods "plain" is forbidden: violates PodSecurity "restricted:latest": '
        'allowPrivilegeEscalation != false (container "c" must set '
        "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
        '(container "c" must set securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "c" must set '
        'securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set '
        'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
    hardened = _pod("hard", container={"securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}},
        securityContext={"runAsNonRoot": True, "runAsUser": 1000,
                         "seccompProfile": {"type": "RuntimeDefault"}})
    resp = _create(http, ns, hardened)
    assert resp.status_code == 201, resp.text
    assert not resp.headers.get_list("warning")


def test_warn_admits_with_a_warning_header(http: httpx.Client) -> None:
    ns = _namespace(http, {P + "enforce": "baseline", P + "warn": "restricted",
                           P + "warn-version": "v1.21"})
    resp = _create(http, ns, _pod("w"))
    assert resp.status_code == 201, resp.text
    # At v1.21 the restricted standard had no capabilities check yet.
    assert resp.headers.get_list("warning") == [
        '299 - "would violate PodSecurity \\"restricted:v1.21\\": '
        'allowPrivilegeEscalation != false (container \\"c\\" must set '
        "securityContext.allowPrivilegeEscalation=false), runAsNonRoot != true "
        '(pod or container \\"c\\" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container \\"c\\" must set '
        'securityContext.seccompProfile.type to \\"RuntimeDefault\\" or \\"Localhost\\")"']


def test_a_bad_pod_security_label_is_a_422_naming_it(http: httpx.Client) -> None:
    resp = http.post("/api/v1/namespaces", json={"metadata": {
        "name": f"bad-{uuid.uuid4().hex[:8]}", "labels": {P + "enforce": "strict"}}})
    assert resp.status_code == 422, resp.text
    assert resp.json()["details"]["causes"] == [{
        "reason": "FieldValueInvalid", "field": f"metadata.labels[{P}enforce]",
        "message": 'Invalid value: "strict": must be one of privileged, baseline, restricted'}]


def _deployment(name: str) -> Object:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "containers": [{"name": "c", "image": "busybox"}],
                         "volumes": _host_path("root", "/")}}}}


def test_a_deployment_is_warned_and_its_pods_fail_with_failed_create(
        apiserver: Apiserver, http: httpx.Client, tmp_path: Path) -> None:
    ns = _namespace(http)
    resp = http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=_deployment("web"))
    assert resp.status_code == 201, resp.text
    assert resp.headers.get_list("warning") == [
        '299 - "would violate PodSecurity \\"baseline:latest\\": '
        'hostPath volumes (volume \\"root\\")"']
    manager = start_controller_manager(apiserver.component_kubeconfig(
        tmp_path / "kubeconfig", "controller-manager"),
                                       tmp_path / "controller-manager.log")
    try:
        def failed_create() -> Object | None:
            events = http.get(f"/api/v1/namespaces/{ns}/events").json()["items"]
            return next((e for e in events if e.get("reason") == "FailedCreate"), None)
        event = wait_for(failed_create, 30, "a FailedCreate event")
    finally:
        manager.stop()
    assert event["involvedObject"]["kind"] == "ReplicaSet"
    assert event["type"] == "Warning"
    assert 'is forbidden: violates PodSecurity "baseline:latest": hostPath volumes ' \
        '(volume "root")' in event["message"]
    assert event["message"].startswith("Error creating: pods ")
    assert http.get(f"/api/v1/namespaces/{ns}/pods").json()["items"] == []


def test_a_stricter_enforce_label_names_the_pods_already_violating_it(
        http: httpx.Client) -> None:
    ns = _namespace(http)
    for name in ("b", "a", "c"):
        assert _create(http, ns, _pod(name)).status_code == 201
    hardened = _pod("z", container={"securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}},
        securityContext={"runAsNonRoot": True, "runAsUser": 1000,
                         "seccompProfile": {"type": "RuntimeDefault"}})
    assert _create(http, ns, hardened).status_code == 201
    resp = http.patch(f"/api/v1/namespaces/{ns}",
                      json={"metadata": {"labels": {P + "enforce": "restricted"}}},
                      headers={"Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200, resp.text
    assert resp.headers.get_list("warning") == [
        f'299 - "existing pods in namespace \\"{ns}\\" violate the new PodSecurity enforce '
        'level \\"restricted:latest\\""',
        '299 - "a (and 2 other pods): allowPrivilegeEscalation != false, unrestricted '
        'capabilities, runAsNonRoot != true, seccompProfile"']
    assert http.get(f"/api/v1/namespaces/{ns}/pods/a").status_code == 200  # still there
    resp = http.patch(f"/api/v1/namespaces/{ns}", json={"metadata": {"labels": {"x": "y"}}},
                      headers={"Content-Type": "application/merge-patch+json"})
    assert resp.status_code == 200 and not resp.headers.get_list("warning")
