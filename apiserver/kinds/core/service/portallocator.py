"""The NodePort range (`--service-node-port-range`) and its rules.

Mirrors Kubernetes' `pkg/registry/core/service/portallocator`: a range is
written `30000-32767` (or `30000+2767`, or a single port), an explicit
nodePort must lie inside it and be free, and a dynamic one comes from the
upper band first (KEP-3668). Each allocated port is one etcd key under
`PREFIX`, held by the Service that uses it.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass

from apiserver.allocator import pick_free, range_offset

PREFIX = "/registry/ranges/servicenodeports/"

# Kubernetes' portallocator: the static band is size/32, at least 16, at most 128.
_BAND_MIN, _BAND_MAX, _BAND_STEP = 16, 128, 32


def key(port: int) -> str:
    """The etcd key that holds `port` while a Service has it."""
    return f"{PREFIX}{port}"


@dataclass(frozen=True)
class PortRange:
    """`size` consecutive ports from `base`, as Kubernetes' `utilnet.PortRange`."""

    base: int
    size: int

    @classmethod
    def parse(cls, text: str) -> PortRange:
        """A range from `low-high`, `base+offset` or `port`; ValueError says what is wrong."""
        value = text.strip()
        try:
            if "-" in value:
                low_text, high_text = value.split("-", 1)
                low, high = int(low_text), int(high_text)
            elif "+" in value:
                base_text, offset_text = value.split("+", 1)
                low = int(base_text)
                high = low + int(offset_text)
            else:
                low = high = int(value)
        except ValueError:
            raise ValueError(f"invalid port range {text!r}: want LOW-HIGH, e.g. "
                             "30000-32767") from None
        if not 1 <= low <= high <= 65535:
            raise ValueError(f"invalid port range {text!r}: ports must be 1-65535 and "
                             "the first may not exceed the last")
        return cls(low, high - low + 1)

    def __str__(self) -> str:
        return f"{self.base}-{self.base + self.size - 1}"

    def contains(self, port: int) -> bool:
        return self.base <= port < self.base + self.size

    def check(self, port: int, taken: Collection[int]) -> str | None:
        """Why an explicitly requested nodePort cannot be had, or None if it can."""
        if not self.contains(port):
            return ("provided port is not in the valid range. The range of valid ports is "
                    f"{self}")
        if port in taken:
            return "provided port is already allocated"
        return None

    def allocate_next(self, taken: Collection[int], rng: random.Random) -> int | None:
        """A free port for a Service port that asked for none, or None when the range is full."""
        band = range_offset(self.size, minimum=_BAND_MIN, maximum=_BAND_MAX, step=_BAND_STEP)
        return pick_free(self.base, self.base + self.size, band, set(taken), rng)
