"""WebSocket upgrades of the API (`pods/{name}/exec`, `attach`, `portforward`):
authenticated, authorized, audited and counted, then handed to the subresource that
serves them.

kubectl v1.32 and the Python clients open these as a WebSocket GET. It goes through the
same steps as any request: the caller is named (token or client certificate), the
path parsed (RequestInfo: the GET is verb `get` on the subresource), and authorized;
as Kubernetes does by default since 1.35 (AuthorizePodWebsocketUpgradeCreatePermission),
the caller must also be allowed `create` on it, the verb the same request has over
SPDY (a POST), so a role granting only `get` on `pods/exec` or `pods/portforward`
cannot run commands or reach ports. A refusal, a bad path or a subresource that
serves no upgrade is an HTTP answer with a v1 Status in place of the upgrade, which
kubectl prints as `Error from server (...)`.

The audit log has the request as Kubernetes writes a connect: RequestReceived,
ResponseStarted (101) once upgraded, ResponseComplete when the connection ends; a
refusal is one event with its code and the authorizer's decision. The metrics count
it as `apiserver_request_total{verb="connect"}` with its code (101 once upgraded).
Like every long-running request (Kubernetes' `--long-running-request-regexp`: watch,
exec, attach, portforward, proxy) an upgrade takes no seat of `--max-requests-inflight`
or of a priority level: a seat held for an interactive session's hours would starve
short requests. What bounds sessions is the agent's own limit per node
(agent/server/server.py).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import orjson
from fastapi import Response, WebSocket

from apimachinery import errors, tlspeer

from . import authorizer, metrics, requestinfo
from .audit.event import Auditor, Record
from .auth import Authenticator
from .kind import Upgrade
from .kinds import Kinds
from .registry import Registry

log = logging.getLogger("apiserver")
SWITCHING_PROTOCOLS = 101


async def serve(websocket: WebSocket, served: Kinds, registry: Registry,
                authenticator: Authenticator, authz: authorizer.Authorizer,
                auditor: Auditor | None = None) -> None:
    """Serve one upgrade; any API error before it is accepted is the HTTP answer."""
    try:
        user = await authenticator.authenticate(websocket.headers.get("authorization"),
                                                tlspeer.peer_certificate(websocket.scope))
        info = requestinfo.parse("GET", websocket.url.path, dict(websocket.query_params),
                                 served)
    except errors.APIError as exc:
        await _answer(websocket, exc)
        return
    record = auditor.begin(websocket, user, info) if auditor is not None else None
    code, failure, panicked = SWITCHING_PROTOCOLS, None, False
    annotations: dict[str, str] = {}
    try:
        sub = served.lookup(info.resource.group, info.resource.plural).subresource(
            info.subresource or "")
        if sub is None or not info.name:
            raise errors.MethodNotAllowed(f"a WebSocket upgrade is not supported on "
                                          f"{websocket.url.path}")
        for verb in ("get", "create"):
            await authorizer.check(authz, authorizer.resource_attributes(
                user, dataclasses.replace(info, verb=verb)), annotations)
        log.info("component=apiserver stream user=%s verb=create resource=%s/%s "
                 "namespace=%s name=%s", user.name, info.resource.plural, info.subresource,
                 info.namespace, info.name)
        await sub.connect(websocket, Upgrade(info, registry, _started(auditor, record)))
    except errors.APIError as exc:
        code, failure = exc.code, exc
        await _answer(websocket, exc)
    except Exception as exc:  # a bug: the 500 Status, the details in the log only
        code, panicked = 500, True
        log.error("component=apiserver internal error path=%s error=%r", websocket.url.path,
                  exc, exc_info=exc)
        await _answer(websocket, errors.InternalError(
            "Internal error occurred: the request could not be completed; the apiserver's "
            "log holds the details"))
    finally:
        if auditor is not None and record is not None:
            auditor.finish(record, websocket, None, code, panic=panicked, failure=failure,
                           annotations=annotations)
        metrics.REQUESTS.labels("connect", info.resource.plural, info.subresource or "",
                                str(code)).inc()


def _started(auditor: Auditor | None, record: Record | None) -> Callable[[], None]:
    """What the subresource calls once the upgrade is accepted."""
    def accepted() -> None:
        if auditor is not None and record is not None:
            auditor.started(record, SWITCHING_PROTOCOLS)
    return accepted


async def _answer(websocket: WebSocket, exc: errors.APIError) -> None:
    """The error's Status in place of the upgrade; once upgraded, only a log line."""
    if websocket.application_state.name == "CONNECTING":
        await websocket.send_denial_response(Response(
            orjson.dumps(exc.to_status()), status_code=exc.code,
            media_type="application/json"))
    else:
        log.info("component=apiserver stream failed after upgrade path=%s error=%s",
                 websocket.url.path, exc)
