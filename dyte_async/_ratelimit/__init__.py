"""The client-side rate limit: the `RateLimit` kept, the `Limiter` interface the request
path paces its attempts with, and its implementations (in-process, or none).

- `_config`: `RateLimit` and the services' documented defaults.
- `_limiter`: the `Limiter` protocol (held slots, deadlines, pauses), `Slot`,
  `LimiterTimeout` and `NoLimiter`.
- `_window`: `SlidingWindowLimiter`, the exact in-process sliding window.
"""

from __future__ import annotations

from dyte_async._clock import Clock
from dyte_async._ratelimit._config import DYTE_DEFAULT, REALTIMEKIT_DEFAULT, RateLimit
from dyte_async._ratelimit._limiter import Limiter, LimiterTimeout, NoLimiter, Slot
from dyte_async._ratelimit._window import SlidingWindowLimiter

__all__ = [
    "DYTE_DEFAULT",
    "REALTIMEKIT_DEFAULT",
    "Limiter",
    "LimiterTimeout",
    "NoLimiter",
    "RateLimit",
    "SlidingWindowLimiter",
    "Slot",
    "make_limiter",
]


def make_limiter(limit: RateLimit | None, clock: Clock) -> Limiter:
    """The limiter for a client's configuration.

    Args:
        limit: the client's rate limit, or None for no limit.
        clock: the client's clock.

    Returns:
        A `SlidingWindowLimiter` for `limit`, or a `NoLimiter` when it is None.
    """
    if limit is None:
        return NoLimiter()
    return SlidingWindowLimiter(limit, clock)
