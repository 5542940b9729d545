"""Go-style durations for flags (`10s`, `1m`, `500ms`, `1h`), as Kubernetes' flags take them."""

from __future__ import annotations

import argparse
import re

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration(text: str) -> float:
    """A duration (`10s`, `1m`, `500ms`) or plain seconds, as seconds; argparse's `type=`."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (e.g. 10s, 1m, 500ms)")
    return float(match.group(1)) * _UNITS[match.group(2)]
