"""The `schooner` verbs that read and change objects, one function each, as kubectl has them.

Each command finds the `Session` that `cli.main` put on the typer context
(global flags plus a client built on first use), talks to the apiserver only
through `apimachinery.client`, and prints what kubectl prints. Where kubectl
carries on past one object's failure (`apply -f`, `delete a b`, `get a b`), so
do these: that failure is one `error:` line on stderr, the others go ahead,
and the command exits 1 at the end (`CommandError("")`, "already reported").
Output formats are `cli.output_formats`'; `describe`'s text is `cli.describe`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.meta import Object, name_of, namespace_of, resource_version_of
from apimachinery.printers import Layout
from apimachinery.resources import ResourceInfo, by_plural, resolve
from apimachinery.selectors import selector_from_dict
from cli import output_formats
from cli.apply import apply_one, object_ref, with_namespace
from cli.describe import describe as describe_text
from cli.manifests import load_manifests

ClientFactory = Callable[[str | None, str | None], Client]

DELETE_TIMEOUT = 60.0
DELETE_POLL = 0.5
_OUTPUTS = ("json", "yaml", "wide", "name")
_CASCADE = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}


class CommandError(Exception):
    """A command failed; the error boundary prints the message (if any) as `error: ...`.

    An empty message means every problem was already reported, one line each.
    """


@dataclass
class Session:
    """The global flags, and the client built from them on first use."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace_flag: str | None = None
    factory: ClientFactory | None = None
    _client: Client | None = field(default=None, repr=False)

    @property
    def client(self) -> Client:
        if self._client is None:
            if self.factory is None:
                raise CommandError("no client factory configured")
            self._client = self.factory(self.kubeconfig, self.context)
        return self._client

    def namespace(self, flag: str | None = None) -> str:
        """`-n` after the verb, else `-n` before it, else the kubeconfig context's namespace."""
        return flag or self.namespace_flag or getattr(self.client, "namespace", "") or "default"

    def namespace_explicit(self, flag: str | None = None) -> bool:
        return bool(flag or self.namespace_flag)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def one_line(text: str) -> str:
    """A message folded onto one line, so each error is exactly one `error:` line."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def report(exc: errors.APIError) -> None:
    """Print one object's failure and carry on, as kubectl does for multi-object verbs."""
    typer.echo(f"error: {one_line(exc.message)}", err=True)


def session_of(ctx: typer.Context) -> Session:
    session = ctx.find_object(Session)
    if session is None:
        raise CommandError("internal: no session on the command context")
    return session


def resource_ref(resource: ResourceInfo) -> str:
    """`deployment.apps` or `pod`: kubectl's spelling in `pod "web" deleted`."""
    kind = resource.kind.lower()
    return f"{kind}.{resource.group}" if resource.group else kind


TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def parse_targets(args: list[str], resolve: Callable[[str], ResourceInfo] = resolve,
                  ) -> tuple[ResourceInfo | None, list[tuple[ResourceInfo, str]]]:
    """kubectl's two spellings, `KIND NAME...` and `KIND/NAME...`.

    Returns the kind alone when no name was given (the verb lists it), else
    the (resource, name) pairs. `resolve` is the session client's, which asks
    the server's discovery for kinds the built-in table lacks.
    """
    if not args:
        raise CommandError("you must specify the type of resource")
    if "/" not in args[0]:
        resource = resolve(args[0])
        return (None, [(resource, n) for n in args[1:]]) if args[1:] else (resource, [])
    pairs = []
    for arg in args:
        kind, _, name = arg.partition("/")
        if not name:
            raise CommandError(f"arguments in resource/name form must have a single resource "
                               f"and name: {arg}")
        pairs.append((resolve(kind), name))
    return None, pairs


def _namespace_for(session: Session, resource: ResourceInfo, flag: str | None) -> str | None:
    return session.namespace(flag) if resource.namespaced else None


def with_type(resource: ResourceInfo, obj: Object) -> Object:
    """List items come without apiVersion/kind on the wire; kubectl fills them in to print."""
    return {"apiVersion": resource.api_version, "kind": resource.kind, **obj}


def _hide_managed_fields(obj: Object) -> Object:
    """The object without metadata.managedFields, as kubectl prints objects unless
    `--show-managed-fields` (kubectl hides them client-side; the server sends them)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def _print_document(objects: list[Object], output: str, *, single: bool,
                    show_managed_fields: bool = False) -> None:
    if not show_managed_fields:
        objects = [_hide_managed_fields(o) for o in objects]
    doc: Object | list[Object] = objects[0] if single else objects
    render = output_formats.render_json if output == "json" else output_formats.render_yaml
    typer.echo(render(doc), nl=False)


NamespaceOpt = Annotated[str | None, typer.Option(
    "-n", "--namespace", help="The namespace (default: the kubeconfig context's).")]
FilenameOpt = Annotated[list[str] | None, typer.Option(
    "-f", "--filename", help="A file, a directory of *.yaml/*.yml/*.json, or - for stdin.")]
SelectorOpt = Annotated[str | None, typer.Option("-l", "--selector", help="Label selector.")]


def apply_cmd(ctx: typer.Context, filename: FilenameOpt = None,
              namespace: NamespaceOpt = None) -> None:
    """Create or update objects from manifests (kubectl apply -f, client-side)."""
    session = session_of(ctx)
    if not filename:
        raise CommandError("must specify -f")
    manifests = load_manifests(filename)
    if not manifests:
        raise CommandError("no objects passed to apply")
    ns, explicit = session.namespace(namespace), session.namespace_explicit(namespace)
    objects = [(m.resource, with_namespace(m, ns, explicit=explicit)) for m in manifests]
    failed = False
    for resource, obj in objects:
        try:
            result = apply_one(session.client, resource, obj)
        except errors.Unreachable:
            raise
        except errors.APIError as exc:
            report(exc)
            failed = True
            continue
        if result.warning:
            typer.echo(result.warning, err=True)
        typer.echo(str(result))
    if failed:
        raise CommandError("")


def get_cmd(
    ctx: typer.Context,
    args: Annotated[list[str], typer.Argument(help="KIND [NAME...] or KIND/NAME...")],
    namespace: NamespaceOpt = None,
    output: Annotated[str | None, typer.Option("-o", "--output",
                                               help="json|yaml|wide|name")] = None,
    selector: SelectorOpt = None,
    field_selector: Annotated[str | None, typer.Option("--field-selector")] = None,
    all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces")] = False,
    watch: Annotated[bool, typer.Option("-w", "--watch")] = False,
    show_labels: Annotated[bool, typer.Option("--show-labels")] = False,
    no_headers: Annotated[bool, typer.Option("--no-headers")] = False,
    show_managed_fields: Annotated[bool, typer.Option(
        "--show-managed-fields", help="Keep metadata.managedFields in json and yaml.")] = False,
) -> None:
    """Show objects as a table, json, yaml or names; -w to follow changes (kubectl get)."""
    if len(args) == 1 and "," in args[0] and "/" not in args[0]:
        if watch:
            raise CommandError("you may only specify a single resource type with -w")
        for i, kind_name in enumerate(k for k in args[0].split(",") if k):
            if i and output in (None, "wide"):
                typer.echo("")
            get_cmd(ctx, [kind_name], namespace, output, selector, field_selector,
                    all_namespaces, False, show_labels, no_headers, show_managed_fields)
        return
    if output is not None and output not in _OUTPUTS:
        raise CommandError(f'unable to match a printer suitable for the output format '
                           f'"{output}", allowed formats are: {",".join(_OUTPUTS)}')
    session = session_of(ctx)
    client = session.client
    kind, pairs = parse_targets(args, session.client.resolve)
    if watch and kind is None and len(pairs) != 1:
        raise CommandError("watch is only supported on individual resources and resource "
                           f"collections, but {len(pairs)} resources were found")
    table = output_formats.TableOptions(wide=output == "wide", all_namespaces=all_namespaces,
                                        show_labels=show_labels, no_headers=no_headers)
    failed = False
    groups: dict[ResourceInfo, list[Object]] = {}
    if kind is not None:
        ns = None if all_namespaces else _namespace_for(session, kind, namespace)
        items, rv = client.list_all(kind, ns, label_selector=selector,
                                    field_selector=field_selector)
        groups[kind] = [with_type(kind, o) for o in items]
    else:
        for resource, name in pairs:
            ns = _namespace_for(session, resource, namespace)
            try:
                obj = with_type(resource, client.get(resource, name, ns))
            except errors.NotFound as exc:
                report(exc)
                failed = True
                continue
            groups.setdefault(resource, []).append(obj)
            rv, field_selector = resource_version_of(obj), f"metadata.name={name}"
    now = datetime.now(UTC)
    tables: dict[ResourceInfo, output_formats.TablePrinter] = {}
    for resource, objects in groups.items():
        if output in ("json", "yaml"):
            _print_document(objects, output, single=kind is None and len(pairs) == 1,
                            show_managed_fields=show_managed_fields)
        elif output == "name":
            typer.echo(output_formats.render_names(resource, objects), nl=False)
        else:
            layout = None if output_formats.has_builtin_layout(resource) else \
                _server_layout(client, resource, objects)
            tables[resource] = output_formats.TablePrinter(resource, layout=layout, **table)
            typer.echo(tables[resource].render(objects, now), nl=False)
    if kind is not None and not groups[kind] and output not in ("json", "yaml"):
        where = f" in {ns} namespace." if ns else ""
        typer.echo(f"No resources found{where}", err=True)
    if failed:
        raise CommandError("")
    if watch:
        resource = kind or pairs[0][0]
        printer = tables.get(resource) or output_formats.TablePrinter(resource, **table)
        _watch(client, resource, ns, rv, output, printer, selector, field_selector,
               show_managed_fields)


def _server_layout(client: Client, resource: ResourceInfo,
                   objects: list[Object]) -> Layout | None:
    """The server's columns for a kind the CLI has none for, from its Table of `objects`."""
    namespaces = {namespace_of(o) for o in objects} if resource.namespaced else {""}
    if len(namespaces) != 1:
        return None
    table = client.request("GET", resource.collection_path(namespaces.pop() or None),
                           headers={"Accept": TABLE_ACCEPT}).json()
    return output_formats.layout_from_table(table) if table.get("kind") == "Table" else None


def _watch(client: Client, resource: ResourceInfo, ns: str | None, rv: str, output: str | None,
           printer: output_formats.TablePrinter, selector: str | None, fields: str | None,
           show_managed_fields: bool = False) -> None:
    """`get -w`: one line (or document) per change after the list, until the server ends it."""
    for event in client.watch(resource, ns, resource_version=rv or None,
                              label_selector=selector, field_selector=fields):
        if event.type == "ERROR":
            raise errors.from_status(event.object)
        if event.type == "BOOKMARK":
            continue
        obj = with_type(resource, event.object)
        if not show_managed_fields:
            obj = _hide_managed_fields(obj)
        if output == "json":
            text = output_formats.render_json(obj)
        elif output == "yaml":
            text = "---\n" + output_formats.render_yaml(obj)
        elif output == "name":
            text = output_formats.render_names(resource, [obj])
        else:
            text = printer.render([obj], datetime.now(UTC))
        typer.echo(text, nl=False)


def describe_cmd(ctx: typer.Context,
                 args: Annotated[list[str], typer.Argument(help="KIND [NAME...] or KIND/NAME")],
                 namespace: NamespaceOpt = None, selector: SelectorOpt = None) -> None:
    """Show one object in detail with its recent events (kubectl describe)."""
    session = session_of(ctx)
    client = session.client
    kind, pairs = parse_targets(args, session.client.resolve)
    if kind is not None:
        items, _ = client.list_all(kind, _namespace_for(session, kind, namespace),
                                   label_selector=selector)
        objects = [(kind, with_type(kind, o)) for o in items]
        if not objects:
            typer.echo(f"No resources found in {session.namespace(namespace)} namespace."
                       if kind.namespaced else "No resources found", err=True)
    else:
        objects = [(r, with_type(r, client.get(r, n, _namespace_for(session, r, namespace))))
                   for r, n in pairs]
    texts = [describe_text(r, obj, _events_for(client, r, obj), datetime.now(UTC),
                           **_related(client, r, obj)) for r, obj in objects]
    if texts:
        typer.echo("\n\n".join(t.rstrip("\n") for t in texts))


def _events_for(client: Client, resource: ResourceInfo, obj: Object) -> list[Object]:
    """The object's events, by kubectl describe's field selector; none if they cannot be read."""
    terms = [f"involvedObject.name={name_of(obj)}"]
    if resource.namespaced:
        terms.append(f"involvedObject.namespace={namespace_of(obj)}")
    terms.append(f"involvedObject.kind={resource.kind}")
    try:
        items, _ = client.list_all(by_plural("events"), namespace_of(obj) or None,
                                   field_selector=",".join(terms))
    except errors.Unreachable:
        raise
    except errors.APIError:
        return []
    return items


def _related(client: Client, resource: ResourceInfo, obj: Object) -> dict[str, Any]:
    """What kubectl describe reads alongside: a Deployment's ReplicaSets, a ReplicaSet's or
    StatefulSet's pods (by its selector; `describe` keeps those it controls), a Service's
    Endpoints. Missing or unreadable ones are left out, as kubectl does."""
    ns, spec = namespace_of(obj), obj.get("spec") or {}
    try:
        if resource.kind == "Service":
            return {"endpoints": client.get(by_plural("endpoints"), name_of(obj), ns)}
        wanted = {"Deployment": ("replicasets", "replica_sets"), "ReplicaSet": ("pods", "pods"),
                  "StatefulSet": ("pods", "pods")}.get(resource.kind)
        selector = str(selector_from_dict(spec.get("selector"))) if spec.get("selector") else ""
        if wanted and selector:
            items, _ = client.list_all(by_plural(wanted[0]), ns, label_selector=selector)
            return {wanted[1]: items}
    except errors.Unreachable:
        raise
    except errors.APIError:
        pass
    return {}


def delete_cmd(
    ctx: typer.Context,
    args: Annotated[list[str] | None, typer.Argument(help="KIND NAME... or KIND/NAME...")] = None,
    filename: FilenameOpt = None,
    namespace: NamespaceOpt = None,
    selector: SelectorOpt = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait",
                                       help="Wait until the objects are gone.")] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait.")] = DELETE_TIMEOUT,
    ignore_not_found: Annotated[bool, typer.Option("--ignore-not-found")] = False,
    cascade: Annotated[str, typer.Option(
        "--cascade", help="background|foreground|orphan")] = "background",
    grace_period: Annotated[int | None, typer.Option("--grace-period")] = None,
) -> None:
    """Delete objects by name, label or manifest, then wait until they are gone (kubectl delete)."""
    if cascade not in _CASCADE:
        raise CommandError(f'invalid cascade value ({cascade}). Must be "background", '
                           '"foreground", or "orphan".')
    session = session_of(ctx)
    client = session.client
    targets = _delete_targets(session, args or [], filename or [], namespace, selector)
    gone: list[tuple[ResourceInfo, str, str | None, str]] = []
    failed = False
    for resource, name, ns in targets:
        try:
            reply = client.delete(resource, name, ns, propagation_policy=_CASCADE[cascade],
                                  grace_period_seconds=grace_period)
        except errors.NotFound as exc:
            if not ignore_not_found:
                report(exc)
                failed = True
            continue
        typer.echo(f'{resource_ref(resource)} "{name}" deleted')
        uid = (reply.get("metadata") or {}).get("uid") or (reply.get("details") or {}).get("uid")
        gone.append((resource, name, ns, str(uid or "")))
    if wait and gone:
        wait_for_deletion(client, gone, timeout)
    if failed:
        raise CommandError("")


def _delete_targets(session: Session, args: list[str], filenames: list[str],
                    flag: str | None,
                    selector: str | None) -> list[tuple[ResourceInfo, str, str | None]]:
    """What `delete` was asked to remove: from manifests, names, or a kind and a selector."""
    if filenames:
        if args:
            raise CommandError("cannot specify both -f and resource arguments")
        ns, explicit = session.namespace(flag), session.namespace_explicit(flag)
        out = []
        for m in load_manifests(filenames):
            obj = with_namespace(m, ns, explicit=explicit)
            out.append((m.resource, m.name, namespace_of(obj) or None))
        return out
    if not args:
        raise CommandError("you must provide one or more resources by argument or filename")
    kind, pairs = parse_targets(args, session.client.resolve)
    if kind is None:
        return [(r, n, _namespace_for(session, r, flag)) for r, n in pairs]
    if not selector:
        raise CommandError("resource(s) were provided, but no name was specified")
    namespace = _namespace_for(session, kind, flag)
    items, _ = session.client.list_all(kind, namespace, label_selector=selector)
    if not items:
        typer.echo("No resources found", err=True)
    return [(kind, name_of(o), namespace) for o in items]


def wait_for_deletion(client: Client, pending: list[tuple[ResourceInfo, str, str | None, str]],
                      timeout: float, *, clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> None:
    """Poll until each object is gone (NotFound, or a new object with another UID), as
    `kubectl delete --wait` does; raise `timed out waiting for the condition` past `timeout`."""
    deadline = clock() + timeout
    while pending:
        still = []
        for resource, name, ns, uid in pending:
            try:
                live = client.get(resource, name, ns)
            except errors.NotFound:
                continue
            if not uid or (live.get("metadata") or {}).get("uid") == uid:
                still.append((resource, name, ns, uid))
        pending = still
        if pending and clock() >= deadline:
            resource, name = pending[0][0], pending[0][1]
            raise CommandError(f"timed out waiting for the condition on "
                               f"{resource.plural}/{name}")
        if pending:
            sleep(DELETE_POLL)


def scale_cmd(ctx: typer.Context,
              args: Annotated[list[str], typer.Argument(help="KIND NAME or KIND/NAME")],
              replicas: Annotated[int, typer.Option("--replicas", min=0)],
              namespace: NamespaceOpt = None) -> None:
    """Set the replica count through the scale subresource (kubectl scale)."""
    session = session_of(ctx)
    kind, pairs = parse_targets(args, session.client.resolve)
    if kind is not None:
        raise CommandError("resource(s) were provided, but no name was specified")
    for resource, name in pairs:
        if "scale" not in resource.subresources:
            raise CommandError(f"{resource.group_resource} cannot be scaled")
        session.client.patch(resource, name, {"spec": {"replicas": replicas}},
                             _namespace_for(session, resource, namespace),
                             patch_type="merge", subresource="scale")
        typer.echo(f"{object_ref(resource, name)} scaled")


def register(app: typer.Typer) -> None:
    """Add the object verbs to the `schooner` app."""
    app.command("apply")(apply_cmd)
    app.command("get")(get_cmd)
    app.command("describe")(describe_cmd)
    app.command("delete")(delete_cmd)
    app.command("scale")(scale_cmd)
