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


async def drive(clock: ManualClock, done: Sequence[object], total: int) -> None:
    """Like `ManualClock.run`, for tasks that may also wait on the limiter's queue."""
    for _ in range(100_000):
        await anyio.wait_all_tasks_blocked()
        if len(done) >= total:
            return
        if not clock.sleepers:
            raise AssertionError("tasks are stuck: nobody sleeps, nobody finished")
        clock.advance_to(clock.sleepers[0][0])
    raise AssertionError("too many steps")


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


# --- (g) held slots: the window counts from the end of each request -----------------------


async def test_a_held_slot_counts_from_the_end_of_its_request() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    slot = await limiter.acquire_slot()
    assert (slot.time, slot.waited) == (START, 0.0)
    assert limiter.held == 1
    clock.advance(3.0)  # the request took 3 s
    limiter.release(slot)
    limiter.release(slot)  # idempotent
    assert limiter.held == 0
    # A start-counted slot would allow the next one at START + 10; the server may have
    # seen this request as late as START + 3.
    with pytest.raises(LimiterTimeout) as info:
        await limiter.acquire_slot(deadline=START + 12.9)
    assert info.value.wait == pytest.approx(10.0)
    nxt = await limiter.acquire_slot()
    assert nxt.time == START + 13.0
    assert nxt.waited == pytest.approx(10.0)
    limiter.release(nxt, at=nxt.time)  # `at` is taken as given
    assert await limiter.acquire() == pytest.approx(10.0)


async def test_a_slot_released_before_its_start_stays_used_until_then() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    slot = limiter._reserve_slot(START)
    assert not slot.held
    limiter.release(slot, at=START + 50.0)  # not held: left alone
    assert await limiter.acquire() == 10.0


async def test_callers_wait_in_order_while_every_slot_is_held() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(2, per=1.0), clock)
    first, second = await limiter.acquire_slot(), await limiter.acquire_slot()
    order: list[tuple[int, float]] = []
    arrived: list[int] = []  # trio runs new tasks in no set order
    done: list[None] = []

    async def call(index: int) -> None:
        arrived.append(index)
        slot = await limiter.acquire_slot()
        order.append((index, clock.now()))
        limiter.release(slot)
        done.append(None)

    async with anyio.create_task_group() as tg:
        for i in range(3):
            tg.start_soon(call, i)
        await anyio.wait_all_tasks_blocked()
        assert order == []  # nobody can know when it may start: both slots are in use
        assert limiter.queued == 3
        clock.advance_to(START + 0.25)
        limiter.release(second)  # free again at START + 1.25
        clock.advance_to(START + 0.5)
        limiter.release(first)  # free again at START + 1.5
        await drive(clock, done, 3)
    # First come, first served; the third waited for the first caller's release.
    assert order == list(zip(arrived, [START + 1.25, START + 1.5, START + 2.25], strict=True))
    assert limiter.waited_total == pytest.approx(1.25 + 1.5 + 2.25)


async def test_a_caller_that_cannot_be_served_by_its_deadline_fails_at_once() -> None:
    clock = FakeClock(START)
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    await limiter.acquire_slot()
    # Held: the earliest possible start is `per` after a release happening now.
    with pytest.raises(LimiterTimeout) as info:
        await limiter.acquire_slot(deadline=START + 9.0)
    assert info.value.wait == 10.0
    assert limiter.queued == 0
    assert clock.slept == []


async def test_a_queued_caller_is_failed_when_the_release_comes_too_late() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    held = await limiter.acquire_slot()
    outcomes: list[object] = []

    async def call(deadline: float | None) -> None:
        try:
            slot = await limiter.acquire_slot(deadline=deadline)
        except LimiterTimeout as exc:
            outcomes.append(exc)
        else:
            outcomes.append(slot.time)
            limiter.release(slot)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, START + 12.0)  # queued: START + 10 would have fitted
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(call, None)
        await anyio.wait_all_tasks_blocked()
        clock.advance_to(START + 5.0)
        limiter.release(held)  # free at START + 15: too late for the first caller
        await drive(clock, outcomes, 2)
    assert isinstance(outcomes[0], LimiterTimeout)
    assert outcomes[0].wait == pytest.approx(10.0)
    assert outcomes[1] == START + 15.0  # the slot went to the next caller


async def test_cancelled_queued_callers_leave_the_queue_or_give_their_slot_back() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(1, per=1.0), clock)
    held = await limiter.acquire_slot()
    with anyio.CancelScope() as scope:
        scope.cancel()
        await limiter.acquire_slot()  # queued, then cancelled: nothing taken
    assert scope.cancelled_caught
    assert limiter.queued == 0
    assert limiter.held == 1

    starts: list[float] = []
    async with anyio.create_task_group() as tg:
        waiting = anyio.CancelScope()

        async def cancelled_after_being_served() -> None:
            with waiting:
                await limiter.acquire_slot()
                await anyio.sleep_forever()

        async def later() -> None:
            slot = await limiter.acquire_slot()
            starts.append(clock.now())
            limiter.release(slot)

        tg.start_soon(cancelled_after_being_served)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(later)
        await anyio.wait_all_tasks_blocked()
        limiter.release(held)  # serves the first caller with START + 1...
        waiting.cancel()  # ...which gives up before starting: its slot stays used
        await drive(clock, starts, 1)
    assert starts == [START + 2.0]
    assert limiter.held == 0


async def test_a_pause_moves_back_callers_holding_future_slots() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    limiter.release(await limiter.acquire_slot(), at=START)
    done: list[float] = []

    async def call() -> None:
        slot = await limiter.acquire_slot()
        done.append(clock.now())
        limiter.release(slot)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await clock.settle(done, 1)  # holds START + 10
        limiter.pause_until(START + 30.0)
        await clock.run(done, 1)
    assert done == [START + 30.0]


def arrivals_refused(arrivals: Sequence[float], requests: int, per: float) -> int:
    """How many of `arrivals` a server keeping `requests` per sliding `per` would refuse."""
    accepted: list[float] = []
    refused = 0
    for t in sorted(arrivals):
        recent = [a for a in accepted if a > t - per]
        if len(recent) < requests:
            accepted.append(t)
        else:
            refused += 1
    return refused


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    requests=st.integers(min_value=1, max_value=8),
    calls=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=3.0),  # when the caller arrives
            st.floats(min_value=0.0, max_value=1.5),  # how long its request takes
            st.floats(min_value=0.0, max_value=1.0),  # where in it the server sees it
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_held_slots_never_let_a_server_with_the_same_limit_refuse(
    requests: int, calls: list[tuple[float, float, float]]
) -> None:
    per = 1.0
    records: list[tuple[float, float, float]] = []  # (start, end, server arrival)

    async def main() -> None:
        clock = ManualClock()
        limiter = SlidingWindowLimiter(RateLimit(requests, per), clock)

        async def call(offset: float, duration: float, seen: float) -> None:
            await clock.sleep(offset)
            slot = await limiter.acquire_slot()
            start = clock.now()
            try:
                await clock.sleep(duration)  # the request, answered or failed or cancelled
            finally:
                limiter.release(slot, at=clock.now())
            end = clock.now()
            records.append((start, end, start + seen * (end - start)))

        async with anyio.create_task_group() as tg:
            for c in calls:
                tg.start_soon(call, *c)
            await drive(clock, records, len(calls))
        assert limiter.held == 0

    anyio.run(main)
    starts = sorted(start for start, _, _ in records)
    assert max_in_any_window(starts, per) <= requests
    # Wherever in its request the server saw each one, none was over the server's limit.
    assert arrivals_refused([arrival for _, _, arrival in records], requests, per) == 0
