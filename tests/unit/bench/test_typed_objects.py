"""bench/typed_objects.py with tiny counts, so the benchmark cannot rot between `make bench` runs.

The figures are not checked (a loaded machine says nothing about them); what is checked
is that the realistic pod stays a valid, lossless pod for every way measured, and that
every way of every step is measured and reported.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import orjson

from apimachinery import models
from apiserver.kinds import registry
from apiserver.validation import validate
from bench import typed_objects, typed_pod


def test_the_pod_is_valid_and_round_trips_through_every_way() -> None:
    pod = typed_pod.pod(3)
    raw = orjson.dumps(pod)
    assert 3_000 <= len(raw) <= 5_000
    assert validate(registry().by_kind("v1", "Pod"), pod) == []
    assert models.Pod.model_validate_json(raw).to_dict() == pod
    struct = msgspec.json.decode(raw, type=typed_pod.Pod)
    assert orjson.loads(msgspec.json.encode(struct)) == pod
    assert msgspec.convert(pod, typed_pod.Pod) == struct


def test_every_read_agrees() -> None:
    pod = typed_pod.pod(3)
    expected = ("shop/web-7d9f8b6c5d-00003", "node-3", True)
    assert typed_objects.read_dict(pod) == expected
    assert typed_objects.read_view(pod) == expected
    assert typed_objects.read_typed(models.Pod.model_validate(pod)) == expected
    assert typed_objects.read_typed(msgspec.convert(pod, typed_pod.Pod)) == expected


def test_only_msgspec_drops_an_unknown_field() -> None:
    assert typed_objects.unknown_field_kept() == {"dict": True, "pydantic": True,
                                                  "msgspec": False}


def test_tiny_run_reports_every_way(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    body = typed_objects.main(["--pods", "3", "--samples", "3", "--list-samples", "2",
                               "--repeats", "1", "--write", str(out)])
    on_lists = {(way.step, way.name) for way in typed_objects.ways_many(3)}
    for way in typed_objects.ways_one():
        row = next(line for line in body.splitlines() if f"| {way.step} | {way.name} |" in line)
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert all(cells[2:5]), row
        assert all(cells[5:8]) == ((way.step, way.name) in on_lists), row
    assert "| msgspec Structs |" in body
    text = out.read_text()
    assert "<!-- bench:typed-objects:start -->" in text and body in text
