"""bench/protobuf_codec.py with tiny counts, so the benchmark cannot rot between runs.

The figures are not checked (a loaded machine says nothing about them): every way of
every step is measured and reported, and the section lands in the document given.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import protobuf_codec


def test_every_way_is_measured_and_reported(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protobuf_codec, "WARM_UP_NS", 1_000_000)
    header, rows = protobuf_codec.run(items=3, samples=5, list_samples=2, repeats=1)
    assert header.startswith("| object | step | way |")
    ways = {(r.split("|")[1].strip(), r.split("|")[2].strip(), r.split("|")[3].strip())
            for r in rows}
    for what in ("one pod", "PodList of 3"):
        for step, way in (("encode", "orjson.dumps"), ("encode", "protobuf.encode"),
                          ("decode", "orjson.loads"), ("decode", "protobuf.decode")):
            assert (what, step, way) in ways
    sizes = [r for r in rows if "| size |" in r]
    assert len(sizes) == 2 and all("0.5" in r for r in sizes)  # protobuf: half the JSON
