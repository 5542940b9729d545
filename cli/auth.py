"""`schooner auth can-i`: kubectl's question to the apiserver, asked the same way.

`can-i VERB TYPE[/NAME]` (or `can-i VERB /path`) creates a
SelfSubjectAccessReview and prints `yes` (exit 0) or `no` (exit 1), as
kubectl does; `--list` creates a SelfSubjectRulesReview and prints the rules
as kubectl's table (Resources, Non-Resource URLs, Resource Names, Verbs).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from apimachinery.meta import Object

from .commands import CommandError, Session, session_of

auth_app = typer.Typer(help="Inspect authorization (RBAC).", no_args_is_help=True)


@auth_app.command("can-i")
def can_i_cmd(
    ctx: typer.Context,
    verb: Annotated[str | None, typer.Argument(help="get, list, create, '*', ...")] = None,
    what: Annotated[str | None, typer.Argument(
        help="TYPE, TYPE/NAME or a non-resource path such as /healthz")] = None,
    name: Annotated[str | None, typer.Argument(help="The object's name.")] = None,
    namespace: Annotated[str | None, typer.Option("-n", "--namespace")] = None,
    all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces")] = False,
    subresource: Annotated[str, typer.Option(help="e.g. log, scale, status")] = "",
    list_: Annotated[bool, typer.Option("--list", help="list everything you may do")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="only the exit code")] = False,
) -> None:
    """May I do VERB on TYPE (in the namespace)? `yes` exits 0, `no` exits 1."""
    session = session_of(ctx)
    ns = "" if all_namespaces else session.namespace(namespace)
    if list_:
        _print_rules(session, ns)
        return
    if not verb or not what:
        raise CommandError("you must specify two arguments: verb resource or verb "
                           "resource/resourceName.")
    review = session.client.create("selfsubjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": _attributes(session, verb, what, name, ns, subresource)})
    allowed = bool((review.get("status") or {}).get("allowed"))
    if not quiet:
        typer.echo("yes" if allowed else "no")
    if not allowed:
        raise typer.Exit(1)


def _attributes(session: Session, verb: str, what: str, name: str | None, namespace: str,
                subresource: str) -> Object:
    if what.startswith("/"):
        return {"nonResourceAttributes": {"verb": verb, "path": what}}
    kind, _, named = what.partition("/")
    if kind == "*":
        group, plural, scoped = "*", "*", True
    else:
        resource = session.client.resolve(kind)
        group, plural, scoped = resource.group, resource.plural, resource.namespaced
    return {"resourceAttributes": {
        "namespace": namespace if scoped else "", "verb": verb, "group": group,
        "resource": plural, "subresource": subresource, "name": named or name or ""}}


def _print_rules(session: Session, namespace: str) -> None:
    review = session.client.create("selfsubjectrulesreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": namespace}})
    status = review.get("status") or {}
    rows = [["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]]
    for rule in status.get("resourceRules") or []:
        for group in rule.get("apiGroups") or [""]:
            for resource in rule.get("resources") or []:
                qualified = f"{resource}.{group}" if group else resource
                rows.append([qualified, "[]", _list(rule.get("resourceNames")),
                             _list(rule.get("verbs"))])
    for rule in status.get("nonResourceRules") or []:
        for url in rule.get("nonResourceURLs") or []:
            rows.append(["", f"[{url}]", "[]", _list(rule.get("verbs"))])
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        typer.echo("   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _list(values: Any) -> str:
    return "[" + " ".join(str(v) for v in values or []) + "]"


def register(app: typer.Typer) -> None:
    """Add `auth` and its `can-i` to the `schooner` app."""
    app.add_typer(auth_app, name="auth")
