"""Lifecycle hooks: one run of a postStart or preStop handler (kubelet's lifecycle.handlerRunner).

`HookRunner.run(pod, container, container_id, pod_ip, handler)` performs the
handler's one action and returns a `HookResult`: whether it succeeded and, if
not, the kubelet's message for the `FailedPostStartHook`/`FailedPreStopHook`
event and the container's `PostStartHookError` state. The rules are the
kubelet's:

* exec: the command runs in the container through the runtime's exec; a
  non-zero exit fails the hook;
* httpGet: GET `scheme://host:port/path` with the handler's httpHeaders
  (built as for an httpGet probe, `agent.probes.runner`), host defaulting to the
  pod's IP, TLS not verified, redirects followed as Go's http.Client does.
  Only a request that fails (refused, reset, no such host) fails the hook:
  the kubelet never looks at the status code of a lifecycle request, so a
  500 is not a failure (unlike a probe, where only 2xx/3xx pass);
* sleep: wait `seconds` on the agent's clock; nothing runs in the container;
* anything else (tcpSocket, which the API keeps only for compatibility) is
  "Cannot run handler".

A hook has no timeout of its own: the kubelet lets a postStart hook take as
long as it takes and bounds a preStop hook by the grace period. Callers bound
or interrupt a run with `run_until`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from agent.podsync.actions import pod_full_name
from agent.probes.runner import ProbeError, probe_headers, probe_url, resolve_port
from agent.runtime.container import ContainerRuntimeError
from agent.runtime.protocol import ContainerRuntime
from apimachinery.clock import Clock
from apimachinery.meta import Object

T = TypeVar("T")
USER_AGENT = "kube-lifecycle/schooner"
MAX_OUTPUT = 10 * 1024


@dataclass(frozen=True)
class HookResult:
    ok: bool
    message: str = ""  # why it failed, in the kubelet's words


def handler_of(container: Object, hook: str) -> Object | None:
    """The container's `lifecycle.<hook>` handler (`postStart`, `preStop`), if any."""
    handler = ((container.get("lifecycle") or {}).get(hook))
    return handler if isinstance(handler, dict) else None


async def run_until(work: Awaitable[T], stop: Awaitable[Any]) -> tuple[bool, T | None]:
    """Await `work` unless `stop` completes first: (finished, its value); the loser is cancelled.

    A cancelled exec goes on inside the container (Docker cannot cancel one)
    until the container is stopped, as an abandoned hook does in the kubelet.
    """
    job = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop)
    try:
        await asyncio.wait((job, stopper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        pending = [t for t in (job, stopper) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
    if job.done() and not job.cancelled():
        return True, job.result()
    return False, None


class HookRunner:
    """Runs lifecycle handlers for the pod-sync layer (start and kill paths)."""

    def __init__(self, runtime: ContainerRuntime, clock: Clock,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._runtime = runtime
        self._clock = clock
        self._transport = transport  # tests: an httpx.MockTransport

    async def run(self, pod: Object, container: Object, container_id: str, pod_ip: str,
                  handler: Object) -> HookResult:
        """Run `handler` once for `container` (a spec) whose instance is `container_id`."""
        who = f'for Container "{container.get("name")}" in Pod "{pod_full_name(pod)}"'
        if isinstance(handler.get("exec"), dict):
            return await self._exec(container_id, handler["exec"], who)
        if isinstance(handler.get("httpGet"), dict):
            return await self._http_get(container, handler["httpGet"], pod_ip, who)
        if isinstance(handler.get("sleep"), dict):
            await self._clock.sleep(float(handler["sleep"].get("seconds") or 0))
            return HookResult(True)
        return HookResult(False, f"Cannot run handler: invalid handler: {json.dumps(handler)}")

    async def _exec(self, container_id: str, action: Object, who: str) -> HookResult:
        command = [str(part) for part in action.get("command") or []]
        shown = f"[{' '.join(command)}]"
        try:
            code, output = await self._runtime.exec(container_id, command,
                                                    max_output=MAX_OUTPUT)
        except ContainerRuntimeError as exc:
            error, output = str(exc), ""
        else:
            if code == 0:
                return HookResult(True)
            error = f"command '{' '.join(command)}' exited with {code}"
        return HookResult(False, f"Exec lifecycle hook ({shown}) {who} failed - error: "
                                 f"{error}, message: {json.dumps(output[:MAX_OUTPUT])}")

    async def _http_get(self, container: Object, action: Object, pod_ip: str,
                        who: str) -> HookResult:
        failed = f"HTTP lifecycle hook ({action.get('path') or ''}) {who} failed - error: "
        host = str(action.get("host") or pod_ip)
        try:
            if not host:
                raise ProbeError("failed to find networking container: the pod has no IP")
            url = probe_url(action, host, resolve_port(action.get("port"), container))
        except ProbeError as exc:
            return HookResult(False, failed + str(exc))
        try:
            await self._get(url, lifecycle_headers(action))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return HookResult(False, f'{failed}Get "{url}": {str(exc) or type(exc).__name__}')
        return HookResult(True)

    async def _get(self, url: str, headers: dict[str, str]) -> None:
        """One GET, body unread; any response at all is a success (kubelet's runHTTPHandler)."""
        async with (httpx.AsyncClient(transport=self._transport, verify=False,
                                      follow_redirects=True, trust_env=False,
                                      timeout=None) as client,
                    client.stream("GET", url, headers=headers)):
            pass


def lifecycle_headers(action: Object) -> dict[str, str]:
    """A probe's headers with the kubelet's `kube-lifecycle` user agent, unless one is given."""
    headers = probe_headers(action)
    named = {str(h.get("name", "")).lower() for h in action.get("httpHeaders") or []
             if isinstance(h, dict)}
    if "user-agent" not in named:
        headers["User-Agent"] = USER_AGENT
    return headers


__all__ = ["HookResult", "HookRunner", "handler_of", "lifecycle_headers", "run_until"]
