"""`schooner wait KIND/NAME --for condition=Available`, as `kubectl wait` does.

`make up` uses it to wait until the example app is available; scripts use it
instead of sleeping.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from apimachinery import errors

from .commands import CommandError, NamespaceOpt, parse_targets, resource_ref, session_of


def condition_met(obj: dict[str, Any], condition: str) -> bool:
    """Whether `obj` has condition `Type` (or `Type=Status`) with that status (default True)."""
    wanted_type, _, wanted_status = condition.partition("=")
    status = wanted_status or "True"
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type", "").lower() == wanted_type.lower():
            return str(cond.get("status", "")).lower() == status.lower()
    return False


def wait_cmd(ctx: typer.Context,
             args: Annotated[list[str], typer.Argument(help="KIND/NAME or KIND NAME")],
             for_: Annotated[str, typer.Option("--for", help="condition=TYPE[=STATUS] or "
                                                             "delete")],
             timeout: Annotated[float, typer.Option(help="seconds")] = 30.0,
             namespace: NamespaceOpt = None) -> None:
    """Wait until objects meet a condition or are deleted (kubectl wait)."""
    session = session_of(ctx)
    _, pairs = parse_targets(args, session.client.resolve)
    if not pairs:
        raise CommandError("wait needs KIND/NAME")
    if for_ != "delete" and not for_.startswith("condition="):
        raise CommandError(f"--for: unsupported {for_!r}: use condition=TYPE or delete")
    ns = session.namespace(namespace)
    deadline = time.monotonic() + timeout
    for resource, name in pairs:
        ref = f"{resource_ref(resource)}/{name}"
        while True:
            try:
                obj = session.client.get(resource, name, ns if resource.namespaced else None)
                if for_ != "delete" and condition_met(obj, for_.removeprefix("condition=")):
                    typer.echo(f"{ref} condition met")
                    break
            except errors.NotFound:
                if for_ == "delete":
                    typer.echo(f"{ref} deleted")
                    break
            if time.monotonic() > deadline:
                raise CommandError(f"timed out waiting for the condition on {ref}")
            time.sleep(0.5)


def register(app: typer.Typer) -> None:
    app.command("wait")(wait_cmd)
