"""The apiserver's FastAPI application: routes, authentication, errors, metrics, lifecycle.

All resource traffic goes through one catch-all route per API root (`/api/...`,
`/apis/...`) into the generic handler; only discovery, OpenAPI, health,
version and metrics have routes of their own. Errors of any kind leave as a
v1 Status with the right code; an unexpected exception is a 500 Status and a
logged traceback, never an HTML page or a FastAPI `{"detail": ...}`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from apimachinery import errors
from apimachinery.resources import RESOURCES

from . import discovery, metrics, requestinfo
from .auth import PUBLIC_PATHS, TokenAuthenticator
from .handlers import Handlers, json_response
from .ipallocator import ServiceIPRange
from .portallocator import PortRange
from .registry import Registry, storage_key
from .servicealloc import ServiceAllocator
from .storage import KeyExistsError, Storage
from .watch import WatchService
from .watchcache import WatchCaches

log = logging.getLogger("apiserver")

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
DNS_SERVICE_OFFSET = 10  # kubeadm's convention: the cluster DNS is the range's 10th address


@dataclass
class ServerConfig:
    """What the apiserver needs to run; flags map onto these fields (see main.py)."""

    etcd_servers: list[str]
    token_auth_file: str | None = None
    max_request_bytes: int = 1_572_864  # etcd's default --max-request-bytes (1.5 MiB)
    watch_cache_size: int = 4096
    watcher_queue_size: int = 2048
    advertise_address: str = "127.0.0.1:6443"
    # Inside the local cluster's 172.28.0.0/16, so no service address leaves the machine.
    service_cluster_ip_range: str = "172.28.255.0/24"
    service_node_port_range: str = "30000-32767"


def create_app(config: ServerConfig) -> FastAPI:
    storage = Storage(config.etcd_servers)
    service_ips = ServiceIPRange.parse(config.service_cluster_ip_range)
    node_ports = PortRange.parse(config.service_node_port_range)
    registry = Registry(storage, allocators={
        "services": ServiceAllocator(storage, service_ips, node_ports)})
    caches = WatchCaches(storage, history=config.watch_cache_size,
                         watcher_capacity=config.watcher_queue_size)
    watches = WatchService(registry, storage, caches,
                           watcher_capacity=config.watcher_queue_size)
    handlers = Handlers(registry, watches, max_request_bytes=config.max_request_bytes)
    authenticator = TokenAuthenticator(config.token_auth_file)
    ready = asyncio.Event()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await storage.connect()
        await _bootstrap_namespaces(registry)
        await _bootstrap_kubernetes_service(registry, service_ips, config.advertise_address)
        await _bootstrap_dns_service(registry, service_ips)
        await caches.start([r.plural for r in RESOURCES])
        # Long-lived start-up objects need not be scanned by every collection, and
        # the default thresholds collect far too often for a server that allocates
        # a dict per object (measured: ~48% of a 10,000-pod list was GC).
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        ready.set()
        log.info("apiserver ready etcd=%s", ",".join(config.etcd_servers))
        try:
            yield
        finally:
            ready.clear()
            await handlers.node_proxy.close()
            await caches.stop()
            await storage.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(errors.APIError)
    async def api_error(_: Request, exc: errors.APIError) -> Response:
        return json_response(exc.to_status(), exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            err: errors.APIError = errors.NotFound(
                f"the server could not find the requested resource ({request.url.path})")
        elif exc.status_code == 405:
            err = errors.MethodNotAllowed(f"method {request.method} is not allowed here")
        else:
            err = errors.InternalError(str(exc.detail))
            err.code = exc.status_code  # type: ignore[misc]
        return json_response(err.to_status(), err.code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ClientDisconnect):  # the client went away: nothing to answer
            log.debug("client disconnected path=%s", request.url.path)
            return Response(status_code=499)
        log.exception("internal error path=%s", request.url.path)
        return json_response(errors.InternalError(f"internal error: {exc!r}").to_status(), 500)

    def authenticate(request: Request) -> None:
        if request.url.path not in PUBLIC_PATHS:
            request.state.user = authenticator.authenticate(request.headers.get("authorization"))

    @app.get("/healthz")
    @app.get("/livez")
    async def healthz() -> Response:
        return Response("ok", media_type="text/plain")

    @app.get("/readyz")
    async def readyz() -> Response:
        if not ready.is_set():
            return Response("not ready: starting", status_code=503, media_type="text/plain")
        try:
            await asyncio.wait_for(storage.current_revision(), 2.0)
        except Exception as exc:
            return Response(f"not ready: etcd: {exc}", status_code=503, media_type="text/plain")
        return Response("ok", media_type="text/plain")

    @app.get("/version")
    async def version() -> Response:
        return json_response(discovery.version())

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Response:
        authenticate(request)
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api")
    async def api_root(request: Request) -> Response:
        authenticate(request)
        return json_response(discovery.api_versions(config.advertise_address))

    @app.get("/apis")
    async def apis_root(request: Request) -> Response:
        authenticate(request)
        return json_response(discovery.api_groups())

    @app.get("/openapi/v3")
    async def openapi_index(request: Request) -> Response:
        authenticate(request)
        return json_response(discovery.openapi_index())

    @app.get("/openapi/v3/{key:path}")
    async def openapi_document(request: Request, key: str) -> Response:
        authenticate(request)
        gv = discovery.openapi_key_to_group_version(key)
        if gv is None or discovery.resource_list(gv) is None:
            raise errors.NotFound(f"no OpenAPI document for {key}")
        return json_response(discovery.openapi_document(gv))

    @app.api_route("/{root:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def resources(request: Request, root: str) -> Response:
        authenticate(request)
        path = "/" + root
        doc = _discovery_document(path) if request.method == "GET" else None
        if doc is not None:
            return json_response(doc)
        info = requestinfo.parse(request.method, path, dict(request.query_params))
        started = time.perf_counter()
        code = 500
        try:
            response = await handlers.handle(request, info)
            code = response.status_code
            return response
        except errors.APIError as exc:
            code = exc.code
            raise
        finally:
            labels = (info.verb, info.resource.plural, info.subresource or "")
            metrics.REQUESTS.labels(*labels, str(code)).inc()
            if info.verb != "watch":
                metrics.REQUEST_LATENCY.labels(*labels).observe(time.perf_counter() - started)

    return app


def _discovery_document(path: str) -> dict[str, Any] | None:
    """`/api/v1`, `/apis/apps`, `/apis/apps/v1`: discovery for one group (version)."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) == 2:
        return discovery.resource_list(parts[1])
    if parts[:1] == ["apis"] and len(parts) == 2:
        return discovery.api_group(parts[1])
    if parts[:1] == ["apis"] and len(parts) == 3:
        return discovery.resource_list(f"{parts[1]}/{parts[2]}")
    return None


async def _bootstrap_namespaces(registry: Registry) -> None:
    """Create the namespaces every cluster has, as Kubernetes' system namespaces controller."""
    from apimachinery.resources import by_plural

    namespaces = by_plural("namespaces")
    for name in SYSTEM_NAMESPACES:
        if await registry.storage.get(storage_key(namespaces, None, name)) is not None:
            continue
        with suppress(errors.AlreadyExists, KeyExistsError):
            await registry.create(namespaces, None, {"metadata": {"name": name}})


async def _bootstrap_kubernetes_service(registry: Registry, service_ips: ServiceIPRange,
                                        advertise_address: str) -> None:
    """The `kubernetes` Service in `default` at the range's first address, as Kubernetes'
    bootstrap controller creates it: port 443 to the apiserver's port, no selector.

    Several apiservers may race to create it; the loser's AlreadyExists is fine.
    A range whose first address some Service already took leaves a warning, not
    a dead apiserver.
    """
    from apimachinery.resources import by_plural

    services = by_plural("services")
    if await registry.storage.get(storage_key(services, "default", "kubernetes")) is not None:
        return
    _, _, port = advertise_address.rpartition(":")
    body = {"metadata": {"name": "kubernetes",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": service_ips.kubernetes_ip,
                     "sessionAffinity": "None",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                                "targetPort": int(port) if port.isdigit() else 6443}]}}
    try:
        await registry.create(services, "default", body)
        log.info("created service default/kubernetes clusterIP=%s", service_ips.kubernetes_ip)
    except (errors.AlreadyExists, KeyExistsError):
        pass
    except errors.Invalid as exc:
        log.warning("cannot create service default/kubernetes: %s", exc.message)


def cluster_dns_ip(service_ips: ServiceIPRange) -> str | None:
    """The range's 10th address, or None when the range is too small to have one."""
    ip = str(service_ips.network.network_address + DNS_SERVICE_OFFSET)
    return ip if service_ips.contains(ip) else None


async def _bootstrap_dns_service(registry: Registry, service_ips: ServiceIPRange) -> None:
    """`kube-system/kube-dns` at the range's 10th address, as kubeadm's CoreDNS addon
    creates it: ports 53/UDP and 53/TCP, no selector (the service proxy answers DNS
    itself, on that address). Created with an explicit clusterIP, so the allocator
    reserves the address in the Service's own transaction and no other Service is
    ever given the address every pod's resolv.conf names.

    `kube-system` comes from `_bootstrap_namespaces`, which runs first. As for the
    `kubernetes` Service, a lost race or a taken address is a log line, not a dead
    apiserver.
    """
    from apimachinery.resources import by_plural

    ip = cluster_dns_ip(service_ips)
    if ip is None:
        log.warning("no cluster DNS address in service range %s: kube-dns not created",
                    service_ips)
        return
    services = by_plural("services")
    if await registry.storage.get(storage_key(services, "kube-system", "kube-dns")) is not None:
        return
    body = {"metadata": {"name": "kube-dns",
                         "labels": {"k8s-app": "kube-dns"}},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "sessionAffinity": "None",
                     "ports": [{"name": "dns", "port": 53, "protocol": "UDP",
                                "targetPort": 53},
                               {"name": "dns-tcp", "port": 53, "protocol": "TCP",
                                "targetPort": 53}]}}
    try:
        await registry.create(services, "kube-system", body)
        log.info("created service kube-system/kube-dns clusterIP=%s", ip)
    except (errors.AlreadyExists, KeyExistsError):
        pass
    except errors.Invalid as exc:
        log.warning("cannot create service kube-system/kube-dns: %s", exc.message)
