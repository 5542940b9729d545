"""PNG plots of the scale benchmark (matplotlib, Agg: no display needed).

Each plot carries the machine stamp at its foot, as every table does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _save(fig: object, path: Path, caption: str) -> Path:
    fig.text(0.01, 0.005, caption, fontsize=6, color="#555555", wrap=True)  # type: ignore[attr-defined]
    fig.tight_layout(rect=(0, 0.04, 1, 1))  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return path


def lines(path: Path, title: str, xlabel: str, ylabel: str,
          series: dict[str, tuple[Sequence[float], Sequence[float]]], caption: str,
          *, log_x: bool = False, target: float | None = None) -> Path:
    """One line per series (x, y); an optional horizontal target line."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o", label=label)
    if target is not None:
        ax.axhline(target, color="red", linestyle="--", linewidth=1, label="target")
    if log_x:
        ax.set_xscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path, caption)


def histogram(path: Path, title: str, xlabel: str, values: Sequence[float], caption: str,
              *, marks: dict[str, float] | None = None) -> Path:
    """A distribution, with vertical marks (p50, p99) labelled."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(values, bins=60, color="#4c72b0")
    for label, x in (marks or {}).items():
        ax.axvline(x, color="red", linestyle="--", linewidth=1)
        ax.text(x, ax.get_ylim()[1] * 0.9, f" {label}", color="red", fontsize=8)
    ax.set(title=title, xlabel=xlabel, ylabel="deliveries")
    ax.grid(alpha=0.3)
    return _save(fig, path, caption)
