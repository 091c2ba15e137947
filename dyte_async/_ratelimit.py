"""The client-side rate limiter shared by every call of one client.

Guarantee
    With ``RateLimit(requests=R, per=W)``, the recorded start times of all requests of one
    client (first attempts, retries and polls alike, from every concurrent caller) never
    put more than ``R`` starts in any half-open window ``[a, a + W)``. The limiter is also
    work-conserving: a request never waits while the window has room. ``R`` requests fired
    at once all start at once; request ``R + 1`` starts exactly when the first is ``W``
    seconds old.

Algorithm (an exact sliding-window log with reservations)
    The limiter keeps the start times of the last ``R`` requests, plus any that are
    reserved but still in the future, in order. A caller arriving at ``now`` is given the
    earliest start allowed::

        start = max(now, paused_until, log[-R] + W)    # the last term only once R are logged

    The reservation is made synchronously, before the caller's first ``await``, so
    concurrent callers are served first come, first served and never share a slot; the
    caller then sleeps until its start. Start times only grow, so ``start >= log[-R] + W``
    is exactly "at most ``R - 1`` earlier starts in ``(start - W, start]``".

Deadlines
    `SlidingWindowLimiter.acquire` takes the caller's deadline (a `Clock` reading). When
    the earliest start falls after it, nothing is reserved and `LimiterTimeout` is raised
    at once: no sleeping towards a deadline that cannot be met.

Pauses (429)
    `SlidingWindowLimiter.pause_until` stops every start before a time (a 429's
    ``Retry-After``), for the whole client. Callers already queued with a future start
    are moved back as well (the queued starts are recomputed in order with the same
    formula), so nobody reserved before the pause slips through during it. Only a
    caller whose start time has already come is treated as started. A pause is clamped
    to ``max_pause`` (60 s by default, matching ``RetryPolicy.max_retry_after``), so one
    absurd ``Retry-After`` cannot stall a long-lived client for hours.

Cancellation
    A caller cancelled while waiting leaves its slot used (nobody starts at it). That
    costs some throughput but never breaks the guarantee; handing the slot to a later
    caller would need a start time earlier than ones already promised.

Limits of the guarantee
    It is about start times as the limiter records them. A task scheduled a few
    microseconds late starts that much after its slot, and the server sees arrivals
    shifted by network latency, so servers with a strict limit deserve a small margin.
    Not thread-safe: one client lives on one event loop.

Why not the ``limits`` package: its moving window answers "may I start now?" (``hit`` /
``test``). Waiting would mean polling, without first-come-first-served order, exact
wake-up times, deadlines, a shared pause or an injectable clock, and its async storage
is asyncio-only while this client also runs on trio. A multi-process limit (Redis) would
need those added on top anyway.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol

import attrs

from ._clock import Clock
from .errors import ConfigurationError

__all__ = [
    "DYTE_DEFAULT",
    "REALTIMEKIT_DEFAULT",
    "Limiter",
    "LimiterTimeout",
    "NoLimiter",
    "RateLimit",
    "SlidingWindowLimiter",
    "make_limiter",
]


def _to_float(value: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"per must be a number of seconds, not {value!r}") from None


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@attrs.frozen
class RateLimit:
    """At most `requests` request starts in any window of `per` seconds.

    Args:
        requests: the number of starts allowed per window (an integer > 0).
        per: the window length in seconds (finite, > 0).

    Raises:
        ConfigurationError: `requests` or `per` is out of range.
    """

    requests: int
    per: float = attrs.field(converter=_to_float)

    def __attrs_post_init__(self) -> None:
        if not _is_positive_int(self.requests):
            raise ConfigurationError(f"requests must be an integer > 0, not {self.requests!r}")
        if not (math.isfinite(self.per) and self.per > 0):
            raise ConfigurationError(
                f"per must be a finite number of seconds > 0, not {self.per!r}"
            )

    def __str__(self) -> str:
        return f"{self.requests} requests per {self.per:g} s"


DYTE_DEFAULT = RateLimit(2000, per=60.0)
"""Dyte's documented limit: 2,000 requests a minute."""

REALTIMEKIT_DEFAULT = RateLimit(250, per=10.0)
"""The default for Cloudflare RealtimeKit: 250 requests per 10 seconds."""


class LimiterTimeout(Exception):
    """The rate limiter cannot start the request before the call's deadline.

    Raised at once, without waiting: the request was not sent.

    Attributes:
        wait: the seconds the request would have had to wait for its slot.
        deadline: the deadline (a `Clock` reading) it would have missed.
    """

    def __init__(self, wait: float, *, deadline: float) -> None:
        super().__init__(
            f"the rate limit allows the next request in {wait:.3f} s, after the call's deadline"
        )
        self.wait = wait
        self.deadline = deadline


class Limiter(Protocol):
    """What the request path needs of a limiter (`SlidingWindowLimiter` or `NoLimiter`)."""

    waited_total: float

    async def acquire(self, *, deadline: float | None = None) -> float:
        """Wait for a start slot; return the seconds waited."""
        ...

    def pause_until(self, t: float) -> None:
        """Allow no new start before clock time `t`."""
        ...

    def pause_for(self, seconds: float) -> None:
        """Allow no new start for `seconds`."""
        ...

    @property
    def in_window(self) -> int:
        """Starts in the current window."""
        ...


class _Slot:
    """One reserved start time; mutable so a pause can move queued callers back."""

    __slots__ = ("time",)

    def __init__(self, time: float) -> None:
        self.time = time

    def __repr__(self) -> str:
        return f"_Slot({self.time!r})"


class SlidingWindowLimiter:
    """An exact sliding-window limiter for one client, shared by all its callers.

    See the module docstring for the algorithm and its guarantee.

    Args:
        limit: the limit to keep.
        clock: the clock read for "now" and slept on.
        max_pause: the longest pause `pause_until` / `pause_for` will impose, in seconds
            (0 disables pausing, ``math.inf`` removes the clamp).

    Raises:
        ConfigurationError: `max_pause` is negative or NaN.
    """

    __slots__ = ("_clock", "_limit", "_log", "_max_pause", "_paused_until", "waited_total")

    def __init__(self, limit: RateLimit, clock: Clock, *, max_pause: float = 60.0) -> None:
        if not max_pause >= 0:
            raise ConfigurationError(f"max_pause must be >= 0 seconds, not {max_pause!r}")
        self._limit = limit
        self._clock = clock
        self._max_pause = float(max_pause)
        self._paused_until = -math.inf
        # Reserved start times in order: the last `requests` that have begun, then every
        # one still in the future. `_trim` drops what no future computation needs.
        self._log: deque[_Slot] = deque()
        #: total seconds callers have spent waiting for a slot (for statistics).
        self.waited_total = 0.0

    @property
    def limit(self) -> RateLimit:
        """The limit kept."""
        return self._limit

    @property
    def paused_until(self) -> float | None:
        """The clock time before which nothing starts, or None when not paused."""
        if self._paused_until > self._clock.now():
            return self._paused_until
        return None

    @property
    def in_window(self) -> int:
        """Requests started in the current window ``(now - per, now]``."""
        now = self._clock.now()
        since = now - self._limit.per
        count = 0
        for slot in reversed(self._log):
            if slot.time > now:
                continue
            if slot.time <= since:
                break
            count += 1
        return count

    @property
    def queued(self) -> int:
        """Callers holding a reserved start that lies in the future."""
        now = self._clock.now()
        count = 0
        for slot in reversed(self._log):
            if slot.time <= now:
                break
            count += 1
        return count

    def _trim(self, now: float) -> None:
        # Entry i is only needed by entry i + requests (its window boundary). Once that
        # one has begun, entry i can go: new reservations look at log[-requests] only.
        log, requests = self._log, self._limit.requests
        while len(log) > requests and log[requests].time <= now:
            log.popleft()

    def _next_start(self, now: float) -> float:
        start = max(now, self._paused_until)
        requests = self._limit.requests
        if len(self._log) >= requests:
            start = max(start, self._log[-requests].time + self._limit.per)
        return start

    def _reserve_slot(self, now: float) -> _Slot:
        """Reserve the earliest allowed start at or after `now` (synchronous, no checks)."""
        self._trim(now)
        slot = _Slot(self._next_start(now))
        self._log.append(slot)
        return slot

    def _reserve(self, now: float) -> float:
        """Reserve and return the earliest allowed start at or after `now` (for tests)."""
        return self._reserve_slot(now).time

    async def acquire(self, *, deadline: float | None = None) -> float:
        """Wait until this client may start one more request.

        Returns without awaiting anything when the window has room.

        Args:
            deadline: the call's deadline as a reading of the limiter's clock, or None.

        Returns:
            The seconds this caller was held back (0.0 when it could start at once).

        Raises:
            LimiterTimeout: the earliest start is after `deadline`. Raised before any
                sleeping; if a pause later pushes an already reserved start past the
                deadline, it is raised on waking and that slot stays used.
        """
        now = self._clock.now()
        self._trim(now)
        start = self._next_start(now)
        if deadline is not None and start > deadline:
            raise LimiterTimeout(start - now, deadline=deadline)
        slot = _Slot(start)
        self._log.append(slot)
        if start <= now:
            return 0.0
        begin = now
        try:
            while (remaining := slot.time - now) > 0:
                if deadline is not None and slot.time > deadline:
                    raise LimiterTimeout(remaining, deadline=deadline)
                await self._clock.sleep(remaining)
                now = self._clock.now()
        finally:
            self.waited_total += max(0.0, min(self._clock.now(), slot.time) - begin)
        return slot.time - begin

    def pause_until(self, t: float) -> None:
        """Start nothing before clock time `t`, for every caller of this client.

        A pause only ever extends (an earlier `t` than the current pause is ignored, as is
        NaN) and is clamped to ``now + max_pause``. Queued callers whose start lies in the
        future are moved back to respect it.

        Args:
            t: a reading of the limiter's clock.
        """
        if not t > self._paused_until:
            return
        now = self._clock.now()
        t = min(t, now + self._max_pause)
        if t <= now or t <= self._paused_until:
            return
        self._paused_until = t
        self._reschedule(now)

    def pause_for(self, seconds: float) -> None:
        """Start nothing for the next `seconds` (a 429's ``Retry-After``).

        Args:
            seconds: the length of the pause (clamped to `max_pause`).
        """
        self.pause_until(self._clock.now() + seconds)

    def _reschedule(self, now: float) -> None:
        """Recompute the future starts after the pause moved: same formula, in order."""
        log = self._log
        if not log or log[-1].time <= now:
            return
        slots = list(log)
        first = len(slots)
        while first > 0 and slots[first - 1].time > now:
            first -= 1
        requests, per, paused = self._limit.requests, self._limit.per, self._paused_until
        for i in range(first, len(slots)):
            start = max(slots[i].time, paused)
            if i >= requests:
                start = max(start, slots[i - requests].time + per)
            slots[i].time = start

    def __repr__(self) -> str:
        return f"SlidingWindowLimiter({self._limit!r}, in_window={self.in_window})"


class NoLimiter:
    """A limiter that never waits (for a client built with ``rate_limit=None``).

    Pauses are ignored too: without a limiter a 429 only delays the caller that saw it.
    """

    __slots__ = ("waited_total",)

    def __init__(self) -> None:
        #: always 0.0.
        self.waited_total = 0.0

    async def acquire(self, *, deadline: float | None = None) -> float:
        """Return at once.

        Args:
            deadline: ignored.

        Returns:
            0.0.
        """
        return 0.0

    def pause_until(self, t: float) -> None:
        """Ignored.

        Args:
            t: ignored.
        """

    def pause_for(self, seconds: float) -> None:
        """Ignored.

        Args:
            seconds: ignored.
        """

    @property
    def in_window(self) -> int:
        """Always 0 (nothing is counted)."""
        return 0

    def __repr__(self) -> str:
        return "NoLimiter()"


def make_limiter(
    limit: RateLimit | None, clock: Clock, *, max_pause: float = 60.0
) -> SlidingWindowLimiter | NoLimiter:
    """The limiter for a client's configuration.

    Args:
        limit: the client's rate limit, or None for no limit.
        clock: the client's clock.
        max_pause: the longest pause a 429 may impose on the whole client, in seconds.

    Returns:
        A `SlidingWindowLimiter` for `limit`, or a `NoLimiter` when it is None.

    Raises:
        ConfigurationError: `max_pause` is negative or NaN.
    """
    if limit is None:
        return NoLimiter()
    return SlidingWindowLimiter(limit, clock, max_pause=max_pause)
