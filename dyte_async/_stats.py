"""The counters of one client (`AsyncDyte.stats()`)."""

from __future__ import annotations

import attrs

__all__ = ["ClientStats", "Counters"]


@attrs.frozen(kw_only=True)
class ClientStats:
    """Counters of one client since it was made (`AsyncDyte.stats()`).

    Attributes:
        requests: attempts sent (first attempts and retries).
        retries: retries sent.
        retries_refused: retries the budget refused (the call failed fast instead).
        rate_limited: 429 answers received.
        limiter_wait_seconds: total time calls waited for the client-side rate limiter.
        recovered: ambiguous writes answered by a recovery read instead of a second write.
        limiter_fallbacks: attempts paced by the in-process fallback limiter while the
            fleet's Redis (`redis=`) was unreachable.
    """

    requests: int = 0
    retries: int = 0
    retries_refused: int = 0
    rate_limited: int = 0
    limiter_wait_seconds: float = 0.0
    recovered: int = 0
    limiter_fallbacks: int = 0


class Counters:
    """The mutable counters behind `ClientStats` (one set per pipeline)."""

    __slots__ = ("rate_limited", "recovered", "requests", "retries", "retries_refused")

    def __init__(self) -> None:
        self.requests = 0
        self.retries = 0
        self.retries_refused = 0
        self.rate_limited = 0
        self.recovered = 0
