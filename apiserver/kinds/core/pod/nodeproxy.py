"""Proxying `pods/{name}/log` and `pods/{name}/exec` to the node agent that runs the pod.

As the kube-apiserver proxies these to the kubelet: find the pod's node, read
the agent's address (InternalIP) and port (`status.daemonEndpoints.
kubeletEndpoint.Port`) from the Node, and stream the agent's answer back. The
caller was authorized here (RBAC on `pods/log`, `pods/exec`); the agent is reached
over TLS with the apiserver's own client certificate and authorizes the apiserver
(`nodes/proxy`), never the caller, whose credentials stay here (kubeletclient.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apiserver.kinds.core.pod.logoptions import log_params
from apiserver.kubeletclient import KubeletClientConfig, agent_url
from apiserver.registry import Registry


def _container(pod: Object, requested: str | None) -> str:
    """The container a request means: named (an init container too), or the only app
    container (Kubernetes' validateContainer; its list names init containers first)."""
    spec = pod.get("spec") or {}
    apps: list[str] = [c["name"] for c in spec.get("containers") or []]
    names = [c["name"] for c in spec.get("initContainers") or []] + apps
    name = pod["metadata"]["name"]
    if requested:
        if requested not in names:
            raise errors.BadRequest(f"container {requested} is not valid for pod {name}")
        return requested
    if len(apps) == 1:
        return apps[0]
    raise errors.BadRequest(f"a container name must be specified for pod {name}, choose one "
                            f"of: [{' '.join(names)}]")


async def _agent_url(registry: Registry, pod: Object, config: KubeletClientConfig) -> str:
    node_name = (pod.get("spec") or {}).get("nodeName")
    if not node_name:
        raise errors.BadRequest(f"pod {pod['metadata']['name']} does not have a host assigned")
    node = await registry.get(registry.kinds.lookup("", "nodes").resource, None, node_name)
    return agent_url(node, config)


def _kubelet_config(request: Request) -> KubeletClientConfig:
    config = getattr(request.app.state, "kubelet_client", None)
    return config if isinstance(config, KubeletClientConfig) else KubeletClientConfig()


class NodeProxy:
    """Streams a pod's logs and runs exec through the pod's node agent."""

    def __init__(self, pods: ResourceInfo) -> None:
        self.pods = pods
        self._clients: dict[KubeletClientConfig, httpx.AsyncClient] = {}

    def http(self, config: KubeletClientConfig) -> httpx.AsyncClient:
        """One connection pool to the agents per TLS configuration (one per apiserver),
        made on first use (in the server's loop)."""
        client = self._clients.get(config)
        if client is None:
            client = self._clients[config] = httpx.AsyncClient(
                verify=config.ssl_context(), timeout=httpx.Timeout(10.0, read=None),
                trust_env=False)
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for http in clients:
            await http.aclose()

    async def logs(self, registry: Registry, request: Request, namespace: str, name: str
                   ) -> Response:
        pod = await registry.get(self.pods, namespace, name)
        params = log_params(name, request.query_params)
        container = _container(pod, request.query_params.get("container"))
        if not (pod.get("spec") or {}).get("nodeName"):
            # Kubernetes' LogLocation: a pod not yet on a node has no log, and says so
            # with an empty answer (only exec refuses such a pod).
            return Response(b"", media_type="text/plain")
        config = _kubelet_config(request)
        base = await _agent_url(registry, pod, config)
        http = self.http(config)
        upstream = http.build_request(
            "GET", f"{base}/containerLogs/{namespace}/{name}/{container}", params=params)
        response = await self._send(http, upstream)
        return StreamingResponse(_relay(response), media_type="text/plain",
                                 status_code=response.status_code)

    async def exec(self, registry: Registry, request: Request, namespace: str, name: str,
                   body: Object) -> Response:
        pod = await registry.get(self.pods, namespace, name)
        container = _container(pod, request.query_params.get("container") or
                               body.get("container"))
        command = body.get("command")
        if not isinstance(command, list) or not command or \
                not all(isinstance(c, str) for c in command):
            raise errors.BadRequest("command: must be a non-empty list of strings")
        config = _kubelet_config(request)
        base = await _agent_url(registry, pod, config)
        try:
            resp = await self.http(config).post(
                f"{base}/exec/{namespace}/{name}/{container}", json={"command": command},
                timeout=httpx.Timeout(10.0, read=300.0))
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable(f"cannot reach the node agent: {exc}") from exc
        return Response(resp.content, status_code=resp.status_code,
                        media_type=resp.headers.get("content-type", "application/json"))

    async def _send(self, http: httpx.AsyncClient, upstream: httpx.Request) -> httpx.Response:
        try:
            response = await http.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable(f"cannot reach the node agent: {exc}") from exc
        if response.status_code >= 400:
            body = await response.aread()
            await response.aclose()
            raise errors.from_status(status_or_text(body), response.status_code)
        return response


def status_or_text(body: bytes) -> Object:
    """An agent's error body as a Status: its JSON object, or its text as the message."""
    try:
        parsed = orjson.loads(body)
        if isinstance(parsed, dict):
            return parsed
    except orjson.JSONDecodeError:
        pass
    return {"message": body.decode(errors="replace").strip()[:500]}


async def _relay(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()


# For the streams (streaming.py), which pick the container and the agent alike.
container_of = _container
agent_base = _agent_url
