"""The shared sliding-window limiter: its guarantee, work conservation, pauses, deadlines."""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from collections.abc import Sequence

import anyio
import anyio.lowlevel
import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dyte_async._ratelimit import (
    DYTE_DEFAULT,
    REALTIMEKIT_DEFAULT,
    Limiter,
    LimiterTimeout,
    NoLimiter,
    RateLimit,
    SlidingWindowLimiter,
    make_limiter,
)
from dyte_async.errors import ConfigurationError
from dyte_async.testing import FakeClock

pytestmark = pytest.mark.anyio

START = 1000.0


class ManualClock:
    """Virtual time that moves only when the test moves it; sleepers wake in deadline order.

    Unlike `FakeClock`, a sleeper never wakes late, so the times at which `acquire`
    returns can be checked against the limit directly.
    """

    def __init__(self, start: float = START) -> None:
        self._now = start
        self._seq = itertools.count()
        self.sleepers: list[tuple[float, int, anyio.Event]] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        entry = (self._now + max(0.0, seconds), next(self._seq), anyio.Event())
        heapq.heappush(self.sleepers, entry)
        try:
            await entry[2].wait()
        finally:
            if not entry[2].is_set():  # cancelled
                self.sleepers.remove(entry)
                heapq.heapify(self.sleepers)

    def advance_to(self, t: float) -> None:
        self._now = max(self._now, t)
        while self.sleepers and self.sleepers[0][0] <= self._now:
            heapq.heappop(self.sleepers)[2].set()

    async def settle(self, done: Sequence[object], total: int) -> None:
        """Let tasks run until each of `total` has finished or is asleep (no real time)."""
        for _ in range(10_000):
            if len(done) + len(self.sleepers) >= total:
                return
            await anyio.lowlevel.checkpoint()
        raise AssertionError("tasks neither finished nor slept")

    async def run(self, done: Sequence[object], total: int, *, until: float = math.inf) -> None:
        """Move time from one wake-up to the next until all `total` tasks are done.

        With `until`, stop there instead: at that time, with every task settled.
        """
        while True:
            await self.settle(done, total)
            if len(done) >= total:
                return
            if self.sleepers[0][0] > until:
                self.advance_to(until)
                await self.settle(done, total)
                return
            self.advance_to(self.sleepers[0][0])


def max_in_any_window(starts: Sequence[float], per: float) -> int:
    """The most starts in any half-open window [a, a + per) (starts sorted)."""
    return max(
        (bisect.bisect_left(starts, s + per) - i for i, s in enumerate(starts)),
        default=0,
    )


# --- RateLimit ---------------------------------------------------------------------------


def test_defaults_are_dyte_and_realtimekit_limits() -> None:
    assert RateLimit(2000, per=60.0) == DYTE_DEFAULT
    assert RateLimit(250, per=10.0) == REALTIMEKIT_DEFAULT
    assert str(DYTE_DEFAULT) == "2000 requests per 60 s"


def test_rate_limit_takes_whole_seconds() -> None:
    limit = RateLimit(10, 1)
    assert limit.per == 1.0
    assert isinstance(limit.per, float)


def test_rate_limit_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        DYTE_DEFAULT.requests = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("requests", "per"),
    [(0, 1.0), (-1, 1.0), (1.5, 1.0), (True, 1.0), (10, 0.0), (10, -1.0), (10, math.inf)],
)
def test_rate_limit_rejects_bad_values(requests: int, per: float) -> None:
    with pytest.raises(ConfigurationError):
        RateLimit(requests, per)


def test_rate_limit_rejects_non_numeric_window() -> None:
    with pytest.raises(ConfigurationError, match="per"):
        RateLimit(10, "soon")  # type: ignore[arg-type]


def test_limiter_rejects_negative_max_pause() -> None:
    with pytest.raises(ConfigurationError, match="max_pause"):
        SlidingWindowLimiter(DYTE_DEFAULT, FakeClock(), max_pause=-1.0)


# --- (a) bursts start at once; the next one waits exactly for the window ------------------


async def test_2000_calls_at_once_start_at_once_and_the_2001st_waits_a_minute() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    waits = [await limiter.acquire() for _ in range(2000)]
    assert waits == [0.0] * 2000
    assert clock.slept == []
    assert limiter.in_window == 2000

    assert await limiter.acquire() == 60.0
    assert clock.now() == START + 60.0
    assert clock.slept == [60.0]
    assert limiter.waited_total == 60.0


async def test_the_2001st_waits_until_the_first_call_is_a_minute_old() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    assert await limiter.acquire() == 0.0
    clock.advance(30.0)
    for _ in range(1999):
        assert await limiter.acquire() == 0.0
    assert await limiter.acquire() == 30.0  # the first call turns 60 s old
    assert clock.now() == START + 60.0


async def test_concurrent_burst_of_2001_callers() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    waits: list[float] = []

    async def call() -> None:
        waits.append(await limiter.acquire())

    async with anyio.create_task_group() as tg:
        for _ in range(2001):
            tg.start_soon(call)
    assert sorted(waits) == [0.0] * 2000 + [60.0]


async def test_in_window_and_queued_count_starts() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(2, per=10.0), clock)
    done: list[float] = []

    async def call() -> None:
        done.append(await limiter.acquire())

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(call)
        await clock.settle(done, 3)
        assert limiter.in_window == 2
        assert limiter.queued == 1
        clock.advance_to(START + 10.0)
    assert limiter.in_window == 1
    assert limiter.queued == 0
    clock.advance_to(START + 20.0)
    assert limiter.in_window == 0


# --- (b) the guarantee and work conservation, on the reservation itself -------------------


@st.composite
def schedules(draw: st.DrawFn) -> tuple[int, float, list[float]]:
    requests = draw(st.integers(min_value=1, max_value=40))
    per = draw(st.sampled_from([0.001, 0.1, 1.0, 7.5, 60.0]))
    # Gaps in multiples of per/4 (hitting window edges exactly) or arbitrary.
    gap = st.one_of(
        st.integers(min_value=0, max_value=8).map(lambda k: k * per / 4),
        st.floats(min_value=0.0, max_value=2 * per, allow_nan=False),
    )
    gaps = draw(st.lists(gap, min_size=1, max_size=1000))
    return requests, per, list(itertools.accumulate(gaps, initial=START))[1:]


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(schedule=schedules())
def test_reservations_keep_the_limit_and_never_wait_needlessly(
    schedule: tuple[int, float, list[float]],
) -> None:
    requests, per, arrivals = schedule
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(RateLimit(requests, per), clock)
    starts = []
    for arrival in arrivals:
        clock.advance(arrival - clock.now())
        starts.append(limiter._reserve(clock.now()))

    assert starts == sorted(starts)
    assert max_in_any_window(starts, per) <= requests
    for i, (arrival, start) in enumerate(zip(arrivals, starts, strict=True)):
        # The earliest start the limit allows: the arrival, or the moment the start
        # `requests` places back leaves the window. Nothing later.
        earliest = arrival if i < requests else max(arrival, starts[i - requests] + per)
        assert start == earliest


@st.composite
def schedules_with_pauses(
    draw: st.DrawFn,
) -> tuple[int, float, list[tuple[float, float | None]]]:
    requests = draw(st.integers(min_value=1, max_value=20))
    per = draw(st.sampled_from([0.5, 1.0, 10.0]))
    op = st.tuples(
        st.floats(min_value=0.0, max_value=per, allow_nan=False),
        st.one_of(st.none(), st.floats(min_value=0.0, max_value=3 * per, allow_nan=False)),
    )
    return requests, per, draw(st.lists(op, min_size=1, max_size=300))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(schedule=schedules_with_pauses())
def test_pauses_hold_back_queued_and_new_starts_and_keep_the_limit(
    schedule: tuple[int, float, list[tuple[float, float | None]]],
) -> None:
    requests, per, ops = schedule
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(RateLimit(requests, per), clock, max_pause=math.inf)
    slots = []  # (arrival, slot)
    pauses = []  # (when, until)
    for gap, pause in ops:
        clock.advance(gap)
        now = clock.now()
        if pause is None:
            slots.append((now, limiter._reserve_slot(now)))
        else:
            limiter.pause_for(pause)
            pauses.append((now, now + pause))

    starts = [slot.time for _, slot in slots]
    boundaries = {s + per for s in starts}
    targets = {until for _, until in pauses}
    assert starts == sorted(starts)
    assert max_in_any_window(starts, per) <= requests
    for arrival, start in zip((a for a, _ in slots), starts, strict=True):
        assert start >= arrival
        # Work-conserving: a start is its arrival, a pause's end or a window boundary.
        assert start == arrival or start in targets or start in boundaries
        for when, until in pauses:
            if start > when:  # reserved or still waiting when the pause began
                assert start >= until


# --- (c) a pause holds back the whole client ----------------------------------------------


async def test_pause_until_delays_every_caller() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(REALTIMEKIT_DEFAULT, clock)
    limiter.pause_until(START + 30.0)
    assert limiter.paused_until == START + 30.0
    waits: list[float] = []

    async def call() -> None:
        waits.append(await limiter.acquire())

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(call)
    assert waits == [30.0] * 5
    assert limiter.paused_until is None


async def test_pause_for_is_relative_and_only_extends() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    limiter.pause_for(5.0)
    limiter.pause_for(2.0)  # shorter: ignored
    limiter.pause_until(math.nan)  # ignored
    limiter.pause_for(-1.0)  # in the past: ignored
    assert limiter.paused_until == START + 5.0
    assert await limiter.acquire() == 5.0


async def test_pause_is_clamped_to_max_pause() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock, max_pause=60.0)
    limiter.pause_for(math.inf)
    assert limiter.paused_until == START + 60.0
    assert await limiter.acquire() == 60.0


async def test_pause_moves_back_a_caller_already_queued() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    assert await limiter.acquire() == 0.0
    done: list[tuple[float, float]] = []

    async def call() -> None:
        wait = await limiter.acquire()
        done.append((wait, clock.now()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await clock.settle(done, 1)  # queued for START + 10
        limiter.pause_until(START + 50.0)  # a 429 elsewhere
        await clock.run(done, 1)
    assert done == [(50.0, START + 50.0)]
    clock.advance_to(START + 52.0)
    with pytest.raises(LimiterTimeout) as info:  # the next one keeps the window after it
        await limiter.acquire(deadline=clock.now())
    assert info.value.wait == 8.0


# --- (d) deadlines fail fast ---------------------------------------------------------------


async def test_deadline_before_the_slot_raises_at_once_without_sleeping() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    assert await limiter.acquire(deadline=START + 1.0) == 0.0
    with pytest.raises(LimiterTimeout) as info:
        await limiter.acquire(deadline=START + 5.0)
    assert info.value.wait == 10.0
    assert info.value.deadline == START + 5.0
    assert clock.slept == []
    assert clock.now() == START
    # Nothing was reserved: the next caller gets the slot.
    assert await limiter.acquire(deadline=START + 10.0) == 10.0


async def test_deadline_counts_the_pause() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    limiter.pause_for(20.0)
    with pytest.raises(LimiterTimeout):
        await limiter.acquire(deadline=START + 19.0)
    assert clock.slept == []


async def test_pause_pushing_a_queued_caller_past_its_deadline_fails_it_on_waking() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    await limiter.acquire()
    errors: list[LimiterTimeout] = []

    async def call() -> None:
        try:
            await limiter.acquire(deadline=START + 15.0)
        except LimiterTimeout as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await clock.settle(errors, 1)
        limiter.pause_until(START + 40.0)
        await clock.run(errors, 1)
    assert clock.now() == START + 10.0  # woke at its old slot, then gave up at once
    assert errors[0].wait == 30.0


# --- (e) cancellation ----------------------------------------------------------------------


async def test_cancelled_waiter_keeps_its_slot_used() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    await limiter.acquire()
    with anyio.CancelScope() as scope:
        scope.cancel()
        await limiter.acquire()  # reserves START + 10, then is cancelled while sleeping
    assert scope.cancelled_caught
    # The cancelled slot stays taken, so the guarantee holds whatever its owner did.
    assert await limiter.acquire() == 20.0


async def test_cancellation_among_many_waiters_keeps_the_limit() -> None:
    clock = ManualClock()
    limit = RateLimit(5, per=1.0)
    limiter = SlidingWindowLimiter(limit, clock)
    starts: list[float] = []
    finished: list[None] = []
    scopes: list[anyio.CancelScope] = []

    async def call(index: int) -> None:
        with anyio.CancelScope() as scope:
            if index % 3 == 0:
                scopes.append(scope)
            await limiter.acquire()
            starts.append(clock.now())
        finished.append(None)

    async with anyio.create_task_group() as tg:
        for i in range(60):
            tg.start_soon(call, i)
        await clock.run(finished, 60, until=START + 2.5)
        assert len(starts) == 15
        for scope in scopes:
            scope.cancel()  # a third of the callers, some already through
        await clock.run(finished, 60)

    cancelled = sum(scope.cancelled_caught for scope in scopes)
    assert cancelled > 10
    assert len(starts) == 60 - cancelled
    assert max_in_any_window(sorted(starts), limit.per) <= limit.requests
    # Cancelled slots stayed used: reused, the 45 or so starts would end by START + 8.
    assert max(starts) >= START + 10.0


# --- (f) many concurrent tasks --------------------------------------------------------------


async def test_1000_concurrent_tasks_with_fake_clock() -> None:
    clock = FakeClock(START)
    limit = RateLimit(100, per=1.0)
    limiter = SlidingWindowLimiter(limit, clock)
    starts: list[float] = []

    async def call() -> None:
        arrival = clock.now()
        starts.append(arrival + await limiter.acquire())

    async with anyio.create_task_group() as tg:
        for _ in range(1000):
            tg.start_soon(call)
    starts.sort()
    assert starts[:100] == [START] * 100
    assert starts[-1] == pytest.approx(START + 9.0)
    assert max_in_any_window(starts, limit.per - 1e-9) <= limit.requests


async def test_1000_tasks_arriving_at_random_times_start_within_the_limit() -> None:
    clock = ManualClock()
    limit = RateLimit(100, per=1.0)
    limiter = SlidingWindowLimiter(limit, clock)
    rng = random.Random(20240601)
    offsets = [rng.uniform(0.0, 5.0) for _ in range(1000)]
    records: list[tuple[float, float, float]] = []  # (arrival, start, reported wait)

    async def call(offset: float) -> None:
        await clock.sleep(offset)
        arrival = clock.now()
        wait = await limiter.acquire()
        records.append((arrival, clock.now(), wait))

    async with anyio.create_task_group() as tg:
        for offset in offsets:
            tg.start_soon(call, offset)
        await clock.run(records, 1000)

    starts = sorted(start for _, start, _ in records)
    assert max_in_any_window(starts, limit.per - 1e-9) <= limit.requests
    boundaries = [s + limit.per for s in starts]
    for arrival, start, wait in records:
        assert start - arrival == pytest.approx(wait, abs=1e-9)
        if wait > 0:  # held back only until an earlier start left the window
            assert any(abs(start - b) < 1e-9 for b in boundaries)
    assert sum(1 for _, _, wait in records if wait == 0.0) >= 100
    assert limiter.waited_total == pytest.approx(sum(w for _, _, w in records))


# --- NoLimiter and make_limiter -------------------------------------------------------------


async def test_no_limiter_never_waits() -> None:
    limiter = NoLimiter()
    limiter.pause_for(30.0)
    limiter.pause_until(math.inf)
    for _ in range(5000):
        assert await limiter.acquire(deadline=0.0) == 0.0
    assert limiter.waited_total == 0.0
    assert limiter.in_window == 0
    assert repr(limiter) == "NoLimiter()"


def test_make_limiter_picks_the_implementation() -> None:
    clock = FakeClock()
    assert isinstance(make_limiter(None, clock), NoLimiter)
    limiter = make_limiter(REALTIMEKIT_DEFAULT, clock)
    both: list[Limiter] = [limiter, NoLimiter()]  # both satisfy the protocol (mypy)
    assert len(both) == 2
    assert isinstance(limiter, SlidingWindowLimiter)
    assert limiter.limit == REALTIMEKIT_DEFAULT
    assert repr(limiter).startswith("SlidingWindowLimiter(RateLimit(requests=250")
