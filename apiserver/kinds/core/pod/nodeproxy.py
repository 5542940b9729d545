"""Proxying `pods/{name}/log` and `pods/{name}/exec` to the node agent that runs the pod.

As the kube-apiserver proxies these to the kubelet: find the pod's node, read
the agent's address (InternalIP) and port (`status.daemonEndpoints.
kubeletEndpoint.Port`) from the Node, and stream the agent's answer back. The
caller's bearer token is forwarded; the agent checks it against the apiserver,
so a user sees only what the apiserver would let them see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apiserver.kinds.core.pod.logoptions import log_params
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


async def _agent_url(registry: Registry, pod: Object) -> str:
    node_name = (pod.get("spec") or {}).get("nodeName")
    if not node_name:
        raise errors.BadRequest(f"pod {pod['metadata']['name']} does not have a host assigned")
    node = await registry.get(registry.kinds.lookup("", "nodes").resource, None, node_name)
    status = node.get("status") or {}
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    address = next((a["address"] for a in status.get("addresses") or []
                    if a.get("type") == "InternalIP"), None)
    if not port or not address:
        raise errors.ServiceUnavailable(f"node {node_name} does not advertise its agent "
                                        "address and port")
    return f"http://{address}:{port}"


class NodeProxy:
    """Streams a pod's logs and runs exec through the pod's node agent."""

    def __init__(self, pods: ResourceInfo) -> None:
        self.pods = pods
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """One connection pool to the agents, made on first use (in the server's loop)."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
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
        base = await _agent_url(registry, pod)
        upstream = self.http.build_request(
            "GET", f"{base}/containerLogs/{namespace}/{name}/{container}", params=params,
            headers=_auth(request))
        response = await self._send(upstream)
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
        base = await _agent_url(registry, pod)
        try:
            resp = await self.http.post(f"{base}/exec/{namespace}/{name}/{container}",
                                        json={"command": command}, headers=_auth(request),
                                        timeout=httpx.Timeout(10.0, read=300.0))
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable(f"cannot reach the node agent: {exc}") from exc
        return Response(resp.content, status_code=resp.status_code,
                        media_type=resp.headers.get("content-type", "application/json"))

    async def _send(self, upstream: httpx.Request) -> httpx.Response:
        try:
            response = await self.http.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable(f"cannot reach the node agent: {exc}") from exc
        if response.status_code >= 400:
            body = await response.aread()
            await response.aclose()
            raise errors.from_status(_status_or_text(body), response.status_code)
        return response


def _auth(request: Request) -> dict[str, str]:
    header = request.headers.get("authorization")
    return {"Authorization": header} if header else {}


def _status_or_text(body: bytes) -> Object:
    import orjson
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
