"""The round-trip property the protobuf tests share.

Go writes every value field, so an object read back from protobuf holds more than the
JSON that was encoded: empty value structs (`strategy: {}`), a null creationTimestamp,
as Go's JSON encoder would write them too. What must hold: everything the object said
comes back exactly (pointer zeros and empty pointer structs included), anything added
is empty, pointer fields (which Go writes only when set) are not added, and encoding
what was decoded gives the same bytes.
"""

from __future__ import annotations

from typing import Any, get_origin

from pydantic import BaseModel

from apimachinery.models.schema import fields, unwrap
from apiserver import protobuf
from apiserver.protobuf.schema import hints


def is_empty(value: Any) -> bool:
    """A zero value Go writes for a field the JSON object did not have."""
    if isinstance(value, dict):
        return all(is_empty(v) for v in value.values())
    return value in (None, "", [], 0, False)


def covers(decoded: Any, original: Any, path: str = "", *, zeros_may_go: bool = False
           ) -> list[str]:
    """Where `decoded` loses or changes something `original` said, or adds a non-empty value.

    `zeros_may_go` forgives a lost `""`, `0` or `false`: a value field's zero, which the
    decoder drops as Go's JSON `omitempty` would (the server's JSON may still carry it).
    """
    if isinstance(original, dict) and isinstance(decoded, dict):
        problems = [p for key, value in original.items()
                    for p in (covers(decoded[key], value, f"{path}.{key}",
                                     zeros_may_go=zeros_may_go) if key in decoded
                              else [] if zeros_may_go and value in ("", 0, False)
                              else [f"{path}.{key}: lost ({value!r})"])]
        problems += [f"{path}.{key}: added {value!r}" for key, value in decoded.items()
                     if key not in original and not is_empty(value)]
        return problems
    if isinstance(original, list) and isinstance(decoded, list) \
            and len(original) == len(decoded):
        return [p for i, (d, o) in enumerate(zip(decoded, original, strict=True))
                for p in covers(d, o, f"{path}[{i}]", zeros_may_go=zeros_may_go)]
    if decoded != original or type(decoded) is not type(original):
        return [f"{path}: {original!r} came back as {decoded!r}"]
    return []


def assert_round_trip(obj: dict[str, Any]) -> dict[str, Any]:
    """Encode, decode, check `covers` and that re-encoding gives the same bytes."""
    body = protobuf.encode(obj)
    decoded = protobuf.decode(body)
    assert covers(decoded, obj) == []
    model = _model_of(obj)
    if model is not None:
        assert gained_pointers(decoded, obj, model) == []
    assert protobuf.encode(decoded) == body
    return decoded


def _model_of(obj: dict[str, Any]) -> type[BaseModel] | None:
    """The served kind's model, or None (a list, a Status, DeleteOptions)."""
    from apiserver.kinds import UnknownKindError, registry

    try:
        return registry().by_kind(obj.get("apiVersion", ""), obj.get("kind", "")).model
    except UnknownKindError:
        return None


def gained_pointers(decoded: Any, original: Any, model: type[BaseModel], path: str = ""
                    ) -> list[str]:
    """Pointer fields (`protobuf_hints` "pointer") that `decoded` has and `original` lacks.

    `covers` forgives an added zero, as Go writes value fields' zeros; a pointer field
    Go writes only when set, so an added `runAsUser: 0` would turn "unset" into "root".
    """
    if isinstance(decoded, list) and isinstance(original, list):
        return [p for i, (d, o) in enumerate(zip(decoded, original, strict=False))
                for p in gained_pointers(d, o, model, f"{path}[{i}]")]
    if not isinstance(decoded, dict) or not isinstance(original, dict):
        return []
    pointers = {name for name, hint in hints(model).items() if "pointer" in hint}
    problems = [f"{path}.{name}" for name in pointers if name in decoded and name not in original]
    for name, meta in fields(model).items():
        nested = meta.value_model
        if nested is not None and name in decoded and name in original:
            if meta.is_list or not isinstance(decoded[name], dict) \
                    or get_origin(unwrap(meta.annotation)) is not dict:
                problems += gained_pointers(decoded[name], original[name], nested,
                                            f"{path}.{name}")
            else:  # a map of models: compare entry by entry
                problems += [p for key in decoded[name] if key in original[name]
                             for p in gained_pointers(decoded[name][key], original[name][key],
                                                      nested, f"{path}.{name}[{key}]")]
    return problems
