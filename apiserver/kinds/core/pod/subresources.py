"""The pod's subresources: `binding`, `eviction`, `log`, `exec`, `attach`, `portforward`.

`binding` is how the scheduler assigns a pod to a node without being allowed to
rewrite the pod (Kubernetes' BindingREST); `eviction` is a delete with the
Eviction's options (EvictionREST, without PodDisruptionBudgets yet); `log` and
`exec` are served by the agent of the pod's node (`nodeproxy.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Response, WebSocket

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.meta import Object, deep_copy
from apiserver.bodies import require_object
from apiserver.kind import Call, Subresource, Upgrade
from apiserver.kinds.core.pod import eviction
from apiserver.kinds.core.pod.nodeproxy import NodeProxy
from apiserver.kinds.core.pod.streaming import AgentStreams
from apiserver.storage import DRY_RUN
from apiserver.validation.fields import validate_annotations, validate_labels
from apiserver.wire import check_kind, respond

_CREATED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "code": 201}


def bind(pod: Object, binding: Object) -> Object:
    """Assign `pod` to the binding's target node, once (BindingREST.setPodHostAndAnnotations)."""
    meta = pod["metadata"]
    node = require_object(binding.get("target"), "target", "the Binding").get("name")
    if not node or not isinstance(node, str):
        raise errors.Invalid("Binding", meta.get("name", ""), [
            FieldError("target.name", "Required value")])
    if meta.get("deletionTimestamp"):
        raise errors.conflict("pods", meta["name"], "pod is being deleted, cannot be assigned "
                              "to a host")
    current = (pod.get("spec") or {}).get("nodeName")
    if current:
        raise errors.conflict("pods/binding", meta["name"],
                              f"pod {meta['name']} is already assigned to node {current!r}")
    annotations = _binding_annotations(binding)
    bound = deep_copy(pod)
    bound["spec"]["nodeName"] = node
    if annotations:
        merged = bound["metadata"].setdefault("annotations", {})
        merged.update(annotations)
        problems = validate_annotations(merged, "metadata.annotations")
        if problems:  # the pod's own update validation: e.g. its annotations past 256 KiB
            raise errors.Invalid("Pod", meta.get("name", ""), problems)
    return _scheduled(bound)


def _binding_annotations(binding: Object) -> dict[str, str]:
    """The annotations a Binding adds to its pod, checked as ObjectMeta validation checks
    a Binding's labels and annotations: a key that no object may carry would otherwise be
    written into the pod, and every later update of the pod refused for it."""
    meta = require_object(binding.get("metadata"), "metadata", "the Binding")
    annotations = require_object(meta.get("annotations"), "metadata.annotations", "the Binding")
    labels = require_object(meta.get("labels"), "metadata.labels", "the Binding")
    for path, values in (("metadata.annotations", annotations), ("metadata.labels", labels)):
        if not all(isinstance(v, str) for v in values.values()):
            raise errors.BadRequest(f"the Binding is not valid: {path}: values must be strings")
    problems = (validate_labels(labels, "metadata.labels")
                + validate_annotations(annotations, "metadata.annotations"))
    if problems:
        raise errors.Invalid("Binding", str(meta.get("name") or ""), problems)
    return annotations


def _scheduled(pod: Object) -> Object:
    """Record the PodScheduled=True condition that binding implies."""
    status = pod.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    conditions.append({"type": "PodScheduled", "status": "True",
                       "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    status["conditions"] = conditions
    return pod


class Binding(Subresource):
    """`pods/{name}/binding`: POST a Binding to set spec.nodeName, once."""

    name, verbs, kind = "binding", ("create",), "Binding"

    async def create(self, call: Call) -> Response:
        binding = await call.object()
        check_kind("v1", "Binding", binding, check_version=False)
        await call.registry.update_raw(call.resource, call.namespace, call.name,
                                       lambda pod: bind(pod, binding))
        return respond(call.request, _CREATED, 201)


class Eviction(Subresource):
    """`pods/{name}/eviction`: delete the pod with the Eviction's options."""

    name, verbs = "eviction", ("create",)
    group, version, kind = eviction.EVICTION_GROUP, eviction.EVICTION_VERSION, \
        eviction.EVICTION_KIND

    async def create(self, call: Call) -> Response:
        options, dry_run = eviction.delete_options_for(call.name, await call.object())
        token = DRY_RUN.set(True) if dry_run else None
        try:
            await call.registry.delete(call.resource, call.namespace, call.name, options)
        finally:
            if token is not None:
                DRY_RUN.reset(token)
        return respond(call.request, eviction.success(), 201)


class Log(Subresource):
    """`pods/{name}/log`: the container's log, streamed from the node's agent."""

    name, verbs = "log", ("get",)

    def __init__(self, proxy: NodeProxy) -> None:
        self.proxy = proxy

    async def get(self, call: Call) -> Response:
        return await self.proxy.logs(call.registry, call.request, call.namespace or "",
                                     call.name)

    async def close(self) -> None:
        await self.proxy.close()


class Exec(Subresource):
    """`pods/{name}/exec`: run a command in a container through the node's agent; as a
    WebSocket upgrade (kubectl, the Python clients) an interactive stream (streaming.py)."""

    name, verbs = "exec", ("create", "get")

    def __init__(self, proxy: NodeProxy) -> None:
        self.proxy = proxy
        self.streams = AgentStreams(proxy.pods)

    async def connect(self, websocket: WebSocket, call: Upgrade) -> None:
        await self.streams.exec(websocket, call, "exec")

    async def create(self, call: Call) -> Response:
        return await self.proxy.exec(call.registry, call.request, call.namespace or "",
                                     call.name, await call.object())

    async def close(self) -> None:
        await self.proxy.close()


class Attach(Subresource):
    """`pods/{name}/attach`: a WebSocket to a running container's own stdin and output
    (a container made with `stdin`, `tty`), through the node's agent (streaming.py)."""

    name, verbs = "attach", ("create", "get")

    def __init__(self, proxy: NodeProxy) -> None:
        self.streams = AgentStreams(proxy.pods)

    async def connect(self, websocket: WebSocket, call: Upgrade) -> None:
        await self.streams.exec(websocket, call, "attach")


class PortForward(Subresource):
    """`pods/{name}/portforward`: a WebSocket (kubectl's tunnelled SPDY, the Python
    client's channel pairs) relayed to the node's agent (streaming.py). Without an
    upgrade, Kubernetes' 400; a plain SPDY upgrade is not served."""

    name, verbs = "portforward", ("create", "get")

    def __init__(self, proxy: NodeProxy) -> None:
        self.streams = AgentStreams(proxy.pods)

    async def connect(self, websocket: WebSocket, call: Upgrade) -> None:
        await self.streams.port_forward(websocket, call)

    async def get(self, call: Call) -> Response:
        raise errors.BadRequest("Upgrade request required")

    async def create(self, call: Call) -> Response:
        raise errors.BadRequest("Upgrade request required")
