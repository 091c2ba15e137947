"""The client-side rate limiter shared by every call of one client.

Guarantee
    With ``RateLimit(requests=R, per=W)``, the recorded start times of all requests of one
    client (first attempts, retries and polls alike, from every concurrent caller) never
    put more than ``R`` starts in any half-open window ``[a, a + W)``. The limiter is also
    work-conserving: a request never waits while the window has room. ``R`` requests fired
    at once all start at once; request ``R + 1`` starts exactly when the first is ``W``
    seconds old.

Held slots: counting the window from the end of a request
    A server counts arrivals, not our starts: a request that took longer to arrive than
    the one ``R`` places before it could land inside that one's window, and get a 429.
    So the request path takes its slots with `SlidingWindowLimiter.acquire_slot` and gives
    each back with `SlidingWindowLimiter.release` when its attempt ended (answer,
    failure or cancellation): the slot then counts as used from its start until ``W``
    seconds after that end. Every request the server received within any window of ``W``
    seconds was started before that window ended and ended after it began, so at most
    ``R`` of them can fall in it: a server keeping the same limit over arrivals never
    answers 429. The price is about one round trip per window, only while the limit is
    reached. A slot still held counts as used until it is released; a caller that arrives
    while all ``R`` are held waits (in order) for the first release.

Algorithm (``R`` tokens, first come first served)
    Each slot takes one of ``R`` tokens and keeps it from its start until ``W`` seconds
    after its end (its start, for `acquire`, which releases at once). A caller arriving at
    ``now`` takes the token that is free soonest::

        start = max(now, paused_until, token_free_at)

    The uses of one token never overlap, so no more than ``R`` slots are in use at any
    instant. With `acquire` only, tokens are used in turn and this is exactly the sliding
    window log: ``start = max(now, paused_until, log[-R] + W)``. The reservation is made
    synchronously, before the caller's first ``await``, so concurrent callers are served
    first come, first served and never share a slot; the caller then sleeps until its start.

Deadlines
    `SlidingWindowLimiter.acquire` takes the caller's deadline (a `Clock` reading). When
    the earliest start falls after it, nothing is reserved and `LimiterTimeout` is raised
    at once: no sleeping towards a deadline that cannot be met. While every token is held,
    the earliest start is at least ``W`` from now.

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
    caller would need a start time earlier than ones already promised. A held slot whose
    request is cancelled in flight is released at the cancellation.

Limits of the guarantee
    It is about start times as the limiter records them. A task scheduled a few
    microseconds late starts that much after its slot. A request that reaches the server
    after its attempt ended (its timeout expired while it was still on its way) escapes
    the held-slot guarantee. Not thread-safe: one client lives on one event loop.

Why not the ``limits`` package: its moving window answers "may I start now?" (``hit`` /
``test``). Waiting would mean polling, without first-come-first-served order, exact
wake-up times, deadlines, a shared pause or an injectable clock, and its async storage
is asyncio-only while this client also runs on trio. A multi-process limit (Redis) would
need those added on top anyway.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from typing import Protocol

import anyio
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
    "Slot",
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

    async def acquire_slot(self, *, deadline: float | None = None) -> Slot:
        """Wait for a start slot and hold it until `release`."""
        ...

    def release(self, slot: Slot, *, at: float | None = None) -> None:
        """The request of a held `slot` ended at clock time `at` (now when None)."""
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


class Slot:
    """One reserved start, and the token it uses (see the module docstring).

    Attributes:
        time: the start (a `Clock` reading); a pause may move a future one back.
        waited: the seconds its caller was held back (set by `acquire_slot`).
    """

    __slots__ = ("end", "held", "prev", "time", "waited")

    def __init__(self, time: float, prev: Slot | None = None, *, held: bool = False) -> None:
        self.time = time
        #: the slot that used the same token before this one, while this one may still move.
        self.prev = prev
        #: taken by `acquire_slot` and not released yet: the token is in use until then.
        self.held = held
        #: when its request ended (set by `release`).
        self.end: float | None = None
        self.waited = 0.0

    def last_use(self) -> float:
        """When this slot stops using its token, less the window (inf while held)."""
        if self.held:
            return math.inf
        end = self.end
        return self.time if end is None or end < self.time else end

    def __repr__(self) -> str:
        return f"Slot({self.time!r})"


_Slot = Slot  # the earlier name


class _Waiter:
    """A caller queued while every token is held, until a release serves it."""

    __slots__ = ("deadline", "event", "held", "slot", "timeout")

    def __init__(self, deadline: float | None, held: bool) -> None:
        self.deadline = deadline
        self.held = held
        self.event = anyio.Event()
        self.slot: Slot | None = None
        self.timeout: LimiterTimeout | None = None


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
        # Reserved slots in the order they were given, while they count for `in_window`
        # or may still move (a future start).
        self._log: deque[Slot] = deque()
        # Tokens never used yet, then the others not held: (free at, order, last slot).
        self._fresh = limit.requests
        self._free: list[tuple[float, int, Slot]] = []
        self._seq = itertools.count()
        # Callers waiting while every token is held, first come first served.
        self._blocked: deque[_Waiter] = deque()
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
        return sum(1 for slot in self._log if since < slot.time <= now)

    @property
    def queued(self) -> int:
        """Callers holding a reserved start that lies in the future, or waiting for one."""
        now = self._clock.now()
        return sum(1 for slot in self._log if slot.time > now) + len(self._blocked)

    @property
    def held(self) -> int:
        """Slots taken by `acquire_slot` and not released yet."""
        return self._limit.requests - self._fresh - len(self._free)

    def _trim(self, now: float) -> None:
        # A slot leaves the log once out of the window; one with a future start stays
        # (with all after it) until it has begun, so a pause can still move it.
        log, since = self._log, now - self._limit.per
        while log and log[0].time <= since:
            log.popleft().prev = None

    def _earliest(self, now: float) -> float | None:
        """The start the next slot would get, or None while every token is held."""
        if self._fresh:
            free = -math.inf
        elif self._free:
            free = self._free[0][0]
        else:
            return None
        return max(now, self._paused_until, free)

    def _take(self, now: float, *, held: bool) -> Slot:
        """Reserve the earliest allowed start at or after `now` (synchronous, no checks).

        A token must be free (`_earliest` is not None).
        """
        prev: Slot | None = None
        if self._fresh:
            self._fresh -= 1
            start = max(now, self._paused_until)
        else:
            free, _, prev = heapq.heappop(self._free)
            start = max(now, self._paused_until, free)
        slot = Slot(start, prev if start > now else None, held=held)
        self._log.append(slot)
        if not held:
            heapq.heappush(self._free, (start + self._limit.per, next(self._seq), slot))
        return slot

    def _reserve_slot(self, now: float) -> Slot:
        """Reserve the earliest allowed start at or after `now` (for tests: no waiting)."""
        self._trim(now)
        if self._earliest(now) is None:
            raise RuntimeError("every slot is held")
        return self._take(now, held=False)

    def _reserve(self, now: float) -> float:
        """Reserve and return the earliest allowed start at or after `now` (for tests)."""
        return self._reserve_slot(now).time

    async def acquire(self, *, deadline: float | None = None) -> float:
        """Wait until this client may start one more request.

        Returns without awaiting anything when the window has room. The slot counts from
        its start (it is not held).

        Args:
            deadline: the call's deadline as a reading of the limiter's clock, or None.

        Returns:
            The seconds this caller was held back (0.0 when it could start at once).

        Raises:
            LimiterTimeout: the earliest start is after `deadline`. Raised before any
                sleeping; if a pause later pushes an already reserved start past the
                deadline, it is raised on waking and that slot stays used.
        """
        return (await self._acquire(deadline, held=False)).waited

    async def acquire_slot(self, *, deadline: float | None = None) -> Slot:
        """Like `acquire`, but the slot is held until `release` says when its request ended.

        Every slot taken must be released (in a ``finally``), or its token stays in use.

        Returns:
            The slot; its `waited` is what `acquire` would return.

        Raises:
            LimiterTimeout: as `acquire`.
        """
        return await self._acquire(deadline, held=True)

    def release(self, slot: Slot, *, at: float | None = None) -> None:
        """The request of `slot` (from `acquire_slot`) ended at clock time `at`.

        Its token is free again ``per`` seconds after `at` (or after the slot's start, if
        later: a slot given up before its start stays used). Idempotent; a slot from
        `acquire` is left alone.

        Args:
            slot: the slot.
            at: when the request ended (a failure, or the cancellation); now when None.
        """
        if not slot.held:
            return
        now = self._clock.now()
        slot.held = False
        slot.end = now if at is None else at
        heapq.heappush(self._free, (slot.last_use() + self._limit.per, next(self._seq), slot))
        self._serve_blocked(now)

    async def _acquire(self, deadline: float | None, *, held: bool) -> Slot:
        clock = self._clock
        now = clock.now()
        self._trim(now)
        begin = now
        earliest = self._earliest(now) if not self._blocked else None
        if earliest is None:
            slot = await self._wait_for_token(now, deadline, held)
            now = clock.now()
        else:
            if deadline is not None and earliest > deadline:
                raise LimiterTimeout(earliest - now, deadline=deadline)
            slot = self._take(now, held=held)
            if slot.time <= now:
                return slot
        try:
            while (remaining := slot.time - now) > 0:
                if deadline is not None and slot.time > deadline:
                    raise LimiterTimeout(remaining, deadline=deadline)
                await clock.sleep(remaining)
                now = clock.now()
        except BaseException:
            self.release(slot, at=now)  # a held slot given up before its start stays used
            raise
        finally:
            self.waited_total += max(0.0, min(clock.now(), slot.time) - begin)
        slot.prev = None  # started: it will not move again
        slot.waited = slot.time - begin
        return slot

    async def _wait_for_token(self, now: float, deadline: float | None, held: bool) -> Slot:
        """Queue until a release hands this caller a slot (every token is held)."""
        # A token held now is free at the earliest `per` after its release.
        earliest = max(now + self._limit.per, self._paused_until)
        if deadline is not None and earliest > deadline:
            raise LimiterTimeout(earliest - now, deadline=deadline)
        waiter = _Waiter(deadline, held)
        self._blocked.append(waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            if waiter.slot is None:
                if waiter in self._blocked:
                    self._blocked.remove(waiter)
            else:
                self.release(waiter.slot, at=self._clock.now())
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
        while blocked:
            earliest = self._earliest(now)
            if earliest is None:
                return
            waiter = blocked.popleft()
            if waiter.deadline is not None and earliest > waiter.deadline:
                waiter.timeout = LimiterTimeout(earliest - now, deadline=waiter.deadline)
            else:
                self._trim(now)
                waiter.slot = self._take(now, held=waiter.held)
            waiter.event.set()

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
        paused, per = self._paused_until, self._limit.per
        moved = False
        for slot in self._log:  # in reservation order: a token's earlier user comes first
            if slot.time <= now:
                continue
            start = max(slot.time, paused)
            prev = slot.prev
            if prev is not None:
                start = max(start, prev.last_use() + per)
            slot.time = start
            moved = True
        if moved:
            self._free = [(slot.last_use() + per, seq, slot) for _, seq, slot in self._free]
            heapq.heapify(self._free)

    def __repr__(self) -> str:
        return f"SlidingWindowLimiter({self._limit!r}, in_window={self.in_window})"


_NO_SLOT = Slot(-math.inf)


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

    async def acquire_slot(self, *, deadline: float | None = None) -> Slot:
        """Return at once.

        Args:
            deadline: ignored.

        Returns:
            A slot that never waited.
        """
        return _NO_SLOT

    def release(self, slot: Slot, *, at: float | None = None) -> None:
        """Ignored.

        Args:
            slot: ignored.
            at: ignored.
        """

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
