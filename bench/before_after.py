"""Is a change slower? bench/api.py and bench/sched_cycle.py at two commits, interleaved.

    .venv/bin/python bench/before_after.py --before ba69b3f [--after HEAD] [--runs 5]
        [--write docs/benchmarks.md]

Each commit is checked out into a temporary git worktree and run with this
venv, its own code first on the path; the runs alternate (before, after,
before, ...) so that whatever else the machine does falls on both sides alike.
Prints, per figure, the median of each side with its range and the ratio
after/before. A refactor's rule here is "medians within 5%"; a figure whose
ranges overlap widely (a CPU-saturated phase's latency) says little on its own.
It takes about 5 minutes a run pair (`--skip-api` for the scheduler alone).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `bench.*` lives at the repo root
    sys.path.insert(0, str(ROOT))

from bench.machine import stamp  # noqa: E402
from bench.report import write_section  # noqa: E402

Figures = dict[str, float]

_OPS = ("create", "get", "list (10 pods)")
_CPU_ROWS = ("create c=64", "get c=64", "list c=64", "watch fan-out")


def _ms(cell: str) -> float:
    number, _, unit = cell.strip().partition(" ")
    return float(number) * {"µs": 0.001, "ms": 1.0, "s": 1000.0}.get(unit, 1.0)


def parse(text: str) -> Figures:
    """The figures of one bench/api.py or bench/sched_cycle.py report."""
    out: Figures = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        head = cells[0]
        if len(cells) >= 6 and head in _OPS and cells[1] in ("1", "16", "64"):
            out[f"{head} c={cells[1]} ops/s"] = float(cells[3])
        elif head.startswith("paced create,") and len(cells) > 2:
            out["paced create p50 ms"], out["paced create p99 ms"] = _ms(cells[1]), _ms(cells[2])
        elif head.startswith("watch delivery after") and len(cells) > 2:
            out["watch delivery p50 ms"], out["watch delivery p99 ms"] = (_ms(cells[1]),
                                                                          _ms(cells[2]))
        elif head.startswith("list 10,000 pods in pages") and len(cells) > 1:
            out["list 10k paged p50 ms"] = _ms(cells[1])
        elif head.startswith("list 10,000 pods unpaginated") and len(cells) > 1:
            out["list 10k whole p50 ms"] = _ms(cells[1])
        elif len(cells) == 10 and head in _CPU_ROWS:
            out[f"apiserver CPU per op, {head}, µs"] = _ms(cells[6]) * 1000
        elif len(cells) == 4 and re.fullmatch(r"[\d,]+", head):
            nodes = head
            out[f"scheduler cycles/s ({nodes} nodes)"] = float(cells[1])
            out[f"scheduler cycle p50 ms ({nodes} nodes)"] = _ms(cells[2])
            out[f"scheduler cycle p99 ms ({nodes} nodes)"] = _ms(cells[3])
    return out


def table(before: list[Figures], after: list[Figures]) -> list[str]:
    """Markdown rows: median (range) of each side and the ratio of the medians."""
    keys = list(dict.fromkeys(k for run in before for k in run))
    rows = ["| figure | before: median (range) | after: median (range) | after / before |",
            "|---|---:|---:|---:|"]
    for key in keys:
        b = [run[key] for run in before if key in run]
        a = [run[key] for run in after if key in run]
        if not b or not a:
            continue
        mb, ma = statistics.median(b), statistics.median(a)
        rows.append(f"| {key} | {mb:g} ({min(b):g}-{max(b):g}) | {ma:g} ({min(a):g}-{max(a):g})"
                    f" | {ma / mb:.3f} |" if mb else f"| {key} | {mb:g} | {ma:g} | — |")
    return rows


@contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """A detached worktree of `rev`, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="schooner-bench-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(path), rev],
                   check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                       check=False)


def run_one(tree: Path, script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run([sys.executable, f"bench/{script}", *args], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{script} failed in {tree}:\n{proc.stderr[-2000:]}")
    return proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the commit to compare against")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nodes", default="1000", help="bench/sched_cycle.py --nodes")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--write", help="replace the bench:before-after section of this file")
    args = parser.parse_args()
    results: dict[str, list[Figures]] = {"before": [], "after": []}
    with checkout(args.before) as before, checkout(args.after) as after:
        for i in range(args.runs):
            for side, tree in (("before", before), ("after", after)):
                figures = parse(run_one(tree, "sched_cycle.py", "--nodes", args.nodes))
                if not args.skip_api:
                    figures |= parse(run_one(tree, "api.py"))
                results[side].append(figures)
                print(f"run {i + 1} {side}: {len(figures)} figures", file=sys.stderr)
    lines = [f"Before `{args.before}`, after `{args.after}`, {args.runs} interleaved runs "
             "of each side.", "", *table(results["before"], results["after"])]
    print("\n".join(lines))
    if args.write:
        command = " ".join([".venv/bin/python", *sys.argv])
        write_section(Path(args.write), "before-after",
                      "Before and after a change (bench/before_after.py)",
                      f"{stamp(command).markdown()}\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
