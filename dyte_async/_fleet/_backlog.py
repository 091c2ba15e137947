"""`SharedBacklog`: existence checks paced by the whole fleet's backlog, not each process's.

A wait on many meetings checks that meetings missing from the LIVE list exist (see
`dyte_async._poller._listing`), but only once few are left: while more than
`checks_per_round` are, only those waited on for `check_grace` are checked, since most
starting livestreams go LIVE before that and then need no check. Split across processes,
each process's share falls under that threshold long before the fleet's does, and four
processes checked 50 times what one does (339 checks against 6 for 1,000 meetings).

So with ``redis=`` each list round tells the fleet how many meetings this process has left
to check (a hash field per process, stamped with the Redis server's time, dropped when not
renewed within `ttl` seconds) and gets the fleet's total back: the threshold and the
round's cap (split in proportion to each process's share) apply to the total. Redis
failing: the process goes by its own count (`Outage`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Final

import anyio

from dyte_async._fleet._backends import Script
from dyte_async._fleet._link import Link, redis_errors
from dyte_async._poller._reader import FRESH_FOR
from dyte_async.errors import ConfigurationError

if TYPE_CHECKING:
    from dyte_async._fleet._outage import Outage

__all__ = ["SharedBacklog"]

TOTAL: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. now)
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local count, at = string.match(fields[i + 1], '^(%d+):(%d+)$')
  if count == nil or now - tonumber(at) > ttl then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    total = total + tonumber(count)
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
return total
"""
"""KEYS = the fleet's backlog hash; ARGV = this process's field, its count (0: leave), the
time to live of a count (ms). Returns the total of the counts renewed within that time."""

_MIN_TTL_MS: Final = 5_000


class SharedBacklog:
    """The fleet's count of meetings left to check (see the module docstring).

    Args:
        link: the fleet's Redis and key.
        outage: the shared polls' outage state (a failure here is one there too).
    """

    __slots__ = ("_field", "_link", "_outage", "_script")

    def __init__(self, link: Link, outage: Outage) -> None:
        self._link = link
        self._outage = outage
        self._field = uuid.uuid4().hex
        self._script: Script | None = None

    async def total(self, mine: int) -> int:
        """Publish this process's count and return the fleet's (at least `mine`)."""
        if self._outage.down:
            return mine
        try:
            if self._script is None:
                self._script = self._link.redis().script(TOTAL)
            # A process's count outlives three of its rounds (it renews it every round).
            ttl = max(_MIN_TTL_MS, round(3_000 * FRESH_FOR.get()))
            with anyio.fail_after(self._link.timeout):
                reply = await self._script(
                    keys=["{" + self._link.key + "}:backlog"], args=[self._field, mine, ttl]
                )
            total = int(reply)
        except ConfigurationError:  # trio without `async with AsyncDyte`: alone
            return mine
        except redis_errors() as error:  # ValueError and TypeError too: not our reply
            self._outage.failed(error)
            return mine
        self._outage.recovered()
        return max(mine, total)
