"""Eviction signals and thresholds, as the kubelet's `--eviction-hard` words them (pure).

A threshold is `<signal><<quantity>` or `<signal><<percent>%`, several joined
by commas: `memory.available<100Mi,nodefs.available<10%`. The signals are the
kubelet's: `memory.available` (the node's available memory; here the host's
MemAvailable), `nodefs.available` and `imagefs.available` (free space of the
filesystem the runtime keeps containers and images on; here they are one,
Docker's root). A threshold is met when what is available falls below it. Each
signal maps to the node condition it raises: MemoryPressure or DiskPressure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from apimachinery import quantity

MEMORY = "memory.available"
NODEFS = "nodefs.available"
IMAGEFS = "imagefs.available"
# signal -> (the node condition it raises, the resource named in messages)
SIGNALS: dict[str, tuple[str, str]] = {
    MEMORY: ("MemoryPressure", "memory"),
    NODEFS: ("DiskPressure", "ephemeral-storage"),
    IMAGEFS: ("DiskPressure", "ephemeral-storage"),
}
DEFAULT_EVICTION_HARD = "memory.available<100Mi,nodefs.available<10%"


@dataclass(frozen=True)
class Threshold:
    signal: str
    quantity: int | None = None  # bytes
    percentage: float | None = None  # of capacity, 0-1

    def value(self, capacity: int) -> int:
        """The threshold in bytes for a resource of `capacity` bytes."""
        if self.quantity is not None:
            return self.quantity
        return int(capacity * (self.percentage or 0.0))

    def text(self) -> str:
        """As the kubelet prints it in an eviction message (`100Mi`, `10%`)."""
        if self.percentage is not None:
            return f"{self.percentage * 100:g}%"
        return format_bytes(self.quantity or 0)


@dataclass(frozen=True)
class Observation:
    """A signal's available and capacity, in bytes."""

    available: int
    capacity: int


def format_bytes(n: int) -> str:
    """Bytes as a Kubernetes quantity in the largest binary unit that is exact (`100Mi`)."""
    for unit, size in (("Ti", 1024**4), ("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if n and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def parse_thresholds(text: str) -> list[Threshold]:
    """`--eviction-hard`'s value; ValueError names the bad part, in the kubelet's words."""
    found: dict[str, Threshold] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        signal, op, value = part.partition("<")
        signal, value = signal.strip(), value.strip()
        if not op:
            raise ValueError(f"invalid eviction threshold syntax {part!r}, expected "
                             "<signal><<value>")
        if signal not in SIGNALS:
            raise ValueError(f"unsupported eviction signal {signal} (supported: "
                             f"{', '.join(SIGNALS)})")
        if signal in found:
            raise ValueError(f"found duplicate eviction threshold for signal {signal}")
        found[signal] = _threshold(signal, value)
    return list(found.values())


def _threshold(signal: str, value: str) -> Threshold:
    if value.endswith("%"):
        try:
            percent = float(value[:-1])
        except ValueError:
            raise ValueError(f"invalid percentage {value!r} for {signal}") from None
        if not 0 < percent <= 100:
            raise ValueError(f"eviction percentage threshold {signal} must be > 0% and <= 100%: "
                             f"{value}")
        return Threshold(signal, percentage=percent / 100)
    try:
        amount = quantity.memory_bytes(value)
    except (ValueError, ArithmeticError):
        raise ValueError(f"invalid quantity {value!r} for {signal}") from None
    if amount < 0:
        raise ValueError(f"eviction threshold {signal} cannot be negative: {value}")
    return Threshold(signal, quantity=amount)


def thresholds_met(thresholds: Iterable[Threshold],
                   observed: Mapping[str, Observation]) -> list[Threshold]:
    """The thresholds whose signal's available is below them (unobserved signals: none)."""
    met = []
    for t in thresholds:
        seen = observed.get(t.signal)
        if seen is not None and seen.available < t.value(seen.capacity):
            met.append(t)
    return met


def conditions_of(thresholds: Iterable[Threshold]) -> set[str]:
    return {SIGNALS[t.signal][0] for t in thresholds}


def read_meminfo(text: str) -> Observation:
    """memory.available from /proc/meminfo: MemAvailable of MemTotal (kB lines)."""
    fields = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            fields[name] = int(parts[0]) * 1024
    return Observation(available=fields.get("MemAvailable", 0),
                       capacity=fields.get("MemTotal", 0))


__all__ = ["DEFAULT_EVICTION_HARD", "IMAGEFS", "MEMORY", "NODEFS", "SIGNALS", "Observation",
           "Threshold", "conditions_of", "format_bytes", "parse_thresholds", "read_meminfo",
           "thresholds_met"]
