"""`SlidingWindowLimiter.try_acquire_now`, the pipeline's fast path: a slot at once when
`acquire_slot` would give one without waiting, else None with nothing reserved; mixed
with `acquire_slot` the window stays exact."""

from __future__ import annotations

import random

import pytest

from dyte_async._ratelimit import RateLimit, SlidingWindowLimiter, Slot
from dyte_async.testing import FakeClock
from tests.unit.conftest import START

pytestmark = pytest.mark.anyio


def test_a_free_token_gives_a_slot_starting_now(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(2, per=10.0), clock)
    first = limiter.try_acquire_now()
    second = limiter.try_acquire_now()
    assert first is not None
    assert second is not None
    assert first.time == second.time == START
    assert first.waited == second.waited == 0.0
    assert limiter.held == 2
    assert limiter.in_window == 2


async def test_every_token_held_gives_none_and_reserves_nothing(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    held = limiter.try_acquire_now()
    assert held is not None
    assert limiter.try_acquire_now() is None
    assert (limiter.held, limiter.in_window, limiter.queued) == (1, 1, 0)
    limiter.release(held)
    clock.advance(4.0)
    # Released, but the token is free only `per` after the release: still None.
    assert limiter.try_acquire_now() is None
    assert (limiter.held, limiter.queued) == (0, 0)
    slot = await limiter.acquire_slot()  # the waiting path gives the next start
    assert slot.time == START + 10.0
    assert clock.now() == START + 10.0


def test_a_pause_gives_none(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(5, per=10.0), clock)
    limiter.pause_for(3.0)
    assert limiter.try_acquire_now() is None
    assert limiter.held == 0
    clock.advance(3.0)
    slot = limiter.try_acquire_now()
    assert slot is not None
    assert slot.time == START + 3.0


def test_a_released_token_is_reused_once_its_window_passed(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    slot = limiter.try_acquire_now()
    assert slot is not None
    clock.advance(2.0)
    limiter.release(slot)  # ended at START + 2: free at START + 12
    clock.advance(9.9)
    assert limiter.try_acquire_now() is None
    clock.advance(0.1)
    again = limiter.try_acquire_now()
    assert again is not None
    assert again.time == START + 12.0


async def test_mixed_with_acquire_slot_the_window_stays_exact(clock: FakeClock) -> None:
    rng = random.Random(3)
    limit = RateLimit(4, per=1.0)
    limiter = SlidingWindowLimiter(limit, clock)
    held: list[Slot] = []
    ends: list[tuple[float, float]] = []  # (start, end) of every slot
    for _ in range(400):
        roll = rng.random()
        if roll < 0.45:
            slot = limiter.try_acquire_now()
            if slot is not None:
                held.append(slot)
        elif roll < 0.55 and len(held) < limit.requests:
            held.append(await limiter.acquire_slot())
        elif held:
            slot = held.pop(rng.randrange(len(held)))
            ends.append((slot.time, clock.now()))
            limiter.release(slot)
        clock.advance(rng.choice((0.0, 0.01, 0.1, 0.3)))
    for slot in held:
        ends.append((slot.time, clock.now()))
        limiter.release(slot)
    assert len(ends) > 50
    # Every slot counts from its start until `per` after its end: never more than R at once.
    for start, _ in ends:
        counting = sum(1 for s, e in ends if s <= start < e + limit.per)
        assert counting <= limit.requests
