"""The shared sliding-window limiter: its guarantee, work conservation, pauses, deadlines.

Every slot is taken with `acquire_slot` and given back with `release`, as the request path
does; `start` below ends its attempt at once, so the slot counts from its start only.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
import re
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
    Slot,
    make_limiter,
)
from dyte_async.errors import ConfigurationError
from dyte_async.testing import FakeClock
from tests.unit.conftest import START

pytestmark = pytest.mark.anyio


class ManualClock:
    """Virtual time that moves only when the test moves it; sleepers wake in deadline order.

    `FakeClock` moves time as each sleeper resumes, so concurrent sleepers of different
    spans may read times a little late; here a sleeper never wakes late, and a test can
    look at the limiter while callers sleep. Used only where that matters.
    """

    def __init__(self, start: float = START) -> None:
        self._now = start
        self._seq = itertools.count()
        self._moves = 0  # sleeps begun and ended, to tell when every task is blocked
        self.sleepers: list[tuple[float, int, anyio.Event]] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        entry = (self._now + max(0.0, seconds), next(self._seq), anyio.Event())
        heapq.heappush(self.sleepers, entry)
        self._moves += 1
        try:
            await entry[2].wait()
        finally:
            self._moves += 1
            if not entry[2].is_set():  # cancelled
                self.sleepers.remove(entry)
                heapq.heapify(self.sleepers)

    def advance_to(self, t: float) -> None:
        self._now = max(self._now, t)
        while self.sleepers and self.sleepers[0][0] <= self._now:
            heapq.heappop(self.sleepers)[2].set()

    async def settle(self) -> None:
        """Let every task run until it blocks (asleep, queued or done), in no real time.

        A task that runs either sleeps or finishes soon (and a woken one was woken by
        another's move), so five checkpoints in a row without a sleep begun or ended
        mean that nothing runs any more.
        """
        seen, calm = -1, 0
        for _ in range(100_000):
            await anyio.lowlevel.checkpoint()
            calm = calm + 1 if self._moves == seen else 0
            seen = self._moves
            if calm >= 5:
                return
        raise AssertionError("tasks never settled")

    async def run(
        self, done: Sequence[object] = (), total: int = 1, *, until: float = math.inf
    ) -> None:
        """Move time from one wake-up to the next, once every task is blocked, until
        `total` tasks are done. With `until`, stop there instead (every task blocked)."""
        for _ in range(100_000):
            await self.settle()
            if len(done) >= total:
                return
            if not self.sleepers or self.sleepers[0][0] > until:
                if until == math.inf:
                    raise AssertionError("tasks are stuck: nobody sleeps, nobody finished")
                self.advance_to(until)
                await self.settle()
                return
            self.advance_to(self.sleepers[0][0])
        raise AssertionError("too many steps")

    async def drive(self) -> None:
        """`run` for tasks the test does not count: until cancelled."""
        for _ in range(1_000_000):
            await anyio.wait_all_tasks_blocked()
            if self.sleepers:
                self.advance_to(self.sleepers[0][0])
            else:
                await anyio.lowlevel.checkpoint()
        raise AssertionError("too many steps")


async def start(limiter: SlidingWindowLimiter, *, deadline: float | None = None) -> float:
    """Take a slot and end its attempt at once; return the seconds waited."""
    slot = await limiter.acquire_slot(deadline=deadline)
    limiter.release(slot)
    return slot.waited


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
    ("requests", "per", "message"),
    [
        (0, 1.0, "requests must be an integer > 0, not 0"),
        (-1, 1.0, "requests must be"),
        (1.5, 1.0, "requests must be"),
        (True, 1.0, "requests must be"),
        (10, 0.0, "per must be a finite number of seconds > 0, not 0.0"),
        (10, -1.0, "per must be"),
        (10, math.inf, "per must be"),
    ],
)
def test_rate_limit_rejects_bad_values(requests: int, per: float, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        RateLimit(requests, per)


def test_rate_limit_rejects_non_numeric_window() -> None:
    with pytest.raises(ConfigurationError, match="per"):
        RateLimit(10, "soon")  # type: ignore[arg-type]


@pytest.mark.parametrize("max_pause", [-1.0, math.nan])
def test_limiter_rejects_negative_max_pause(clock: FakeClock, max_pause: float) -> None:
    with pytest.raises(ConfigurationError, match="max_pause"):
        SlidingWindowLimiter(DYTE_DEFAULT, clock, max_pause=max_pause)


# --- (a) bursts start at once; the next one waits exactly for the window ------------------


async def test_2000_calls_at_once_start_at_once_and_the_2001st_waits_a_minute(
    clock: FakeClock,
) -> None:
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    waits = [await start(limiter) for _ in range(2000)]
    assert waits == [0.0] * 2000
    assert clock.slept == []
    assert limiter.in_window == 2000

    assert await start(limiter) == 60.0
    assert clock.now() == START + 60.0
    assert clock.slept == [60.0]
    assert limiter.waited_total == 60.0


async def test_the_2001st_waits_until_the_first_call_is_a_minute_old(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    assert await start(limiter) == 0.0
    clock.advance(30.0)
    for _ in range(1999):
        assert await start(limiter) == 0.0
    assert await start(limiter) == 30.0  # the first call turns 60 s old
    assert clock.now() == START + 60.0


async def test_concurrent_burst_of_2001_callers(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    waits: list[float] = []

    async def call() -> None:
        waits.append(await start(limiter))

    async with anyio.create_task_group() as tg:
        for _ in range(2001):
            tg.start_soon(call)
    assert sorted(waits) == [0.0] * 2000 + [60.0]


async def test_in_window_and_queued_count_starts() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(2, per=10.0), clock)
    done: list[float] = []

    async def call() -> None:
        done.append(await start(limiter))

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(call)
        await clock.settle()
        assert limiter.in_window == 2
        assert limiter.queued == 1
        clock.advance_to(START + 10.0)
    assert limiter.in_window == 1
    assert limiter.queued == 0
    clock.advance_to(START + 20.0)
    assert limiter.in_window == 0


# --- (b) the guarantee and work conservation ------------------------------------------------


async def arrive(
    clock: ManualClock,
    limiter: SlidingWindowLimiter,
    arrivals: Sequence[float],
    pauses: Sequence[tuple[float, float]] = (),
) -> list[tuple[float, float]]:
    """Callers arriving at `arrivals` (sorted) start and end at once; `pauses` are
    (when, seconds) calls of `pause_for`. Returns (arrival, start) in order of arrival."""
    records: list[tuple[float, float] | None] = [None] * len(arrivals)
    done: list[None] = []
    order = itertools.count()

    async def call(at: float) -> None:
        await clock.sleep(at - clock.now())
        index = next(order)  # the order in which callers reach the limiter
        arrival = clock.now()
        slot = await limiter.acquire_slot()
        assert clock.now() == slot.time  # a sleeper never wakes late on this clock
        records[index] = (arrival, slot.time)
        limiter.release(slot)
        done.append(None)

    events = sorted([(t, 1, 0.0) for t in arrivals] + [(t, 0, s) for t, s in pauses])
    async with anyio.create_task_group() as tg:
        for t, kind, seconds in events:
            await clock.run(done, len(arrivals), until=t)
            if kind == 0:
                limiter.pause_for(seconds)
            else:
                tg.start_soon(call, t)
        await clock.run(done, len(arrivals))
    assert limiter.held == 0
    return [r for r in records if r is not None]


@st.composite
def schedules(draw: st.DrawFn) -> tuple[int, float, list[float]]:
    requests = draw(st.integers(min_value=1, max_value=40))
    per = draw(st.sampled_from([0.001, 0.1, 1.0, 7.5, 60.0]))
    # Gaps in multiples of per/4 (hitting window edges exactly) or arbitrary.
    gap = st.one_of(
        st.integers(min_value=0, max_value=8).map(lambda k: k * per / 4),
        st.floats(min_value=0.0, max_value=2 * per, allow_nan=False),
    )
    gaps = draw(st.lists(gap, min_size=1, max_size=300))
    return requests, per, list(itertools.accumulate(gaps, initial=START))[1:]


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(schedule=schedules())
def test_starts_keep_the_limit_and_never_wait_needlessly(
    schedule: tuple[int, float, list[float]],
) -> None:
    requests, per, arrivals = schedule

    async def main() -> list[tuple[float, float]]:
        clock = ManualClock()
        return await arrive(clock, SlidingWindowLimiter(RateLimit(requests, per), clock), arrivals)

    records = anyio.run(main)
    starts = [start for _, start in records]
    assert starts == sorted(starts)
    assert max_in_any_window(starts, per) <= requests
    for i, (arrival, begin) in enumerate(records):
        # The earliest start the limit allows: the arrival, or the moment the start
        # `requests` places back leaves the window. Nothing later.
        earliest = arrival if i < requests else max(arrival, starts[i - requests] + per)
        assert begin == earliest


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
    return requests, per, draw(st.lists(op, min_size=1, max_size=150))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(schedule=schedules_with_pauses())
def test_pauses_hold_back_queued_and_new_starts_and_keep_the_limit(
    schedule: tuple[int, float, list[tuple[float, float | None]]],
) -> None:
    requests, per, ops = schedule
    times = list(itertools.accumulate((gap for gap, _ in ops), initial=START))[1:]
    arrivals = [t for t, (_, pause) in zip(times, ops, strict=True) if pause is None]
    pauses = [(t, p) for t, (_, p) in zip(times, ops, strict=True) if p is not None]

    async def main() -> list[tuple[float, float]]:
        clock = ManualClock()
        limiter = SlidingWindowLimiter(RateLimit(requests, per), clock, max_pause=math.inf)
        return await arrive(clock, limiter, arrivals, pauses)

    records = anyio.run(main)
    starts = [start for _, start in records]
    boundaries = {s + per for s in starts}
    targets = {when + seconds for when, seconds in pauses}
    assert starts == sorted(starts)
    assert max_in_any_window(starts, per) <= requests
    for arrival, begin in records:
        assert begin >= arrival
        # Work-conserving: a start is its arrival, a pause's end or a window boundary.
        assert begin == arrival or begin in targets or begin in boundaries
        for when, seconds in pauses:
            if begin > when:  # reserved or still waiting when the pause began
                assert begin >= when + seconds


# --- (c) a pause holds back the whole client ----------------------------------------------


async def test_pause_delays_every_caller(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(REALTIMEKIT_DEFAULT, clock)
    limiter.pause_for(30.0)
    assert limiter.paused_until == START + 30.0
    waits: list[float] = []

    async def call() -> None:
        waits.append(await start(limiter))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(call)
    assert waits == [30.0] * 5
    assert limiter.paused_until is None


async def test_pause_for_only_extends(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    limiter.pause_for(5.0)
    limiter.pause_for(2.0)  # shorter: ignored
    limiter.pause_for(math.nan)  # ignored
    limiter.pause_for(-1.0)  # in the past: ignored
    assert limiter.paused_until == START + 5.0
    assert await start(limiter) == 5.0


async def test_pause_is_clamped_to_max_pause(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock, max_pause=60.0)
    limiter.pause_for(math.inf)
    assert limiter.paused_until == START + 60.0
    assert await start(limiter) == 60.0


async def test_max_pause_zero_disables_pausing(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock, max_pause=0.0)
    limiter.pause_for(30.0)
    assert limiter.paused_until is None
    assert await start(limiter) == 0.0


async def test_pause_moves_back_a_caller_already_queued() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    assert await start(limiter) == 0.0
    done: list[tuple[float, float]] = []

    async def call() -> None:
        wait = await start(limiter)
        done.append((wait, clock.now()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await clock.settle()  # sleeping until START + 10
        limiter.pause_for(50.0)  # a 429 elsewhere
        await clock.run(done, 1)
    assert done == [(50.0, START + 50.0)]
    clock.advance_to(START + 52.0)
    with pytest.raises(LimiterTimeout) as info:  # the next one keeps the window after it
        await start(limiter, deadline=clock.now())
    assert info.value.wait == 8.0


async def test_a_pause_moves_back_callers_holding_future_slots() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    limiter.release(await limiter.acquire_slot())
    done: list[float] = []

    async def call() -> None:
        slot = await limiter.acquire_slot()
        done.append(clock.now())
        limiter.release(slot)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await clock.settle()  # holds START + 10
        limiter.pause_for(30.0)
        await clock.run(done, 1)
    assert done == [START + 30.0]


async def test_a_pause_moves_back_the_slot_after_one_given_up() -> None:
    # A slot given up before its start stays used until then; a pause moves that start,
    # and with it the start of the next user of the same token.
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    limiter.release(await limiter.acquire_slot())
    starts: list[float] = []
    scope = anyio.CancelScope()

    async def gives_up() -> None:
        with scope:
            await limiter.acquire_slot()  # START + 10, cancelled while sleeping

    async def later() -> None:
        slot = await limiter.acquire_slot()
        starts.append(clock.now())
        limiter.release(slot)

    async with anyio.create_task_group() as tg:
        tg.start_soon(gives_up)
        await clock.settle()
        scope.cancel()
        await clock.settle()
        assert limiter.held == 0
        tg.start_soon(later)  # START + 20: after the given-up slot's window
        await clock.settle()
        limiter.pause_for(15.0)  # the given-up slot moves to START + 15...
        await clock.run(starts, 1)
    assert starts == [START + 25.0]  # ...and the next one to a window after it


# --- (d) deadlines fail fast ---------------------------------------------------------------


async def test_deadline_before_the_slot_raises_at_once_without_sleeping(
    clock: FakeClock,
) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    assert await start(limiter, deadline=START + 1.0) == 0.0
    with pytest.raises(LimiterTimeout, match=r"next request in 10\.000 s") as info:
        await start(limiter, deadline=START + 5.0)
    assert info.value.wait == 10.0
    assert info.value.deadline == START + 5.0
    assert clock.slept == []
    assert clock.now() == START
    assert limiter.held == 0
    # Nothing was reserved: the next caller gets the slot.
    assert await start(limiter, deadline=START + 10.0) == 10.0


async def test_deadline_counts_the_pause(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(DYTE_DEFAULT, clock)
    limiter.pause_for(20.0)
    with pytest.raises(LimiterTimeout):
        await start(limiter, deadline=START + 19.0)
    assert clock.slept == []
    assert await start(limiter, deadline=START + 20.0) == 20.0


async def test_pause_pushing_a_queued_caller_past_its_deadline_fails_it_on_waking() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    await start(limiter)
    errors: list[LimiterTimeout] = []

    async def call() -> None:
        try:
            await start(limiter, deadline=START + 15.0)
        except LimiterTimeout as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await clock.settle()
        limiter.pause_for(40.0)
        await clock.run(errors, 1)
    assert clock.now() == START + 10.0  # woke at its old slot, then gave up at once
    assert errors[0].wait == 30.0
    assert errors[0].deadline == START + 15.0
    assert limiter.held == 0
    assert limiter.waited_total == 10.0


# --- (e) cancellation ----------------------------------------------------------------------


async def test_cancelled_waiter_keeps_its_slot_used(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    await start(limiter)
    with anyio.CancelScope() as scope:
        scope.cancel()
        await start(limiter)  # reserves START + 10, then is cancelled while sleeping
    assert scope.cancelled_caught
    assert limiter.held == 0
    # The cancelled slot stays taken, so the guarantee holds whatever its owner did.
    assert await start(limiter) == 20.0


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
            await start(limiter)
            starts.append(clock.now())
        finished.append(None)

    async with anyio.create_task_group() as tg:
        for i in range(60):
            tg.start_soon(call, i)
        await clock.run(finished, 60, until=START + 2.5)
        assert len(starts) == 15
        assert limiter.queued == 45  # 5 hold slots at START + 3, 40 wait for a token
        for scope in scopes:
            scope.cancel()  # a third of the callers, some already through
        await clock.settle()
        left = 45 - limiter.queued  # callers cancelled before a slot was theirs
        await clock.run(finished, 60)

    cancelled = sum(scope.cancelled_caught for scope in scopes)
    assert cancelled > 10
    assert len(starts) == 60 - cancelled
    assert max_in_any_window(sorted(starts), limit.per) <= limit.requests
    assert limiter.held == 0
    # Slots handed to callers cancelled before their start stayed used: with them, the
    # tokens were busy every second (5 a second, first come first served) to the end;
    # reused, the last start would come sooner when any was given up.
    gave_up = cancelled - left
    assert max(starts) == START + math.ceil((len(starts) + gave_up) / 5) - 1


# --- (f) many concurrent tasks --------------------------------------------------------------


async def test_1000_concurrent_tasks_with_fake_clock(clock: FakeClock) -> None:
    limit = RateLimit(100, per=1.0)
    limiter = SlidingWindowLimiter(limit, clock)
    starts: list[float] = []

    async def call() -> None:
        arrival = clock.now()
        starts.append(arrival + await start(limiter))

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
        wait = await start(limiter)
        records.append((arrival, clock.now(), wait))

    async with anyio.create_task_group() as tg:
        for offset in offsets:
            tg.start_soon(call, offset)
        await clock.run(records, 1000)

    starts = sorted(start for _, start, _ in records)
    assert max_in_any_window(starts, limit.per - 1e-9) <= limit.requests
    boundaries = [s + limit.per for s in starts]
    for arrival, begin, wait in records:
        assert begin - arrival == pytest.approx(wait, abs=1e-9)
        if wait > 0:  # held back only until an earlier start left the window
            assert any(abs(begin - b) < 1e-9 for b in boundaries)
    assert sum(1 for _, _, wait in records if wait == 0.0) >= 100
    assert limiter.waited_total == pytest.approx(sum(w for _, _, w in records))


# --- NoLimiter and make_limiter -------------------------------------------------------------


async def test_no_limiter_never_waits() -> None:
    limiter = NoLimiter()
    limiter.pause_for(30.0)
    for _ in range(5000):
        slot = await limiter.acquire_slot(deadline=0.0)
        assert slot.waited == 0.0
        limiter.release(slot)
    assert limiter.waited_total == 0.0
    assert repr(limiter) == "NoLimiter()"


def test_make_limiter_picks_the_implementation(clock: FakeClock) -> None:
    assert isinstance(make_limiter(None, clock), NoLimiter)
    limiter = make_limiter(REALTIMEKIT_DEFAULT, clock)
    both: list[Limiter] = [limiter, NoLimiter()]  # both satisfy the protocol (mypy)
    assert len(both) == 2
    assert isinstance(limiter, SlidingWindowLimiter)
    assert repr(limiter) == f"SlidingWindowLimiter({REALTIMEKIT_DEFAULT!r}, in_window=0)"
    assert repr(limiter).startswith("SlidingWindowLimiter(RateLimit(requests=250")
    assert repr(Slot(START)) == "Slot(1000.0)"


# --- (g) held slots: the window counts from the end of each request -----------------------


async def test_a_held_slot_counts_from_the_end_of_its_request(clock: FakeClock) -> None:
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
    limiter.release(nxt)  # at once: the window counts from its start
    assert await start(limiter) == pytest.approx(10.0)


async def test_a_slot_from_elsewhere_is_left_alone(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    held = await limiter.acquire_slot()
    limiter.release(Slot(START))  # not one of this limiter's: nothing is freed
    limiter.release(await NoLimiter().acquire_slot())
    assert limiter.held == 1
    with pytest.raises(LimiterTimeout):
        await limiter.acquire_slot(deadline=START + 9.0)
    limiter.release(held)
    assert limiter.held == 0


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
        await clock.settle()
        assert order == []  # nobody can know when it may start: both slots are in use
        assert limiter.queued == 3
        clock.advance_to(START + 0.25)
        limiter.release(second)  # free again at START + 1.25
        clock.advance_to(START + 0.5)
        limiter.release(first)  # free again at START + 1.5
        await clock.run(done, 3)
    # First come, first served; the third waited for the first caller's release.
    assert order == list(zip(arrived, [START + 1.25, START + 1.5, START + 2.25], strict=True))
    assert limiter.waited_total == pytest.approx(1.25 + 1.5 + 2.25)


async def test_a_caller_that_cannot_be_served_by_its_deadline_fails_at_once(
    clock: FakeClock,
) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    await limiter.acquire_slot()
    # Held: the earliest possible start is `per` after a release happening now.
    with pytest.raises(LimiterTimeout) as info:
        await limiter.acquire_slot(deadline=START + 9.0)
    assert info.value.wait == 10.0
    assert info.value.deadline == START + 9.0
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
        await clock.settle()
        tg.start_soon(call, None)
        await clock.settle()
        clock.advance_to(START + 5.0)
        limiter.release(held)  # free at START + 15: too late for the first caller
        await clock.run(outcomes, 2)
    assert isinstance(outcomes[0], LimiterTimeout)
    assert outcomes[0].wait == pytest.approx(10.0)
    assert outcomes[0].deadline == START + 12.0
    assert outcomes[1] == START + 15.0  # the slot went to the next caller
    assert limiter.waited_total == pytest.approx(5.0 + 15.0)


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
        await clock.settle()
        tg.start_soon(later)
        await clock.settle()
        limiter.release(held)  # serves the first caller with START + 1...
        waiting.cancel()  # ...which gives up before starting: its slot stays used
        await clock.run(starts, 1)
    assert starts == [START + 2.0]
    assert limiter.held == 0


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
            begin = clock.now()
            try:
                await clock.sleep(duration)  # the request, answered or failed or cancelled
            finally:
                limiter.release(slot)
            end = clock.now()
            records.append((begin, end, begin + seen * (end - begin)))

        async with anyio.create_task_group() as tg:
            for c in calls:
                tg.start_soon(call, *c)
            await clock.run(records, len(calls))
        assert limiter.held == 0

    anyio.run(main)
    starts = sorted(begin for begin, _, _ in records)
    assert max_in_any_window(starts, per) <= requests
    # Wherever in its request the server saw each one, none was over the server's limit.
    assert arrivals_refused([arrival for _, _, arrival in records], requests, per) == 0


# --- any mix of callers, attempt lengths, cancellations and pauses -----------------------


@st.composite
def workloads(draw: st.DrawFn) -> tuple[int, float, list[tuple[int, float, float, float]]]:
    """(requests, per, ops); an op is (kind, when, length, deadline slack): kind 0 a
    caller holding its slot `length` seconds, 1 the same cancelled `length` seconds after
    arriving, 2 a pause of `length` seconds."""
    requests = draw(st.integers(min_value=1, max_value=6))
    per = draw(st.sampled_from([0.5, 1.0, 4.0]))
    op = st.tuples(
        st.sampled_from([0, 0, 0, 1, 2]),
        st.floats(min_value=0.0, max_value=4 * per, allow_nan=False),
        st.floats(min_value=0.0, max_value=2 * per, allow_nan=False),
        st.one_of(st.just(math.inf), st.floats(min_value=0.0, max_value=3 * per)),
    )
    return requests, per, draw(st.lists(op, min_size=1, max_size=30))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(workload=workloads())
def test_no_window_ever_holds_more_than_the_limit(
    workload: tuple[int, float, list[tuple[int, float, float, float]]],
) -> None:
    requests, per, ops = workload
    spans: list[tuple[float, float]] = []  # (start, end) of every attempt that started

    async def main() -> None:
        clock = ManualClock()
        limiter = SlidingWindowLimiter(RateLimit(requests, per), clock, max_pause=math.inf)

        async def caller(when: float, length: float, slack: float) -> None:
            await clock.sleep(when)
            try:
                slot = await limiter.acquire_slot(deadline=clock.now() + slack)
            except LimiterTimeout:
                return
            begin = clock.now()
            try:
                assert begin == slot.time
                await clock.sleep(length)
            finally:
                spans.append((begin, clock.now()))
                limiter.release(slot)

        async def cancelled(when: float, length: float) -> None:
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as inner:
                    inner.start_soon(caller, when, math.inf, math.inf)
                    await clock.sleep(when + length)
                    scope.cancel()

        async def pause(when: float, length: float) -> None:
            await clock.sleep(when)
            limiter.pause_for(length)

        async def one(kind: int, when: float, length: float, slack: float) -> None:
            if kind == 0:
                await caller(when, length, slack)
            elif kind == 1:
                await cancelled(when, length)
            else:
                await pause(when, length)
            finished.append(None)

        finished: list[None] = []
        async with anyio.create_task_group() as tg:
            for op in ops:
                tg.start_soon(one, *op)
            await clock.run(finished, len(ops))
        assert limiter.held == 0

    anyio.run(main)
    # Every attempt counts from its start until `per` after its end: never more than
    # `requests` of those intervals overlap, so no window holds more starts either.
    edges = sorted([(s, 1) for s, _ in spans] + [(e + per, -1) for _, e in spans])
    in_use = 0
    for _, step in edges:
        in_use += step
        assert in_use <= requests
    starts = sorted(s for s, _ in spans)
    assert max_in_any_window(starts, per) <= requests


# --- edges: exact deadlines, waits counted on every path, a pause over a given-up slot -----


async def test_a_deadline_equal_to_the_start_is_met(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    held = await limiter.acquire_slot()
    starts: list[float] = []

    async def call() -> None:
        slot = await limiter.acquire_slot(deadline=START + 10.0)  # queued: just fits
        starts.append(slot.time)
        limiter.release(slot)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()
        assert limiter.queued == 1
        limiter.release(held)  # free at START + 10: the deadline itself
    assert starts == [START + 10.0]


async def test_waits_are_counted_when_a_queued_caller_gives_up(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    limiter.pause_for(5.0)
    assert await start(limiter) == 5.0
    held = await limiter.acquire_slot()  # waits for the window after it: 10 s
    assert limiter.waited_total == 15.0
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def cancelled() -> None:
            with scope:
                await limiter.acquire_slot()

        tg.start_soon(cancelled)
        await anyio.wait_all_tasks_blocked()
        scope.cancel()  # at once: it waited 0 s
    assert limiter.waited_total == 15.0

    async def failed(deadline: float) -> None:
        with pytest.raises(LimiterTimeout):
            await limiter.acquire_slot(deadline=deadline)

    async with anyio.create_task_group() as tg:
        tg.start_soon(failed, clock.now() + 12.0)
        await anyio.wait_all_tasks_blocked()
        limiter.pause_for(20.0)  # the freed token now comes too late for it
        limiter.release(held)  # fails it at once: again 0 s
    assert limiter.waited_total == 15.0


async def test_a_pause_moves_the_token_of_a_given_up_slot(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    limiter.release(await limiter.acquire_slot())
    with anyio.CancelScope() as scope:
        scope.cancel()
        await limiter.acquire_slot()  # START + 10, given up: its token is free at START + 20
    limiter.pause_for(15.0)  # moves that slot to START + 15, its token to START + 25
    slot = await limiter.acquire_slot()
    assert slot.time == START + 25.0
