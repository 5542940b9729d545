"""What answering in Kubernetes protobuf costs against JSON: encode (and decode) speed.

Run from the repository root::

    .venv/bin/python bench/protobuf_codec.py [--items 500] [--samples 1000]
                                             [--list-samples 20] [--repeats 5]
                                             [--write docs/benchmarks.md]

On the realistic pod of bench/typed_pod.py (a Deployment's pod, two containers, ~4.6 KB
of JSON) and on a PodList of `--items` of them, in one process: the apiserver's
protobuf encoder (`apiserver.protobuf.encode`, pure Python, walking the schema compiled
from the models) against `orjson.dumps` of the same dict, which is how every JSON
answer is written; and the two decoders, protobuf (`apiserver.protobuf.decode`, what a
typed client's request body costs) against `orjson.loads`.

Each figure is per call, from `time.perf_counter_ns` around a sample; a sample is one
call, or as many as take 20 µs when one call is shorter. Every way is sampled in each of
`--repeats` interleaved rounds, warmed for 20 ms first; p50 and p99 are over all
samples, ratios are each way's p50 and p99 over orjson's.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from apiserver import protobuf  # noqa: E402
from bench import typed_pod  # noqa: E402
from bench.report import write_section  # noqa: E402

MIN_SAMPLE_NS = 20_000
WARM_UP_NS = 20_000_000


def _per_call(fn: Callable[[], Any]) -> int:
    """How many calls make one sample of at least MIN_SAMPLE_NS."""
    calls = 1
    while True:
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        if time.perf_counter_ns() - start >= MIN_SAMPLE_NS:
            return calls
        calls *= 2


def _sample(fn: Callable[[], Any], samples: int, calls: int) -> list[float]:
    """`samples` per-call times in µs, after warming up for WARM_UP_NS."""
    deadline = time.perf_counter_ns() + WARM_UP_NS
    while time.perf_counter_ns() < deadline:
        fn()
    out = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter_ns() - start) / calls / 1000)
    return out


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


def measure(ways: dict[str, Callable[[], Any]], samples: int, repeats: int
            ) -> dict[str, tuple[float, float]]:
    """(p50 µs, p99 µs) per way, over interleaved rounds."""
    calls = {name: _per_call(fn) for name, fn in ways.items()}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeats):
        for name, fn in ways.items():
            times[name] += _sample(fn, samples, calls[name])
    return {name: (statistics.median(t), _p99(t)) for name, t in times.items()}


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def run(items: int, samples: int, list_samples: int, repeats: int) -> tuple[str, list[str]]:
    pod = typed_pod.pod(0)
    listing = typed_pod.pod_list(items)
    listing["items"] = listing["items"][:items]
    pod_json, list_json = orjson.dumps(pod), orjson.dumps(listing)
    pod_pb, list_pb = protobuf.encode(pod), protobuf.encode(listing)
    assert protobuf.encode(protobuf.decode(pod_pb)) == pod_pb
    gc.collect()
    gc.freeze()
    rows = []
    for what, obj, as_json, as_pb, count in (
            ("one pod", pod, pod_json, pod_pb, samples),
            (f"PodList of {items}", listing, list_json, list_pb, list_samples)):
        encode = measure({"orjson.dumps": lambda o=obj: orjson.dumps(o),
                          "protobuf.encode": lambda o=obj: protobuf.encode(o)},
                         count, repeats)
        decode = measure({"orjson.loads": lambda b=as_json: orjson.loads(b),
                          "protobuf.decode": lambda b=as_pb: protobuf.decode(b)},
                         count, repeats)
        for step, figures, base in (("encode", encode, "orjson.dumps"),
                                    ("decode", decode, "orjson.loads")):
            b50, b99 = figures[base]
            for way, (p50, p99) in figures.items():
                rows.append(f"| {what} | {step} | {way} | {_fmt(p50)} | {_fmt(p99)} | "
                            f"{p50 / b50:.1f} | {p99 / b99:.1f} |")
        rows.append(f"| {what} | size | JSON {len(as_json):,} B, protobuf {len(as_pb):,} B | "
                    f"| | {len(as_pb) / len(as_json):.2f} | |")
    header = ("| object | step | way | p50 µs | p99 µs | p50 ratio | p99 ratio |\n"
              "|---|---|---|---:|---:|---:|---:|\n")
    return header, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--list-samples", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    header, rows = run(args.items, args.samples, args.list_samples, args.repeats)
    table = header + "\n".join(rows) + "\n"
    print(table)
    if args.write:
        from bench.machine import stamp  # etcd --version: only when a section is written

        command = (f".venv/bin/python bench/protobuf_codec.py --items {args.items} "
                   f"--samples {args.samples} --list-samples {args.list_samples} "
                   f"--repeats {args.repeats} --write {args.write}")
        intro = (f"{stamp(command).markdown()}\n"
                 f"The pod of bench/typed_pod.py and a PodList of {args.items}, in one "
                 f"process; orjson {version('orjson')}. Per call: {args.repeats} "
                 "interleaved rounds, each way warmed up first; ratios are each way's p50 "
                 "and p99 over orjson's. The protobuf encoder is what the apiserver "
                 "answers a client that accepts nothing but protobuf with (Go's "
                 "gogo-protobuf bytes, every value field written); the decoder is what a "
                 "typed client's request body costs.\n\n")
        write_section(args.write, "protobuf-codec",
                      "Protobuf codec against JSON (bench/protobuf_codec.py)", intro + table)


if __name__ == "__main__":
    main()
