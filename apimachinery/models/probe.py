"""Typed probes and lifecycle hooks of a container (core/v1 Probe, LifecycleHandler...).

The shapes, wire names and protobuf numbers are Kubernetes'; a probe's handler
fields belong to Go's embedded `ProbeHandler` (`schema.PROBE_HANDLER`). The
descriptions say what Schooner's agent does with each: it runs exec, httpGet
tcpSocket and grpc probes and exec, httpGet and sleep hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import IntOrString, K8sModel
from apimachinery.models.schema import PROBE_HANDLER, ProtobufHint, field


class ExecAction(K8sModel):
    """Run a command in the container; exit code 0 is success."""

    command: Annotated[list[str] | None, field(
        "The command and its arguments, run directly (no shell) through Docker exec.",
        protobuf=1, list_type="atomic")] = None


class HTTPHeader(K8sModel):
    """One header of an httpGet probe or hook request."""

    name: Annotated[str, field("The header's name.", protobuf=1)]
    value: Annotated[str, field("The header's value.", protobuf=2)]


class HTTPGetAction(K8sModel):
    """An HTTP GET the agent sends to the pod; for a probe, 2xx and 3xx are success."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"port": "value"}

    path: Annotated[str | None, field(
        "The request path; defaults to `/`.", protobuf=1)] = None
    port: Annotated[IntOrString, field(
        "The port, by number or by the name of a container port.", protobuf=2)]
    host: Annotated[str | None, field(
        "The host to connect to; defaults to the pod's IP.", protobuf=3)] = None
    scheme: Annotated[str | None, field(
        "HTTP (the default) or HTTPS; certificates are not verified.", protobuf=4)] = None
    http_headers: Annotated[list[HTTPHeader] | None, field(
        "Extra request headers.", protobuf=5, list_type="atomic")] = None


class TCPSocketAction(K8sModel):
    """Open a TCP connection; a connection that opens is success."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"port": "value"}

    port: Annotated[IntOrString, field(
        "The port, by number or by the name of a container port.", protobuf=1)]
    host: Annotated[str | None, field(
        "The host to connect to; defaults to the pod's IP.", protobuf=2)] = None


class GRPCAction(K8sModel):
    """A gRPC health check (grpc.health.v1), without TLS, as the kubelet's."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {"service": "pointer"}

    port: Annotated[int | None, field(
        "The port of the gRPC server (1-65535).",
        protobuf=1)] = None
    service: Annotated[str | None, field(
        "The service name sent in the health check request; empty asks about the "
        "server as a whole.", protobuf=2)] = None


class SleepAction(K8sModel):
    """A hook that waits instead of running anything in the container."""

    seconds: Annotated[int | None, field(
        "How long to wait; it must fit in the pod's termination grace period.",
        protobuf=1)] = None


class Probe(K8sModel):
    """Liveness/readiness/startup probe: one handler plus the timing fields."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "terminationGracePeriodSeconds": "pointer"}

    exec: Annotated[ExecAction | None, field(
        "Probe by running a command in the container.", protobuf=1,
        embedded=PROBE_HANDLER)] = None
    http_get: Annotated[HTTPGetAction | None, field(
        "Probe with an HTTP GET.", protobuf=2, embedded=PROBE_HANDLER)] = None
    tcp_socket: Annotated[TCPSocketAction | None, field(
        "Probe by opening a TCP connection.", protobuf=3, embedded=PROBE_HANDLER)] = None
    grpc: Annotated[GRPCAction | None, field(
        "A gRPC health check (grpc.health.v1.Health/Check on the pod's IP): SERVING "
        "passes.", protobuf=4,
        embedded=PROBE_HANDLER)] = None
    initial_delay_seconds: Annotated[int | None, field(
        "Seconds after the container starts before the first probe.", protobuf=2)] = None
    timeout_seconds: Annotated[int | None, field(
        "Seconds one probe may take before it counts as failed; defaults to 1.",
        protobuf=3)] = None
    period_seconds: Annotated[int | None, field(
        "Seconds between probes; defaults to 10.", protobuf=4)] = None
    success_threshold: Annotated[int | None, field(
        "Successes in a row after a failure that make the probe pass; defaults to 1, and "
        "must be 1 except for readiness.", protobuf=5)] = None
    failure_threshold: Annotated[int | None, field(
        "Failures in a row that make the probe fail; defaults to 3. A failed liveness or "
        "startup probe restarts the container, a failed readiness probe takes the pod "
        "out of its Services.", protobuf=6)] = None
    termination_grace_period_seconds: Annotated[int | None, field(
        "The grace period of the kill a failed liveness or startup probe causes, instead "
        "of the pod's (not while the pod is being deleted); refused on a readiness "
        "probe.", protobuf=7)] = None


class LifecycleHandler(K8sModel):
    """The one action of a postStart or preStop hook."""

    exec: Annotated[ExecAction | None, field(
        "Run a command in the container; a non-zero exit fails the hook.",
        protobuf=1)] = None
    http_get: Annotated[HTTPGetAction | None, field(
        "Send an HTTP GET; only a request that cannot be made fails the hook, whatever "
        "the status code.", protobuf=2)] = None
    tcp_socket: Annotated[TCPSocketAction | None, field(
        "Accepted for compatibility only: the agent reports it as a handler it cannot run.",
        protobuf=3)] = None
    sleep: Annotated[SleepAction | None, field(
        "Wait `seconds` without running anything in the container.", protobuf=4)] = None


class Lifecycle(K8sModel):
    """Hooks the agent runs around a container's start and stop."""

    post_start: Annotated[LifecycleHandler | None, field(
        "Run right after the container starts; if it fails, the container is killed and "
        "restarted by the pod's restart policy.", protobuf=1)] = None
    pre_stop: Annotated[LifecycleHandler | None, field(
        "Run before the container is stopped, within the pod's grace period; a failed "
        "hook is reported and the stop goes on.", protobuf=2)] = None
