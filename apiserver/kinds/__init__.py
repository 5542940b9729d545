"""Every kind the apiserver serves: one module (or package) each, grouped by API group.

`kinds/core/pod/`, `kinds/apps/deployment.py`, `kinds/scheduling/priorityclass.py`:
each declares a module-level `KIND` (an `apiserver.kind.Kind`). `registry()`
finds them all by walking this package, so adding a kind is adding its module
(docs/adding-a-kind.md); nothing else names it. Modules without a `KIND` are a
group's shared helpers (`core/podtemplate/`, `apps/scale.py`).

The walk happens on first use, not at import, so a kind module may import
anything generic without a cycle through this package.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable, Iterator

from apimachinery.resources import ResourceInfo

from ..kind import Admission, Kind


class UnknownKindError(LookupError):
    """No kind is served under that name."""


class Kinds:
    """The served kinds, looked up the ways the generic code needs."""

    def __init__(self, kinds: Iterable[Kind]) -> None:
        self._kinds = tuple(kinds)
        self._by_resource = {(k.resource.group, k.resource.plural): k for k in self._kinds}
        self._by_gvk = {(k.resource.api_version, k.resource.kind): k for k in self._kinds}
        if len(self._by_resource) != len(self._kinds):
            raise ValueError("two kinds declare the same group and plural")
        self._admissions = [k.admission for k in self._kinds if k.admission is not None]

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def get(self, resource: ResourceInfo) -> Kind:
        """The kind serving `resource` (same group and plural)."""
        return self.lookup(resource.group, resource.plural)

    def lookup(self, group: str, plural: str) -> Kind:
        try:
            return self._by_resource[(group, plural)]
        except KeyError:
            raise UnknownKindError(f"{plural}.{group}" if group else plural) from None

    def by_plural(self, plural: str) -> Kind:
        """The kind whose plural is `plural`, in whatever group (tests and tools)."""
        for kind in self._kinds:
            if kind.resource.plural == plural:
                return kind
        raise UnknownKindError(plural)

    def by_kind(self, api_version: str, kind: str) -> Kind:
        try:
            return self._by_gvk[(api_version, kind)]
        except KeyError:
            raise UnknownKindError(f"{kind} in {api_version}") from None

    @property
    def resources(self) -> list[ResourceInfo]:
        return [k.resource for k in self._kinds]

    def group_versions(self) -> list[str]:
        """Every group/version served, core first."""
        return list(dict.fromkeys(k.resource.api_version for k in self._kinds))

    def admissions(self) -> list[Admission]:
        """The admission checks kinds contribute, run on every create and update."""
        return self._admissions


def _group_order(package: str) -> tuple[int, str]:
    return (0 if package == "core" else 1, package)


def discover() -> list[Kind]:
    """Import every module under this package and collect their `KIND`s.

    Core first, then the groups by name; within a group, modules by name. That
    is the order of discovery documents and of start-up `bootstrap` hooks.
    """
    found: list[Kind] = []
    groups = sorted((m.name for m in pkgutil.iter_modules(__path__) if m.ispkg),
                    key=_group_order)
    for group in groups:
        package = importlib.import_module(f"{__name__}.{group}")
        for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            imported = importlib.import_module(f"{package.__name__}.{module.name}")
            kind = getattr(imported, "KIND", None)
            if isinstance(kind, Kind):
                found.append(kind)
    return found


@functools.cache
def registry() -> Kinds:
    """The kinds this apiserver serves (found once per process)."""
    return Kinds(discover())


__all__ = ["Kinds", "UnknownKindError", "discover", "registry"]
