"""When a client waits and sends again: a 429 or 5xx answer that carries Retry-After.

client-go's rule (rest/request.go `checkWait`): an answer of 429, or of 500 and above,
with a `Retry-After` of whole seconds asks the client to send the same request again
after that long; it does so up to 10 times, then returns the last error. A 429 from
the apiserver's flow control means the request was never worked on, so even a write
is safe to resend; the server sets Retry-After on a 5xx only when sending again is
meant (a list ahead of the watch cache's revision).

Schooner's clients follow that rule, and between tries back off exponentially with
jitter, as client-go's backoff managers do, so a thousand callers refused at the
same instant do not all come back at the same instant: the n-th wait is the larger of
the server's Retry-After and `BASE * 2**n` capped at `MAX_BACKOFF`, stretched by up
to `JITTER`. Ten waits at `Retry-After: 1` add up to about half a minute at most.
An answer without Retry-After (a 404, a 409, a plain 500) is never retried here: a
permanent error is raised at once, not turned into a hang.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

MAX_RETRIES = 10  # client-go's default maxRetries
BASE = 0.25
MAX_BACKOFF = 4.0
MAX_RETRY_AFTER = 60.0  # a larger Retry-After is taken as this
JITTER = 0.2


def retry_after(status_code: int, headers: Mapping[str, str]) -> float | None:
    """The seconds the server asks the client to wait before sending again, or None."""
    if status_code != 429 and status_code < 500:
        return None
    value = (headers.get("retry-after") or "").strip()
    if not value.isdigit():  # client-go accepts only whole seconds, not an HTTP date
        return None
    return min(float(value), MAX_RETRY_AFTER)


def delay(retry: int, server_wait: float,
          rand: Callable[[], float] = random.random) -> float:
    """How long to wait before the `retry`-th resend (0-based), honouring the server's wait."""
    backoff = min(MAX_BACKOFF, BASE * 2.0 ** retry)
    return float(max(server_wait, backoff) * (1 + JITTER * rand()))
