"""What the processes of a fleet share through Redis (`AsyncDyte(redis=...)`).

- `_link`: `Link`, one client's Redis connection and the fleet's key (redis-py is imported
  there, only when `redis=` is given).
- `_wakeups`: `Wakeups`, webhook wake-ups (and changed observations) published to every
  process of the fleet.
- `_reads`: `SharedReads`, the polls' reads shared by the fleet (one process reads, the
  others use its answer).

Only `_link` is re-exported: it is what every client with `redis=` needs at once, and it
imports nothing heavy. `_wakeups` and `_reads` are imported when the livestream waits are
first used. The fleet's rate limit is `dyte_async._ratelimit._redis.RedisLimiter`, on the
same `Link`.
"""

from __future__ import annotations

from dyte_async._fleet._link import Fleet, Link, open_link

__all__ = ["Fleet", "Link", "open_link"]
