"""The client-side rate limit: the `RateLimit` kept, the `Limiter` interface the request
path paces its attempts with, and its implementations (in-process, or none).

- `_config`: `RateLimit` and the services' documented defaults.
- `_limiter`: the `Limiter` protocol (held slots, deadlines, pauses), `Slot`,
  `LimiterTimeout` and `NoLimiter`.
- `_window`: `SlidingWindowLimiter`, the exact in-process sliding window.
- `_redis`: `RedisLimiter`, the same window kept for a fleet of processes in Redis
  (`_redis_script`: its Lua script), through the client's `dyte_async._fleet.Link`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dyte_async._clock import Clock
from dyte_async._ratelimit._config import DYTE_DEFAULT, REALTIMEKIT_DEFAULT, RateLimit
from dyte_async._ratelimit._limiter import Limiter, LimiterTimeout, NoLimiter, Slot
from dyte_async._ratelimit._window import SlidingWindowLimiter

if TYPE_CHECKING:
    from dyte_async._fleet import Link

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


def make_limiter(limit: RateLimit | None, clock: Clock, link: Link | None = None) -> Limiter:
    """The limiter for a client's configuration.

    Args:
        limit: the client's rate limit, or None for no limit.
        clock: the client's clock.
        link: the fleet's Redis the limit is shared through, or None to keep it in-process.

    Returns:
        A `NoLimiter` when `limit` is None; else a `RedisLimiter` with a link, a
        `SlidingWindowLimiter` without.
    """
    if limit is None:
        return NoLimiter()
    if link is None:
        return SlidingWindowLimiter(limit, clock)
    from dyte_async._ratelimit._redis import RedisLimiter

    return RedisLimiter(
        limit,
        clock,
        redis=link.redis,
        key=link.key,
        fleet_size_hint=link.fleet_size_hint,
        timeout=link.timeout,
        where=link.where,
    )
