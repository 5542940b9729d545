"""What typed objects cost: wire dicts, pydantic v2 models and msgspec Structs, side by side.

Run from the repository root::

    .venv/bin/python bench/typed_objects.py [--pods 1000] [--samples 1000]
                                            [--list-samples 10] [--repeats 5]
                                            [--write docs/benchmarks.md]

On one realistic pod (bench/typed_pod.py: a Deployment's pod, two containers, ~4.6 KB
of JSON) and on a PodList of `--pods` of them, in one process with nothing else:

* decode: JSON bytes to orjson's dict (a TypedDict is this dict), to the pydantic
  model (`apimachinery.models.Pod`, `model_validate_json` and
  `model_validate(orjson.loads(...))`), to msgspec Structs;
* validate a wire dict: the apiserver's type pass (`Pod.model_validate(strict=True)`,
  apiserver/validation.py), its whole `validate()` for scale, and `msgspec.convert`;
* encode to JSON bytes: orjson of the dict, pydantic `to_dict` + orjson and
  `model_dump_json`, msgspec;
* a controller's read (namespace/name, nodeName and the Ready condition) on the dict,
  through a thin accessor over it, on the model and on the Struct;
* a private copy (what a controller takes before a write), and what 1,000 pods
  held in an informer's store weigh.

Each figure is per call, from `time.perf_counter_ns` around a sample; a sample is one
call, or as many as take 20 µs when one call is shorter (the timer's own cost stays
under 1%). Every way is sampled `--samples` times (the list `--list-samples` times) in
each of `--repeats` interleaved rounds; p50 and p99 are over all samples, ratios
against the dict way of the same step. The fixtures are frozen out of the garbage
collector (`gc.freeze`), so each way pays for collecting what it allocates, not for
walking 40 MB of the other ways' objects, and each way is called for 20 ms (at least
once), unrecorded, before its samples of a round: the previous way leaves the CPU
caches cold, and over 1,000 pods that alone is up to 5x the warm figure. A short list
way takes as many more samples as fit in 200 ms a round.

What the figures decided: docs/architecture.md, "Why objects travel as dicts".
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, NotRequired, TypedDict

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
import orjson  # noqa: E402

from apimachinery import models  # noqa: E402
from apimachinery.meta import deep_copy  # noqa: E402
from apimachinery.models.meta import K8sModel  # noqa: E402
from apiserver.kinds import registry  # noqa: E402
from apiserver.validation import type_errors, validate  # noqa: E402
from bench import typed_pod  # noqa: E402
from bench.report import write_section  # noqa: E402

Object = dict[str, Any]
MIN_SAMPLE_NS = 20_000
WARM_UP_NS = 20_000_000
LIST_BUDGET_NS = 200_000_000  # a round's samples of a list way shorter than the rest
POD_KIND = registry().by_kind("v1", "Pod")


class PodList(K8sModel):
    """A pydantic PodList for the list decode (apimachinery has none: clients decode dicts)."""

    api_version: str
    kind: str
    metadata: dict[str, Any]
    items: list[models.Pod]


# -- a controller's read: (namespace/name, nodeName, Ready) ------------------------------


class ConditionDict(TypedDict):
    type: str
    status: str
    lastTransitionTime: NotRequired[str]


class PodStatusDict(TypedDict, total=False):
    phase: str
    conditions: list[ConditionDict]


class PodDict(TypedDict, total=False):
    """The static-only view: mypy checks the keys, at run time it is the same dict."""

    metadata: dict[str, Any]
    spec: dict[str, Any]
    status: PodStatusDict


Read = tuple[str, str | None, bool]


def read_dict(pod: PodDict) -> Read:
    """Today's helpers (controllers/pods.py's is_pod_ready), `.get` chains over the dict."""
    meta = pod.get("metadata") or {}
    ready = False
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            ready = cond.get("status") == "True"
            break
    return (f"{meta.get('namespace')}/{meta.get('name')}",
            (pod.get("spec") or {}).get("nodeName"), ready)


class PodView:
    """A thin accessor: typed properties over the wire dict, nothing decoded up front."""

    __slots__ = ("obj",)

    def __init__(self, obj: Object) -> None:
        self.obj = obj

    @property
    def key(self) -> str:
        meta = self.obj.get("metadata") or {}
        return f"{meta.get('namespace')}/{meta.get('name')}"

    @property
    def node_name(self) -> str | None:
        return (self.obj.get("spec") or {}).get("nodeName")

    @property
    def ready(self) -> bool:
        for cond in (self.obj.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready":
                return bool(cond.get("status") == "True")
        return False


def read_view(pod: Object) -> Read:
    view = PodView(pod)
    return view.key, view.node_name, view.ready


def read_typed(pod: models.Pod | typed_pod.Pod) -> Read:
    """Attributes of the pydantic model or the Struct (the same code reads both)."""
    meta, ready = pod.metadata, False
    for cond in (pod.status.conditions or []) if pod.status else []:
        if cond.type == "Ready":
            ready = cond.status == "True"
            break
    return f"{meta.namespace}/{meta.name}", pod.spec.node_name if pod.spec else None, ready


# -- measuring ------------------------------------------------------------------------


@dataclass
class Way:
    step: str
    name: str
    fn: Callable[[], Any]
    baseline: bool = False
    inner: int = 1
    samples: list[float] = field(default_factory=list)


def _calibrate(fn: Callable[[], Any]) -> tuple[int, int]:
    """(calls per sample, ns per call): a sample lasts at least MIN_SAMPLE_NS."""
    fn()
    began = time.perf_counter_ns()
    fn()
    took = max(time.perf_counter_ns() - began, 1)
    return max(1, -(-MIN_SAMPLE_NS // took)), took


def _warm_up(fn: Callable[[], Any]) -> None:
    """Unrecorded calls, 20 ms' worth (at least one): the previous way left the caches cold."""
    until = time.perf_counter_ns() + WARM_UP_NS
    fn()
    while time.perf_counter_ns() < until:
        fn()


def _sample(fn: Callable[[], Any], inner: int, count: int) -> list[float]:
    """`count` samples of `inner` calls each, in µs per call."""
    out, clock = [], time.perf_counter_ns
    if inner == 1:
        for _ in range(count):
            began = clock()
            fn()
            out.append((clock() - began) / 1e3)
        return out
    calls = range(inner)
    for _ in range(count):
        began = clock()
        for _ in calls:
            fn()
        out.append((clock() - began) / 1e3 / inner)
    return out


DECODE = ("orjson.loads → dict (= TypedDict)", "pydantic model_validate_json",
          "pydantic model_validate(orjson.loads)", "msgspec Decoder(Pod).decode")
VALIDATE = ("pydantic strict (apiserver type pass)", "apiserver validate(), all passes",
            "msgspec.convert(dict, Pod)")
ENCODE = ("orjson.dumps(dict)", "pydantic to_dict + orjson.dumps", "pydantic model_dump_json",
          "msgspec Encoder.encode")
READ = ("dict .get chains (= TypedDict)", "thin accessor over the dict", "pydantic attributes",
        "msgspec attributes")


def ways_one() -> list[Way]:
    """Every way of every step on one pod."""
    d = typed_pod.pod(7)
    b = orjson.dumps(d)
    m, s = models.Pod.model_validate(d), msgspec.json.decode(b, type=typed_pod.Pod)
    dec, enc = msgspec.json.Decoder(typed_pod.Pod), msgspec.json.Encoder()
    pod_model, loads, dumps = models.Pod, orjson.loads, orjson.dumps
    return [
        Way("decode", DECODE[0], lambda: loads(b), baseline=True),
        Way("decode", DECODE[1], lambda: pod_model.model_validate_json(b)),
        Way("decode", DECODE[2], lambda: pod_model.model_validate(loads(b))),
        Way("decode", DECODE[3], lambda: dec.decode(b)),
        Way("validate", VALIDATE[0], lambda: type_errors(models.Pod, d), baseline=True),
        Way("validate", VALIDATE[1], lambda: validate(POD_KIND, d)),
        Way("validate", VALIDATE[2], lambda: msgspec.convert(d, typed_pod.Pod)),
        Way("encode", ENCODE[0], lambda: dumps(d), baseline=True),
        Way("encode", ENCODE[1], lambda: dumps(m.to_dict())),
        Way("encode", ENCODE[2], lambda: m.model_dump_json(by_alias=True, exclude_unset=True)),
        Way("encode", ENCODE[3], lambda: enc.encode(s)),
        Way("read", READ[0], lambda: read_dict(d), baseline=True),
        Way("read", READ[1], lambda: read_view(d)),
        Way("read", READ[2], lambda: read_typed(m)),
        Way("read", READ[3], lambda: read_typed(s)),
        Way("copy", "meta.deep_copy(dict)", lambda: deep_copy(d), baseline=True),
        Way("copy", "pydantic model_copy(deep=True)", lambda: m.model_copy(deep=True)),
        Way("copy", "msgspec decode(encode(Struct))", lambda: dec.decode(enc.encode(s))),
    ]


def ways_many(count: int) -> list[Way]:
    """The same on a PodList of `count` pods: a LIST's body, or an informer's whole store."""
    lst = typed_pod.pod_list(count)
    lb, items = orjson.dumps(lst), lst["items"]
    lm, ls = PodList.model_validate(lst), msgspec.json.decode(lb, type=typed_pod.PodList)
    dec, enc = msgspec.json.Decoder(typed_pod.PodList), msgspec.json.Encoder()
    pod_model, loads, dumps = models.Pod, orjson.loads, orjson.dumps
    return [
        Way("decode", DECODE[0], lambda: loads(lb), baseline=True),
        Way("decode", DECODE[1], lambda: PodList.model_validate_json(lb)),
        Way("decode", DECODE[2], lambda: [pod_model.model_validate(i)
                                          for i in loads(lb)["items"]]),
        Way("decode", DECODE[3], lambda: dec.decode(lb)),
        Way("validate", VALIDATE[0], lambda: [type_errors(models.Pod, i) for i in items],
            baseline=True),
        Way("validate", VALIDATE[1], lambda: [validate(POD_KIND, i) for i in items]),
        Way("validate", VALIDATE[2], lambda: [msgspec.convert(i, typed_pod.Pod)
                                              for i in items]),
        Way("encode", ENCODE[0], lambda: dumps(lst), baseline=True),
        Way("encode", ENCODE[1], lambda: dumps(lm.to_dict())),
        Way("encode", ENCODE[2], lambda: lm.model_dump_json(by_alias=True, exclude_unset=True)),
        Way("encode", ENCODE[3], lambda: enc.encode(ls)),
        Way("read", READ[0], lambda: [read_dict(i) for i in items], baseline=True),
        Way("read", READ[1], lambda: [read_view(i) for i in items]),
        Way("read", READ[2], lambda: [read_typed(i) for i in lm.items]),
        Way("read", READ[3], lambda: [read_typed(i) for i in ls.items]),
    ]


def measure(build: Callable[[], list[Way]], samples: int, repeats: int,
            budget_ns: int = 0) -> list[Way]:
    """Sample every way `build` makes, in interleaved rounds (a shared machine's drift
    spreads evenly): `samples` a round, or more while they fit in `budget_ns`. The
    fixtures are frozen out of the garbage collector, so a way pays for collecting what
    it allocates itself, not for walking the other ways' objects."""
    table = build()
    gc.collect()
    gc.freeze()
    try:
        counts = []
        for way in table:
            way.inner, took = _calibrate(way.fn)
            counts.append(max(samples, budget_ns // (took * way.inner)))
        for _ in range(repeats):
            for way, count in zip(table, counts, strict=True):
                gc.collect()
                _warm_up(way.fn)
                way.samples += _sample(way.fn, way.inner, count)
    finally:
        gc.unfreeze()
    return table


def retained_kib(build: Callable[[], Any]) -> float:
    """KiB still allocated by what `build` returns (tracemalloc), i.e. a store's weight."""
    gc.collect()
    tracemalloc.start()
    try:
        kept = build()
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return size / 1024


def footprint(count: int) -> list[tuple[str, float]]:
    """What `count` decoded pods weigh, held as an informer's store holds them."""
    lb = orjson.dumps(typed_pod.pod_list(count))
    return [
        ("JSON bytes", len(lb) / 1024),
        ("dicts (orjson)", retained_kib(lambda: orjson.loads(lb)["items"])),
        ("pydantic models", retained_kib(lambda: PodList.model_validate_json(lb).items)),
        ("msgspec Structs", retained_kib(
            lambda: msgspec.json.decode(lb, type=typed_pod.PodList).items)),
    ]


def unknown_field_kept() -> dict[str, bool]:
    """Does a field the schema lacks (a newer Kubernetes' `resizePolicy`) survive a round trip?"""
    obj = typed_pod.pod(0)
    obj["spec"]["containers"][0]["resizePolicy"] = [{"resourceName": "cpu",
                                                     "restartPolicy": "NotRequired"}]
    b = orjson.dumps(obj)
    return {
        "dict": orjson.loads(orjson.dumps(orjson.loads(b))) == obj,
        "pydantic": models.Pod.model_validate_json(b).to_dict() == obj,
        "msgspec": orjson.loads(msgspec.json.encode(
            msgspec.json.decode(b, type=typed_pod.Pod))) == obj,
    }


# -- reporting ------------------------------------------------------------------------


def _q(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=100)[98]


def _us(value: float) -> str:
    return f"{value:,.2f}" if value < 10 else f"{value:,.0f}"


def render(one: list[Way], many: list[Way], count: int) -> str:
    lines = [f"| step | way | one pod p50 µs | p99 µs | ratio "
             f"| {count:,} pods p50 µs | p99 µs | ratio |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    cells: dict[tuple[str, str], list[str]] = {(w.step, w.name): [] for w in one + many}
    for table in (one, many):
        base = {w.step: _q(w.samples)[0] for w in table if w.baseline}
        found = {(w.step, w.name): w for w in table}
        for key, row in cells.items():
            way = found.get(key)
            if way is None:
                row += ["", "", ""]
                continue
            p50, p99 = _q(way.samples)
            row += [_us(p50), _us(p99), f"{p50 / base[way.step]:.1f}"]
    lines += [f"| {step} | {name} | " + " | ".join(row) + " |"
              for (step, name), row in cells.items()]
    return "\n".join(lines)


def render_footprint(rows: list[tuple[str, float]], count: int) -> str:
    lines = [f"| {count:,} pods held as | KiB | ratio to JSON |", "|---|---:|---:|"]
    lines += [f"| {name} | {kib:,.0f} | {kib / rows[0][1]:.1f} |" for name, kib in rows]
    return "\n".join(lines)


def versions() -> str:
    return ", ".join(f"{name} {version(name)}"
                     for name in ("pydantic", "pydantic-core", "msgspec", "orjson"))


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--list-samples", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--write", type=Path, help="rewrite this section of docs/benchmarks.md")
    args = ap.parse_args(argv)
    one = measure(ways_one, args.samples, args.repeats)
    many = measure(lambda: ways_many(args.pods), args.list_samples, args.repeats,
                   budget_ns=LIST_BUDGET_NS)
    kept = unknown_field_kept()
    body = "\n\n".join([
        render(one, many, args.pods), render_footprint(footprint(args.pods), args.pods),
        "A field the schema does not declare (`resizePolicy` in a container) after a "
        "decode and encode: " + ", ".join(f"{name} {'kept' if ok else '**dropped**'}"
                                           for name, ok in kept.items()) + "."])
    pod_bytes = len(orjson.dumps(typed_pod.pod(7)))
    print(body)
    if args.write:
        from bench.machine import stamp  # etcd --version: only when a section is written
        command = (".venv/bin/python bench/typed_objects.py "
                   f"--pods {args.pods} --samples {args.samples} --list-samples "
                   f"{args.list_samples} --repeats {args.repeats} --write {args.write}")
        intro = (f"{stamp(command).markdown()}\n"
                 f"One Deployment pod of {pod_bytes:,} bytes of JSON (bench/typed_pod.py) "
                 f"and a PodList of {args.pods:,}, in one process; {versions()}. Per call: "
                 f"{args.repeats} interleaved rounds of {args.samples} samples "
                 f"({args.list_samples} or more for the list), each way warmed up first, "
                 "the fixtures frozen out of the garbage collector; ratio is of the p50s, "
                 "to the step's first way. What the figures decided: docs/architecture.md, "
                 "\"Why objects travel as dicts\".\n\n")
        write_section(args.write, "typed-objects", "Typed objects: decode, validate, encode, "
                      "read (bench/typed_objects.py)", intro + body + "\n")
    return body


if __name__ == "__main__":
    main()
