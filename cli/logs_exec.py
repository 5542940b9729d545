"""Commands on running pods: `logs` and `exec`, served by the pod's node agent.

Both go through the apiserver (`pods/{name}/log`, `pods/{name}/exec`), which
proxies to the agent on the pod's node, as kubectl's do through the kubelet.
"""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from apimachinery.resources import resolve

from .commands import CommandError, NamespaceOpt, session_of


def logs_cmd(ctx: typer.Context,
             pod: Annotated[str, typer.Argument(help="POD or pod/POD")],
             container: Annotated[str | None, typer.Option("-c", "--container")] = None,
             follow: Annotated[bool, typer.Option("-f", "--follow")] = False,
             tail: Annotated[int, typer.Option("--tail", help="-1: all lines.")] = -1,
             timestamps: Annotated[bool, typer.Option("--timestamps")] = False,
             namespace: NamespaceOpt = None) -> None:
    """Print a container's log, optionally following it (kubectl logs)."""
    session = session_of(ctx)
    kind, _, name = pod.rpartition("/")
    if kind and resolve(kind).kind != "Pod":
        raise CommandError(f"logs of a {resolve(kind).kind} are not supported; name a pod")
    lines = session.client.logs(name, session.namespace(namespace), container=container,
                                follow=follow, tail_lines=None if tail < 0 else tail,
                                timestamps=timestamps)
    for line in lines:
        typer.echo(line)


def exec_cmd(ctx: typer.Context,
             pod: Annotated[str, typer.Argument(help="POD or pod/POD")],
             command: Annotated[list[str], typer.Argument(help="the command, after --")],
             container: Annotated[str | None, typer.Option("-c", "--container")] = None,
             namespace: NamespaceOpt = None) -> None:
    """Run a command in a container and print its output (kubectl exec, non-interactive)."""
    session = session_of(ctx)
    name = pod.rpartition("/")[2]
    if command and command[0] == "--":  # `exec POD -- CMD`: the separator is not the command
        command = command[1:]
    if not command:
        raise CommandError("exec needs a command after --")
    params = {"container": container} if container else None
    path = f"/api/v1/namespaces/{session.namespace(namespace)}/pods/{name}/exec"
    resp = session.client.request("POST", path, params=params, json={"command": command})
    result = orjson.loads(resp.content)
    typer.echo(result.get("output", ""), nl=False)
    code = int(result.get("exitCode", 0))
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add the pod verbs to the `schooner` app."""
    app.command("logs")(logs_cmd)
    app.command("exec", context_settings={"allow_interspersed_args": False})(exec_cmd)
