"""The kinds: each declared once in `apiserver/kinds/`, and named nowhere in the generic code."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apimachinery.models import TypedObject
from apimachinery.printers import column_definitions, row_cells
from apimachinery.resources import RESOURCES
from apiserver import kinds as kinds_package
from apiserver.kind import Kind
from apiserver.kinds import Kinds, discover, registry

APISERVER = Path(__file__).resolve().parents[3] / "apiserver"
# Literal strings a generic module may hold although a kind shares the word, and why.
ALLOWED = {
    # `/api/v1/namespaces/{ns}/...` is URL grammar: the segment that scopes a path.
    ("requestinfo.py", "namespaces"),
    ("authorizer.py", "namespaces"),
    # A service-account token is good while the ServiceAccount and the Pod it names
    # exist (Kubernetes' token validator reads both): authentication knows these two.
    ("auth.py", "serviceaccounts"), ("auth.py", "pods"),
    # A bootstrap token is a Secret in kube-system (Kubernetes' bootstrap authenticator).
    ("bootstraptokens.py", "secrets"),
    # audit.k8s.io/v1 Event, the audit log's own record: not the core Event kind.
    ("event.py", "Event"),
    # The audit Policy rule's field `namespaces`.
    ("policy.py", "namespaces"),
    # `--authorization-mode Node`: the mode's name, as Kubernetes spells it.
    ("authorizer.py", "Node"), ("app.py", "Node"),
    # The Node authorizer and NodeRestriction (nodeauthz/) are Kubernetes' rules about
    # what a node may reach: its pods' Secrets, ConfigMaps and ServiceAccounts, its own
    # Node, Lease and pods. Their kinds are their subject, as RBAC's are kinds/rbac's.
    ("authorizer.py", "leases"), ("graph.py", "secrets"), ("graph.py", "configmaps"),
    ("graph.py", "serviceaccounts"), ("populator.py", "pods"), ("restriction.py", "pods"),
    ("restriction.py", "nodes"), ("restriction.py", "leases"), ("restriction.py", "Node"),
    # --disable-admission-plugins names Kubernetes' plugin `ServiceAccount` (a plugin's
    # name, as the flag takes it), not the kind.
    ("main.py", "ServiceAccount"),
}


def _generic_modules() -> list[Path]:
    """Every apiserver module outside `kinds/`: the registry, storage, handlers and the rest."""
    return sorted(p for p in APISERVER.rglob("*.py") if "kinds" not in p.relative_to(
        APISERVER).parts)


def _kind_words() -> set[str]:
    words: set[str] = set()
    for kind in registry():
        r = kind.resource
        words |= {r.kind, r.plural, *r.short_names}  # the singular is also metadata.namespace
    return words


def _string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings}


@pytest.mark.parametrize("path", _generic_modules(), ids=lambda p: str(p.relative_to(APISERVER)))
def test_generic_modules_name_no_kind(path: Path) -> None:
    named = {w for w in _string_literals(path) & _kind_words()
             if (path.name, w) not in ALLOWED}
    assert not named, (f"{path.relative_to(APISERVER)} names kinds {sorted(named)}: what differs "
                       "per kind belongs in its apiserver/kinds/ module (docs/adding-a-kind.md)")


def test_the_check_would_catch_a_kind_name(tmp_path: Path) -> None:
    module = tmp_path / "registry.py"
    module.write_text('"""Pods are special."""\nif resource.plural == "pods":\n    pass\n')
    assert "pods" in _string_literals(module) & _kind_words()
    assert "Pods are special." not in _string_literals(module)


def test_every_kind_module_declares_one_kind() -> None:
    kinds = discover()
    assert len({(k.resource.group, k.resource.plural) for k in kinds}) == len(kinds)
    for kind in kinds:
        assert isinstance(kind, Kind)
        assert issubclass(kind.model, TypedObject)
        assert kind.model.model_fields["kind"].default == kind.resource.kind


def test_two_kinds_with_one_plural_are_refused() -> None:
    pod = registry().by_plural("pods")
    with pytest.raises(ValueError, match="same group and plural"):
        Kinds([pod, pod])


def test_subresources_in_the_resource_are_the_handlers_the_kind_owns() -> None:
    for kind in registry():
        assert kind.resource.subresources == tuple(s.name for s in kind.subresources)
        for sub in kind.subresources:
            assert kind.subresource(sub.name) is sub
            assert sub.verbs


@pytest.mark.parametrize("kind", list(registry()), ids=lambda k: k.resource.kind)
def test_table_rows_fill_every_column(kind: Kind) -> None:
    obj = {"apiVersion": kind.resource.api_version, "kind": kind.resource.kind,
           "metadata": {"name": "x", "creationTimestamp": "2025-01-01T00:00:00Z"}}
    kind.defaulted(obj)
    columns = column_definitions(kind.resource, kind.table)
    assert columns[0]["name"] in ("Name", "Last Seen")
    assert len(row_cells(kind.resource, obj, datetime.now(UTC), kind.table)) == len(columns)


@pytest.mark.parametrize("client_side", RESOURCES, ids=lambda r: r.kind)
def test_the_clients_resource_table_agrees_with_the_served_kinds(client_side) -> None:
    """apimachinery's table is what clients know without asking (names for the CLI, paths
    for the components); the server's kinds are the truth it must not drift from."""
    served = registry().lookup(client_side.group, client_side.plural).resource
    assert client_side == served


def test_every_kind_module_is_in_the_independence_contract() -> None:
    """A new kind module joins the import-linter contract that keeps kinds apart."""
    pyproject = tomllib.loads((APISERVER.parent / "pyproject.toml").read_text())
    contract = next(c for c in pyproject["tool"]["importlinter"]["contracts"]
                    if c["name"] == "Kinds are independent")
    modules = {m.name for m in pkgutil.walk_packages(kinds_package.__path__,
                                                     f"{kinds_package.__name__}.")
               if isinstance(getattr(importlib.import_module(m.name), "KIND", None), Kind)}
    assert modules == set(contract["modules"])
