"""Strategic merge patch: the subset `kubectl apply` needs, on wire-format dicts.

Kubernetes' strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch)
is a JSON merge patch that knows, from `patchStrategy`/`patchMergeKey` struct
tags, which lists are keyed (containers by `name`, ...) and so merges them item
by item instead of replacing them. Schooner's typed models carry the same tags
(`apimachinery.models.schema`), and `list_strategy` reads them there by the
object's kind and the list's path.

Directives understood, as `kubectl apply` sends them:

- `$patch: replace|delete|merge` in a map (replace it whole, delete it, merge);
  in a keyed list item, `delete` removes the item with that key and `replace`
  replaces that one item; an item that is only `{"$patch": "replace"}` replaces
  the whole list with the other items (Kubernetes' list-level replace).
- `$setElementOrder/<field>`: reorder the merged list to the given order.
- `$deleteFromPrimitiveList/<field>`: remove values from a list of scalars.
- `$retainKeys`: drop every key of the live map not named in the list.

No directive key ever reaches the result, also where the patch adds a value the
target did not have (Kubernetes would copy such a value verbatim).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.models import model_for, schema

Path = tuple[str, ...]

PATCH_DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ELEMENT_ORDER = "$setElementOrder/"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"


@dataclass(frozen=True)
class ListStrategy:
    """How a list field merges: `merge` by `key`, `set` (scalars, union) or `replace`."""

    strategy: str
    key: str | None = None


REPLACE = ListStrategy("replace")
SET = ListStrategy("set")


@functools.lru_cache(maxsize=4096)
def list_strategy(kind: str, parent: Path, field: str) -> ListStrategy:
    """The merge strategy of list `field` found under the map at `parent`.

    Read from the kind's model, which carries the `patchStrategy:"merge"
    patchMergeKey:"..."` tags of the Kubernetes API types: `ports` merge by
    `containerPort` inside a container and by `port` in a Service's spec,
    `metadata.finalizers` (a tag without a key) merge as a set, and a tagless
    list (tolerations, args, ...) is replaced whole. So is every list the models
    do not type: a kind without a model (`Scale`), a field kept as an extra
    (`hostAliases`) or anything inside a loose dict, as Kubernetes replaces
    lists its Go types give no tags.
    """
    try:
        model = model_for(kind)
    except KeyError:
        return REPLACE
    meta = schema.find(model, (*parent, field))
    if meta is None or "merge" not in meta.patch_strategies:
        return REPLACE
    return SET if meta.merge_key is None else ListStrategy("merge", meta.merge_key)


def is_directive(key: str) -> bool:
    """True for the keys strategic merge patch reserves (`$patch`, `$setElementOrder/x`, ...).

    Other `$`-keys (a CRD schema's `$ref`) are ordinary data, as in Kubernetes.
    """
    return key in (PATCH_DIRECTIVE, RETAIN_KEYS) or key.startswith(
        (SET_ELEMENT_ORDER, DELETE_FROM_PRIMITIVE_LIST)
    )


def apply_strategic_merge_patch(target: Object, patch: Any, kind: str) -> Object:
    """Apply a strategic merge patch to `target` (an object of `kind`) and return the result.

    Mirrors `strategicpatch.StrategicMergePatch`: maps merge recursively with
    `null` deleting a key, keyed lists merge item by item (see
    `list_strategy`), and the directives in this module's docstring apply.
    Neither input is mutated. A malformed patch raises `errors.BadRequest`.
    """
    if not isinstance(patch, dict):
        raise errors.BadRequest(
            f"strategic merge patch must be a JSON object, not {json_type_name(patch)}"
        )
    merger = _Merger(kind)
    result = merger.merge_map(copy.deepcopy(target), copy.deepcopy(patch), ())
    return {} if result is None else result


def json_type_name(value: Any) -> str:
    """`an object`, `an array`, `null`...: how error messages name a JSON value's type."""
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _has_key(item: Any, key: str, value: Any) -> bool:
    return isinstance(item, dict) and key in item and item[key] == value


class _Merger:
    """One patch application; carries the object's kind for `list_strategy`.

    Works in place on deep copies made by the caller, so it may take values
    out of the patch and store them in the result without copying again.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def merge_map(self, original: Object, patch: Object, path: Path) -> Object | None:
        """Merge `patch` into `original`; None means `$patch: delete` removed the map."""
        directive = patch.pop(PATCH_DIRECTIVE, None)
        if directive == "delete":
            return None
        if directive == "replace":
            return self.merge_map({}, patch, path)
        if directive not in (None, "merge"):
            raise errors.BadRequest(
                f"strategic merge patch: unknown $patch directive {directive!r} at {_dotted(path)}"
            )
        self._retain_keys(original, patch, path)
        for key, value in patch.items():
            if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
                self._delete_from_primitive_list(original, key, value, path)
        for key, value in patch.items():
            if not is_directive(key):
                self._merge_field(original, key, value, path)
        for key, value in patch.items():
            if key.startswith(SET_ELEMENT_ORDER):
                self._set_element_order(original, key, value, path)
        return original

    def _merge_field(self, original: Object, key: str, value: Any, path: Path) -> None:
        if value is None:
            original.pop(key, None)
            return
        current = original.get(key)
        if isinstance(value, dict):
            base = current if isinstance(current, dict) else {}
            merged = self.merge_map(base, value, (*path, key))
            if merged is None:
                original.pop(key, None)
            else:
                original[key] = merged
        elif isinstance(value, list):
            base_list = current if isinstance(current, list) else []
            original[key] = self.merge_list(base_list, value, path, key)
        else:
            original[key] = value

    def merge_list(self, original: list[Any], patch: list[Any], parent: Path,
                   field: str) -> list[Any]:
        """Merge list `field` of the map at `parent` by its `list_strategy`."""
        strategy = list_strategy(self.kind, parent, field)
        item_path = (*parent, field)
        if strategy.strategy == "set" and not any(isinstance(v, dict | list) for v in patch):
            return original + [v for i, v in enumerate(patch)
                               if v not in original and v not in patch[:i]]
        if strategy.key is None or not all(isinstance(v, dict) for v in patch):
            return self._clean_list(patch, item_path)
        return self._merge_keyed(original, patch, item_path, strategy.key)

    def _merge_keyed(self, original: list[Any], patch: list[Object], item_path: Path,
                     key: str) -> list[Any]:
        """Kubernetes' `mergeSliceWithSpecialElements` followed by a merge by `key`."""
        items: list[Object] = []
        replace_all = False
        for item in patch:
            directive = item.get(PATCH_DIRECTIVE)
            if directive == "delete":
                self._require_key(item, key, item_path)
                original = [o for o in original if not _has_key(o, key, item[key])]
            elif directive == "replace" and key not in item:
                replace_all = True
            elif directive in (None, "merge", "replace"):
                items.append(item)
            else:
                raise errors.BadRequest(
                    f"strategic merge patch: unknown $patch directive {directive!r} "
                    f"in {_dotted(item_path)}"
                )
        if replace_all:
            original = []
        for item in items:
            self._require_key(item, key, item_path)
            index = next((i for i, o in enumerate(original) if _has_key(o, key, item[key])), None)
            base = original[index] if index is not None else {}
            merged = self.merge_map(base, item, item_path)
            if merged is None:
                continue
            if index is None:
                original.append(merged)
            else:
                original[index] = merged
        return original

    def _clean_list(self, patch: list[Any], item_path: Path) -> list[Any]:
        """A list replaced whole: keep its items, with any directives applied and removed."""
        cleaned: list[Any] = []
        for item in patch:
            if isinstance(item, dict):
                merged = self.merge_map({}, item, item_path)
                if merged is not None:
                    cleaned.append(merged)
            elif isinstance(item, list):
                cleaned.append(self._clean_list(item, item_path))
            else:
                cleaned.append(item)
        return cleaned

    def _retain_keys(self, original: Object, patch: Object, path: Path) -> None:
        """`$retainKeys`: the live map keeps only the listed keys (Kubernetes' retainKeys)."""
        if RETAIN_KEYS not in patch:
            return
        retain = patch[RETAIN_KEYS]
        if not isinstance(retain, list) or not all(isinstance(k, str) for k in retain):
            raise errors.BadRequest(
                f"strategic merge patch: $retainKeys at {_dotted(path)} must be a list of strings"
            )
        for key, value in patch.items():
            if not is_directive(key) and value is not None and key not in retain:
                raise errors.BadRequest(
                    f"strategic merge patch: key {key!r} at {_dotted(path)} "
                    "is not present in the $retainKeys list"
                )
        for key in [k for k in original if k not in retain]:
            del original[key]

    def _delete_from_primitive_list(self, original: Object, directive: str, values: Any,
                                    path: Path) -> None:
        field = directive.removeprefix(DELETE_FROM_PRIMITIVE_LIST)
        if not isinstance(values, list):
            raise errors.BadRequest(
                f"strategic merge patch: {directive} at {_dotted(path)} must be a list"
            )
        current = original.get(field)
        if isinstance(current, list):
            original[field] = [v for v in current if v not in values]

    def _set_element_order(self, original: Object, directive: str, order: Any,
                           path: Path) -> None:
        """Put the named items first, in the given order; the rest keep their order after."""
        field = directive.removeprefix(SET_ELEMENT_ORDER)
        if not isinstance(order, list):
            raise errors.BadRequest(
                f"strategic merge patch: {directive} at {_dotted(path)} must be a list"
            )
        current = original.get(field)
        if not isinstance(current, list):
            return
        key = list_strategy(self.kind, path, field).key

        def identity(item: Any) -> Any:
            return item.get(key) if key is not None and isinstance(item, dict) else item

        used: set[int] = set()
        ordered: list[Any] = []
        for wanted in map(identity, order):
            for index, item in enumerate(current):
                if index not in used and identity(item) == wanted:
                    used.add(index)
                    ordered.append(item)
        original[field] = ordered + [item for i, item in enumerate(current) if i not in used]

    @staticmethod
    def _require_key(item: Object, key: str, item_path: Path) -> None:
        if key not in item:
            shown = {k: v for k, v in item.items() if k != PATCH_DIRECTIVE}
            raise errors.BadRequest(
                f"strategic merge patch: item {shown} in {_dotted(item_path)} "
                f"does not contain merge key {key!r}"
            )


def _dotted(path: Path) -> str:
    return ".".join(path) or "<root>"
