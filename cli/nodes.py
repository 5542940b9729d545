"""`schooner cordon|uncordon|drain NODE`, as kubectl's drain package has them.

cordon and uncordon set or clear `spec.unschedulable` (the scheduler's
NodeUnschedulable plugin then keeps new pods off the node) and say
`node/NAME cordoned`, or `already cordoned` when there was nothing to do.
drain cordons, picks the node's pods with kubectl's filters
(`cli.drain.pods_for_deletion`), evicts them through `pods/{name}/eviction`
and waits until they are gone: their controllers recreate them elsewhere,
and the node stays unschedulable until `uncordon`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from apimachinery.meta import Object
from apimachinery.resources import by_plural

from .commands import CommandError, Session, session_of
from .drain import Drainer, DrainOptions, aggregate, pods_for_deletion
from .rollout import parse_timeout

NodeArg = Annotated[str, typer.Argument(help="The node's name.")]


def _node_name(arg: str) -> str:
    """`NODE` or `node/NODE`."""
    kind, _, name = arg.rpartition("/")
    return name if kind in ("", "node", "nodes", "no") else arg


def set_unschedulable(session: Session, name: str, desired: bool) -> Object:
    """RunCordonOrUncordon for one node: patch only if needed, and say what happened."""
    nodes = by_plural("nodes")
    node = session.client.get(nodes, name)
    word = "cordoned" if desired else "uncordoned"
    if bool((node.get("spec") or {}).get("unschedulable")) == desired:
        typer.echo(f"node/{name} already {word}")
        return node
    node = session.client.patch(nodes, name, {"spec": {"unschedulable": True if desired
                                                        else None}})
    typer.echo(f"node/{name} {word}")
    return node


def cordon_cmd(ctx: typer.Context, node: NodeArg) -> None:
    """Mark a node unschedulable: no new pods land on it (kubectl cordon)."""
    set_unschedulable(session_of(ctx), _node_name(node), True)


def uncordon_cmd(ctx: typer.Context, node: NodeArg) -> None:
    """Mark a node schedulable again (kubectl uncordon)."""
    set_unschedulable(session_of(ctx), _node_name(node), False)


def drain_cmd(
    ctx: typer.Context, node: NodeArg,
    force: Annotated[bool, typer.Option(
        "--force", help="Also delete pods no controller manages (nothing recreates them).")
    ] = False,
    ignore_daemonsets: Annotated[bool, typer.Option(
        "--ignore-daemonsets", help="Leave DaemonSet-managed pods in place.")] = False,
    delete_emptydir_data: Annotated[bool, typer.Option(
        "--delete-emptydir-data", help="Also delete pods with emptyDir volumes (their data "
                                       "goes with them).")] = False,
    grace_period: Annotated[int, typer.Option(
        "--grace-period", help="Seconds each pod gets to stop; negative: the pod's own.")] = -1,
    timeout: Annotated[str, typer.Option(
        "--timeout", help="How long to wait (e.g. 5m); 0 waits forever.")] = "0",
) -> None:
    """Cordon a node and evict its pods, then wait until they are gone (kubectl drain)."""
    session = session_of(ctx)
    name = _node_name(node)
    seconds = parse_timeout(timeout)
    set_unschedulable(session, name, True)
    pods, _ = session.client.list_all(by_plural("pods"), None,
                                      field_selector=f"spec.nodeName={name}")
    chosen = pods_for_deletion(pods, DrainOptions(force, ignore_daemonsets,
                                                  delete_emptydir_data))
    if problems := chosen.errors():
        raise CommandError(f'unable to drain node "{name}" due to error: '
                           f"{aggregate(problems)}")
    if warnings := chosen.warnings():
        typer.echo(f"Warning: {warnings}", err=True)
    drainer = Drainer(session.client, grace_period=grace_period, timeout=seconds,
                      out=typer.echo, err=lambda line: typer.echo(line, err=True))
    drainer.evict(chosen.pods())
    typer.echo(f"node/{name} drained")


def register(app: typer.Typer) -> None:
    """Add cordon, uncordon and drain to the `schooner` app."""
    app.command("cordon")(cordon_cmd)
    app.command("uncordon")(uncordon_cmd)
    app.command("drain")(drain_cmd)
