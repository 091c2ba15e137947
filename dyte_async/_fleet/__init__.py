"""What the processes of a fleet share through Redis (`AsyncDyte(redis=...)`).

- `_link`: `Link`, one client's Redis connection and the fleet's key (redis-py is imported
  there, only when `redis=` is given).
- `_wakeups`: `Wakeups`, webhook wake-ups published to every process of the fleet.

The fleet's rate limit is `dyte_async._ratelimit._redis.RedisLimiter`, on the same `Link`.
"""

from __future__ import annotations

from dyte_async._fleet._link import Fleet, Link, open_link
from dyte_async._fleet._wakeups import Wakeups

__all__ = ["Fleet", "Link", "Wakeups", "open_link"]
