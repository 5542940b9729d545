"""Commands on running pods: `logs`, `exec` and `attach`, served by the pod's node agent.

Both go through the apiserver (`pods/{name}/log`, `pods/{name}/exec`), which
proxies to the agent on the pod's node, as kubectl's do through the kubelet.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from apimachinery.client import Client
from apimachinery.resources import resolve

from . import streaming
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
             stdin: Annotated[bool, typer.Option("-i", "--stdin",
                                                 help="Pass stdin to the command.")] = False,
             tty: Annotated[bool, typer.Option("-t", "--tty",
                                               help="Stdin is a terminal.")] = False,
             namespace: NamespaceOpt = None) -> None:
    """Run a command in a container (kubectl exec): output as it comes, stdin with -i, a
    terminal with -it; the command's exit code is ours."""
    session = session_of(ctx)
    name = pod.rpartition("/")[2]
    if command and command[0] == "--":  # `exec POD -- CMD`: the separator is not the command
        command = command[1:]
    if not command:
        raise CommandError("exec needs a command after --")
    query = [("command", c) for c in command]
    _stream(session.client, f"/api/v1/namespaces/{session.namespace(namespace)}/pods/{name}"
            "/exec", query, container, stdin, tty)


def attach_cmd(ctx: typer.Context,
               pod: Annotated[str, typer.Argument(help="POD or pod/POD")],
               container: Annotated[str | None, typer.Option("-c", "--container")] = None,
               stdin: Annotated[bool, typer.Option("-i", "--stdin",
                                                   help="Pass stdin to the container.")] = False,
               tty: Annotated[bool, typer.Option("-t", "--tty",
                                                 help="Stdin is a terminal.")] = False,
               namespace: NamespaceOpt = None) -> None:
    """Attach to a running container's own stdin and output (kubectl attach)."""
    session = session_of(ctx)
    name = pod.rpartition("/")[2]
    _stream(session.client, f"/api/v1/namespaces/{session.namespace(namespace)}/pods/{name}"
            "/attach", [], container, stdin, tty)


def _stream(client: Client, path: str, query: list[tuple[str, str]], container: str | None,
            stdin: bool, tty: bool) -> None:
    """Open the stream with kubectl's flags, pump it, and exit with its exit code."""
    tty = tty and stdin and sys.stdin.isatty()  # as kubectl: -t needs -i and a terminal
    query = [*query, ("stdout", "true"), ("stderr", "false" if tty else "true"),
             ("stdin", "true" if stdin else "false"), ("tty", "true" if tty else "false")]
    if container:
        query.append(("container", container))
    conn = streaming.connect(client, path, query)
    if tty:
        with streaming.raw_terminal() as watch:
            outcome = streaming.run(conn, stdin=sys.stdin.buffer, out=streaming.write_out,
                                    on_resize=watch)
    else:
        outcome = streaming.run(conn, stdin=sys.stdin.buffer if stdin else None,
                                out=streaming.write_out)
    if outcome.error:
        raise CommandError(outcome.error)
    if outcome.code:
        raise typer.Exit(outcome.code)


def register(app: typer.Typer) -> None:
    """Add the pod verbs to the `schooner` app."""
    app.command("logs")(logs_cmd)
    app.command("exec", context_settings={"allow_interspersed_args": False})(exec_cmd)
    app.command("attach")(attach_cmd)
