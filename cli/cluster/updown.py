"""The `schooner up|down|status` commands: `cli.cluster.local` behind typer, with rich output."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.cluster import local
from cli.cluster.layout import schooner_home
from cli.cluster.local import ClusterStatus
from cli.cluster.supervisor import ClusterError

HomeOption = Annotated[Path | None, typer.Option(
    "--home", help="Cluster state folder (default: $SCHOONER_HOME, else ~/.schooner)",
    show_default=False)]
EtcdPortOption = Annotated[int | None, typer.Option(
    help="etcd client port (default: as last time, else 2379)", show_default=False)]
ApiserverPortOption = Annotated[int | None, typer.Option(
    help="apiserver port (default: as last time, else 6443)", show_default=False)]


def exit_with_error(exc: Exception) -> typer.Exit:
    """Print an error as one red line (plus any log tail, plain) and exit 1."""
    first, _, rest = str(exc).partition("\n")
    err = Console(stderr=True, highlight=False)
    err.print(f"[red]error: {escape(first)}[/red]", soft_wrap=True)
    if rest:
        err.print(escape(rest), soft_wrap=True)
    return typer.Exit(1)


def _tilde(path: Path) -> str:
    home = str(Path.home())
    return "~" + str(path)[len(home):] if str(path).startswith(home + os.sep) else str(path)


def render_status(console: Console, st: ClusterStatus) -> None:
    """The components as a table, then the kubeconfig and what to type next."""
    table = Table(box=None)
    for column in ("COMPONENT", "STATE", "PID", "HEALTH", "LOG"):
        table.add_column(column, no_wrap=True)
    for c in st.components:
        state = ("[green]healthy[/]" if c.healthy else "[yellow]unhealthy[/]" if c.alive
                 else "[red]stopped[/]")
        table.add_row(c.name, state, str(c.pid or "-"), c.url, _tilde(c.log))
    console.print(table)
    kubeconfig = _tilde(st.kubeconfig)
    console.print(f"\nkubeconfig: {kubeconfig}")
    if st.home != schooner_home(None):
        console.print(f"  export SCHOONER_HOME={_tilde(st.home)}")
    console.print("  schooner get nodes")
    console.print(f"  kubectl --kubeconfig {kubeconfig} get pods")


def register(app: typer.Typer) -> None:
    """Add `up`, `down` and `status` to the schooner CLI."""

    @app.command("up")
    def up_command(
        home: HomeOption = None,
        etcd_port: EtcdPortOption = None,
        apiserver_port: ApiserverPortOption = None,
    ) -> None:
        """Start the local control plane (etcd, apiserver) and write a kubeconfig."""
        try:
            st = local.up(home, etcd_port=etcd_port, apiserver_port=apiserver_port)
        except (ClusterError, OSError) as exc:
            raise exit_with_error(exc) from None
        render_status(Console(highlight=False, width=160), st)

    @app.command("down")
    def down_command(home: HomeOption = None) -> None:
        """Stop the local control plane; its data stays for the next `up`."""
        try:
            stopped = local.down(home)
        except (ClusterError, OSError) as exc:
            raise exit_with_error(exc) from None
        Console().print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")

    @app.command("status")
    def status_command(home: HomeOption = None) -> None:
        """Show each control-plane component's process and health."""
        try:
            st = local.status(home)
        except (ClusterError, OSError) as exc:
            raise exit_with_error(exc) from None
        render_status(Console(highlight=False, width=160), st)
