"""The apiserver's FastAPI application: routes, authentication, errors, metrics, lifecycle.

All resource traffic goes through one catch-all route per API root (`/api/...`,
`/apis/...`) into the generic handler; only discovery, OpenAPI, health,
version and metrics have routes of their own. Errors of any kind leave as a
v1 Status with the right code; an unexpected exception is a 500 Status and a
logged traceback, never an HTML page or a FastAPI `{"detail": ...}`.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import orjson
from fastapi import FastAPI, Request, Response, WebSocket
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from apimachinery import errors, tlspeer
from apimachinery.meta import Object

from . import (
    admissionnotes,
    authorizer,
    connect,
    defrag,
    discovery,
    flowcontrol,
    health,
    kinds,
    metrics,
    openapi,
    requestinfo,
)
from .audit.event import Auditor
from .audit.policy import load as load_policy
from .audit.writer import AuditWriter
from .auth import ANONYMOUS, PUBLIC_PATHS, Authenticator, UserInfo
from .compactor import Compactor
from .config import ServerConfig
from .encryption import NO_ENCRYPTION
from .encryption import load as load_encryption
from .etcdtls import etcd_credentials
from .handlers import Handlers
from .kinds.rbac import rbacauthorizer as rbac
from .kubeletclient import KubeletClientConfig
from .nodeauthz import restriction as noderestriction
from .nodeauthz.authorizer import NodeAuthorizer
from .nodeauthz.graph import NodeGraph
from .nodeauthz.populator import GraphPopulator
from .registry import Registry
from .serviceaccount.tokens import ServiceAccountTokens
from .storage import Storage
from .watch import WatchService
from .watchcache import WatchCaches
from .wire import answer_media, check_acceptable, error_response, json_response

log = logging.getLogger("apiserver")

__all__ = ["ServerConfig", "create_app"]


def create_app(config: ServerConfig) -> FastAPI:
    credentials = etcd_credentials(config.etcd_cafile, config.etcd_certfile,
                                   config.etcd_keyfile)
    storage = Storage(config.etcd_servers, request_timeout=config.etcd_request_timeout,
                      credentials=credentials,
                      encryption=load_encryption(config.encryption_provider_config)
                      if config.encryption_provider_config else NO_ENCRYPTION)
    served = kinds.registry()
    documents = openapi.OpenAPI(served)
    registry = Registry(storage, served, allocators={
        k.resource.plural: k.allocator(storage, config) for k in served if k.allocator},
        ttls={k.resource.plural: k.ttl(config) for k in served if k.ttl},
        admissions=[noderestriction.admit_object])
    caches = WatchCaches(storage, history=config.watch_cache_size,
                         watcher_capacity=config.watcher_queue_size)
    watches = WatchService(registry, storage, caches,
                           watcher_capacity=config.watcher_queue_size)
    handlers = Handlers(registry, watches, max_request_bytes=config.max_request_bytes)
    service_accounts = ServiceAccountTokens.from_files(
        config.service_account_issuer, config.service_account_signing_key_file,
        config.service_account_key_files, config.api_audiences)

    async def lookup(plural: str, namespace: str, name: str) -> Object | None:
        try:
            return await registry.get(served.lookup("", plural).resource, namespace, name)
        except errors.NotFound:
            return None

    authenticator = Authenticator(config.token_auth_file, config.client_ca_file,
                                  service_accounts, lookup,
                                  bootstrap_tokens=config.enable_bootstrap_token_auth,
                                  anonymous=config.anonymous_auth)
    policy = rbac.PolicyCache(registry)
    graph = NodeGraph()
    # The Node mode's graph follows the pods watch cache (only when the mode is on).
    populator = GraphPopulator(registry, caches, graph) if "Node" in \
        authorizer.parse_modes(config.authorization_mode) else None
    authz = _authorizer(config, policy, graph)
    flow = flowcontrol.FlowControl(config.max_requests_inflight,
                                   config.max_mutating_requests_inflight)
    compactor = Compactor(storage, config.etcd_compaction_interval,
                          after=lambda: defrag.defragment(storage, config.etcd_defrag_min_bytes))
    auditor = _auditor(config)
    background = [b for k in served if k.background is not None
                  and (b := k.background(registry, config)) is not None]
    ready = asyncio.Event()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await storage.connect(config.storage_initialization_timeout)
        await _bootstrap(registry, config)
        await caches.start([r.plural for r in served.resources])
        if populator is not None:
            await populator.start()
        compactor.start()
        if auditor is not None:
            auditor.writer.start()
        # Long-lived start-up objects need not be scanned by every collection, and
        # the default thresholds collect far too often for a server that allocates
        # a dict per object (measured: ~48% of a 10,000-pod list was GC).
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        ready.set()
        log.info("component=apiserver apiserver ready etcd=%s", ",".join(config.etcd_servers))
        for work in background:
            work.start()
        try:
            yield
        finally:
            for work in background:  # at once, unless main.py's pre-shutdown already did
                await work.stop()
            ready.clear()
            await compactor.stop()
            if populator is not None:
                await populator.stop()
            for kind in served:
                for sub in kind.subresources:
                    await sub.close()
            await caches.stop()
            await storage.close()
            if auditor is not None:
                auditor.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    # The TokenRequest subresource (kinds/core/serviceaccount.py) issues with these.
    app.state.service_account_tokens = service_accounts
    app.state.authenticator = authenticator  # TokenReview (kinds/authentication/) asks it
    app.state.authorizer = authz  # the access reviews (kinds/authorization/) ask it
    app.state.kubelet_client = _kubelet_client(config)  # logs and exec (kinds/core/pod/)
    app.state.background = background  # main.py stops it first at shutdown

    @app.exception_handler(errors.APIError)
    async def api_error(request: Request, exc: errors.APIError) -> Response:
        return error_response(request, exc)

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
        return error_response(request, err)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ClientDisconnect):  # the client went away: nothing to answer
            log.debug("component=apiserver client disconnected path=%s", request.url.path)
            return Response(status_code=499)
        return error_response(request, internal_error(request.url.path, exc))

    async def authenticate(request: Request) -> None:
        if request.url.path not in PUBLIC_PATHS:
            request.state.user = await authenticator.authenticate(
                request.headers.get("authorization"), tlspeer.peer_certificate(request.scope))

    async def authorize_path(request: Request) -> None:
        """Authenticate, then authorize a non-resource request (discovery, OpenAPI, metrics)."""
        await authenticate(request)
        await authorizer.check(authz, authorizer.path_attributes(
            _user(request), request.method, request.url.path))

    def admit(request: Request,
              info: requestinfo.RequestInfo | None = None) -> AbstractAsyncContextManager[str]:
        """A seat for an authenticated request (flowcontrol.py); a 429 when there is none."""
        return flow.admit(_work(getattr(request.state, "user", ANONYMOUS), info))

    @app.get("/healthz")
    @app.get("/livez")
    async def healthz() -> Response:
        """Liveness: the process serves. An etcd outage is not a reason to restart it."""
        return Response("ok", media_type="text/plain")

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        return await health.readyz(storage, ready, verbose="verbose" in request.query_params)

    @app.get("/version")
    async def version() -> Response:
        return json_response(discovery.version())

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Response:
        await authorize_path(request)
        async with admit(request):
            return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api")
    async def api_root(request: Request) -> Response:
        await authorize_path(request)
        async with admit(request):
            return _discovery_root(
                request, served, core=True,
                legacy=lambda: discovery.api_versions(config.server_address))

    @app.get("/apis")
    async def apis_root(request: Request) -> Response:
        await authorize_path(request)
        async with admit(request):
            return _discovery_root(request, served, core=False,
                                   legacy=lambda: discovery.api_groups(served))

    @app.get("/openapi/v3")
    async def openapi_index(request: Request) -> Response:
        await authorize_path(request)
        async with admit(request):
            return json_response(documents.index())

    @app.get("/openapi/v3/{key:path}")
    async def openapi_document(request: Request, key: str) -> Response:
        await authorize_path(request)
        gv = openapi.key_to_group_version(key)
        doc = documents.document(gv) if gv is not None else None
        if doc is None:
            raise errors.NotFound(f"no OpenAPI document for {key}")
        async with admit(request):
            return json_response(doc)

    @app.get("/openapi/v2")
    async def openapi_v2(request: Request) -> Response:
        await authorize_path(request)
        # kubectl asks for v2 in protobuf only, as a fallback when v3 fails; JSON only here.
        if not _accepts_json(request.headers.get("accept", "")):
            raise errors.NotAcceptable("only application/json is served for /openapi/v2")
        async with admit(request):
            return json_response(documents.v2())

    @app.websocket("/{root:path}")
    async def upgrade(websocket: WebSocket, root: str) -> None:
        await connect.serve(websocket, served, registry, authenticator, authz, auditor)

    @app.api_route("/{root:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def resources(request: Request, root: str) -> Response:
        await authenticate(request)
        answer_media(request)  # a 406 before any work for what cannot be answered
        path = "/" + root
        doc = _discovery_document(served, path) if request.method == "GET" else None
        if doc is not None:
            await authorizer.check(authz, authorizer.path_attributes(
                _user(request), request.method, path))
            check_acceptable(request)
            async with admit(request):
                return json_response(doc)
        info = requestinfo.parse(request.method, path, dict(request.query_params), served)
        started = time.perf_counter()
        code = 500
        requester: contextvars.Token[authorizer.Requester | None] | None = None
        record = auditor.begin(request, request.state.user, info) if auditor else None
        admissionnotes.begin()  # this request's own notes, whatever the task's context held
        response: Response | None = None
        panicked = False
        failure: errors.APIError | None = None
        decision: dict[str, str] = {}  # the authorizer's audit annotations
        try:
            # Inside the audited part, as Kubernetes' audit filter wraps authorization:
            # a refused request is logged with its 403 and the decision.
            # The decision goes to the audit event, not to admission's notes: a write's
            # field validation begins those afresh.
            await authorizer.check(authz, authorizer.resource_attributes(
                _user(request), info, request.query_params.get("fieldSelector")), decision)
            requester = authorizer.REQUESTER.set(authorizer.Requester(_user(request), authz))
            async with admit(request, info):
                # NodeRestriction's checks of the URL and the stored object (nodeauthz/)
                await noderestriction.admit_request(registry, _user(request), info)
                response = await handlers.handle(request, info)
            code = response.status_code
            if info.resource.group == rbac.GROUP and info.verb not in rbac.READ_VERBS:
                policy.invalidate()
            if record is not None:
                response.headers["Audit-Id"] = record.event["auditID"]
            return response
        except errors.APIError as exc:
            code, failure = exc.code, exc
            raise
        except ClientDisconnect:
            code = 499
            raise
        except Exception:
            panicked = True
            raise
        finally:
            if requester is not None:
                authorizer.REQUESTER.reset(requester)
            if auditor is not None and record is not None:
                notes = admissionnotes.current()
                auditor.finish(record, request, response, code, panic=panicked,
                               failure=failure, annotations={
                                   **decision, **(notes.audit_annotations if notes else {})})
            labels = (info.verb, info.resource.plural, info.subresource or "")
            metrics.REQUESTS.labels(*labels, str(code)).inc()
            if info.verb != "watch":
                metrics.REQUEST_LATENCY.labels(*labels).observe(time.perf_counter() - started)

    return app


INTERNAL_ERROR_MESSAGE = ("Internal error occurred: the request could not be completed; "
                          "the apiserver's log holds the details")


def internal_error(path: str, exc: BaseException) -> errors.InternalError:
    """The 500 an unexpected exception answers: its text and traceback go to the log only,
    as an exception's text may hold another object's data or the server's internals."""
    log.error("component=apiserver internal error path=%s error=%r", path, exc, exc_info=exc)
    return errors.InternalError(INTERNAL_ERROR_MESSAGE)


def _user(request: Request) -> UserInfo:
    return getattr(request.state, "user", ANONYMOUS)


def _kubelet_client(config: ServerConfig) -> KubeletClientConfig:
    """The apiserver's TLS towards agents; an unverified agent certificate is warned of,
    as an unverified one is what Kubernetes dials without --kubelet-certificate-authority."""
    if not config.kubelet_certificate_authority:
        log.warning("component=apiserver no --kubelet-certificate-authority: agents' "
                    "serving certificates are not verified")
    return KubeletClientConfig(config.kubelet_client_certificate, config.kubelet_client_key,
                               config.kubelet_certificate_authority,
                               config.kubelet_allow_loopback)


def _authorizer(config: ServerConfig, policy: rbac.PolicyCache,
                graph: NodeGraph) -> authorizer.Authorizer:
    """`--authorization-mode`'s modes in order, behind the system:masters check."""
    made: dict[str, authorizer.Authorizer] = {
        "RBAC": rbac.RBACAuthorizer(policy), "Node": NodeAuthorizer(graph),
        "AlwaysAllow": authorizer.AlwaysAllow()}
    modes = [made[mode] for mode in authorizer.parse_modes(config.authorization_mode)]
    return authorizer.Privileged(modes[0] if len(modes) == 1 else authorizer.Union(modes))


def _auditor(config: ServerConfig) -> Auditor | None:
    """The audit log, when both its policy and its path are given (as kube-apiserver)."""
    if not config.audit_policy_file or not config.audit_log_path:
        return None
    writer = AuditWriter(config.audit_log_path,
                         max_bytes=(config.audit_log_maxsize or 100) * 1024 * 1024,
                         max_backups=config.audit_log_maxbackup,
                         max_age_days=config.audit_log_maxage,
                         capacity=config.audit_log_queue_size)
    return Auditor(load_policy(config.audit_policy_file), writer)


def _work(user: UserInfo, info: requestinfo.RequestInfo | None) -> flowcontrol.Work:
    """What flow control classifies: the user, and the request (None: a non-resource GET)."""
    if info is None:
        return flowcontrol.Work(user.name, user.groups, "get")
    return flowcontrol.Work(user.name, user.groups, info.verb, info.resource.plural,
                            info.resource.group, info.subresource or "", info.namespace or "")


def _discovery_root(request: Request, served: kinds.Kinds, *, core: bool,
                    legacy: Callable[[], Object]) -> Response:
    """`/api` or `/apis`: the aggregated APIGroupDiscoveryList when the Accept header asks
    for it first (kubectl does), else the legacy APIVersions or APIGroupList."""
    version = discovery.negotiate_discovery(request.headers.get("accept"))
    if version is None:
        response = json_response(legacy())
    else:
        response = Response(
            orjson.dumps(discovery.aggregated_discovery(served, core=core, version=version)),
            media_type=discovery.aggregated_content_type(version))
    response.headers["Vary"] = "Accept"
    return response


def _discovery_document(served: kinds.Kinds, path: str) -> Object | None:
    """`/api/v1`, `/apis/apps`, `/apis/apps/v1`: discovery for one group (version)."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) == 2:
        return discovery.resource_list(served, parts[1])
    if parts[:1] == ["apis"] and len(parts) == 2:
        return discovery.api_group(served, parts[1])
    if parts[:1] == ["apis"] and len(parts) == 3:
        return discovery.resource_list(served, f"{parts[1]}/{parts[2]}")
    return None


def _accepts_json(accept: str) -> bool:
    """Whether an Accept header allows a JSON answer (no header allows anything)."""
    if not accept.strip():
        return True
    types_ = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(types_ & {"application/json", "application/*", "*/*"})


async def _bootstrap(registry: Registry, config: ServerConfig) -> None:
    """Create the objects every cluster starts with, as each kind declares them.

    Cluster-scoped kinds first: a namespaced kind's objects need their namespace
    (the Namespace kind creates the system namespaces).
    """
    ordered = sorted(registry.kinds, key=lambda k: k.resource.namespaced)
    for kind in ordered:
        if kind.bootstrap is not None:
            await kind.bootstrap(registry, config)
