"""Every model's protobuf hints agree with Kubernetes' Go type, field by field.

The models are those of the served kinds and of Scale, which `{workload}/scale` serves.

`go_fields.json` is how k8s.io/api v0.32 holds each field (`gotypes.py` reads it from the
Go source). A pointer scalar the models do not hint would be written as `0` where Go
writes nothing; a value struct not hinted would be missing where Go writes an empty
message; a value scalar of the Go type the models lack must be declared unserved, since
Go writes its zero. Any of these makes the encoder's bytes differ from Kubernetes'.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from apimachinery.models.schema import TYPE_META, fields, iter_models
from apiserver.protobuf.schema import hints
from tests.unit.apiserver.protobuf.gotypes import OUT, GoTypes, go_key, roots

GO: dict[str, dict[str, list[object]]] = json.loads(Path(OUT).read_text())
HINTED = {"pointer": "pointer", "value": "value"}  # Go's `how` -> the hint it needs


def _models() -> Iterator[type[BaseModel]]:
    return iter_models(*roots())


def test_every_served_model_is_named_after_a_go_struct_in_the_table() -> None:
    """A newly typed model needs the table regenerated (see gotypes.py) to be checked."""
    missing = sorted(go_key(m) for m in _models() if go_key(m) not in GO)
    assert missing == [], "regenerate go_fields.json: python -m " \
        "tests.unit.apiserver.protobuf.gotypes ..."


@pytest.mark.parametrize("model", sorted(_models(), key=lambda m: m.__name__),
                         ids=lambda m: m.__name__)
def test_hints_and_numbers_are_the_go_types(model: type[BaseModel]) -> None:
    go = {name: (int(number) if number is not None else None, str(how))  # type: ignore[call-overload]
          for name, (number, how) in GO[go_key(model)].items()}
    declared = hints(model)
    problems = []
    for name, meta in fields(model).items():
        if meta.protobuf is None or meta.embedded == TYPE_META:
            assert meta.protobuf is None or name in ("apiVersion", "kind")
            continue
        if name not in go:
            problems.append(f"{name}: not a field of Go's {model.__name__}")
            continue
        number, how = go[name]
        if number != meta.protobuf:
            problems.append(f"{name}: protobuf {meta.protobuf}, Go's is {number}")
        wanted = {HINTED[how]} if how in HINTED else set()
        if declared.get(name, frozenset()) & {"pointer", "value"} != wanted:
            problems.append(f"{name}: Go holds it as {how}, hints say "
                            f"{sorted(declared.get(name, ()))}")
    unserved = getattr(model, "protobuf_unserved", {})
    for name, (number, how) in go.items():
        if name in fields(model) or name in ("apiVersion", "kind"):
            continue
        if how == "scalar" and unserved.get(name, (None,))[0] != number:
            problems.append(f"{name}: a Go value scalar (#{number}) neither served nor "
                            "declared in protobuf_unserved")
        if how == "value":
            problems.append(f"{name}: a Go value struct (#{number}) the model lacks")
    for name in unserved:
        if go.get(name, (None, ""))[1] != "scalar":
            problems.append(f"{name}: declared unserved but not a Go value scalar")
    assert problems == []


def test_the_table_reader_classifies_go_fields() -> None:
    """The reader itself, on a struct written as k8s.io/api writes them."""
    source = '''
type Mode string
type List []string
type Thing struct {
\tmetav1.TypeMeta `json:",inline"`
\tInner `json:",inline" protobuf:"bytes,9,opt,name=inner"`
\tA *int64 `json:"a,omitempty" protobuf:"varint,1,opt,name=a"`
\tB int32 `json:"b" protobuf:"varint,2,opt,name=b"`
\tC *Mode `json:"c,omitempty" protobuf:"bytes,3,opt,name=c,casttype=Mode"`
\tD metav1.Time `json:"d,omitempty" protobuf:"bytes,4,opt,name=d"`
\tE *Inner `json:"e,omitempty" protobuf:"bytes,5,opt,name=e"`
\tF List `json:"f,omitempty" protobuf:"bytes,6,rep,name=f"`
\tG v1.Mode `json:"g" protobuf:"bytes,7,opt,name=g,casttype=Mode"`
}
type Inner struct {
\tX string `json:"x" protobuf:"bytes,1,opt,name=x"`
}
'''
    assert GoTypes([source]).flat("Thing") == {
        "x": (1, "scalar"), "a": (1, "pointer"), "b": (2, "scalar"), "c": (3, "pointer"),
        "d": (4, "value"), "e": (5, "ptrstruct"), "f": (6, "repeated"), "g": (7, "scalar")}
