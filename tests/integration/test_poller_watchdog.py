"""Deadlines kept on the real clock while a shared poll is in flight (the poller's watchdog).

On the real clock a request takes real time: a wait that joins a poll already in flight
must still end at its own deadline, not when the poll (driven by a longer wait) returns.
The server here is an `httpx.MockTransport` that answers after a real delay: real time is
the point, no socket is needed.
"""

from __future__ import annotations

import time

import anyio
import httpx
import pytest

from dyte_async import AsyncDyte, WaitTimeoutError

pytestmark = pytest.mark.anyio

#: How long the active-livestream read hangs (the long wait's poll).
HANG = 3.0


async def test_a_wait_joining_a_poll_in_flight_ends_at_its_own_deadline():
    entered = anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        entered.set()
        await anyio.sleep(HANG)
        return httpx.Response(404, json={"success": False, "error": {"message": "none"}})

    async with (
        AsyncDyte(
            "org", "key", transport=httpx.MockTransport(slow), rate_limit=None, max_retries=0
        ) as dyte,
        anyio.create_task_group() as tg,
    ):

        async def long_wait() -> None:
            with pytest.raises(WaitTimeoutError):
                await dyte.livestreams.wait_until_live("m1", timeout=HANG * 2)

        tg.start_soon(long_wait)
        await entered.wait()  # the long wait's poll is in flight
        started = time.monotonic()
        with pytest.raises(WaitTimeoutError):
            await dyte.livestreams.wait_until_live("m1", timeout=0.2)
        took = time.monotonic() - started
        tg.cancel_scope.cancel()
    assert took < HANG / 2  # at its deadline, not when the shared poll came back


async def test_a_wait_joining_a_sleeping_loop_ends_at_its_own_deadline():
    polled = anyio.Event()

    async def nothing_active(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/active-livestream"):
            polled.set()
            return httpx.Response(404, json={"success": False, "error": {"message": "none"}})
        return httpx.Response(200, json={"success": True, "data": {"id": "m1"}})

    async with (
        AsyncDyte(
            "org", "key", transport=httpx.MockTransport(nothing_active), rate_limit=None
        ) as dyte,
        anyio.create_task_group() as tg,
    ):

        async def long_wait() -> None:
            with pytest.raises(WaitTimeoutError):
                await dyte.livestreams.wait_until_live("m1", timeout=HANG * 2, poll_interval=HANG)

        tg.start_soon(long_wait)
        await polled.wait()  # its driver now sleeps until the next poll, HANG s away
        started = time.monotonic()
        with pytest.raises(WaitTimeoutError):
            await dyte.livestreams.wait_until_live("m1", timeout=0.2, poll_interval=HANG)
        took = time.monotonic() - started
        tg.cancel_scope.cancel()
    assert took < HANG / 2  # the sleeping driver was woken for the earlier deadline
