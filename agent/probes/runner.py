"""One run of one probe handler: httpGet, tcpSocket, exec or grpc (kubelet's prober.runProbe).

`ProbeRunner.run(probe, container, container_id, pod_ip)` performs the
probe's single handler once, within `timeoutSeconds`, and returns a `Result`:
whether it passed and the output the kubelet puts in its `Unhealthy` event.
The rules are the kubelet's (`pkg/probe/{http,tcp,exec}`):

* httpGet: GET `scheme://host:port/path` with the probe's headers (default
  `User-Agent: kube-probe/...` and `Accept: */*`), host defaulting to the
  pod's IP, TLS not verified, no keep-alive; 200 <= code < 400 passes, and a
  redirect is not followed (the kubelet follows only same-host redirects and
  passes the rest);
* tcpSocket: a TCP connection to `host:port` (host defaulting to the pod's IP)
  that opens in time passes;
* exec: the command runs in the container through the runtime's `exec`
  within `timeoutSeconds` (past it the runtime kills it); exit code 0 passes;
  the output is capped at 10 KiB (the kubelet's `maxReadLength`);
* grpc: `grpc.health.v1.Health/Check` on the pod's IP and the port, `SERVING` passes
  (`grpc_health.py`).

A port is a number or the name of one of the container's ports. A probe that
cannot run at all (no handler, an unknown port name, the runtime failing) raises
`ProbeError`: the kubelet records it as "errored" and throws the result away,
rather than counting it as a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import Any

import httpx

from agent.probes.grpc_health import grpc_check
from agent.runtime.container import ContainerRuntimeError, ExecTimeout
from agent.runtime.protocol import ContainerRuntime
from apimachinery.meta import Object

USER_AGENT = "kube-probe/schooner"
MAX_OUTPUT = 10 * 1024  # the kubelet's maxReadLength for exec output
DEFAULT_TIMEOUT = 1


class ProbeError(Exception):
    """The probe could not be run (its result is unknown, not a failure)."""


@dataclass(frozen=True)
class Result:
    """One probe run: passed or not, and what it said (the `Unhealthy` event's text)."""

    success: bool
    output: str = ""


def timeout_seconds(probe: Object) -> float:
    """timeoutSeconds, defaulting (also for 0) to 1 s as the apiserver's defaulting does."""
    return float(probe.get("timeoutSeconds") or DEFAULT_TIMEOUT)


def resolve_port(port: Any, container: Object) -> int:
    """A probe's IntOrString port: a number, or a container port's name (kubelet's extractPort)."""
    number: Any = port
    if isinstance(port, str):
        named = [p.get("containerPort") for p in container.get("ports") or []
                 if isinstance(p, dict) and p.get("name") == port]
        if named:
            number = named[0]
        elif port.isdigit():
            number = int(port)  # last ditch: an int stored as a string
        else:
            raise ProbeError(f"port {port} not found in container {container.get('name')}")
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 65536:
        raise ProbeError(f"invalid port number: {port}")
    return number


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def probe_url(action: Object, host: str, port: int) -> str:
    """`scheme://host:port/path`, the path as given (it may carry a query)."""
    scheme = str(action.get("scheme") or "HTTP").lower()
    path = str(action.get("path") or "/")
    if not path.startswith("/"):
        path = "/" + path
    return f"{scheme}://{_host_port(host, port)}{path}"


def probe_headers(action: Object) -> dict[str, str]:
    """The probe's httpHeaders over the kubelet's defaults (a `Host` header sets the host)."""
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"}
    for header in action.get("httpHeaders") or []:
        if isinstance(header, dict) and header.get("name"):
            name = str(header["name"])
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            headers[name] = str(header.get("value") or "")
    return headers


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class ProbeRunner:
    """Runs probe handlers; one shared HTTP client for every httpGet probe of the node."""

    def __init__(self, runtime: ContainerRuntime, http: httpx.AsyncClient | None = None) -> None:
        self._runtime = runtime
        self._http = http

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                verify=False, follow_redirects=False, trust_env=False,
                limits=httpx.Limits(max_keepalive_connections=0))
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def run(self, probe: Object, container: Object, container_id: str,
                  pod_ip: str) -> Result:
        """Run the probe's handler once; raises ProbeError when it cannot be run."""
        timeout = timeout_seconds(probe)
        if isinstance(probe.get("exec"), dict):
            return await self.exec(container_id, probe["exec"], timeout)
        if isinstance(probe.get("httpGet"), dict):
            action = probe["httpGet"]
            host = str(action.get("host") or pod_ip)
            return await self.http_get(action, host, resolve_port(action.get("port"),
                                                                  container), timeout)
        if isinstance(probe.get("tcpSocket"), dict):
            action = probe["tcpSocket"]
            host = str(action.get("host") or pod_ip)
            return await self.tcp_socket(host, resolve_port(action.get("port"), container),
                                         timeout)
        if isinstance(probe.get("grpc"), dict):
            if not pod_ip:
                raise ProbeError("the pod has no IP yet")
            action = probe["grpc"]
            passed, said = await grpc_check(pod_ip, int(action.get("port") or 0),
                                            str(action.get("service") or ""), timeout)
            return Result(passed, said)
        raise ProbeError("missing probe handler")

    async def http_get(self, action: Object, host: str, port: int, timeout: float) -> Result:
        if not host:
            raise ProbeError("the pod has no IP yet")
        url = probe_url(action, host, port)
        try:
            async with asyncio.timeout(timeout):
                async with self._client().stream("GET", url, headers=probe_headers(action),
                                                 timeout=timeout) as response:
                    code = response.status_code
        except TimeoutError:
            return Result(False, f'Get "{url}": context deadline exceeded '
                                 "(Client.Timeout exceeded while awaiting headers)")
        except httpx.HTTPError as exc:
            return Result(False, f'Get "{url}": {_reason(exc)}')
        if 200 <= code < 400:
            return Result(True)
        return Result(False, f"HTTP probe failed with statuscode: {code}")

    async def tcp_socket(self, host: str, port: int, timeout: float) -> Result:
        if not host:
            raise ProbeError("the pod has no IP yet")
        target = f"dial tcp {_host_port(host, port)}"
        try:
            async with asyncio.timeout(timeout):
                _, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            return Result(False, f"{target}: i/o timeout")
        except OSError as exc:  # as Go words it: `connect: connection refused`
            reason = f"connect: {os.strerror(exc.errno).lower()}" if exc.errno else _reason(exc)
            return Result(False, f"{target}: {reason}")
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return Result(True)

    async def exec(self, container_id: str, action: Object, timeout: float) -> Result:
        command = [str(part) for part in action.get("command") or []]
        if not command:
            raise ProbeError("exec probe without a command")
        try:
            code, output = await self._runtime.exec(container_id, command, timeout=timeout,
                                                    max_output=MAX_OUTPUT)
        except ExecTimeout:  # the runtime has killed the command (the kubelet's words)
            return Result(False, f'command "{" ".join(command)}" timed out')
        except ContainerRuntimeError as exc:
            raise ProbeError(str(exc)) from exc
        return Result(code == 0, output[:MAX_OUTPUT])


__all__ = ["ProbeError", "ProbeRunner", "Result", "probe_headers", "probe_url", "resolve_port",
           "timeout_seconds"]
