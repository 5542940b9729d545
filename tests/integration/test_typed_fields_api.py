"""The fields Schooner only stores, typed as Kubernetes' types, through the real apiserver.

A protobuf body carrying security contexts, node affinity and scheduling gates (as
client-go writes it) is stored and reads back as JSON; the fields no component acts on
(the security fields the agent cannot apply, inter-pod affinity, topology spread) are
refused, each named, which shows they were decoded; a StatefulSet's full claim
template likewise. Unknown keys under those fields are now unknown fields like any
other: a warning, or a 400 with `fieldValidation=Strict`; a wrong type is a 422.
"""

from __future__ import annotations

import pytest

from apiserver import protobuf
from apiserver.protobuf.codec import wrap
from cli.cluster.processes import Apiserver
from tests.unit.apiserver.protobuf.test_protobuf_typed_fields import (
    CONTAINER,
    POD,
    POD_JSON,
    STATEFUL_SET,
    STATEFUL_SET_JSON,
    m,
    s,
)

pytestmark = pytest.mark.integration
HEADERS = {"Content-Type": protobuf.MEDIA_TYPE,
           "Accept": f"{protobuf.MEDIA_TYPE},application/json"}


def test_a_protobuf_pod_with_security_contexts_and_affinity_is_stored(
        apiserver: Apiserver, namespace: str) -> None:
    """The container's security context (NET_ADMIN: a `privileged` namespace), its gRPC
    probe, node affinity and gates are stored; the fields nothing would act on are each a
    422 cause."""
    node_affinity = m(18, m(1, m(1, m(1, m(1, s(1, "zone"), s(2, "In"), s(3, "a"))))))
    storable = m(1, s(1, "p")) + m(2, CONTAINER, node_affinity, m(38, s(1, "g")))
    with apiserver.http() as http:
        resp = http.patch(f"/api/v1/namespaces/{namespace}", json={"metadata": {"labels": {
            "pod-security.kubernetes.io/enforce": "privileged"}}},
            headers={"Content-Type": "application/merge-patch+json"})
        assert resp.status_code == 200, resp.text
        resp = http.post(f"/api/v1/namespaces/{namespace}/pods",
                         content=wrap("v1", "Pod", storable), headers=HEADERS)
        assert resp.status_code == 201, resp.text
        stored = http.get(f"/api/v1/namespaces/{namespace}/pods/p").json()["spec"]
        refused = http.post(f"/api/v1/namespaces/{namespace}/pods",
                            content=wrap("v1", "Pod", POD), headers=HEADERS)
    want = POD_JSON["spec"]
    assert stored["schedulingGates"] == want["schedulingGates"]
    assert stored["affinity"] == {"nodeAffinity": want["affinity"]["nodeAffinity"]}
    container, sent = stored["containers"][0], want["containers"][0]
    for key in ("securityContext", "env", "lifecycle"):
        assert container[key] == sent[key], key
    assert container["livenessProbe"]["grpc"] == sent["livenessProbe"]["grpc"]
    assert refused.status_code == 422, refused.text
    assert [c["field"] for c in refused.json()["details"]["causes"]] == [
        f"spec.securityContext.{f}" for f in ("seLinuxOptions", "windowsOptions",
                                              "appArmorProfile.type", "fsGroup", "sysctls")
    ] + ["spec.affinity.podAffinity", "spec.affinity.podAntiAffinity",
         "spec.topologySpreadConstraints"]


def test_a_protobuf_statefulset_with_a_claim_template_is_stored(
        apiserver: Apiserver, namespace: str) -> None:
    with apiserver.http() as http:
        resp = http.post(f"/apis/apps/v1/namespaces/{namespace}/statefulsets",
                         content=wrap("apps/v1", "StatefulSet", STATEFUL_SET),
                         headers=HEADERS)
        assert resp.status_code == 201, resp.text
        spec = http.get(f"/apis/apps/v1/namespaces/{namespace}/statefulsets/db").json()["spec"]
    want = STATEFUL_SET_JSON["spec"]
    for key in ("volumeClaimTemplates", "persistentVolumeClaimRetentionPolicy", "ordinals"):
        assert spec[key] == want[key], key


def _pod(security: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sc"},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                                     "securityContext": security}]}}


def test_unknown_keys_under_a_security_context_are_unknown_fields(
        apiserver: Apiserver, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods"
    pod = _pod({"runAsUser": 1000, "capabilities": {"add": ["NET_BIND_SERVICE"], "keep": ["x"]}})
    with apiserver.http() as http:
        resp = http.post(f"{path}?fieldValidation=Strict", json=pod)
        assert resp.status_code == 400, resp.text
        assert ('unknown field "spec.containers[0].securityContext.capabilities.keep"'
                in resp.json()["message"])
        resp = http.post(path, json=pod)
        assert resp.status_code == 201, resp.text
        assert resp.headers.get_list("warning") == [
            '299 - "unknown field \\"spec.containers[0].securityContext.capabilities.keep\\""']
        assert resp.json()["spec"]["containers"][0]["securityContext"] == {
            "runAsUser": 1000, "capabilities": {"add": ["NET_BIND_SERVICE"]}}


def test_a_wrongly_typed_security_context_field_is_a_422(
        apiserver: Apiserver, namespace: str) -> None:
    with apiserver.http() as http:
        resp = http.post(f"/api/v1/namespaces/{namespace}/pods",
                         json=_pod({"runAsUser": "root"}))
    assert resp.status_code == 422, resp.text
    causes = resp.json()["details"]["causes"]
    assert causes == [{"reason": "FieldValueTypeInvalid",
                       "field": "spec.containers[0].securityContext.runAsUser",
                       "message": 'Invalid value: "root": must be an integer'}]


def test_a_pods_dns_config_is_stored_for_the_agent(apiserver: Apiserver,
                                                   namespace: str) -> None:
    """The agent writes dnsConfig into the pod's resolv.conf; the apiserver used to drop
    it as an unknown field, so it never reached the agent."""
    config = {"nameservers": ["192.0.2.53"], "searches": ["example.org"],
              "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "dns"},
           "spec": {"dnsPolicy": "None", "dnsConfig": config,
                    "containers": [{"name": "c", "image": "busybox"}]}}
    with apiserver.http() as http:
        resp = http.post(f"/api/v1/namespaces/{namespace}/pods?fieldValidation=Strict",
                         json=pod)
        assert resp.status_code == 201, resp.text
        assert not resp.headers.get_list("warning")
        stored = http.get(f"/api/v1/namespaces/{namespace}/pods/dns").json()["spec"]
    assert stored["dnsConfig"] == config
