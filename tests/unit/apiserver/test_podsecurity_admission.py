"""PodSecurity admission's notes: the audit annotations and warnings a request carries."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any, cast

import pytest

from apimachinery import errors
from apimachinery.resources import ResourceInfo
from apiserver import admissionnotes
from apiserver.kinds.core.podsecurity.admission import admit_pod_security
from apiserver.registry import Registry

PODS = ResourceInfo("", "v1", "Pod", "pods", True)
DEPLOYMENTS = ResourceInfo("apps", "v1", "Deployment", "deployments", True)
P = "pod-security.kubernetes.io/"


class Namespaces:
    """Just what the admission reads of a registry: one namespace's labels."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels

    async def get(self, resource: ResourceInfo, namespace: str | None, name: str) -> Any:
        return {"metadata": {"name": name, "labels": self.labels}}


def _admit(labels: dict[str, str], resource: ResourceInfo, obj: dict[str, Any]
           ) -> admissionnotes.Notes:
    async def run() -> admissionnotes.Notes:
        notes = admissionnotes.begin()
        await admit_pod_security(cast(Registry, Namespaces(labels)), resource, "ns", obj, None)
        return notes
    return asyncio.run(run())


POD = {"metadata": {"name": "p"}, "spec": {
    "containers": [{"name": "c", "image": "x"}],
    "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}


def test_a_refused_pod_still_carries_its_audit_annotations() -> None:
    async def run() -> admissionnotes.Notes:
        notes = admissionnotes.begin()
        with pytest.raises(errors.Forbidden):
            await admit_pod_security(cast(Registry, Namespaces({})), PODS, "ns", POD, None)
        return notes
    notes = asyncio.run(run())
    assert notes.audit_annotations == {
        P + "enforce-policy": "baseline:latest",
        P + "audit-violations":
            'would violate PodSecurity "baseline:latest": hostPath volumes (volume "root")'}
    assert notes.warnings == []


def test_an_admitted_pod_is_audited_and_warned_at_their_own_levels() -> None:
    plain = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    notes = _admit({P + "audit": "restricted", P + "audit-version": "v1.21",
                    P + "warn": "restricted"}, PODS, plain)
    assert notes.audit_annotations[P + "enforce-policy"] == "baseline:latest"
    assert notes.audit_annotations[P + "audit-violations"].startswith(
        'would violate PodSecurity "restricted:v1.21": allowPrivilegeEscalation != false')
    assert len(notes.warnings) == 1
    assert notes.warnings[0].startswith('would violate PodSecurity "restricted:latest": ')


def test_a_workload_is_never_refused_only_warned() -> None:
    deployment = {"metadata": {"name": "d"}, "spec": {"template": {"spec": POD["spec"]}}}
    notes = _admit({P + "enforce": "restricted"}, DEPLOYMENTS, deployment)
    assert notes.warnings == [
        'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
        '(container "c" must set securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "c" must set '
        'securityContext.capabilities.drop=["ALL"]), restricted volume types (volume "root" '
        'uses restricted volume type "hostPath"), runAsNonRoot != true (pod or container "c" '
        'must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" '
        'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")']


def test_outside_a_request_notes_are_dropped() -> None:
    def outside() -> admissionnotes.Notes | None:
        admissionnotes.warn("nobody hears this")  # no begin() in this context
        return admissionnotes.current()
    assert contextvars.Context().run(outside) is None
