"""Typed certificates.k8s.io/v1 CertificateSigningRequest: a request for a certificate.

`schooner join` makes them, the controller-manager's csrapproving and csrsigning
act on them (apiserver/kinds/certificates/ holds the kind's rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import ApiVersion, K8sModel, Kind, Time, TypedObject
from apimachinery.models.schema import ProtobufHint, field


class CertificateSigningRequestSpec(K8sModel):
    """What is asked for, and by whom (the last part set by the apiserver)."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "request": "bytes", "signerName": "zero", "expirationSeconds": "pointer"}

    request: Annotated[str | None, field(
        "A PEM `CERTIFICATE REQUEST` block, base64 in JSON; its signature must verify. "
        "Never changes.", protobuf=1)] = None
    signer_name: Annotated[str | None, field(
        "Which signer should sign it: `kubernetes.io/kube-apiserver-client-kubelet` (a "
        "node's client certificate) and `kubernetes.io/kubelet-serving` (a node agent's "
        "serving certificate) are signed by the controller-manager with the cluster CA.",
        protobuf=7)] = None
    expiration_seconds: Annotated[int | None, field(
        "The validity asked for, at least 600; the signer caps it at its "
        "--cluster-signing-duration.", protobuf=8)] = None
    usages: Annotated[list[str] | None, field(
        "The key usages asked for (`digital signature`, `client auth`, `server auth`, ...).",
        protobuf=5, list_type="atomic")] = None
    username: Annotated[str | None, field(
        "Who created the request: set by the apiserver.", protobuf=2)] = None
    uid: Annotated[str | None, field(
        "The creator's uid: set by the apiserver.", protobuf=3)] = None
    groups: Annotated[list[str] | None, field(
        "The creator's groups: set by the apiserver.", protobuf=4, list_type="atomic")] = None


class CertificateSigningRequestCondition(K8sModel):
    """An approver's decision, or a signer's failure."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "lastUpdateTime": "value", "lastTransitionTime": "value", "type": "zero",
        "status": "zero"}

    type: Annotated[str | None, field(
        "Approved, Denied or Failed (others are kept for clients).", protobuf=1)] = None
    status: Annotated[str | None, field(
        "True (the default); Approved, Denied and Failed may only be True.",
        protobuf=6)] = None
    reason: Annotated[str | None, field("A CamelCase reason.", protobuf=2)] = None
    message: Annotated[str | None, field("Details for people.", protobuf=3)] = None
    last_update_time: Annotated[Time | None, field(
        "When the condition was last written (set by the apiserver when missing).",
        protobuf=4)] = None
    last_transition_time: Annotated[Time | None, field(
        "When its status last changed (set by the apiserver when missing).",
        protobuf=5)] = None


class CertificateSigningRequestStatus(K8sModel):
    """The decision and, once signed, the certificate."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"certificate": "bytes"}

    conditions: Annotated[list[CertificateSigningRequestCondition] | None, field(
        "Approved or Denied (written through /approval), Failed (through /status).",
        protobuf=1, list_type="map", list_map_keys=("type",))] = None
    certificate: Annotated[str | None, field(
        "The issued certificate chain, PEM, base64 in JSON: written by the signer once "
        "the request is approved, then never changed.", protobuf=2)] = None


class CertificateSigningRequest(TypedObject):
    """A request for a certificate from a named signer."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"spec": "value", "status": "value"}

    api_version: ApiVersion = "certificates.k8s.io/v1"
    kind: Kind = "CertificateSigningRequest"
    spec: Annotated[CertificateSigningRequestSpec | None, field(
        "The request; immutable.", protobuf=2)] = None
    status: Annotated[CertificateSigningRequestStatus | None, field(
        "Approval and the certificate.", protobuf=3)] = None
