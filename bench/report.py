"""Writing one benchmark's section of docs/benchmarks.md, leaving the others alone."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, name: str, title: str, section: str) -> None:
    """Replace the text between `<!-- bench:NAME:start -->` and `...:end -->` (appended if missing).

    Each benchmark owns its section, so `make bench` can run them one by one
    and a rerun of one never erases another's figures.
    """
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n## {title}\n\n{section}{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
