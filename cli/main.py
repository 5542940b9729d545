"""`schooner`, the command-line client: a typer app shaped like kubectl.

This module is the front door: the global flags (`--kubeconfig`, `--context`,
`-n`), the commands that are about the client and the cluster rather than
about objects (`version`, `api-resources`), the registration
of the object verbs (`cli.commands`), of `rollout` (`cli.rollout`), of
`cordon`/`uncordon`/`drain` (`cli.nodes`), of `auth can-i` (`cli.auth`) and of `up`/`down`/`status`
(`cli.cluster.updown`), and the error boundary.

The boundary is kubectl's contract with scripts and people: a failure is one
line on stderr starting `error: `, the exit code is 1, and there is never a
traceback (set `SCHOONER_DEBUG=1` to get one while developing). The client
comes from `client_factory`, which tests replace with a fake.
"""

from __future__ import annotations

import importlib.metadata
import os
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.kubeconfig import KubeconfigError
from apimachinery.resources import UnknownResourceError, group_versions
from cli import (
    auth,
    backup,
    certs,
    commands,
    configcmd,
    copy,
    lab,
    logs_exec,
    nodes,
    output_formats,
    portforward,
    rollout,
    tokens,
    wait,
)
from cli.cluster import updown
from cli.commands import ClientFactory, CommandError, Session, one_line, session_of
from cli.join import commands as join
from cli.manifests import ManifestError

UNREACHABLE_HINT = "is the cluster running? try 'make up'"

# Builds the client from (--kubeconfig, --context); tests swap in a fake.
client_factory: ClientFactory = Client.from_kubeconfig


def error_line(exc: BaseException) -> str | None:
    """The single `error: ...` line for a failure, or None if it was already reported."""
    if isinstance(exc, errors.Unreachable):
        return f"error: {one_line(exc.message)}; {UNREACHABLE_HINT}"
    if isinstance(exc, errors.APIError):
        return f"error: {one_line(exc.message)}"
    if isinstance(exc, UnknownResourceError):
        name = exc.args[0] if exc.args else ""
        return f'error: the server doesn\'t have a resource type "{name}"'
    if isinstance(exc, CommandError) and not str(exc):
        return None
    if isinstance(exc, KubeconfigError | ManifestError | CommandError):
        return f"error: {one_line(str(exc))}"
    return (f"error: internal error: {type(exc).__name__}: {one_line(str(exc))} "
            "(set SCHOONER_DEBUG=1 for a traceback)")


class _Boundary(TyperGroup):
    """The app's group, catching every failure of every command in one place."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer gives its own
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # help, usage errors: typer's
            raise
        except KeyboardInterrupt:  # Ctrl-C on `get -w` or `logs -f`: quiet, like kubectl
            raise typer.Exit(130) from None
        except Exception as exc:
            if os.environ.get("SCHOONER_DEBUG"):
                raise
            line = error_line(exc)
            if line:
                typer.echo(line, err=True)
            raise typer.Exit(1) from None


app = typer.Typer(cls=_Boundary, name="schooner", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="Schooner: declare what should run, and the cluster keeps it running.")


@app.callback()
def _global_flags(
    ctx: typer.Context,
    kubeconfig: Annotated[str | None, typer.Option(
        "--kubeconfig", help="Path to the kubeconfig (default: $KUBECONFIG, "
                             "$SCHOONER_HOME/kubeconfig, ~/.schooner/kubeconfig).")] = None,
    context: Annotated[str | None, typer.Option(
        "--context", help="The kubeconfig context to use.")] = None,
    namespace: Annotated[str | None, typer.Option(
        "-n", "--namespace", help="The namespace (default: the context's).")] = None,
) -> None:
    """Keep the global flags on the context; the client is built on first use."""
    session = Session(kubeconfig, context, namespace,
                      factory=lambda path, name: client_factory(path, name))
    ctx.obj = session
    ctx.call_on_close(session.close)


def client_version() -> str:
    """This package's version, `v`-prefixed as kubectl prints its own."""
    try:
        return "v" + importlib.metadata.version("schooner")
    except importlib.metadata.PackageNotFoundError:
        return "v0.0.0-dev"


@app.command("version")
def version_cmd(
    ctx: typer.Context,
    client_only: Annotated[bool, typer.Option("--client", help="Client version only.")] = False,
    output: Annotated[str | None, typer.Option("-o", "--output", help="json|yaml")] = None,
) -> None:
    """Print the client and server versions (kubectl version)."""
    info: dict[str, Any] = {"clientVersion": {"gitVersion": client_version()}}
    if output is None:
        typer.echo(f"Client Version: {client_version()}")
    if not client_only:
        server = session_of(ctx).client.request("GET", "/version").json()
        info["serverVersion"] = server
        if output is None:
            typer.echo(f"Server Version: {server.get('gitVersion', 'unknown')}")
    if output is not None:
        render = output_formats.render_json if output == "json" else output_formats.render_yaml
        typer.echo(render(info), nl=False)


def _discovery(client: Client) -> list[dict[str, Any]]:
    """The APIResourceLists of the core group and each group's preferred version."""
    lists = [client.request("GET", "/api/v1").json()]
    try:
        groups = client.request("GET", "/apis").json().get("groups") or []
        versions = [(g.get("preferredVersion") or (g.get("versions") or [{}])[0])
                    .get("groupVersion", "") for g in groups]
    except errors.NotFound:
        versions = [gv for gv in group_versions() if "/" in gv]
    lists.extend(client.request("GET", f"/apis/{gv}").json() for gv in versions if gv)
    return lists


def api_resource_rows(lists: list[dict[str, Any]], *, wide: bool = False) -> list[list[str]]:
    """kubectl api-resources' rows: no subresources, sorted by group (core first), stably."""
    rows: list[tuple[str, list[str]]] = []
    for lst in lists:
        group_version = str(lst.get("groupVersion", ""))
        group = group_version.rpartition("/")[0]
        for r in lst.get("resources") or []:
            if "/" in r.get("name", ""):
                continue
            row = [r["name"], ",".join(r.get("shortNames") or []), group_version,
                   "true" if r.get("namespaced") else "false", r.get("kind", "")]
            if wide:
                row += [f"[{' '.join(r.get('verbs') or [])}]",
                        ",".join(r.get("categories") or [])]
            rows.append((group, row))
    return [row for _, row in sorted(rows, key=lambda item: item[0])]


@app.command("api-resources")
def api_resources_cmd(
    ctx: typer.Context,
    output: Annotated[str | None, typer.Option("-o", "--output", help="wide|name")] = None,
) -> None:
    """List the resource types the server offers, from its discovery documents."""
    rows = api_resource_rows(_discovery(session_of(ctx).client), wide=output == "wide")
    if output == "name":
        for row in rows:
            group = row[2].rpartition("/")[0]
            typer.echo(f"{row[0]}.{group}" if group else row[0])
        return
    header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    if output == "wide":
        header += ["VERBS", "CATEGORIES"]
    lines = ["\t".join(cells) for cells in [header, *rows]]
    typer.echo(output_formats.tabwrite(lines, minwidth=output_formats.GET_MINWIDTH,
                                       padding=output_formats.GET_PADDING), nl=False)


commands.register(app)
logs_exec.register(app)
copy.register(app)
portforward.register(app)
rollout.register(app)
nodes.register(app)
wait.register(app)
lab.register(app)
updown.register(app)
backup.register(app)
auth.register(app)
configcmd.register(app)
certs.register(app)
tokens.register(app)
join.register(app)


def main() -> None:
    """The `schooner` console script."""
    app(prog_name="schooner")
