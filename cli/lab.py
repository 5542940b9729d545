"""`schooner lab up|down|status`: the multi-host lab (docker-compose), from the CLI.

`make lab` and `make lab-down` call these. The lab's home is `~/.schooner/lab`
(`$SCHOONER_LAB_HOME`, `--home`); its kubeconfig there drives the lab from the
host with `schooner --kubeconfig` or `kubectl --kubeconfig`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from apimachinery import errors
from cli.cluster.updown import exit_with_error
from lab import lifecycle
from lab.compose import ComposeError
from lab.images import ImageError
from lab.readiness import LabTimeout
from lab.topology import LabConfig

lab_app = typer.Typer(name="lab", no_args_is_help=True,
                      help="A multi-host lab of Docker-in-Docker nodes (docker-compose).")

HomeOption = Annotated[Path | None, typer.Option(
    "--home", help="Lab state folder (default: $SCHOONER_LAB_HOME, else ~/.schooner/lab)",
    show_default=False)]
NodesOption = Annotated[int, typer.Option(
    "--nodes", envvar="NODES", help="Number of node hosts (default: $NODES, else 3)")]

FAILURES = (ComposeError, ImageError, LabTimeout, errors.APIError, OSError, ValueError)


def render(console: Console, st: lifecycle.LabStatus) -> None:
    table = Table(box=None)
    for column in ("NODE", "READY", "ADDRESS", "POD CIDR"):
        table.add_column(column, no_wrap=True)
    for node in st.nodes:
        table.add_row(node.name, "True" if node.ready else "False", node.address, node.pod_cidr)
    if st.containers:
        running = sum(1 for _, state in st.containers if state == "running")
        console.print(f"containers: {running}/{len(st.containers)} running")
    console.print(table if st.nodes else "nodes: none registered (is the lab up?)")
    console.print(f"\nkubeconfig: {st.kubeconfig}")
    console.print(f"  schooner --kubeconfig {st.kubeconfig} get nodes -o wide")
    console.print(f"  kubectl --kubeconfig {st.kubeconfig} get pods -A")
    if st.nodes:
        console.print(f"  NodePort services answer on every node's address, e.g. "
                      f"http://{st.nodes[0].address}:30080/")


def _config(nodes: int) -> LabConfig:
    return LabConfig(nodes=nodes)


@lab_app.command("up")
def up_command(home: HomeOption = None, nodes: NodesOption = 3) -> None:
    """Start (or complete) the lab and wait until every node is Ready."""
    try:
        st = lifecycle.up(_config(nodes), lifecycle.lab_home(home))
    except FAILURES as exc:
        raise exit_with_error(exc) from None
    console = Console(highlight=False, width=160)
    console.print(f"lab up: {len(st.nodes)} nodes Ready in {st.elapsed:.1f}s")
    render(console, st)


@lab_app.command("down")
def down_command(
    home: HomeOption = None, nodes: NodesOption = 3,
    keep_volumes: Annotated[bool, typer.Option(
        "--keep-volumes", help="Keep etcd's data and the nodes' engines")] = False,
) -> None:
    """Remove the lab's containers, networks and (unless kept) volumes."""
    try:
        lifecycle.down(_config(nodes), lifecycle.lab_home(home), keep_volumes=keep_volumes)
    except FAILURES as exc:
        raise exit_with_error(exc) from None
    typer.echo("lab down")


@lab_app.command("status")
def status_command(home: HomeOption = None, nodes: NodesOption = 3) -> None:
    """Show the lab's containers and nodes."""
    try:
        st = lifecycle.status(_config(nodes), lifecycle.lab_home(home))
    except FAILURES as exc:
        raise exit_with_error(exc) from None
    render(Console(highlight=False, width=160), st)


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app)


__all__ = ["lab_app", "register"]
