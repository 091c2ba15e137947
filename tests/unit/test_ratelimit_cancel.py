"""A caller cancelled right after a release handed it a slot gives the slot back.

However the cancellation arrives (asyncio's ``task.cancel()``, ``asyncio.wait_for``,
``asyncio.timeout``, an anyio or trio cancel scope), the caller sees the cancellation
(never another error), nothing stays held, and the given-up slot counts as used until its
start and no longer: the next caller starts one window after it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import pytest

from dyte_async._ratelimit import RateLimit, SlidingWindowLimiter, Slot
from dyte_async.testing import FakeClock
from tests.unit.conftest import START

pytestmark = pytest.mark.anyio

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])


async def queued_waiter(
    limiter: SlidingWindowLimiter, acquire: Callable[[], Coroutine[Any, Any, Slot]]
) -> tuple[Slot, asyncio.Task[Slot]]:
    """Hold the only token, then start a task queued for the next one."""
    held = await limiter.acquire_slot()
    task = asyncio.create_task(acquire())
    await anyio.wait_all_tasks_blocked()
    assert limiter.queued == 1
    return held, task


async def assert_given_back(limiter: SlidingWindowLimiter, clock: FakeClock) -> None:
    """Nothing is held; the given-up slot (START + 10) keeps the token until START + 20."""
    assert limiter.held == 0
    slot = await limiter.acquire_slot()
    assert slot.time == START + 20.0
    assert clock.now() == START + 20.0
    limiter.release(slot)
    assert limiter.held == 0


@asyncio_only
@pytest.mark.parametrize("resumed", [False, True], ids=["before-it-resumes", "while-it-sleeps"])
async def test_task_cancel_right_after_the_hand_off(clock: FakeClock, resumed: bool) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    held, task = await queued_waiter(limiter, limiter.acquire_slot)
    limiter.release(held)  # hands START + 10 to the queued task...
    if resumed:
        await asyncio.sleep(0)  # ...which wakes and sleeps towards its start...
    task.cancel()  # ...and is cancelled
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_given_back(limiter, clock)


@asyncio_only
async def test_wait_for_cancelled_right_after_the_hand_off(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    held, task = await queued_waiter(
        limiter, lambda: asyncio.wait_for(limiter.acquire_slot(), timeout=3600)
    )
    limiter.release(held)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_given_back(limiter, clock)


@asyncio_only
@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
@pytest.mark.parametrize("first", ["hand-off", "timeout"])
async def test_asyncio_timeout_expiring_at_the_hand_off(clock: FakeClock, first: str) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    scopes: list[Any] = []  # asyncio.Timeout (3.11+)

    async def acquire() -> Slot:
        async with asyncio.timeout(None) as scope:  # type: ignore[attr-defined,unused-ignore]
            scopes.append(scope)
            return await limiter.acquire_slot()

    held, task = await queued_waiter(limiter, acquire)
    loop = asyncio.get_running_loop()
    if first == "hand-off":
        limiter.release(held)
        scopes[0].reschedule(loop.time())  # expires at the next turn of the loop
    else:
        scopes[0].reschedule(loop.time())
        limiter.release(held)
    with pytest.raises(TimeoutError):
        await task
    await assert_given_back(limiter, clock)


async def test_cancel_scope_right_after_the_hand_off(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(RateLimit(1, per=10.0), clock)
    held = await limiter.acquire_slot()
    outcomes: list[str] = []
    scope = anyio.CancelScope()

    async def waiter() -> None:
        with scope:
            await limiter.acquire_slot()
            outcomes.append("started")
        outcomes.append("cancelled" if scope.cancelled_caught else "done")

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        limiter.release(held)
        scope.cancel()
    assert outcomes == ["cancelled"]
    await assert_given_back(limiter, clock)


async def test_many_cancelled_waiters_lose_no_token(clock: FakeClock) -> None:
    # Two tokens; ten queued callers, every other one cancelled as the tokens come back.
    limiter = SlidingWindowLimiter(RateLimit(2, per=10.0), clock)
    first, second = await limiter.acquire_slot(), await limiter.acquire_slot()
    scopes = [anyio.CancelScope() for _ in range(10)]
    started: list[float] = []

    async def waiter(scope: anyio.CancelScope) -> None:
        with scope:
            slot = await limiter.acquire_slot()
            started.append(slot.time)
            limiter.release(slot)

    async with anyio.create_task_group() as tg:
        for scope in scopes:
            tg.start_soon(waiter, scope)
        await anyio.wait_all_tasks_blocked()
        limiter.release(first)
        limiter.release(second)
        for scope in scopes[::2]:
            scope.cancel()
    assert limiter.held == 0
    assert len(started) + sum(s.cancelled_caught for s in scopes) == 10
    # Both tokens are still there: two callers can hold a slot at the same time.
    a, b = await limiter.acquire_slot(), await limiter.acquire_slot()
    assert limiter.held == 2
    limiter.release(a)
    limiter.release(b)
