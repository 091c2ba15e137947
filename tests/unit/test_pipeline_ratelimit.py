"""The request path's shared limits: the rate limiter, 429 pauses and the concurrency bound.

Every test runs on virtual time (the shared `clock`, or `ManualClock` where exact start
times of concurrent sleepers matter) against an in-memory transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

from dyte_async import (
    APITimeoutError,
    AsyncDyte,
    InternalServerError,
    RateLimit,
    RateLimitError,
    RetryPolicy,
)
from dyte_async.testing import FakeClock
from tests.unit.test_ratelimit import ManualClock

pytestmark = pytest.mark.anyio

LIVESTREAM = {"id": "ls1", "status": "LIVE"}
NO_JITTER = RetryPolicy(jitter=0.0)

Factory = Callable[..., AsyncDyte]


def ok(data: Any = LIVESTREAM) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data})


def err(status: int, **headers: str) -> httpx.Response:
    body = {"success": False, "error": {"code": status, "message": f"error {status}"}}
    return httpx.Response(status, json=body, headers=headers)


def active(meeting_id: str) -> str:
    return f"/meetings/{meeting_id}/active-livestream"


def max_in_window(times: list[float], per: float) -> int:
    """The most starts in any half-open window ``(t - per, t]``."""
    times = sorted(times)
    best = 0
    for i, t in enumerate(times):
        inside = sum(1 for u in times[: i + 1] if u > t - per + 1e-9)
        best = max(best, inside)
    return best


@pytest.fixture
async def make(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[Factory]:
    clients: list[AsyncDyte] = []

    def factory(**options: Any) -> AsyncDyte:
        options.setdefault("clock", clock)
        options.setdefault("retry", NO_JITTER)
        options.setdefault("transport", httpx.MockTransport(router.async_handler))
        client = AsyncDyte("org", "key", **options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()


# --- the sliding window ---------------------------------------------------------------------


async def test_never_more_than_the_limit_in_any_window_counting_retries(make, router) -> None:
    clock = ManualClock()
    starts: list[float] = []
    seen: set[str] = set()

    def answer(request: httpx.Request) -> httpx.Response:
        starts.append(clock.now())
        # The first request of every third meeting fails once, so retries are counted too.
        meeting = request.url.path.split("/")[-2]
        if int(meeting[1:]) % 3 == 0 and meeting not in seen:
            seen.add(meeting)
            return err(503)
        return ok()

    router.get(url__regex=r"/meetings/m\d+/active-livestream").mock(side_effect=answer)
    limit = RateLimit(5, per=1.0)
    async with (
        make(rate_limit=limit, timeout=600, clock=clock) as dyte,
        anyio.create_task_group() as driver,
    ):
        driver.start_soon(clock.drive)
        async with anyio.create_task_group() as tg:
            for i in range(23):
                tg.start_soon(dyte.livestreams.get_active, f"m{i}")
        driver.cancel_scope.cancel()
    assert len(starts) == 23 + 8
    assert max_in_window(starts, per=1.0) == 5
    # Nothing waited while the allowance was not used up: the first five started at once.
    assert sorted(starts)[:5] == [1000.0] * 5
    assert sorted(starts)[5] == pytest.approx(1001.0)
    stats = dyte.stats()
    assert stats.requests == 31
    assert stats.retries == 8
    assert stats.limiter_wait_seconds > 0
    assert stats.limiter_wait_seconds == dyte._pipeline.limiter.waited_total


async def test_nothing_waits_under_the_allowance(make, router, clock) -> None:
    router.get(url__regex=r"/meetings/m\d+/active-livestream").mock(return_value=ok())
    async with (
        make(rate_limit=RateLimit(10, per=60.0)) as dyte,
        anyio.create_task_group() as tg,
    ):
        for i in range(10):
            tg.start_soon(dyte.livestreams.get_active, f"m{i}")
    assert clock.slept == []
    assert clock.now() == 1000.0
    assert dyte.stats().limiter_wait_seconds == 0.0


async def test_the_default_limit_is_dytes_documented_one(make) -> None:
    dyte = make()
    assert dyte.rate_limit == RateLimit(2000, per=60.0)
    rtk = AsyncDyte.realtimekit("acct", "app", "token", clock=FakeClock())
    assert rtk.rate_limit == RateLimit(250, per=10.0)
    await rtk.aclose()


async def test_polls_count_against_the_limit(make, router, clock) -> None:
    starts: list[float] = []
    answers = iter([err(404), err(404), err(404), ok({"id": "ls1", "status": "LIVE"})])

    def answer(request: httpx.Request) -> httpx.Response:
        starts.append(clock.now())
        return next(answers)

    def meeting(request: httpx.Request) -> httpx.Response:
        # The poller confirms once that a meeting with nothing active exists.
        starts.append(clock.now())
        return ok({"id": "m1", "status": "ACTIVE"})

    router.get(active("m1")).mock(side_effect=answer)
    meeting_route = router.get("/meetings/m1").mock(side_effect=meeting)
    async with make(rate_limit=RateLimit(2, per=10.0)) as dyte:
        livestream = await dyte.livestreams.wait_until_live("m1", poll_interval=1.0, timeout=100)
    assert livestream.is_live
    assert len(starts) == 4 + meeting_route.call_count
    assert max_in_window(starts, per=10.0) == 2
    assert starts[2] - starts[0] >= 10.0
    assert dyte.stats().limiter_wait_seconds > 0


async def test_limiter_wait_counts_against_the_deadline(make, router, clock) -> None:
    route = router.get(active("m1")).mock(return_value=ok())
    async with make(rate_limit=RateLimit(1, per=10.0)) as dyte:
        await dyte.livestreams.get_active("m1")
        # The next start is allowed at +10 s: a 5 s call fails at once, without sleeping.
        with pytest.raises(APITimeoutError, match="rate limit"):
            await dyte.livestreams.get_active("m1", timeout=5)
        assert clock.slept == []
        assert route.call_count == 1
        # A start right at the deadline would leave no time for the request either.
        with pytest.raises(APITimeoutError, match="rate limit"):
            await dyte.livestreams.get_active("m1", timeout=10)
        assert clock.slept == []
        # A 15 s call waits its turn.
        await dyte.livestreams.get_active("m1", timeout=15)
    assert route.call_count == 2
    assert clock.slept == [10.0]
    assert dyte.stats().limiter_wait_seconds == pytest.approx(10.0)


async def test_a_retry_the_limiter_cannot_fit_in_raises_the_last_server_error(
    make, router, clock
) -> None:
    route = router.get(active("m1")).mock(side_effect=[err(503), ok()])
    async with make(rate_limit=RateLimit(1, per=10.0)) as dyte:
        with pytest.raises(InternalServerError):
            await dyte.livestreams.get_active("m1", timeout=5)
    assert route.call_count == 1
    assert clock.slept == [0.5]  # the backoff fitted; the limiter's +10 s did not


# --- a 429 pauses the whole client ----------------------------------------------------------


async def test_a_429_pauses_every_caller(make, router, clock) -> None:
    starts: dict[str, list[float]] = {"a": [], "b": []}
    first_429 = anyio.Event()
    a_answers = iter([err(429, **{"Retry-After": "5"}), ok()])

    def answer_a(request: httpx.Request) -> httpx.Response:
        starts["a"].append(clock.now())
        response = next(a_answers)
        if response.status_code == 429:
            first_429.set()
        return response

    def answer_b(request: httpx.Request) -> httpx.Response:
        starts["b"].append(clock.now())
        return ok()

    router.get(active("a")).mock(side_effect=answer_a)
    router.get(active("b")).mock(side_effect=answer_b)

    async with make() as dyte:

        async def caller_b() -> None:
            await first_429.wait()
            await dyte.livestreams.get_active("b")

        async with anyio.create_task_group() as tg:
            tg.start_soon(dyte.livestreams.get_active, "a")
            tg.start_soon(caller_b)
    # B never saw a 429, yet did not start before A's Retry-After had passed.
    assert starts["a"] == [1000.0, 1005.0]
    assert starts["b"] == [pytest.approx(1005.0)]
    assert dyte.stats().rate_limited == 1


async def test_a_429_holds_back_others_even_when_its_caller_gives_up(make, router, clock) -> None:
    b_starts: list[float] = []
    a_answered = anyio.Event()

    def answer_a(request: httpx.Request) -> httpx.Response:
        a_answered.set()
        return err(429, **{"Retry-After": "5"})

    def answer_b(request: httpx.Request) -> httpx.Response:
        b_starts.append(clock.now())
        return ok()

    router.get(active("a")).mock(side_effect=answer_a)
    router.get(active("b")).mock(side_effect=answer_b)
    async with make(rate_limit=RateLimit(1, per=1.0)) as dyte:

        async def caller_a() -> None:
            # Retry-After 5 s does not fit in 3 s: A fails at once, without sleeping.
            with pytest.raises(RateLimitError):
                await dyte.livestreams.get_active("a", timeout=3)

        async def caller_b() -> None:
            await a_answered.wait()
            await dyte.livestreams.get_active("b")

        async with anyio.create_task_group() as tg:
            tg.start_soon(caller_a)
            tg.start_soon(caller_b)
    assert b_starts == [1005.0]
    stats = dyte.stats()
    assert stats.rate_limited == 1
    assert stats.limiter_wait_seconds == pytest.approx(5.0)  # B's wait, all in the limiter
    assert sum(clock.slept) == pytest.approx(5.0)


async def test_a_429_without_retry_after_pauses_for_the_backoff(make, router, clock) -> None:
    starts: list[float] = []
    answers = iter([err(429), ok(), ok()])

    def answer(request: httpx.Request) -> httpx.Response:
        starts.append(clock.now())
        return next(answers)

    router.get(url__regex=r"/meetings/\w+/active-livestream").mock(side_effect=answer)
    async with make() as dyte:
        await dyte.livestreams.get_active("a")
        await dyte.livestreams.get_active("b")  # the pause is over: A slept through it
    assert starts == [1000.0, 1000.5, 1000.5]


async def test_a_429_over_the_cap_still_pauses_the_client_up_to_the_cap(
    make, router, clock
) -> None:
    router.get(active("a")).mock(return_value=err(429, **{"Retry-After": "3600"}))
    router.get(active("b")).mock(return_value=ok())
    async with make() as dyte:
        with pytest.raises(Exception, match="429"):
            await dyte.livestreams.get_active("a")
        assert clock.slept == []
        await dyte.livestreams.get_active("b", timeout=120)
    assert clock.slept == [60.0]


async def test_without_a_limiter_a_429_delays_only_its_caller(make, router, clock) -> None:
    router.get(active("a")).mock(side_effect=[err(429, **{"Retry-After": "5"}), ok()])
    router.get(active("b")).mock(return_value=ok())
    async with make(rate_limit=None) as dyte:
        await dyte.livestreams.get_active("a")
        before = clock.now()
        await dyte.livestreams.get_active("b")
        assert clock.now() == before
    assert dyte.stats().limiter_wait_seconds == 0.0


# --- the concurrency bound ------------------------------------------------------------------


class Gauge:
    """An in-memory API that counts requests in flight and yields a few times in each."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.served = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            for _ in range(3):
                await anyio.lowlevel.checkpoint()
        finally:
            self.in_flight -= 1
        self.served += 1
        return ok()


async def test_max_concurrency_bounds_requests_in_flight(make) -> None:
    gauge = Gauge()
    async with (
        make(transport=httpx.MockTransport(gauge.handle), max_concurrency=5) as dyte,
        anyio.create_task_group() as tg,
    ):
        for i in range(200):
            tg.start_soon(dyte.livestreams.get_active, f"m{i}")
    assert gauge.served == 200
    assert gauge.peak == 5


async def test_thousands_of_callers_queue_in_the_client(make) -> None:
    gauge = Gauge()
    async with (
        make(
            transport=httpx.MockTransport(gauge.handle), max_concurrency=10, rate_limit=None
        ) as dyte,
        anyio.create_task_group() as tg,
    ):
        for i in range(2000):
            tg.start_soon(dyte.livestreams.get_active, f"m{i}")
    assert gauge.served == 2000
    assert gauge.peak == 10
    assert dyte.stats().requests == 2000
    assert dyte.stats().retries == 0


async def test_default_concurrency_is_the_pool_size(make) -> None:
    assert make()._pipeline.max_concurrency == 100
    assert make(max_concurrency=7)._pipeline.max_concurrency == 7
