"""bench/before_after.py reads the figures out of api.py's and sched_cycle.py's reports."""

from __future__ import annotations

from bench.before_after import parse, table

API_REPORT = """
| op | concurrency | ops | ops/s | p50 ms | p99 ms | errors | p50 / etcd put p50 |
|---|---:|---:|---:|---:|---:|---:|---:|
| create | 64 | 500 | 836 | 74.7 | 94.7 | 0 | 2.4 |
| get | 1 | 500 | 699 | 1.3 | 3.3 | 0 | 1.1 |
| paced create, 200/s for 10 s (2000 ok, 0 errors) | 4.1 ms | 9.8 ms | 33.7 ms | p99 ≤ 50 ms | met |
| watch delivery after the write's response, 500 watchers | 45.8 ms | 137.8 ms | 149.9 ms | |
| list 10,000 pods in pages of 500 (list_all), 5 runs | 1017.5 ms | 1110.2 ms | 1110.2 ms | |
| create c=64 | 0.6 | 89% | 33% | 42% | 0% | 1.1 ms | 500 µs | 140 | 0.7 |
| watch fan-out | 2.6 | 80% | 6% | 58% | 11% | 42 µs | 30 µs | 97 | 0.7 |
"""
SCHED_REPORT = """
| nodes | cycles/s | cycle p50 | cycle p99 |
|---:|---:|---:|---:|
| 1,000 | 406 | 1.78 ms | 10.05 ms |
"""


def test_the_figures_of_both_reports_are_read() -> None:
    figures = parse(API_REPORT) | parse(SCHED_REPORT)
    assert figures == {
        "create c=64 ops/s": 836.0, "get c=1 ops/s": 699.0,
        "paced create p50 ms": 4.1, "paced create p99 ms": 9.8,
        "watch delivery p50 ms": 45.8, "watch delivery p99 ms": 137.8,
        "list 10k paged p50 ms": 1017.5,
        "apiserver CPU per op, create c=64, µs": 1100.0,
        "apiserver CPU per op, watch fan-out, µs": 42.0,
        "scheduler cycles/s (1,000 nodes)": 406.0,
        "scheduler cycle p50 ms (1,000 nodes)": 1.78,
        "scheduler cycle p99 ms (1,000 nodes)": 10.05,
    }


def test_the_table_gives_medians_ranges_and_the_ratio() -> None:
    rows = table([{"x": 10.0}, {"x": 30.0}, {"x": 20.0}], [{"x": 22.0}, {"x": 21.0}])
    assert rows[2] == "| x | 20 (10-30) | 21.5 (21-22) | 1.075 |"
