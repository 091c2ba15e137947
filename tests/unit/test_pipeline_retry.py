"""The request path's retries: what is retried, how long it waits, deadlines and the budget.

Every test runs on a `FakeClock` (sleeps are virtual) against respx, on asyncio and trio.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import anyio
import httpx
import pytest
import respx

from dyte_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncDyte,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    DyteError,
    InternalServerError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    UnprocessableEntityError,
)
from dyte_async.testing import FakeClock

pytestmark = pytest.mark.anyio

BASE = "https://api.dyte.io/v2"
ACTIVE = "/meetings/m1/active-livestream"
LIVESTREAM = {"id": "ls1", "status": "LIVE", "name": "town"}
NO_JITTER = RetryPolicy(jitter=0.0)

Factory = Callable[..., AsyncDyte]


def ok(data: Any = LIVESTREAM) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data})


def err(status: int, **headers: str) -> httpx.Response:
    body = {"success": False, "error": {"code": status, "message": f"error {status}"}}
    return httpx.Response(status, json=body, headers=headers)


@pytest.fixture
async def make(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[Factory]:
    clients: list[AsyncDyte] = []

    def factory(**options: Any) -> AsyncDyte:
        options.setdefault("clock", clock)
        options.setdefault("retry", NO_JITTER if "max_retries" not in options else None)
        client = AsyncDyte(
            "org", "key", transport=httpx.MockTransport(router.async_handler), **options
        )
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()


# --- what is retried ----------------------------------------------------------------------

RETRIED: list[Any] = [
    err(408),
    err(429),
    err(500),
    err(502),
    err(503),
    err(504),
    httpx.ConnectError("refused"),
    httpx.ConnectTimeout("connect timed out"),
    httpx.PoolTimeout("pool"),
    httpx.ReadTimeout("read timed out"),
    httpx.WriteTimeout("write timed out"),
    httpx.ReadError("connection reset"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
]


@pytest.mark.parametrize(
    "failure",
    RETRIED,
    ids=lambda f: str(f.status_code) if isinstance(f, httpx.Response) else type(f).__name__,
)
async def test_transient_failures_are_retried(make, router, clock, failure) -> None:
    route = router.get(ACTIVE).mock(side_effect=[failure, ok()])
    async with make() as dyte:
        livestream = await dyte.livestreams.get_active("m1")
    assert livestream.id == "ls1"
    assert route.call_count == 2
    assert clock.slept == [0.5]
    stats = dyte.stats()
    assert (stats.requests, stats.retries, stats.retries_refused) == (2, 1, 0)


NOT_RETRIED: list[tuple[Any, type[DyteError]]] = [
    (err(400), BadRequestError),
    (err(401), AuthenticationError),
    (err(403), PermissionDeniedError),
    (err(404), NotFoundError),
    (err(409), ConflictError),
    (err(422), UnprocessableEntityError),
    (err(501), InternalServerError),
    (err(418), APIStatusError),
    (httpx.UnsupportedProtocol("gopher"), APIConnectionError),
    (httpx.LocalProtocolError("bad header"), APIConnectionError),
    (httpx.DecodingError("bad gzip"), APIConnectionError),
]


@pytest.mark.parametrize(
    ("failure", "raised"),
    NOT_RETRIED,
    ids=lambda f: (
        str(f.status_code)
        if isinstance(f, httpx.Response)
        else f.__name__
        if isinstance(f, type)
        else type(f).__name__
    ),
)
async def test_other_failures_are_not_retried(make, router, clock, failure, raised) -> None:
    route = router.get(ACTIVE).mock(side_effect=[failure, ok()])
    async with make() as dyte:
        with pytest.raises(raised) as info:
            await dyte.livestreams.get_active("m1")
    assert type(info.value) is raised
    assert route.call_count == 1
    assert clock.slept == []
    if isinstance(failure, Exception):
        assert info.value.__cause__ is failure


async def test_gives_up_after_max_retries_with_the_last_error(make, router, clock) -> None:
    route = router.get(ACTIVE).mock(side_effect=[err(502), err(503), err(504), ok()])
    async with make() as dyte:
        with pytest.raises(InternalServerError) as info:
            await dyte.livestreams.get_active("m1")
    assert info.value.status_code == 504
    assert route.call_count == 3  # default max_retries=2
    assert clock.slept == [0.5, 1.0]
    assert dyte.stats().retries == 2


@pytest.mark.parametrize("max_retries", [0, 1, 4])
async def test_max_retries_shortcut(make, router, max_retries) -> None:
    route = router.get(ACTIVE).mock(return_value=err(503))
    async with make(max_retries=max_retries) as dyte:
        assert dyte.retry == RetryPolicy(max_retries=max_retries)
        with pytest.raises(InternalServerError):
            await dyte.livestreams.get_active("m1")
    assert route.call_count == max_retries + 1


async def test_backoff_doubles_up_to_its_cap(make, router, clock) -> None:
    route = router.get(ACTIVE).mock(side_effect=[err(503)] * 6 + [ok()])
    policy = RetryPolicy(max_retries=6, max_backoff=4.0, jitter=0.0)
    async with make(retry=policy) as dyte:
        await dyte.livestreams.get_active("m1")
    assert route.call_count == 7
    assert clock.slept == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_backoff_has_jitter(make, router, clock) -> None:
    router.get(ACTIVE).mock(return_value=err(503))
    async with make(retry=RetryPolicy(max_retries=3, budget_ratio=None)) as dyte:
        for _ in range(10):
            with pytest.raises(InternalServerError):
                await dyte.livestreams.get_active("m1")
    firsts, seconds, thirds = clock.slept[0::3], clock.slept[1::3], clock.slept[2::3]
    assert all(0.375 <= s <= 0.5 for s in firsts)
    assert all(0.75 <= s <= 1.0 for s in seconds)
    assert all(1.5 <= s <= 2.0 for s in thirds)
    assert len(set(clock.slept)) > 3  # not all the same wait


# --- Retry-After ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {"Retry-After": "7"}, 7.0),
        (429, {"Retry-After": "2.5"}, 2.5),
        (503, {"Retry-After": "3"}, 3.0),
        (429, {"retry-after-ms": "1500"}, 1.5),
        (429, {"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        (429, {"Retry-After": "0"}, 0.0),
    ],
)
async def test_retry_after_seconds_replaces_the_backoff(
    make, router, clock, status, headers, expected
) -> None:
    route = router.get(ACTIVE).mock(side_effect=[err(status, **headers), ok()])
    async with make(rate_limit=None) as dyte:
        await dyte.livestreams.get_active("m1")
    assert route.call_count == 2
    assert sum(clock.slept) == pytest.approx(expected)


async def test_retry_after_http_date(make, router, clock, monkeypatch) -> None:
    wall_now = 1_700_000_000.0
    monkeypatch.setattr(time, "time", lambda: wall_now)  # the wall clock HTTP-dates need
    when = datetime.fromtimestamp(wall_now + 30, tz=timezone.utc)
    header = format_datetime(when, usegmt=True)
    route = router.get(ACTIVE).mock(side_effect=[err(429, **{"Retry-After": header}), ok()])
    async with make(rate_limit=None) as dyte:
        await dyte.livestreams.get_active("m1")
    assert route.call_count == 2
    assert len(clock.slept) == 1
    assert 28.0 <= clock.slept[0] <= 30.0  # HTTP-dates have whole seconds
    assert clock.slept == [30.0]


@pytest.mark.parametrize(
    ("status", "header"),
    [
        (429, "61"),
        (429, "3600"),
        (503, "120"),
        (429, format_datetime(datetime(2999, 1, 1, tzinfo=timezone.utc), usegmt=True)),
    ],
)
async def test_retry_after_over_the_cap_fails_at_once(make, router, clock, status, header) -> None:
    route = router.get(ACTIVE).mock(side_effect=[err(status, **{"Retry-After": header}), ok()])
    async with make() as dyte:
        with pytest.raises(APIStatusError) as info:
            await dyte.livestreams.get_active("m1")
    assert info.value.status_code == status
    assert route.call_count == 1
    assert clock.slept == []
    if status == 429:
        assert isinstance(info.value, RateLimitError)
        assert info.value.retry_after is not None
        assert info.value.retry_after > 60


async def test_retry_after_cap_is_configurable(make, router, clock) -> None:
    route = router.get(ACTIVE).mock(side_effect=[err(503, **{"Retry-After": "90"}), ok()])
    async with make(retry=RetryPolicy(max_retry_after=120)) as dyte:
        await dyte.livestreams.get_active("m1", timeout=100)
    assert route.call_count == 2
    assert clock.slept == [90.0]


async def test_retry_after_past_the_deadline_fails_at_once(make, router, clock) -> None:
    route = router.get(ACTIVE).mock(side_effect=[err(429, **{"Retry-After": "10"}), ok()])
    async with make(rate_limit=None) as dyte:
        with pytest.raises(RateLimitError):
            await dyte.livestreams.get_active("m1", timeout=5)
    assert route.call_count == 1
    assert clock.slept == []


# --- deadlines ------------------------------------------------------------------------------


async def test_deadline_cuts_retries_short_with_the_last_server_error(make, router, clock) -> None:
    route = router.get(ACTIVE).mock(return_value=err(503))
    start = clock.now()
    async with make(retry=RetryPolicy(max_retries=10, jitter=0.0)) as dyte:
        with pytest.raises(InternalServerError):
            await dyte.livestreams.get_active("m1", timeout=2.0)
    # 0.5 s then 1 s of backoff fit in 2 s; the next 2 s would not, so the call ends at 1.5 s.
    assert clock.slept == [0.5, 1.0]
    assert route.call_count == 3
    assert clock.now() - start == pytest.approx(1.5)


async def test_client_timeout_is_the_default_deadline(make, router, clock) -> None:
    route = router.get(ACTIVE).mock(return_value=err(503))
    async with make(timeout=1.0, retry=RetryPolicy(max_retries=10, jitter=0.0)) as dyte:
        with pytest.raises(InternalServerError):
            await dyte.livestreams.get_active("m1")
        assert route.call_count == 2
        # The per-call timeout wins over the client's.
        with pytest.raises(InternalServerError):
            await dyte.livestreams.get_active("m1", timeout=4.0)
    # 0, 0.5, 1.5 and 3.5 s: the next wait (4 s) would pass 4 s.
    assert route.call_count == 2 + 4
    assert clock.slept == [0.5, 0.5, 1.0, 2.0]


async def test_timeouts_until_the_deadline_raise_api_timeout_error(make, router, clock) -> None:
    failure = httpx.ReadTimeout("read timed out")
    route = router.get(ACTIVE).mock(side_effect=failure)
    async with make(retry=RetryPolicy(max_retries=10, jitter=0.0)) as dyte:
        with pytest.raises(APITimeoutError) as info:
            await dyte.livestreams.get_active("m1", timeout=3.0)
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert route.call_count == 3  # at 0, 0.5 and 1.5 s; the next wait (2 s) would pass 3 s
    assert clock.slept == [0.5, 1.0]


async def test_an_expired_deadline_sends_nothing(make, router, clock) -> None:
    route = router.get(ACTIVE).mock(return_value=ok())
    async with make() as dyte:
        with pytest.raises(APITimeoutError, match="deadline"):
            await dyte.livestreams.get_active("m1", timeout=0)
    assert route.call_count == 0


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), APIConnectionError),
        (httpx.ReadError("reset by peer"), APIConnectionError),
        (httpx.RemoteProtocolError("Server disconnected"), APIConnectionError),
        (httpx.ReadTimeout("timed out"), APITimeoutError),
        (httpx.ConnectTimeout("timed out"), APITimeoutError),
    ],
)
async def test_errors_after_retries_are_ours_and_chain_the_httpx_cause(
    make, router, failure, raised
) -> None:
    route = router.get(ACTIVE).mock(side_effect=failure)
    async with make() as dyte:
        with pytest.raises(raised) as info:
            await dyte.livestreams.get_active("m1")
    assert route.call_count == 3
    error = info.value
    assert type(error) is raised
    assert not isinstance(error, httpx.HTTPError)
    assert error.__cause__ is failure
    assert type(failure).__name__ in str(error)
    assert error.method == "GET"
    assert error.url == ACTIVE


async def test_a_body_that_is_not_json_is_refused_before_sending(make, router) -> None:
    route = router.post("/meetings").mock(return_value=ok({"id": "m1"}))
    async with make() as dyte:
        with pytest.raises(InvalidArgumentError, match="JSON"):
            await dyte.meetings.create(title=object())
        with pytest.raises(InvalidArgumentError, match="JSON"):
            await dyte.meetings.create(title=float("nan"))
    assert route.call_count == 0
    assert dyte.stats().requests == 0


async def test_a_closed_client_refuses_calls(make, router) -> None:
    route = router.get(ACTIVE).mock(return_value=ok())
    dyte = make()
    await dyte.aclose()
    with pytest.raises(ClientClosedError):
        await dyte.livestreams.get_active("m1")
    assert route.call_count == 0


class ClosingClock(FakeClock):
    """Closes the client when the first backoff sleep begins."""

    def __init__(self) -> None:
        super().__init__()
        self.client: AsyncDyte | None = None

    async def sleep(self, seconds: float) -> None:
        if self.client is not None:
            await self.client.aclose()
        await super().sleep(seconds)


async def test_closing_during_a_backoff_ends_the_call_with_client_closed(make, router) -> None:
    route = router.get(ACTIVE).mock(side_effect=[err(503), ok()])
    clock = ClosingClock()
    dyte = clock.client = make(clock=clock)
    with pytest.raises(ClientClosedError):
        await dyte.livestreams.get_active("m1")
    assert route.call_count == 1
    assert clock.slept == [0.5]


async def test_the_request_body_is_sent_again_on_retry(make, router) -> None:
    route = router.post("/meetings/m1/livestreams").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            err(429),
            ok({"id": "ls1", "status": "INVOKED"}),
        ]
    )
    async with make(rate_limit=None) as dyte:
        await dyte.livestreams.start("m1", name="town")
    assert route.call_count == 3
    bodies = {call.request.content for call in route.calls}
    assert bodies == {b'{"name":"town"}'}


# --- the retry budget -----------------------------------------------------------------------


async def outage(dyte: AsyncDyte, calls: int) -> list[BaseException]:
    errors: list[BaseException] = []

    async def one() -> None:
        try:
            await dyte.livestreams.get_active("m1")
        except DyteError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(calls):
            tg.start_soon(one)
    return errors


async def test_budget_caps_retries_under_a_total_outage(make, router, clock) -> None:
    route = router.get(ACTIVE).mock(return_value=err(503))
    async with make(max_retries=3) as dyte:
        errors = await outage(dyte, 100)
    assert len(errors) == 100
    assert all(isinstance(e, InternalServerError) for e in errors)
    stats = dyte.stats()
    print(f"outage: {route.call_count} requests for 100 calls, {stats}")
    assert route.call_count < 150  # 400 without the budget
    assert route.call_count == stats.requests == 100 + stats.retries
    assert stats.retries_refused > 0
    # The budget's bound: floor (10) + 0.2 per first attempt + 1/s over the backoff.
    assert stats.retries <= 10 + 0.2 * 100 + 1.0 * (clock.now() - 1000.0)


async def test_without_budget_every_call_uses_all_its_retries(make, router) -> None:
    route = router.get(ACTIVE).mock(return_value=err(503))
    async with make(retry=RetryPolicy(max_retries=3).without_budget()) as dyte:
        await outage(dyte, 100)
    assert route.call_count == 400
    assert dyte.stats().retries_refused == 0


async def test_budget_refills_with_time(make, router, clock) -> None:
    router.get(ACTIVE).mock(return_value=err(503))
    async with make(max_retries=3) as dyte:
        await outage(dyte, 100)
        refused = dyte.stats().retries_refused
        clock.advance(60)  # a quiet minute refills the floor
        before = dyte.stats().retries
        with pytest.raises(InternalServerError):
            await dyte.livestreams.get_active("m1")
        assert dyte.stats().retries == before + 3
        assert dyte.stats().retries_refused == refused


async def test_budget_is_shared_with_retries_after_429(make, router, clock) -> None:
    router.get(ACTIVE).mock(return_value=err(429, **{"Retry-After": "1"}))
    async with make(max_retries=3, rate_limit=None) as dyte:
        errors = await outage(dyte, 60)
    assert all(isinstance(e, RateLimitError) for e in errors)
    stats = dyte.stats()
    assert stats.rate_limited == stats.requests < 60 * 1.5
    assert stats.retries_refused > 0


async def test_stats_start_at_zero_and_count(make, router) -> None:
    router.get(ACTIVE).mock(side_effect=[err(429), err(503), ok()])
    async with make(rate_limit=None) as dyte:
        assert dyte.stats() == type(dyte.stats())()
        await dyte.livestreams.get_active("m1")
        stats = dyte.stats()
    assert stats.requests == 3
    assert stats.retries == 2
    assert stats.rate_limited == 1
    assert stats.retries_refused == 0
    assert stats.limiter_wait_seconds == 0.0
    assert stats.recovered == 0
