"""`schooner certs create USER`: a user's client certificate, signed by the cluster CA.

kube-apiserver's x509 authenticator takes a verified client certificate's CN as the
user and each O as a group; so an admin who holds the cluster CA (a local cluster's
`$SCHOONER_HOME/pki/ca.key`, kubeadm's `/etc/kubernetes/pki/ca.key`) can give a
teammate an identity without a token file or a restart, as `kubeadm kubeconfig user`
does. The certificate grants nothing by itself: the teammate can do exactly what
RBAC binds to the user or their groups.

The key and certificate are written 0600 (`USER.key`, `USER.crt`); `--kubeconfig-out`
also writes a kubeconfig holding only that user, with the server and CA of the
admin's current context, ready to hand over.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509

from apimachinery.kubeconfig import load_kubeconfig, write_kubeconfig
from apimachinery.kubeconfigfiles import merge
from apimachinery.pki import write_private
from apimachinery.usercert import make_client_cert
from cli.cluster.layout import Paths, schooner_home
from cli.commands import CommandError, Session, session_of

certs_app = typer.Typer(name="certs", no_args_is_help=True,
                        help="Issue client certificates signed by the cluster CA.")


def _read_ca(paths: Paths) -> tuple[bytes, bytes]:
    """The cluster CA's certificate and key; only the cluster's admin can read the key."""
    try:
        return paths.ca_cert.read_bytes(), paths.ca_key.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read the cluster CA {exc.filename}: {exc.strerror} "
                           "(run where the cluster's CA is, or pass --home)") from None


def _check_user(user: str, groups: list[str], days: int) -> None:
    if not user or "/" in user or user.startswith("."):
        raise CommandError(f'invalid user name "{user}": it names the files written')
    if any(not g for g in groups):
        raise CommandError("--group must not be empty")
    if days < 1:
        raise CommandError("--days must be at least 1")


def _refuse_overwrite(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            raise CommandError(f"{path} exists: remove it or choose another --out-dir")


def _target(session: Session, ca_cert: bytes) -> tuple[str, str, bytes]:
    """(cluster name, server, CA PEM) of the admin's current context; its CA must be ours."""
    cfg = load_kubeconfig(session.kubeconfig, session.context)
    doc = merge(session.kubeconfig).doc
    context = session.context or doc.get("current-context") or ""
    body = next((c.get("context") or {} for c in doc.get("contexts") or []
                 if c.get("name") == context), {})
    cluster = str(body.get("cluster") or "schooner")
    if cfg.ca_data and _cert_der(cfg.ca_data) != _cert_der(ca_cert):
        raise CommandError(f'the CA of cluster "{cluster}" in the kubeconfig is not the CA '
                           "this certificate is signed by; pass --home of that cluster")
    return cluster, cfg.server, cfg.ca_data or ca_cert


def _cert_der(pem: bytes) -> bytes:
    try:
        return x509.load_pem_x509_certificate(pem).tbs_certificate_bytes
    except ValueError:
        return pem.strip()


@certs_app.command("create")
def create_cmd(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user name (the certificate's CN).")],
    groups: Annotated[list[str] | None, typer.Option(
        "--group", "-g", help="A group of the user (an O of the certificate); repeat it.")]
        = None,
    days: Annotated[int, typer.Option("--days", help="How long the certificate is valid.")]
        = 365,
    out_dir: Annotated[Path, typer.Option(
        "--out-dir", help="Where USER.crt and USER.key are written.")] = Path("."),
    kubeconfig_out: Annotated[Path | None, typer.Option(
        "--kubeconfig-out", help="Also write a kubeconfig holding only this user.")] = None,
    namespace: Annotated[str | None, typer.Option(
        "-n", "--namespace", help="The namespace of the kubeconfig's context.")] = None,
    home: Annotated[Path | None, typer.Option(
        "--home", help="The cluster's home, whose pki/ holds the CA "
                       "(default: $SCHOONER_HOME, ~/.schooner).")] = None,
) -> None:
    """Sign a client certificate for USER with the cluster CA (kubeadm kubeconfig user)."""
    session = session_of(ctx)
    groups = groups or []
    _check_user(user, groups, days)
    ca_cert, ca_key = _read_ca(Paths(schooner_home(home)))
    target = _target(session, ca_cert) if kubeconfig_out else None
    crt, key = out_dir / f"{user}.crt", out_dir / f"{user}.key"
    _refuse_overwrite(crt, key, *([kubeconfig_out] if kubeconfig_out else []))
    cert_pem, key_pem = make_client_cert(ca_cert, ca_key, user, groups,
                                         validity=timedelta(days=days))
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(key, key_pem)
    write_private(crt, cert_pem)
    until = x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc
    shown = f" (groups: {', '.join(groups)})" if groups else ""
    typer.echo(f'Certificate for user "{user}"{shown} valid until '
               f"{until:%Y-%m-%dT%H:%M:%SZ}: {crt}, {key}")
    if kubeconfig_out and target:
        cluster, server, ca = target
        write_kubeconfig(os.fspath(kubeconfig_out), server, ca, None, cluster=cluster,
                         user=user, context=f"{user}@{cluster}",
                         namespace=namespace or session.namespace_flag or "default",
                         client_cert=cert_pem, client_key=key_pem)
        typer.echo(f'Kubeconfig for user "{user}": {kubeconfig_out}')


def register(app: typer.Typer) -> None:
    """Add `certs` and its `create` to the `schooner` app."""
    app.add_typer(certs_app)
