"""`schooner rollout status|history|undo|restart|pause|resume`, as kubectl rollout has them.

Each command resolves one `KIND/NAME` (or `KIND NAME`), reads through the
client, and prints kubectl's lines (`deployment.apps/web rolled back`,
`deployment "web" successfully rolled out`); a refusal is one `error:` line
and exit 1 (`error: deployment "web" exceeded its progress deadline`). The
decisions live in `cli.rollout_status` (messages, the watch) and
`cli.rollout_history` (revisions and the patches sent).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from apimachinery import errors
from apimachinery.durations import duration
from apimachinery.meta import Object, name_of
from apimachinery.resources import ResourceInfo, by_plural
from apimachinery.selectors import selector_from_dict
from cli.apply import object_ref
from cli.describe._writer import Writer
from cli.describe.pods import describe_pod_template

from . import rollout_history as history
from .commands import CommandError, NamespaceOpt, Session, parse_targets, session_of
from .rollout_status import STATUS_VIEWERS, BarDisplay, Display, PlainDisplay, watch_until

rollout_app = typer.Typer(name="rollout", no_args_is_help=True,
                          help="Manage the rollout of a Deployment or StatefulSet "
                               "(kubectl rollout).")

TargetArg = Annotated[list[str], typer.Argument(help="KIND/NAME or KIND NAME")]


def _target(session: Session, args: list[str],
            namespace: str | None) -> tuple[ResourceInfo, str, str]:
    """The one (resource, name, namespace) a rollout command acts on."""
    kind, pairs = parse_targets(args, session.client.resolve)
    if kind is not None:
        raise CommandError("required resource not specified")
    if len(pairs) != 1:
        raise CommandError(f"rollout is only supported on individual resources - "
                           f"{len(pairs)} resources were found")
    resource, name = pairs[0]
    return resource, name, session.namespace(namespace)


_GO_BOOLS = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}


def parse_bool(flag: str, text: str) -> bool:
    """A boolean flag's value as Go's strconv.ParseBool reads it (`--watch=false`)."""
    value = _GO_BOOLS.get(text.strip().lower())
    if value is None:
        raise CommandError(f'invalid argument "{text}" for "{flag}" flag: strconv.ParseBool: '
                           f'parsing "{text}": invalid syntax')
    return value


def parse_timeout(text: str) -> float:
    """A `--timeout` as kubectl takes it (`5m`, `30s`, `0` for never), in seconds."""
    try:
        return duration(text)
    except argparse.ArgumentTypeError as exc:
        raise CommandError(f"--timeout: {exc}") from None


@rollout_app.command("status")
def status_cmd(
    ctx: typer.Context, args: TargetArg, namespace: NamespaceOpt = None,
    watch: Annotated[str, typer.Option(
        "-w", "--watch", help="true: watch until the rollout is done; false: print the "
                              "status once.")] = "true",
    revision: Annotated[int, typer.Option("--revision", help="Pin to this revision "
                                          "(0: the latest).")] = 0,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait (e.g. 5m); "
                                         "0 waits forever.")] = "0",
) -> None:
    """Wait until the rollout is done, showing its progress (kubectl rollout status)."""
    session = session_of(ctx)
    resource, name, ns = _target(session, args, namespace)
    viewer = STATUS_VIEWERS.get(resource.kind)
    if viewer is None:
        raise CommandError(f"no status viewer has been implemented for {resource.kind}")
    if revision < 0:
        raise CommandError(f"revision must be a positive integer: {revision}")
    seconds, keep_watching = parse_timeout(timeout), parse_bool("--watch", watch)
    session.client.get(resource, name, ns)  # NotFound before any watch, as kubectl's builder
    display: Display = BarDisplay() if sys.stdout.isatty() else PlainDisplay()

    def handle(obj: Object) -> bool:
        message, done = viewer(obj, revision)
        display.show(obj, message, done)
        return done or not keep_watching

    try:
        watch_until(session.client, resource, name, ns, handle, timeout=seconds or None)
    finally:
        display.close()


def _deployment_history(session: Session, resource: ResourceInfo, name: str,
                        ns: str) -> tuple[Object, dict[int, Object]]:
    """The Deployment and its revisions (its ReplicaSets, listed by its selector)."""
    if resource.kind != "Deployment":
        raise CommandError(f'no history viewer has been implemented for "{resource.kind}"')
    deployment = session.client.get(resource, name, ns)
    selector = str(selector_from_dict((deployment.get("spec") or {}).get("selector")))
    items, _ = session.client.list_all(by_plural("replicasets"), ns, label_selector=selector)
    return deployment, history.revisions(deployment, items)


@rollout_app.command("history")
def history_cmd(ctx: typer.Context, args: TargetArg, namespace: NamespaceOpt = None,
                revision: Annotated[int, typer.Option(
                    "--revision", help="Show this revision's pod template.")] = 0) -> None:
    """List a Deployment's revisions with their change-cause (kubectl rollout history)."""
    session = session_of(ctx)
    resource, name, ns = _target(session, args, namespace)
    _, by_revision = _deployment_history(session, resource, name, ns)
    if revision > 0 and by_revision:
        template = history.revision_template(by_revision, revision)
        writer = Writer()
        describe_pod_template(writer, template)
        typer.echo(f"{object_ref(resource, name)} with revision #{revision}")
        typer.echo(writer.text())
        return
    typer.echo(f"{object_ref(resource, name)} ")
    typer.echo(history.history_table(by_revision))


@rollout_app.command("undo")
def undo_cmd(ctx: typer.Context, args: TargetArg, namespace: NamespaceOpt = None,
             to_revision: Annotated[int, typer.Option(
                 "--to-revision", help="The revision to go back to (0: the previous one).")] = 0,
             ) -> None:
    """Go back to an earlier revision's pod template (kubectl rollout undo)."""
    session = session_of(ctx)
    resource, name, ns = _target(session, args, namespace)
    deployment, by_revision = _deployment_history(session, resource, name, ns)
    rs = history.rollback_target(deployment, by_revision, to_revision)
    if (deployment.get("spec") or {}).get("paused"):
        raise CommandError("you cannot rollback a paused deployment; resume it first with "
                           "'schooner rollout resume' and try again")
    patch = history.rollback_patch(deployment, rs)
    if patch is None:
        typer.echo(f"{object_ref(resource, name)} skipped rollback (current template already "
                   f"matches revision {to_revision})")
        return
    try:
        session.client.patch(resource, name, patch, ns, patch_type="json")
    except errors.APIError as exc:
        raise CommandError(f"failed restoring revision {to_revision}: {exc.message}") from None
    typer.echo(f"{object_ref(resource, name)} rolled back")


@rollout_app.command("restart")
def restart_cmd(ctx: typer.Context, args: TargetArg,
                namespace: NamespaceOpt = None) -> None:
    """Replace every pod by stamping the pod template with the time (kubectl rollout restart)."""
    session = session_of(ctx)
    resource, name, ns = _target(session, args, namespace)
    obj = session.client.get(resource, name, ns)
    patch = history.restart_patch(resource, obj, datetime.now(UTC))
    session.client.patch(resource, name_of(obj), patch, ns, patch_type="merge")
    typer.echo(f"{object_ref(resource, name)} restarted")


def _set_paused(ctx: typer.Context, args: list[str], namespace: str | None,
                paused: bool) -> None:
    session = session_of(ctx)
    resource, name, ns = _target(session, args, namespace)
    obj = session.client.get(resource, name, ns)
    patch = history.pause_patch(resource, obj, paused=paused)
    session.client.patch(resource, name, patch, ns, patch_type="merge")
    typer.echo(f"{object_ref(resource, name)} {'paused' if paused else 'resumed'}")


@rollout_app.command("pause")
def pause_cmd(ctx: typer.Context, args: TargetArg, namespace: NamespaceOpt = None) -> None:
    """Stop rolling out template changes until resumed (kubectl rollout pause)."""
    _set_paused(ctx, args, namespace, True)


@rollout_app.command("resume")
def resume_cmd(ctx: typer.Context, args: TargetArg, namespace: NamespaceOpt = None) -> None:
    """Roll out what changed while paused (kubectl rollout resume)."""
    _set_paused(ctx, args, namespace, False)


def register(app: typer.Typer) -> None:
    """Add `rollout` and its subcommands to the `schooner` app."""
    app.add_typer(rollout_app)
