"""`schooner create token SA`: a service-account token, as `kubectl create token` asks for it.

A TokenRequest to `serviceaccounts/SA/token`; the token goes to stdout alone, so
`TOKEN=$(schooner create token ci)` works. `--duration` is at least 10 minutes
(the apiserver refuses less, as Kubernetes'), `--audience` may repeat, and
`--bound-object-kind Pod --bound-object-name P` binds the token to a Pod.
"""

from __future__ import annotations

import argparse
from typing import Annotated

import typer

from apimachinery.durations import duration
from apimachinery.meta import Object

from .commands import CommandError, NamespaceOpt, session_of

create_app = typer.Typer(name="create", no_args_is_help=True,
                         help="Create objects that are requests (service-account tokens).")


def token_request(seconds: int | None, audiences: list[str], bound_kind: str | None,
                  bound_name: str | None) -> Object:
    """The TokenRequest `kubectl create token` sends for these flags."""
    spec: Object = {"audiences": audiences}
    if seconds is not None:
        spec["expirationSeconds"] = seconds
    if bound_kind or bound_name:
        if not (bound_kind and bound_name):
            raise CommandError("--bound-object-kind and --bound-object-name go together")
        spec["boundObjectRef"] = {"kind": bound_kind, "apiVersion": "v1", "name": bound_name}
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}


def _seconds(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(duration(text))
    except argparse.ArgumentTypeError as exc:
        raise CommandError(f"--duration: {exc}") from None


@create_app.command("token")
def create_token_cmd(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="the ServiceAccount")],
        duration_: Annotated[str | None, typer.Option(
            "--duration", help="how long the token lives (e.g. 10m, 1h; at least 10m); "
                               "the apiserver's default (1h) if not given")] = None,
        audience: Annotated[list[str] | None, typer.Option(
            "--audience", help="an audience of the token; may repeat")] = None,
        bound_object_kind: Annotated[str | None, typer.Option(
            "--bound-object-kind", help="Pod: the token dies with that pod")] = None,
        bound_object_name: Annotated[str | None, typer.Option(
            "--bound-object-name", help="the pod the token is bound to")] = None,
        namespace: NamespaceOpt = None) -> None:
    """Request a service-account token and print it (kubectl create token)."""
    session = session_of(ctx)
    body = token_request(_seconds(duration_), list(audience or []), bound_object_kind,
                         bound_object_name)
    ns = session.namespace(namespace)
    response = session.client.request(
        "POST", f"/api/v1/namespaces/{ns}/serviceaccounts/{name}/token", json=body)
    typer.echo(response.json()["status"]["token"])


def register(app: typer.Typer) -> None:
    app.add_typer(create_app)
