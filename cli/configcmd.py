"""`schooner config`: users, clusters and contexts of the kubeconfig, as `kubectl config`.

`view` (redacted unless `--raw`; `--minify`, `--flatten`), `set-cluster`,
`set-credentials`, `set-context`, `use-context`, `current-context`, `get-contexts`
and `delete-context`/`-cluster`/`-user`, with kubectl v1.32's messages (`User "x"
set.`, `Context "x" modified.`, `Switched to context "x".`). Which file is read and
which one a change goes to follows clientcmd's rules for `--kubeconfig` and
`$KUBECONFIG` (apimachinery/kubeconfigfiles.py); the edits themselves are pure
functions (cli/kubeconfigedit.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
import yaml

from apimachinery.kubeconfigfiles import (
    KubeconfigError,
    default_filename,
    merge,
    read_config,
    write_config,
)
from cli import kubeconfigedit as edit
from cli import output_formats
from cli.commands import CommandError, Session, session_of

config_app = typer.Typer(name="config", no_args_is_help=True,
                         help="Modify and show kubeconfig files (kubectl config).")

_SINGULAR = {"clusters": "cluster", "users": "user", "contexts": "context"}


def _change(session: Session, section: str, name: str,
            change: Callable[[dict[str, Any], str], Any]) -> Any:
    """Apply `change(doc, path)` to the file that holds the entry (or the default file)."""
    merged = merge(session.kubeconfig, resolve_paths=False)
    target = merged.origin.get((section, name)) or default_filename(session.kubeconfig)
    doc = read_config(target)
    result = change(doc, target)
    write_config(target, doc)
    return result


def _need_name(name: str) -> None:
    if not name:
        raise CommandError("you must specify a non-empty name")


def _set_entry(ctx: typer.Context, section: str, name: str,
               change: Callable[[dict[str, Any], str], None]) -> None:
    """set-cluster and set-credentials: make or change the named entry with `change(doc,
    path)` in the file that holds it, and say so as kubectl does (`Cluster "x" set.`)."""
    _need_name(name)
    _change(session_of(ctx), section, name, change)
    typer.echo(f'{_SINGULAR[section].capitalize()} "{name}" set.')


@config_app.command("view")
def view_cmd(
    ctx: typer.Context,
    raw: Annotated[bool, typer.Option("--raw", help="Show secrets as they are.")] = False,
    minify: Annotated[bool, typer.Option("--minify", help="Only the current context.")] = False,
    flatten: Annotated[bool, typer.Option(
        "--flatten", help="Put the files referred to into the output (*-data).")] = False,
    output: Annotated[str, typer.Option("-o", "--output", help="yaml|json")] = "yaml",
) -> None:
    """Print the merged kubeconfig with tokens and keys hidden (kubectl config view)."""
    session = session_of(ctx)
    doc = edit.by_name(merge(session.kubeconfig, resolve_paths=flatten).doc)
    if minify:
        doc = edit.minify(doc, session.context)
    if flatten:
        doc = edit.flatten(doc)
    if not raw:
        doc = edit.redact(doc)
    text = (output_formats.render_json(doc) if output == "json"
            else yaml.safe_dump(doc, sort_keys=True, default_flow_style=False))
    typer.echo(text, nl=False)


@config_app.command("set-cluster")
def set_cluster_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The cluster's name in the kubeconfig.")],
    server: Annotated[str | None, typer.Option("--server", help="The apiserver's URL.")] = None,
    certificate_authority: Annotated[str | None, typer.Option(
        "--certificate-authority", help="The CA file that signed the server's certificate.")]
        = None,
    embed_certs: Annotated[bool, typer.Option(
        "--embed-certs", help="Put the CA into the kubeconfig (certificate-authority-data).")]
        = False,
    insecure: Annotated[bool | None, typer.Option(
        "--insecure-skip-tls-verify", help="Do not check the server's certificate.")] = None,
) -> None:
    """Set a cluster entry (kubectl config set-cluster)."""
    _set_entry(ctx, "clusters", name, lambda doc, path: edit.set_cluster(
        doc, name, path, server=server, certificate_authority=certificate_authority,
        embed=embed_certs, insecure=insecure))


@config_app.command("set-credentials")
def set_credentials_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user's name in the kubeconfig.")],
    client_certificate: Annotated[str | None, typer.Option(
        "--client-certificate", help="The user's client certificate file.")] = None,
    client_key: Annotated[str | None, typer.Option(
        "--client-key", help="The key of the client certificate.")] = None,
    token: Annotated[str | None, typer.Option("--token", help="A bearer token.")] = None,
    embed_certs: Annotated[bool, typer.Option(
        "--embed-certs", help="Put certificate and key into the kubeconfig (*-data).")] = False,
) -> None:
    """Set a user entry (kubectl config set-credentials)."""
    _set_entry(ctx, "users", name, lambda doc, path: edit.set_credentials(
        doc, name, path, client_certificate=client_certificate, client_key=client_key,
        token=token, embed=embed_certs))


@config_app.command("set-context")
def set_context_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="The context's name.")] = None,
    current: Annotated[bool, typer.Option("--current", help="Change the current context.")]
        = False,
    cluster: Annotated[str | None, typer.Option("--cluster")] = None,
    user: Annotated[str | None, typer.Option("--user")] = None,
    namespace: Annotated[str | None, typer.Option("--namespace")] = None,
) -> None:
    """Set a context entry (kubectl config set-context)."""
    session = session_of(ctx)
    if current:
        if name:
            raise CommandError("you cannot specify both a context name and --current")
        name = merge(session.kubeconfig).doc.get("current-context") or ""
        if not name:
            raise CommandError("no current context is set")
    _need_name(name or "")
    assert name is not None
    created = _change(session, "contexts", name, lambda doc, _path: edit.set_context(
        doc, name, cluster=cluster, user=user, namespace=namespace))
    typer.echo(f'Context "{name}" {"created" if created else "modified"}.')


@config_app.command("use-context")
def use_context_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The context to switch to.")],
) -> None:
    """Set current-context (kubectl config use-context)."""
    session = session_of(ctx)
    if ("contexts", name) not in merge(session.kubeconfig).origin:
        raise CommandError(f'no context exists with the name: "{name}"')
    target = default_filename(session.kubeconfig)
    doc = read_config(target)
    doc["current-context"] = name
    write_config(target, doc)
    typer.echo(f'Switched to context "{name}".')


@config_app.command("current-context")
def current_context_cmd(ctx: typer.Context) -> None:
    """Print current-context (kubectl config current-context)."""
    current = merge(session_of(ctx).kubeconfig).doc.get("current-context")
    if not current:
        raise CommandError("current-context is not set")
    typer.echo(current)


@config_app.command("get-contexts")
def get_contexts_cmd(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Only these contexts.")] = None,
    output: Annotated[str | None, typer.Option("-o", "--output", help="name")] = None,
    no_headers: Annotated[bool, typer.Option("--no-headers")] = False,
) -> None:
    """List the contexts, `*` marking the current one (kubectl config get-contexts)."""
    if output not in (None, "name"):
        raise CommandError(f"output must be one of '' or 'name': {output}")
    doc = merge(session_of(ctx).kubeconfig).doc
    rows = edit.context_rows(doc, names or None)
    if output == "name":
        for row in rows:
            typer.echo(row[1])
    else:
        header = [] if no_headers else ["CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE"]
        lines = header + ["\t".join(row) for row in rows]
        typer.echo(output_formats.tabwrite(lines, minwidth=output_formats.GET_MINWIDTH,
                                           padding=output_formats.GET_PADDING), nl=False)
    missing = [n for n in names or [] if n not in {row[1] for row in rows}]
    if missing:
        raise CommandError(f"context {missing[0]} not found")


def _delete(ctx: typer.Context, section: str, name: str) -> None:
    session = session_of(ctx)
    merged = merge(session.kubeconfig, resolve_paths=False)
    what = _SINGULAR[section]
    origin = merged.origin.get((section, name))
    if origin is None:
        raise CommandError(f"cannot delete {what} {name}, not in "
                           f"{default_filename(session.kubeconfig)}")
    doc = read_config(origin)
    edit.delete_entry(doc, section, name)
    write_config(origin, doc)
    typer.echo(f"deleted {what} {name} from {origin}")
    if section == "contexts" and merged.doc.get("current-context") == name:
        typer.echo('warning: this removed your active context, use "schooner config '
                   'use-context" to select a different one', err=True)


@config_app.command("delete-context")
def delete_context_cmd(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a context (kubectl config delete-context)."""
    _delete(ctx, "contexts", name)


@config_app.command("delete-cluster")
def delete_cluster_cmd(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a cluster (kubectl config delete-cluster)."""
    _delete(ctx, "clusters", name)


@config_app.command("delete-user")
def delete_user_cmd(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a user (kubectl config delete-user)."""
    _delete(ctx, "users", name)


def register(app: typer.Typer) -> None:
    """Add `config` and its subcommands to the `schooner` app."""
    app.add_typer(config_app)


__all__ = ["KubeconfigError", "config_app", "register"]
