"""The Lua script that keeps a fleet's held-slot window in Redis, and how it is called.

One script does everything, atomically, on the Redis server's clock (``TIME``), so the
processes of a fleet never compare their own clocks:

1. it records the ends of released slots (each with its age, so a release sent a few ms
   late still counts from when it happened) and a 429 pause;
2. it drops the slots that no longer count;
3. it grants up to ``want`` slots while fewer than ``limit`` count, and otherwise says how
   long until one frees at the earliest.

Keys (one hash tag, so they live in one Redis Cluster slot)
    ``{<key>}:slots``: a sorted set, one member per slot, scored with the time (Redis
    microseconds) at which the slot stops counting: ``end + per`` once released,
    ``start + lease`` while held (the lease bounds a crashed holder; it is longer than
    any attempt plus ``per``). ``{<key>}:pause``: the time before which nothing starts.
    Both expire by themselves when idle.

Wait hint
    With ``n >= limit`` slots counting, the next one frees when ``n - limit + 1`` of them
    have stopped counting. A released slot's score is exact; a held one's true end is at
    least ``now + per`` (its release is at least now). So ``min(kth score, now + per)`` is
    never later than the true time, and a caller that sleeps that long then asks again
    starts no later than it could have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = ["SCRIPT", "Reply", "script_args", "slot_keys"]

SCRIPT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slots, pausekey = KEYS[1], KEYS[2]
local limit, per, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local want, pause = tonumber(ARGV[4]), tonumber(ARGV[5])
for i = 7, #ARGV, 2 do
  redis.call('ZADD', slots, 'XX', now - tonumber(ARGV[i + 1]) + per, ARGV[i])
end
local paused = tonumber(redis.call('GET', pausekey) or '0')
if pause > 0 and now + pause > paused then
  paused = now + pause
  redis.call('SET', pausekey, string.format('%.0f', paused), 'PX', math.ceil(pause / 1000) + 1)
end
redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
if want <= 0 then return {0, 0} end
if paused > now then return {0, paused - now} end
local n = redis.call('ZCARD', slots)
local granted = 0
if n < limit then
  granted = math.min(limit - n, want)
  local args = {}
  for i = 1, granted do
    args[#args + 1] = string.format('%.0f', now + lease)
    args[#args + 1] = ARGV[6] .. i
  end
  redis.call('ZADD', slots, unpack(args))
  local keep = math.ceil(lease / 1000) + 1000
  if redis.call('PTTL', slots) < keep then redis.call('PEXPIRE', slots, keep) end
  n = n + granted
end
if granted >= want or n < limit then return {granted, 0} end
local kth = redis.call('ZRANGE', slots, n - limit, n - limit, 'WITHSCORES')
local at = math.min(tonumber(kth[2]), now + per)
return {granted, math.max(at - now, 0)}
"""
"""The script: KEYS = slots, pause; ARGV = limit, per, lease, want, pause (microseconds
but for the counts), the grant id prefix, then (released id, age) pairs. Returns
``{granted, wait}``: slots granted now (ids prefix..1 to prefix..granted), and the
microseconds until the next one may be, when fewer than wanted were granted."""

Reply = tuple[int, float]
"""What the script answered: slots granted, and seconds to wait before asking again."""

_US: Final = 1_000_000


def slot_keys(key: str) -> list[str]:
    """The script's two keys for a fleet's key, under one hash tag.

    Args:
        key: the fleet's rate-limit key.

    Returns:
        ``["{key}:slots", "{key}:pause"]``.
    """
    tag = "{" + key + "}"
    return [tag + ":slots", tag + ":pause"]


def script_args(
    *,
    requests: int,
    per: float,
    lease: float,
    want: int,
    pause: float,
    prefix: str,
    released: Sequence[tuple[str, float]],
) -> list[int | str]:
    """The script's ARGV.

    Args:
        requests: the limit's requests per window.
        per: the window, in seconds.
        lease: seconds after which a granted slot stops counting if never released.
        want: slots asked for (0: only record `released` and `pause`).
        pause: seconds from now during which nothing may start (0: no pause).
        prefix: the id prefix of the granted slots (unique per call).
        released: (slot id, seconds since its attempt ended) per released slot.

    Returns:
        The arguments, times in whole microseconds.
    """
    args: list[int | str] = [
        requests,
        _micros(per),
        _micros(lease),
        want,
        _micros(pause),
        prefix,
    ]
    for slot_id, age in released:
        args += [slot_id, _micros(max(age, 0.0))]
    return args


def parse_reply(reply: object) -> Reply:
    """The script's answer as (granted, seconds to wait).

    Args:
        reply: what Redis returned.

    Returns:
        The count granted and the wait in seconds.

    Raises:
        ValueError: not the script's two integers.
    """
    if not isinstance(reply, (list, tuple)) or len(reply) != 2:
        raise ValueError(f"unexpected answer from the rate-limit script: {reply!r:.80}")
    granted, wait = (int(value) for value in reply)
    return granted, wait / _US


def _micros(seconds: float) -> int:
    return max(0, round(seconds * _US))
