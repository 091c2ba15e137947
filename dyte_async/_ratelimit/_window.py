"""`SlidingWindowLimiter`: the in-process `Limiter`, shared by every call of one client.

Guarantee
    With ``RateLimit(requests=R, per=W)``, every slot counts from its start until ``W``
    seconds after its `release`, and no more than ``R`` slots count at any instant. So the
    recorded starts never put more than ``R`` in any half-open window ``[a, a + W)``, and
    a server counting arrivals over the same window never answers 429: every request it
    received within a window was started before that window ended and ended after it
    began. The limiter is work-conserving: a caller never waits while a token is free,
    ``R`` callers arriving at once all start at once. The price is about one round trip
    per window, only while the limit is reached.

Algorithm (``R`` tokens, first come first served)
    Each slot takes one of ``R`` tokens and keeps it from its start until ``W`` seconds
    after its end. A caller arriving at ``now`` takes the token that is free soonest::

        start = max(now, paused_until, token_free_at)

    and sleeps until then. The reservation is made synchronously, before the caller's
    first ``await``, so concurrent callers are served in order and never share a token.
    While every token is held (taken and not released), callers queue; each `release`
    hands its token, free ``W`` seconds later, to the first of them.

Deadlines
    When the earliest start falls after the caller's deadline, nothing is reserved and
    `LimiterTimeout` is raised at once. While every token is held, the earliest start is
    at least ``W`` from now. A queued caller whose deadline the freed token cannot meet is
    failed at once, and the token goes to the next one.

Pauses (429)
    `SlidingWindowLimiter.pause_for` stops every start for a while (a 429's
    ``Retry-After``), clamped to ``max_pause`` (60 s by default, matching
    ``RetryPolicy.max_retry_after``). Starts already reserved in the future are moved
    back, in reservation order and with the same formula, so nobody slips through.

Cancellation
    A caller cancelled (or failed by its deadline) before its start gives its slot back
    at once; the slot still counts until its reserved start, since handing it to a later
    caller would need a start earlier than ones already promised. This holds however the
    cancellation arrives (an anyio or trio cancel scope, ``task.cancel()``,
    ``asyncio.timeout``): a slot handed to a queued caller is released by that caller's
    `acquire_slot` unless it returns the slot.

Limits
    A task scheduled a few microseconds late starts that much after its slot. A request
    that reaches the server after its attempt ended (its timeout expired on the way)
    escapes the guarantee. Not thread-safe: one client lives on one event loop.

Why not the ``limits`` package: its moving window answers "may I start now?". Waiting would
mean polling, without first-come-first-served order, exact wake-up times, deadlines, a shared
pause or an injectable clock, and its async storage is asyncio-only.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque

import anyio

from dyte_async._clock import Clock
from dyte_async._ratelimit._config import RateLimit
from dyte_async._ratelimit._limiter import LimiterTimeout, Slot
from dyte_async.errors import ConfigurationError

__all__ = ["SlidingWindowLimiter"]


class _WindowSlot(Slot):
    """A slot and the token it uses: in use from `time` until `per` after `end`."""

    __slots__ = ("end", "prev")

    def __init__(self, time: float, prev: _WindowSlot | None) -> None:
        # `Slot.__init__`, inlined: one of these per request.
        self.time = time
        self.waited = 0.0
        #: the slot that used the same token before this one, while this one may still move.
        self.prev = prev
        #: when its attempt ended; infinite while the slot is held.
        self.end = math.inf

    def last_use(self) -> float:
        """When this slot stops using its token, less the window (inf while held)."""
        return max(self.time, self.end)


class _Waiter:
    """A caller queued while every token is held, until a release serves it."""

    __slots__ = ("deadline", "event", "slot", "timeout")

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.event = anyio.Event()
        self.slot: _WindowSlot | None = None
        self.timeout: LimiterTimeout | None = None


class SlidingWindowLimiter:
    """An exact sliding-window `Limiter` for one client, shared by all its callers.

    See the module docstring for the algorithm and its guarantee.

    Args:
        limit: the limit to keep.
        clock: the clock read for "now" and slept on.
        max_pause: the longest pause `pause_for` will impose, in seconds (0 disables
            pausing, ``math.inf`` removes the clamp).

    Raises:
        ConfigurationError: `max_pause` is negative or NaN.
    """

    __slots__ = (
        "_blocked",
        "_clock",
        "_free",
        "_fresh",
        "_limit",
        "_log",
        "_max_pause",
        "_paused_until",
        "_seq",
        "waited_total",
    )

    def __init__(self, limit: RateLimit, clock: Clock, *, max_pause: float = 60.0) -> None:
        if not max_pause >= 0:
            raise ConfigurationError(f"max_pause must be >= 0 seconds, not {max_pause!r}")
        self._limit = limit
        self._clock = clock
        self._max_pause = float(max_pause)
        self._paused_until = -math.inf
        # Slots in the order they were given, while they count for `in_window` or may
        # still move (a future start).
        self._log: deque[_WindowSlot] = deque()
        # Tokens never used yet, then the released ones: (free at, order, last slot).
        self._fresh = limit.requests
        self._free: list[tuple[float, int, _WindowSlot]] = []
        self._seq = itertools.count()
        # Callers waiting while every token is held, first come first served.
        self._blocked: deque[_Waiter] = deque()
        #: total seconds callers have spent waiting for a slot (for statistics).
        self.waited_total = 0.0

    @property
    def paused_until(self) -> float | None:
        """The clock time before which nothing starts, or None when not paused."""
        if self._paused_until > self._clock.now():
            return self._paused_until
        return None

    @property
    def in_window(self) -> int:
        """Slots started in the current window ``(now - per, now]``."""
        now = self._clock.now()
        since = now - self._limit.per
        return sum(1 for slot in self._log if since < slot.time <= now)

    @property
    def queued(self) -> int:
        """Callers holding a slot that starts in the future, or waiting for one."""
        now = self._clock.now()
        return sum(1 for slot in self._log if slot.time > now) + len(self._blocked)

    @property
    def held(self) -> int:
        """Slots taken and not released yet."""
        return self._limit.requests - self._fresh - len(self._free)

    async def acquire_slot(self, *, deadline: float | None = None) -> Slot:
        """Wait for a start slot and hold it until `release` says its attempt ended.

        Returns without awaiting anything when a token is free now. Every slot returned
        must be released (in a ``finally``), or its token stays in use.

        Args:
            deadline: the latest acceptable start, a reading of the limiter's clock.

        Returns:
            The slot; its `waited` is the seconds this caller was held back.

        Raises:
            LimiterTimeout: the earliest start is after `deadline`. Raised before any
                sleeping; if a pause later pushes a reserved start past the deadline, it
                is raised on waking (the slot is given back).
        """
        clock = self._clock
        begin = now = clock.now()
        self._trim(now)
        earliest = self._earliest(now)
        if earliest is None:
            slot = await self._wait_for_token(now, deadline)
            now = clock.now()
        else:
            if deadline is not None and earliest > deadline:
                raise LimiterTimeout(earliest - now, deadline=deadline)
            slot = self._take(now)
            if slot.time <= now:
                return slot
        try:
            while (remaining := slot.time - now) > 0:
                if deadline is not None and slot.time > deadline:
                    raise LimiterTimeout(remaining, deadline=deadline)
                await clock.sleep(remaining)
                now = clock.now()
        except BaseException:
            self.release(slot)  # given up before its start: used until then
            raise
        finally:
            self.waited_total += max(0.0, min(clock.now(), slot.time) - begin)
        slot.prev = None  # started: it will not move again
        slot.waited = slot.time - begin
        return slot

    def try_acquire_now(self) -> Slot | None:
        """A slot starting now, when `acquire_slot` would give one without waiting.

        The same reservation as `acquire_slot`'s path that returns at once (so exactly as
        exact); None, with nothing reserved, when it would wait (then call it).

        Returns:
            The slot (release it as any other), or None.
        """
        now = self._clock.now()
        self._trim(now)
        earliest = self._earliest(now)
        if earliest is None or earliest > now:
            return None
        return self._take(now)

    def release(self, slot: Slot) -> None:
        """The attempt of `slot` (from `acquire_slot`) ended now.

        Its token is free again ``per`` seconds after now, or after the slot's start if
        that is later. Idempotent; a slot this limiter did not hand out is left alone.

        Args:
            slot: the slot.
        """
        if not isinstance(slot, _WindowSlot) or slot.end != math.inf:
            return
        now = self._clock.now()
        slot.end = now
        heapq.heappush(self._free, (slot.last_use() + self._limit.per, next(self._seq), slot))
        if self._blocked:  # nobody queued (the usual case): nothing to hand over
            self._serve_blocked(now)

    def pause_for(self, seconds: float) -> None:
        """Start nothing for the next `seconds` (a 429's ``Retry-After``).

        A pause only ever extends (a shorter one than the current pause is ignored, as
        is NaN) and is clamped to `max_pause`. Callers holding a future start are moved
        back to respect it.

        Args:
            seconds: the length of the pause.
        """
        now = self._clock.now()
        until = now + min(seconds, self._max_pause)
        if not until > max(now, self._paused_until):
            return
        self._paused_until = until
        self._reschedule(now)

    async def aclose(self) -> None:
        """Nothing to close: the window lives in this process."""

    def _trim(self, now: float) -> None:
        # A slot leaves the log once out of the window; one with a future start stays
        # (with all after it) until it has begun, so a pause can still move it.
        log, since = self._log, now - self._limit.per
        while log and log[0].time <= since:
            log.popleft().prev = None

    def _earliest(self, now: float) -> float | None:
        """The start the next slot would get, or None while every token is held."""
        if self._fresh:
            return max(now, self._paused_until)
        if self._free:
            return max(now, self._paused_until, self._free[0][0])
        return None

    def _take(self, now: float) -> _WindowSlot:
        """Hold the token free soonest from its earliest start (a token must be free)."""
        prev: _WindowSlot | None = None
        if self._fresh:
            self._fresh -= 1
            start = max(now, self._paused_until)
        else:
            free, _, prev = heapq.heappop(self._free)
            start = max(now, self._paused_until, free)
        slot = _WindowSlot(start, prev if start > now else None)
        self._log.append(slot)
        return slot

    async def _wait_for_token(self, now: float, deadline: float | None) -> _WindowSlot:
        """Queue until a release hands this caller a slot (every token is held)."""
        # A token held now is free at the earliest `per` after its release.
        earliest = max(now + self._limit.per, self._paused_until)
        if deadline is not None and earliest > deadline:
            raise LimiterTimeout(earliest - now, deadline=deadline)
        waiter = _Waiter(deadline)
        self._blocked.append(waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            if waiter.slot is None:
                if waiter in self._blocked:  # not failed by its deadline either
                    self._blocked.remove(waiter)
            else:
                self.release(waiter.slot)  # handed over, never used: give it back
            self.waited_total += max(0.0, self._clock.now() - now)
            raise
        if waiter.timeout is not None:
            self.waited_total += max(0.0, self._clock.now() - now)
            raise waiter.timeout
        assert waiter.slot is not None
        return waiter.slot

    def _serve_blocked(self, now: float) -> None:
        """Hand the tokens free now to the queued callers, in order."""
        blocked = self._blocked
        self._trim(now)
        while blocked and (earliest := self._earliest(now)) is not None:
            waiter = blocked.popleft()
            if waiter.deadline is not None and earliest > waiter.deadline:
                waiter.timeout = LimiterTimeout(earliest - now, deadline=waiter.deadline)
            else:
                waiter.slot = self._take(now)
            waiter.event.set()

    def _reschedule(self, now: float) -> None:
        """Recompute the future starts after the pause moved: same formula, in order."""
        paused, per = self._paused_until, self._limit.per
        for slot in self._log:  # in reservation order: a token's earlier user comes first
            if slot.time <= now:
                continue
            start = max(slot.time, paused)
            prev = slot.prev
            if prev is not None:
                start = max(start, prev.last_use() + per)
            slot.time = start
        # A released token whose last slot moved is free later too.
        self._free = [(slot.last_use() + per, seq, slot) for _, seq, slot in self._free]
        heapq.heapify(self._free)

    def __repr__(self) -> str:
        return f"SlidingWindowLimiter({self._limit!r}, in_window={self.in_window})"
