"""`RedisLimiter`: one `RateLimit` kept for a whole fleet of processes, in Redis.

Guarantee
    The same as `SlidingWindowLimiter`'s, across every process sharing the key: each slot
    counts from its start until ``per`` seconds after its attempt ended, no more than
    ``requests`` slots count at once, on the Redis server's clock (`_redis_script`). A
    429's pause (`pause_for`) stops every process of the fleet.

One worker per process
    Callers queue locally, first come first served. One worker task (alive only while
    there is work) makes every Redis call: each call records the releases and the pause
    waiting to be sent, and asks for as many slots as there are queued callers. So one
    process has one Redis call in flight whatever its concurrency (2,000 callers never
    exhaust a pool), and a busy process pays far less than one round trip per request.
    When the window is full the worker sleeps for the script's wait hint, or until a
    release or a pause of its own must be sent.

Deadlines and cancellation
    A queued caller waits at most until its deadline (`LimiterTimeout`); when the wait
    hint already passes a caller's deadline it is failed at once. A caller cancelled
    after a slot was granted to it releases the slot.

Redis unreachable, slow or failing
    Every Redis call is bounded by `timeout`. On failure the limiter logs one WARNING per
    outage and paces this process with an in-process `SlidingWindowLimiter` at
    ``requests // fleet_size_hint`` (at least 1), counting `fallbacks`; it asks Redis
    again after `retry_after` seconds, and when Redis answers the fleet limit resumes
    (logged at INFO). A crashed process's held slots stop counting after their lease.
    The script is sent by SHA and reloaded when Redis lost it (``SCRIPT FLUSH``, restart).

Loops
    On asyncio with redis-py, or on asyncio and trio with coredis (`dyte_async._fleet`);
    the worker runs in the client's task group (``async with AsyncDyte(...)``), or, on
    asyncio without one, in a task of its own.
"""

from __future__ import annotations

import itertools
import logging
import math
import uuid
from collections import deque

import anyio

from dyte_async._clock import Clock
from dyte_async._fleet._backends import Script
from dyte_async._fleet._link import Link, redis_errors
from dyte_async._ratelimit._config import RateLimit
from dyte_async._ratelimit._limiter import LimiterTimeout, Slot
from dyte_async._ratelimit._redis_script import SCRIPT, parse_reply, script_args, slot_keys
from dyte_async._ratelimit._window import SlidingWindowLimiter

__all__ = ["RedisLimiter"]

logger = logging.getLogger("dyte_async")

_MAX_BATCH = 256  # slots asked for in one Redis call
_MAX_SPARE = 1024  # slots asked for ahead of demand, while the window is at most half full
_SPARE_HOLD = 120.0  # seconds a spare may serve an attempt (its lease covers that)
_SPARE_TTL = 1.0  # seconds an unused spare is kept before it is given back
_RATE_SPAN = 0.05  # seconds over which the callers' rate is measured, at least
_MAX_PENDING = 10_000  # releases kept while Redis is down
_LEASE_MARGIN = 5.0  # seconds a held slot's lease exceeds its attempt's deadline plus per
_DEFAULT_LEASE = 600.0  # the lease of a slot whose caller has no deadline


class _RedisSlot(Slot):
    __slots__ = ("id", "released")

    def __init__(self, time: float, slot_id: str) -> None:
        super().__init__(time)
        self.id = slot_id
        self.released = False


class _Spare:
    """A slot granted ahead of demand: counted in Redis from its grant, so any attempt that
    starts later (within its lease) is inside the interval the fleet counts."""

    __slots__ = ("granted", "slot")

    def __init__(self, slot: _RedisSlot, granted: float) -> None:
        self.slot = slot
        self.granted = granted


class _Waiter:
    __slots__ = ("deadline", "done", "event", "fallback", "slot", "timeout")

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.event = anyio.Event()
        self.slot: _RedisSlot | None = None
        self.timeout: LimiterTimeout | None = None
        self.fallback = False
        self.done = False  # gave up (cancelled or timed out): skip it


class RedisLimiter:
    """A `Limiter` whose window every process sharing `key` in `redis` keeps together.

    See the module docstring for the guarantee and the failure behaviour.

    Args:
        limit: the fleet's limit.
        clock: the client's clock (real time: Redis keeps real time).
        link: the fleet's Redis, key, timeouts and background work.
        retry_after: seconds between attempts to reach Redis during an outage.
        max_pause: the longest pause `pause_for` imposes, as `SlidingWindowLimiter`'s.
        lease_margin: seconds a held slot's lease exceeds its caller's deadline plus
            ``per`` (how long a crashed holder's slot outlives it, at least).
    """

    def __init__(
        self,
        limit: RateLimit,
        clock: Clock,
        *,
        link: Link,
        retry_after: float = 2.0,
        max_pause: float = 60.0,
        lease_margin: float = _LEASE_MARGIN,
    ) -> None:
        self._limit = limit
        self._clock = clock
        self._link = link
        self._script: Script | None = None
        self._keys = slot_keys(link.key)
        self._timeout = link.timeout
        self._retry_after = retry_after
        self._max_pause = max_pause
        self._lease_margin = lease_margin
        self._where = link.where
        share = max(1, limit.requests // max(1, link.fleet_size_hint))
        self._fallback_rate = RateLimit(share, per=limit.per)
        self._fallback = SlidingWindowLimiter(self._fallback_rate, clock, max_pause=max_pause)
        self._prefix = uuid.uuid4().hex[:12]
        self._calls = itertools.count(1)
        self._queue: deque[_Waiter] = deque()
        self._spares: deque[_Spare] = deque()
        self._demand = 0  # acquisitions since the demand was last measured
        self._measured = -math.inf  # when it was
        self._rate = 0.0  # acquisitions per second (smoothed)
        self._rtt = 0.0  # seconds one Redis call takes (smoothed)
        self._released: list[tuple[str, float]] = []  # (slot id, when it ended)
        self._pause_until = -math.inf  # a pause not yet sent to Redis
        self._wake: anyio.Event | None = None  # made in the event loop
        self._working = False
        self._worker_scope: anyio.CancelScope | None = None
        self._worker_done: anyio.Event | None = None
        self._down_until: float | None = None  # in an outage: ask Redis again after
        self._closed = False
        #: total seconds callers waited for a slot (for statistics).
        self.waited_total: float = 0.0
        #: attempts paced by the in-process fallback while Redis was unreachable.
        self.fallbacks: int = 0
        #: Redis calls made (round trips).
        self.redis_calls: int = 0

    @property
    def in_outage(self) -> bool:
        """True while Redis is taken as down and the fallback paces this process."""
        return self._down_until is not None

    async def acquire_slot(self, *, deadline: float | None = None) -> Slot:
        """Wait for a slot of the fleet's window (or the fallback's during an outage).

        Args:
            deadline: the latest acceptable start, a reading of the client's clock.

        Returns:
            The slot, to `release` when its attempt ends.

        Raises:
            LimiterTimeout: no slot before `deadline`.
            ConfigurationError: no Redis client runs on this event loop, or the fleet needs
                ``async with AsyncDyte(...)`` here (trio, coredis).
        """
        begin = self._clock.now()
        if self._down_until is not None and begin < self._down_until:
            return await self._from_fallback(deadline)
        self._link.redis()  # the client, on this loop's library (or why there is none)
        self._demand += 1
        spare = self._take_spare(begin, deadline)
        if spare is not None:
            return spare
        waiter = _Waiter(deadline)
        self._queue.append(waiter)
        self._kick()
        try:
            with anyio.move_on_after(math.inf if deadline is None else deadline - begin):
                await waiter.event.wait()
        except BaseException:
            self._give_up(waiter)
            raise
        finally:
            waited = self._clock.now() - begin
        if waiter.timeout is not None:
            self.waited_total += waited
            raise waiter.timeout
        if waiter.fallback:
            self.waited_total += waited
            return await self._from_fallback(deadline)
        if waiter.slot is None:  # the deadline came first
            self._give_up(waiter)
            self.waited_total += waited
            raise LimiterTimeout(waited, deadline=begin + waited if deadline is None else deadline)
        self.waited_total += waited
        waiter.slot.waited = waited
        return waiter.slot

    def release(self, slot: Slot) -> None:
        """The attempt of `slot` ended now: sent to Redis by the worker (idempotent).

        Args:
            slot: a slot `acquire_slot` returned.
        """
        if not isinstance(slot, _RedisSlot):
            self._fallback.release(slot)
            return
        if slot.released:
            return
        slot.released = True
        if len(self._released) < _MAX_PENDING:
            self._released.append((slot.id, self._clock.now()))
        if self._down_until is None:
            self._kick()

    def pause_for(self, seconds: float) -> None:
        """Pause every process of the fleet for `seconds` (clamped to `max_pause`).

        Args:
            seconds: the length of the pause (a 429's ``Retry-After``).
        """
        self._fallback.pause_for(seconds)
        self._give_back_spares()
        until = self._clock.now() + min(seconds, self._max_pause)
        if until > self._pause_until:
            self._pause_until = until
            if self._down_until is None:
                self._kick()

    async def aclose(self) -> None:
        """Send what is pending (bounded by `timeout`), then stop the worker."""
        self._give_back_spares()
        self._closed = True
        done = self._worker_done
        if self._working and done is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(self._timeout):
                await done.wait()
        if self._worker_scope is not None:
            self._worker_scope.cancel()

    # -- inside --------------------------------------------------------------------------

    async def _from_fallback(self, deadline: float | None) -> Slot:
        slot = await self._fallback.acquire_slot(deadline=deadline)
        self.fallbacks += 1
        return slot

    def _take_spare(self, now: float, deadline: float | None) -> Slot | None:
        """A spare slot, when one is fresh, its lease covers `deadline`, and no pause holds."""
        spares = self._spares
        if not spares:
            return None
        if self._fallback.paused_until is not None:  # a 429 said: start nothing
            self._give_back_spares()
            return None
        self._give_back_spares(older_than=now - _SPARE_TTL)  # stale ones go back
        if spares and deadline is not None and deadline <= spares[0].granted + _SPARE_HOLD:
            return spares.popleft().slot
        return None  # none left, or its lease would not cover this caller: kept for others

    def _give_back_spares(self, older_than: float | None = None) -> None:
        """Release the spares (granted before `older_than`, or all)."""
        spares = self._spares
        while spares and (older_than is None or spares[0].granted < older_than):
            self.release(spares.popleft().slot)

    def _give_up(self, waiter: _Waiter) -> None:
        waiter.done = True
        if waiter.slot is not None:
            self.release(waiter.slot)

    def _kick(self) -> None:
        """Wake the worker, or start it."""
        if self._wake is not None:
            self._wake.set()
        if not self._working and not self._closed:
            self._working = True
            self._worker_done = anyio.Event()
            try:
                self._link.spawn(self._work)
            except BaseException:
                self._working = False
                raise

    async def _work(self) -> None:
        stopped = True
        try:
            with anyio.CancelScope() as scope:
                self._worker_scope = scope
                while await self._round():
                    pass
                stopped = False
        except Exception as error:  # never leave the queued callers hanging
            self._outage(error)
        finally:
            self._working = False
            self._worker_scope = None
            if self._worker_done is not None:
                self._worker_done.set()
            if stopped or self._closed:  # cancelled (aclose, loop shutdown) or failed
                self._hand_to_fallback()
            elif self._down_until is None and (self._queue or self._pending()):
                self._kick()  # work arrived while this task was ending

    def _pending(self) -> bool:
        return bool(self._released) or self._pause_until > self._clock.now()

    async def _round(self) -> bool:
        """One Redis call and what follows from it; False when nothing is left to do."""
        self._wake = wake = anyio.Event()
        now = self._clock.now()
        self._give_back_spares(older_than=now - _SPARE_TTL)
        waiters = self._waiting()
        if not waiters and not self._pending():
            if not self._spares:
                return False
            with anyio.move_on_after(max(0.0, self._spares[0].granted + _SPARE_TTL - now)):
                await wake.wait()  # until the oldest spare is stale, or work comes
            return True
        released, self._released = self._released, []
        pause = max(0.0, self._pause_until - now)
        self._pause_until = -math.inf
        prefix = f"{self._prefix}:{next(self._calls)}:"
        extra = self._extra(now, len(waiters))
        lease = self._lease(waiters, now)
        args = script_args(
            requests=self._limit.requests,
            per=self._limit.per,
            lease=lease,
            want=len(waiters),
            pause=pause,
            prefix=prefix,
            released=[(slot_id, now - ended) for slot_id, ended in released],
            extra=extra,
            spare_lease=_SPARE_HOLD + self._limit.per + self._lease_margin,
        )
        try:
            if self._script is None:
                self._script = self._link.redis().script(SCRIPT)
            with anyio.fail_after(self._timeout):
                self.redis_calls += 1
                granted, wait = parse_reply(await self._script(keys=self._keys, args=args))
            took = self._clock.now() - now
            self._rtt = took if self._rtt == 0.0 else 0.7 * self._rtt + 0.3 * took
        except redis_errors() as error:
            self._released = (released + self._released)[:_MAX_PENDING]
            self._pause_until = max(self._pause_until, now + pause)
            self._outage(error)
            return False
        self._recovered()
        self._hand_out(waiters, granted, prefix, now)
        self._serve_from_spares(now)
        if self._waiting():
            self._fail_late(self._clock.now() + wait)
            if not self._pending():
                with anyio.move_on_after(wait):
                    await wake.wait()
        return True

    def _waiting(self) -> list[_Waiter]:
        queue = self._queue
        while queue and queue[0].done:
            queue.popleft()
        return [w for w in itertools.islice(queue, _MAX_BATCH * 2) if not w.done][:_MAX_BATCH]

    def _extra(self, now: float, waiting: int) -> int:
        """Spares to ask for: what the callers are expected to take over the next three
        Redis calls (their rate times the calls' duration; twice the callers waiting now,
        at least), less the spares still held."""
        elapsed = now - self._measured
        if not math.isfinite(elapsed):
            self._demand, self._measured = 0, now
        elif elapsed >= _RATE_SPAN:
            rate = self._demand / elapsed
            self._rate = rate if self._rate == 0.0 else 0.5 * self._rate + 0.5 * rate
            self._demand, self._measured = 0, now
        if self._fallback.paused_until is not None:
            return 0
        expected = max(math.ceil(self._rate * 3 * max(self._rtt, 0.005)), 2 * waiting)
        return max(0, min(_MAX_SPARE, expected - len(self._spares)))

    def _lease(self, waiters: list[_Waiter], now: float) -> float:
        deadlines = [w.deadline - now for w in waiters if w.deadline is not None]
        longest = max(deadlines) if len(deadlines) == len(waiters) and deadlines else None
        hold = _DEFAULT_LEASE if longest is None else max(0.0, longest)
        return hold + self._limit.per + self._lease_margin

    def _hand_out(self, waiters: list[_Waiter], granted: int, prefix: str, now: float) -> None:
        """Give the granted slots to the first callers still waiting, in order."""
        takers = (w for w in waiters if not w.done and w.slot is None)
        for i in range(1, granted + 1):
            slot = _RedisSlot(now, f"{prefix}{i}")
            waiter = next(takers, None)
            if waiter is None:  # a spare, or its caller left during the call
                self._spares.append(_Spare(slot, now))
                continue
            waiter.slot = slot
            waiter.done = True
            waiter.event.set()

    def _serve_from_spares(self, now: float) -> None:
        """Give spares to the callers that queued while the call was in flight."""
        if not self._spares:
            return
        for waiter in self._waiting():
            slot = self._take_spare(now, waiter.deadline)
            if slot is None:
                return
            assert isinstance(slot, _RedisSlot)
            waiter.slot = slot
            waiter.done = True
            waiter.event.set()

    def _fail_late(self, earliest: float) -> None:
        """Fail at once the queued callers whose deadline falls before `earliest`."""
        now = self._clock.now()
        for waiter in self._queue:
            if not waiter.done and waiter.deadline is not None and waiter.deadline < earliest:
                waiter.timeout = LimiterTimeout(earliest - now, deadline=waiter.deadline)
                waiter.done = True
                waiter.event.set()

    def _outage(self, error: BaseException) -> None:
        """Redis failed: pace this process locally, hand the queue to the fallback."""
        if self._down_until is None:
            logger.warning(
                "rate limit: Redis at %s did not answer (%s); pacing this process alone "
                "at %s until it does",
                self._where,
                type(error).__name__,
                self._fallback_rate,
            )
        self._down_until = self._clock.now() + self._retry_after
        self._hand_to_fallback()

    def _hand_to_fallback(self) -> None:
        """Send every queued caller to the in-process fallback."""
        for waiter in self._queue:
            if not waiter.done:
                waiter.fallback = True
                waiter.done = True
                waiter.event.set()
        self._queue.clear()

    def _recovered(self) -> None:
        if self._down_until is not None:
            self._down_until = None
            logger.info(
                "rate limit: Redis at %s answers again; the fleet limit resumes", self._where
            )

    def __repr__(self) -> str:
        state = "fallback" if self.in_outage else "fleet"
        return f"RedisLimiter({self._limit!r}, {state}, {self._where})"
