"""WebSocket upgrades of the API (`pods/{name}/exec`): authenticated, authorized, then
handed to the subresource that serves them.

kubectl v1.32 and the Python clients open exec as a WebSocket GET. It goes through the
same steps as any request: the caller is named (token or client certificate), the
path parsed (RequestInfo: the GET is verb `get` on the subresource), and authorized;
as Kubernetes does by default since 1.35 (AuthorizePodWebsocketUpgradeCreatePermission),
the caller must also be allowed `create` on it, the verb the same request has over
SPDY (a POST), so a role granting only `get` on `pods/exec` cannot run commands. A
refusal, a bad path or a subresource that serves no upgrade is an HTTP answer with a
v1 Status in place of the upgrade, which kubectl prints as `Error from server (...)`.
"""

from __future__ import annotations

import dataclasses
import logging

import orjson
from fastapi import Response, WebSocket

from apimachinery import errors, tlspeer

from . import authorizer, requestinfo
from .auth import Authenticator
from .kind import Upgrade
from .kinds import Kinds
from .registry import Registry

log = logging.getLogger("apiserver")


async def serve(websocket: WebSocket, served: Kinds, registry: Registry,
                authenticator: Authenticator, authz: authorizer.Authorizer) -> None:
    """Serve one upgrade; any API error before it is accepted is the HTTP answer."""
    try:
        await _serve(websocket, served, registry, authenticator, authz)
    except errors.APIError as exc:
        await _answer(websocket, exc)
    except Exception as exc:  # a bug: the 500 Status, the details in the log only
        log.error("component=apiserver internal error path=%s error=%r", websocket.url.path,
                  exc, exc_info=exc)
        await _answer(websocket, errors.InternalError(
            "Internal error occurred: the request could not be completed; the apiserver's "
            "log holds the details"))


async def _answer(websocket: WebSocket, exc: errors.APIError) -> None:
    """The error's Status in place of the upgrade; once upgraded, only a log line."""
    if websocket.application_state.name == "CONNECTING":
        await websocket.send_denial_response(Response(
            orjson.dumps(exc.to_status()), status_code=exc.code,
            media_type="application/json"))
    else:
        log.info("component=apiserver stream failed after upgrade path=%s error=%s",
                 websocket.url.path, exc)


async def _serve(websocket: WebSocket, served: Kinds, registry: Registry,
                 authenticator: Authenticator, authz: authorizer.Authorizer) -> None:
    user = await authenticator.authenticate(websocket.headers.get("authorization"),
                                            tlspeer.peer_certificate(websocket.scope))
    info = requestinfo.parse("GET", websocket.url.path, dict(websocket.query_params), served)
    sub = served.lookup(info.resource.group, info.resource.plural).subresource(
        info.subresource or "")
    if sub is None or not info.name:
        raise errors.MethodNotAllowed(f"a WebSocket upgrade is not supported on "
                                      f"{websocket.url.path}")
    for verb in ("get", "create"):
        await authorizer.check(authz, authorizer.resource_attributes(
            user, dataclasses.replace(info, verb=verb)))
    log.info("component=apiserver stream user=%s verb=create resource=%s/%s namespace=%s "
             "name=%s", user.name, info.resource.plural, info.subresource, info.namespace,
             info.name)
    await sub.connect(websocket, Upgrade(info, registry))
