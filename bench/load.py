"""A steady HTTP client for rollouts and node failures: bounded, in a thread, every answer kept.

Used by `bench/selfheal.py` and by the tests that measure a Service's
availability while a Deployment rolls out or a node fails.

`SteadyClient(url).start()` sends GET requests one after another, each on a new
connection (so every request is balanced afresh by the proxy), with `interval`
seconds between them, until `stop()` or `max_seconds`, whichever comes first:
it always ends by itself. Each request is recorded with its send time, whether
it failed and why, and the body's `version` (the web example answers with its
APP_VERSION), so a test can ask "how many failed?" and "which versions answered
after time T?".
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Answer:
    sent_at: float  # time.monotonic() when the request was sent
    seconds: float
    version: str | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class SteadyClient:
    """GET `url` in a loop on a thread of its own; see the module docstring."""

    url: str
    interval: float = 0.02
    timeout: float = 5.0
    max_seconds: float = 300.0
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> SteadyClient:
        self._thread = threading.Thread(target=self._run, name="steady-client", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[Answer]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 5)
        return list(self.answers)

    def __enter__(self) -> SteadyClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            self.answers.append(self.once())
            self._stop.wait(self.interval)

    def once(self) -> Answer:
        """One request, recorded nowhere (the loop records its own)."""
        sent = time.monotonic()
        try:
            resp = httpx.get(self.url, timeout=self.timeout, headers={"Connection": "close"})
            if resp.status_code != 200:
                return Answer(sent, time.monotonic() - sent, error=f"HTTP {resp.status_code}")
            return Answer(sent, time.monotonic() - sent, version=_version(resp))
        except httpx.HTTPError as exc:
            return Answer(sent, time.monotonic() - sent, error=f"{type(exc).__name__}: {exc}")

    # -- what happened ------------------------------------------------------------------

    def failures(self, since: float = 0.0) -> list[Answer]:
        return [a for a in list(self.answers) if a.failed and a.sent_at >= since]

    def versions(self, since: float = 0.0) -> Counter[str | None]:
        return Counter(a.version for a in list(self.answers)
                       if not a.failed and a.sent_at >= since)

    def answered(self, since: float = 0.0) -> int:
        return sum(1 for a in list(self.answers) if not a.failed and a.sent_at >= since)

    def summary(self) -> str:
        errors = Counter(a.error for a in self.failures())
        return (f"{len(self.answers)} requests, {sum(errors.values())} failed "
                f"{dict(errors.most_common(3))}, versions {dict(self.versions())}")


def _version(resp: httpx.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return str(body.get("version")) if isinstance(body, dict) and "version" in body else None
