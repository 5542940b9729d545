"""Which backend a new connection goes to: round-robin with ClientIP session affinity.

kube-proxy's userspace `roundrobin.go` (LoadBalancerRR) reduced to one service port:
each connection takes the next backend in turn; with `sessionAffinity: ClientIP` a
client that connected before goes back to the backend it had, as long as that
backend is still ready and the affinity has not been idle past its timeout. Instead
of one endpoint, `candidates` returns the whole order to try, so the forwarder can
skip a backend that refuses without asking again. Pure: no sockets, and the clock is
injected so affinity expiry is tested without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from apimachinery.clock import Clock, RealClock

from .plan import Backend


@dataclass
class _Affinity:
    backend: Backend
    last_used: float


class RoundRobin:
    """The backends of one service port and the turn and affinities over them."""

    def __init__(self, backends: list[Backend] | None = None,
                 affinity_timeout: float | None = None, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else RealClock()
        self._backends: list[Backend] = list(backends or [])
        self._next = 0
        self.affinity_timeout = affinity_timeout
        self._affinity: dict[str, _Affinity] = {}

    @property
    def backends(self) -> list[Backend]:
        return list(self._backends)

    def update(self, backends: list[Backend], affinity_timeout: float | None) -> None:
        """Take a new backend list; affinities to backends that left are forgotten.

        Connections already open are not the balancer's concern: they keep their
        backend. The turn restarts at the first backend when the set changes, as
        LoadBalancerRR resets its index on an endpoints update.
        """
        if affinity_timeout != self.affinity_timeout:
            self._affinity.clear()
        self.affinity_timeout = affinity_timeout
        if backends != self._backends:
            self._backends = list(backends)
            self._next = 0
        alive = set(self._backends)
        for client, record in list(self._affinity.items()):
            if record.backend not in alive:
                del self._affinity[client]

    def candidates(self, client_ip: str) -> list[Backend]:
        """Every backend, in the order to try them for this connection; advances the turn.

        The client's affine backend (if any, still ready and not expired) comes first;
        then the backends from this turn's position onwards, wrapping around.
        """
        if not self._backends:
            return []
        start = self._next % len(self._backends)
        self._next = start + 1
        order = self._backends[start:] + self._backends[:start]
        affine = self._affine(client_ip)
        if affine is not None:
            order.remove(affine)
            order.insert(0, affine)
        return order

    def connected(self, client_ip: str, backend: Backend) -> None:
        """Note which backend served the client, so affinity sends it back there."""
        if self.affinity_timeout is not None:
            self._affinity[client_ip] = _Affinity(backend, self._clock.monotonic())

    def _affine(self, client_ip: str) -> Backend | None:
        if self.affinity_timeout is None:
            return None
        record = self._affinity.get(client_ip)
        if record is None:
            return None
        if (self._clock.monotonic() - record.last_used > self.affinity_timeout
                or record.backend not in self._backends):
            del self._affinity[client_ip]
            return None
        return record.backend
