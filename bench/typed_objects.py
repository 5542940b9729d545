"""What typed objects cost: wire dicts, pydantic v2 models and msgspec Structs, side by side.

Run from the repository root::

    .venv/bin/python bench/typed_objects.py [--pods 1000] [--samples 1000]
                                            [--list-samples 20] [--repeats 5]
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
against the dict way of the same step. Decision: docs/architecture.md, "Why objects
travel as dicts".
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
from apimachinery.resources import by_kind  # noqa: E402
from apiserver.validation import type_errors, validate  # noqa: E402
from bench import typed_pod  # noqa: E402
from bench.report import write_section  # noqa: E402

Object = dict[str, Any]
MIN_SAMPLE_NS = 20_000
POD_RESOURCE = by_kind("v1", "Pod")


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
    one: Callable[[], Any]
    many: Callable[[], Any] | None
    baseline: bool = False
    inner: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=lambda: {"one": [], "many": []})


def _calls_per_sample(fn: Callable[[], Any]) -> int:
    fn()
    began = time.perf_counter_ns()
    fn()
    took = max(time.perf_counter_ns() - began, 1)
    return max(1, -(-MIN_SAMPLE_NS // took))


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


def ways(count: int) -> list[Way]:
    """Every way of every step, on one pod and on a list of `count` pods."""
    d, lst = typed_pod.pod(7), typed_pod.pod_list(count)
    b, lb = orjson.dumps(d), orjson.dumps(lst)
    items = lst["items"]
    m, lm = models.Pod.model_validate(d), PodList.model_validate(lst)
    s = msgspec.json.decode(b, type=typed_pod.Pod)
    ls = msgspec.json.decode(lb, type=typed_pod.PodList)
    dec, ldec = msgspec.json.Decoder(typed_pod.Pod), msgspec.json.Decoder(typed_pod.PodList)
    enc = msgspec.json.Encoder()
    pod_model, loads, dumps = models.Pod, orjson.loads, orjson.dumps
    return [
        Way("decode", "orjson.loads → dict (= TypedDict)", lambda: loads(b),
            lambda: loads(lb), baseline=True),
        Way("decode", "pydantic model_validate_json", lambda: pod_model.model_validate_json(b),
            lambda: PodList.model_validate_json(lb)),
        Way("decode", "pydantic model_validate(orjson.loads)",
            lambda: pod_model.model_validate(loads(b)),
            lambda: [pod_model.model_validate(i) for i in loads(lb)["items"]]),
        Way("decode", "msgspec Decoder(Pod).decode", lambda: dec.decode(b),
            lambda: ldec.decode(lb)),
        Way("validate", "pydantic strict (apiserver type pass)",
            lambda: type_errors("Pod", d), lambda: [type_errors("Pod", i) for i in items],
            baseline=True),
        Way("validate", "apiserver validate(), all passes",
            lambda: validate(POD_RESOURCE, d), lambda: [validate(POD_RESOURCE, i)
                                                        for i in items]),
        Way("validate", "msgspec.convert(dict, Pod)",
            lambda: msgspec.convert(d, typed_pod.Pod),
            lambda: [msgspec.convert(i, typed_pod.Pod) for i in items]),
        Way("encode", "orjson.dumps(dict)", lambda: dumps(d), lambda: dumps(lst),
            baseline=True),
        Way("encode", "pydantic to_dict + orjson.dumps", lambda: dumps(m.to_dict()),
            lambda: dumps(lm.to_dict())),
        Way("encode", "pydantic model_dump_json",
            lambda: m.model_dump_json(by_alias=True, exclude_unset=True),
            lambda: lm.model_dump_json(by_alias=True, exclude_unset=True)),
        Way("encode", "msgspec Encoder.encode", lambda: enc.encode(s), lambda: enc.encode(ls)),
        Way("read", "dict .get chains (= TypedDict)", lambda: read_dict(d),
            lambda: [read_dict(i) for i in items], baseline=True),
        Way("read", "thin accessor over the dict", lambda: read_view(d),
            lambda: [read_view(i) for i in items]),
        Way("read", "pydantic attributes", lambda: read_typed(m),
            lambda: [read_typed(i) for i in lm.items]),
        Way("read", "msgspec attributes", lambda: read_typed(s),
            lambda: [read_typed(i) for i in ls.items]),
        Way("copy", "meta.deep_copy(dict)", lambda: deep_copy(d), None, baseline=True),
        Way("copy", "pydantic model_copy(deep=True)", lambda: m.model_copy(deep=True), None),
        Way("copy", "msgspec decode(encode(Struct))", lambda: dec.decode(enc.encode(s)), None),
    ]


def measure(count: int, samples: int, list_samples: int, repeats: int) -> list[Way]:
    """Sample every way, the rounds interleaved so drift on a shared machine spreads evenly."""
    table = ways(count)
    for way in table:
        way.inner["one"] = _calls_per_sample(way.one)
        if way.many is not None:
            way.inner["many"] = _calls_per_sample(way.many)
    for _ in range(repeats):
        for way in table:
            gc.collect()
            way.samples["one"] += _sample(way.one, way.inner["one"], samples)
            if way.many is not None:
                gc.collect()
                way.samples["many"] += _sample(way.many, way.inner["many"], list_samples)
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


def render(table: list[Way], count: int) -> str:
    lines = [f"| step | way | one pod p50 µs | p99 µs | ratio "
             f"| {count:,} pods p50 µs | p99 µs | ratio |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    base: dict[tuple[str, str], float] = {}
    for way in table:
        if way.baseline:
            for size, values in way.samples.items():
                if values:
                    base[(way.step, size)] = _q(values)[0]
    for way in table:
        cells = [way.step, way.name]
        for size in ("one", "many"):
            values = way.samples[size]
            if not values:
                cells += ["", "", ""]
                continue
            p50, p99 = _q(values)
            cells += [_us(p50), _us(p99), f"{p50 / base[(way.step, size)]:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
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
    ap.add_argument("--list-samples", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--write", type=Path, help="rewrite this section of docs/benchmarks.md")
    args = ap.parse_args(argv)
    table = measure(args.pods, args.samples, args.list_samples, args.repeats)
    kept = unknown_field_kept()
    body = "\n\n".join([
        render(table, args.pods), render_footprint(footprint(args.pods), args.pods),
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
                 f"One Deployment pod of {pod_bytes:,} bytes of JSON (bench/typed_pod.py) and "
                 f"a PodList of {args.pods:,}, in one process; {versions()}. Per call, "
                 f"{args.repeats} interleaved rounds of {args.samples} samples "
                 f"({args.list_samples} for the list); ratio is that of the p50s to the "
                 "step's first way. What the figures decided: docs/architecture.md, "
                 "\"Why objects travel as dicts\".\n\n")
        write_section(args.write, "typed-objects", "Typed objects: decode, validate, encode, "
                      "read (bench/typed_objects.py)", intro + body + "\n")
    return body


if __name__ == "__main__":
    main()
