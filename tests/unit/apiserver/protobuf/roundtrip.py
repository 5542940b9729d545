"""The round-trip property the protobuf tests share.

Go writes every value field, so an object read back from protobuf holds more than the
JSON that was encoded: empty value structs (`strategy: {}`), a null creationTimestamp,
as Go's JSON encoder would write them too. What must hold: everything the object said
comes back exactly (pointer zeros and empty pointer structs included), anything added
is empty, and encoding what was decoded gives the same bytes.
"""

from __future__ import annotations

from typing import Any

from apiserver import protobuf


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
    assert protobuf.encode(decoded) == body
    return decoded
