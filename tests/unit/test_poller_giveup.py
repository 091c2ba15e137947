"""Waits give up on answers they can never read (issue 12, item 6).

An answer that cannot be decoded (`ResponseDecodeError`) is tolerated while it may be a
hiccup, but once a meeting has seen nothing else for longer than the client's `timeout`
every wait on it (and `watch()`) ends with that error, long before the wait's own deadline.
Transient network failures (503, ...) keep waiting until the deadline, as before.
Everything runs on the shared `FakeClock` (no real sleep), on asyncio and trio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from dyte_async import (
    AsyncDyte,
    InternalServerError,
    ResponseDecodeError,
    WaitTimeoutError,
)
from dyte_async.testing import FakeClock
from tests.unit.conftest import START
from tests.unit.test_poller import Api, elapsed, error, poller

pytestmark = pytest.mark.anyio

#: The client's `timeout` in these tests: how long unreadable answers are tolerated.
TIMEOUT = 20.0
#: The longest interval between two polls (2 s default interval, backed off to 2x).
MAX_INTERVAL = 4.0


def malformed() -> httpx.Response:
    return httpx.Response(200, content=b'{"success": true, "data": {', headers={"x": "1"})


def always_malformed(req: httpx.Request, path: str) -> httpx.Response:
    return malformed()


@pytest.fixture
def api(clock: FakeClock, router: respx.MockRouter) -> Api:
    return Api(clock, router)


@pytest.fixture
async def dyte(clock: FakeClock, router: respx.MockRouter, api: Api) -> AsyncIterator[AsyncDyte]:
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=None,
        timeout=TIMEOUT,
    )
    client.livestreams._poller.jitter = 0.0
    async with client:
        yield client


def gave_up_in_time(clock: FakeClock, *, since: float = 0.0) -> bool:
    """The wait ended about `TIMEOUT` after the first unreadable answer (`since`)."""
    return since + TIMEOUT <= elapsed(clock) <= since + TIMEOUT + MAX_INTERVAL


async def collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


@pytest.mark.parametrize("method", ["wait_until_live", "wait_for_status"])
async def test_a_wait_on_malformed_answers_ends_after_the_client_timeout(
    dyte: AsyncDyte, api: Api, clock: FakeClock, method: str
):
    api.plan("m1", (0, "LIVE"))
    api.fault = always_malformed
    ls = dyte.livestreams
    # Both with the default deadline (300 s).
    wait = (
        ls.wait_until_live("m1")
        if method == "wait_until_live"
        else ls.wait_for_status("m1", "STOPPED")
    )
    with pytest.raises(ResponseDecodeError):
        await wait
    assert gave_up_in_time(clock)
    assert api.count() <= TIMEOUT / 2 + 3
    assert poller(dyte).is_idle()


async def test_watch_on_malformed_answers_raises_after_a_bounded_number_of_requests(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.plan("m1", (0, "LIVE"))
    api.fault = always_malformed
    watch = dyte.livestreams.watch("m1")
    with pytest.raises(ResponseDecodeError):
        await watch.__anext__()
    assert gave_up_in_time(clock)
    # Polls at 0, 2, 4.5, 7.6, 11.5, 15.5, 19.5 and 23.5 s: backed off like any failed poll.
    assert api.count() == 8
    assert api.times()[1:4] == [2.0, 4.5, 7.625]
    with pytest.raises(StopAsyncIteration):
        await watch.__anext__()
    assert poller(dyte).is_idle()


async def test_watch_gives_up_after_it_has_yielded(dyte: AsyncDyte, api: Api, clock: FakeClock):
    api.plan("m1", (0, "LIVE"))
    watch = dyte.livestreams.watch("m1")
    assert (await watch.__anext__()).is_live
    api.fault = always_malformed
    with pytest.raises(ResponseDecodeError):
        await watch.__anext__()
    assert TIMEOUT <= elapsed(clock) <= TIMEOUT + 2 * MAX_INTERVAL
    assert poller(dyte).is_idle()


@pytest.mark.parametrize("n_meetings", [2, 6], ids=["single-mode", "list-mode"])
async def test_wait_until_live_many_on_malformed_answers_ends_after_the_client_timeout(
    dyte: AsyncDyte, api: Api, clock: FakeClock, n_meetings: int
):
    meetings = [f"m{i}" for i in range(n_meetings)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"))
    api.fault = always_malformed
    many = dyte.livestreams.wait_until_live_many(meetings)
    with pytest.raises(ResponseDecodeError):
        await collect(many)
    assert gave_up_in_time(clock)
    assert poller(dyte).list_mode is False  # nothing left registered
    assert poller(dyte).is_idle()
    if n_meetings > 3:
        assert api.count("/livestreams") > 0
        assert api.count("/meetings") == 0  # the list was read, never a meeting on its own
    else:
        assert api.count("/livestreams") == 0


async def test_wait_until_live_many_on_a_malformed_list_page_two(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    """A garbled later page fails only the meetings it should have shown."""
    api.extra = [{"id": f"other-{i}", "status": "LIVE", "meeting_id": f"o{i}"} for i in range(150)]
    meetings = [f"m{i}" for i in range(6)]
    for m in meetings:
        api.plan(m, (0, "LIVE"))

    def page_two(req: httpx.Request, path: str) -> httpx.Response | None:
        return malformed() if req.url.params.get("page_no") == "2" else None

    api.fault = page_two
    with pytest.raises(ResponseDecodeError):
        await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert gave_up_in_time(clock)


async def test_a_garbled_existence_check_ends_the_wait_after_the_client_timeout(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.check_fault = always_malformed
    with pytest.raises(ResponseDecodeError):
        await dyte.livestreams.wait_until_live("m1")
    assert gave_up_in_time(clock)


async def test_a_503_stream_still_waits_until_the_deadline(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.fault = lambda req, path: error(503, "maintenance")
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_until_live("m1", timeout=120)
    assert elapsed(clock) == 120
    assert isinstance(info.value.__cause__, InternalServerError)


async def test_a_503_stream_still_waits_for_many(dyte: AsyncDyte, api: Api, clock: FakeClock):
    api.fault = lambda req, path: error(503, "maintenance")
    meetings = [f"m{i}" for i in range(6)]
    with pytest.raises(WaitTimeoutError):
        await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=90))
    assert elapsed(clock) == 90


async def test_a_503_stream_does_not_end_watch(dyte: AsyncDyte, api: Api, clock: FakeClock):
    api.plan("m1", (0, "LIVE"))
    api.fault = lambda req, path: error(503) if clock.now() - START < 200 else None
    watch = dyte.livestreams.watch("m1")
    assert (await watch.__anext__()).is_live
    assert elapsed(clock) >= 200
    await watch.aclose()


async def test_a_good_answer_resets_the_clock(dyte: AsyncDyte, api: Api, clock: FakeClock):
    api.plan("m1", (0, "INVOKED"))

    def flaky(req: httpx.Request, path: str) -> httpx.Response | None:
        t = clock.now() - START
        return None if 15 <= t < 30 else malformed()

    api.fault = flaky
    with pytest.raises(ResponseDecodeError):
        await dyte.livestreams.wait_until_live("m1")
    first_bad_after_reset = min(t for t in api.times() if t >= 30)
    assert gave_up_in_time(clock, since=first_bad_after_reset)


async def test_network_errors_between_malformed_answers_do_not_reset_the_clock(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    count = 0

    def mixed(req: httpx.Request, path: str) -> httpx.Response:
        nonlocal count
        count += 1
        return malformed() if count % 2 else error(503)

    api.fault = mixed
    with pytest.raises(ResponseDecodeError):
        await dyte.livestreams.wait_until_live("m1")
    assert elapsed(clock) <= TIMEOUT + 2 * MAX_INTERVAL


async def test_a_wait_shorter_than_the_client_timeout_still_times_out(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.fault = always_malformed
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_until_live("m1", timeout=10)
    assert elapsed(clock) == 10
    assert isinstance(info.value.__cause__, ResponseDecodeError)
