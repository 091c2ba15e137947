"""The client-side rate limit: the `RateLimit` kept, the `Limiter` interface the request
path paces its attempts with, and its implementations (in-process, or none).

- `_config`: `RateLimit` and the services' documented defaults.
- `_limiter`: the `Limiter` protocol (held slots, deadlines, pauses), `Slot`,
  `LimiterTimeout` and `NoLimiter`.
- `_window`: `SlidingWindowLimiter`, the exact in-process sliding window.
- `_redis`: `RedisLimiter`, the same window kept for a fleet of processes in Redis
  (`_redis_script`: its Lua script; `_redis_connect`: redis-py, imported only when asked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from dyte_async._clock import Clock
from dyte_async._ratelimit._config import DYTE_DEFAULT, REALTIMEKIT_DEFAULT, Fleet, RateLimit
from dyte_async._ratelimit._limiter import Limiter, LimiterTimeout, NoLimiter, Slot
from dyte_async._ratelimit._window import SlidingWindowLimiter

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "DYTE_DEFAULT",
    "REALTIMEKIT_DEFAULT",
    "Fleet",
    "Limiter",
    "LimiterTimeout",
    "NoLimiter",
    "RateLimit",
    "SlidingWindowLimiter",
    "Slot",
    "make_limiter",
]


def make_limiter(limit: RateLimit | None, clock: Clock, fleet: Fleet | None = None) -> Limiter:
    """The limiter for a client's configuration.

    Args:
        limit: the client's rate limit, or None for no limit.
        clock: the client's clock.
        fleet: the Redis the limit is shared through, or None to keep it in-process.

    Returns:
        A `NoLimiter` when `limit` is None; else a `RedisLimiter` with a fleet, a
        `SlidingWindowLimiter` without.

    Raises:
        ConfigurationError: `fleet` names Redis but redis-py is not installed, or its
            client is not a redis-py asyncio client.
    """
    if limit is None:
        return NoLimiter()
    if fleet is None:
        return SlidingWindowLimiter(limit, clock)
    from dyte_async._ratelimit._redis import RedisLimiter
    from dyte_async._ratelimit._redis_connect import check_client, connect, describe

    if isinstance(fleet.redis, str):
        redis = connect(fleet.redis, timeout=fleet.timeout)
        where, owned = describe(fleet.redis), True
    else:
        check_client(fleet.redis)
        redis, where, owned = cast("Redis", fleet.redis), describe(None), False
    return RedisLimiter(
        limit,
        clock,
        redis=redis,
        key=fleet.key,
        fleet_size_hint=fleet.fleet_size_hint,
        timeout=fleet.timeout,
        owns_redis=owned,
        where=where,
    )
