"""`schooner backup FILE` and `schooner restore FILE`: a local cluster's disaster recovery.

`backup` is `etcdctl snapshot save` plus the cluster's PKI and tokens in one
archive (cli.cluster.archive); `restore` puts them into a fresh cluster's home
(cli.cluster.restore), and `schooner up` starts the cluster on them. Errors are
one line and exit 1, as every `schooner` command's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from cli.cluster import archive, restore
from cli.cluster.layout import Paths, schooner_home
from cli.cluster.supervisor import ClusterError
from cli.cluster.updown import HomeOption, exit_with_error

FileArgument = Annotated[Path, typer.Argument(help="The backup archive (a .tar.gz)",
                                              show_default=False)]


def register(app: typer.Typer) -> None:
    """Add `backup` and `restore` to the schooner CLI."""

    @app.command("backup")
    def backup_command(
        file: FileArgument,
        home: HomeOption = None,
        without_credentials: Annotated[bool, typer.Option(
            "--without-credentials",
            help="Leave the CA, serving certificate and tokens out (Secrets stay in etcd's "
                 "snapshot)")] = False,
        force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists")] = False,
    ) -> None:
        """Snapshot etcd (etcdctl snapshot save) and keep the PKI and tokens beside it.

        The archive holds the CA key, the tokens and the key that decrypts every Secret
        in the snapshot: it is written 0600; store it as a secret.
        """
        started = time.monotonic()
        try:
            m = archive.backup(Paths(schooner_home(home)), file.absolute(),
                               credentials=not without_credentials, force=force)
        except (ClusterError, OSError) as exc:
            raise exit_with_error(exc) from None
        kept = ", ".join(m.files) or "nothing else"
        typer.echo(f"backup {file}: etcd revision {m.snapshot.revision}, "
                   f"{m.snapshot.total_keys} keys, {file.stat().st_size} bytes, with {kept} "
                   f"({time.monotonic() - started:.1f}s)")
        if not without_credentials:
            typer.echo("it holds the CA key, the tokens and the key to the Secrets "
                       "(mode 0600): store it as a secret")

    @app.command("restore")
    def restore_command(
        file: FileArgument,
        home: HomeOption = None,
        force: Annotated[bool, typer.Option(
            "--force", help="Restore over a home that has etcd data (set aside) or other "
                            "credentials (replaced)")] = False,
    ) -> None:
        """Restore a backup into a fresh local cluster; `schooner up` then starts it."""
        started = time.monotonic()
        try:
            r = restore.restore(Paths(schooner_home(home)), file.absolute(), force=force)
        except (ClusterError, OSError) as exc:
            raise exit_with_error(exc) from None
        if r.set_aside:
            typer.echo(f"the old etcd data is in {r.set_aside}")
        typer.echo(f"restored {file} (taken {r.manifest.created}): etcd revision "
                   f"{r.manifest.snapshot.revision}, {r.manifest.snapshot.total_keys} keys"
                   f"{', ' + ', '.join(r.files) if r.files else ''} "
                   f"({time.monotonic() - started:.1f}s)")
        for warning in r.warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo("start the cluster on it: schooner up")
