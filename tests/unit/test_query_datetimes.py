"""Datetimes in query parameters go out with an offset (issue 12, item 9).

A naive `datetime` is taken as UTC (never as local time) and sent like an aware UTC one;
an aware one is sent in its own offset. Checked on the wire (respx) for every method that
takes `start_time`/`end_time`, also under a non-UTC local time zone.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import httpx
import pytest
import respx

from dyte_async import AsyncDyte

pytestmark = pytest.mark.anyio

NAIVE = datetime(2024, 5, 1, 12, 30, 15)
AWARE_UTC = datetime(2024, 5, 1, 12, 30, 15, tzinfo=timezone.utc)
IST = timezone(timedelta(hours=5, minutes=30))
AWARE_IST = datetime(2024, 5, 1, 18, 0, 15, tzinfo=IST)

Call = Callable[[AsyncDyte, Any, Any], Awaitable[object]]


async def _first_page(paginator: Any) -> None:
    async for _ in paginator:
        break


async def _livestreams_list(dyte: AsyncDyte, start: Any, end: Any) -> None:
    await _first_page(dyte.livestreams.list(start_time=start, end_time=end))


async def _meetings_list(dyte: AsyncDyte, start: Any, end: Any) -> None:
    await _first_page(dyte.meetings.list(start_time=start, end_time=end))


async def _overall(dyte: AsyncDyte, start: Any, end: Any) -> None:
    await dyte.livestreams.analytics_overall(start_time=start, end_time=end)


async def _daywise(dyte: AsyncDyte, start: Any, end: Any) -> None:
    await dyte.livestreams.analytics_daywise(start_time=start, end_time=end)


CALLS: dict[str, Call] = {
    "livestreams.list": _livestreams_list,
    "meetings.list": _meetings_list,
    "analytics_overall": _overall,
    "analytics_daywise": _daywise,
}


class Wire:
    """Answers every request with an empty success and keeps its query parameters."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.queries: list[dict[str, str]] = []
        router.route().mock(side_effect=self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(dict(request.url.params))
        path = request.url.path
        data: Any = {"days": []} if path.endswith("/daywise") else {}
        if path.endswith(("/livestreams", "/meetings")):
            data = []
        paging = {"total_count": 0, "start_offset": 0, "end_offset": 0}
        return httpx.Response(200, json={"success": True, "data": data, "paging": paging})

    def times(self) -> tuple[str | None, str | None]:
        (query,) = self.queries
        return query.get("start_time"), query.get("end_time")


@pytest.fixture
def wire(router: respx.MockRouter) -> Wire:
    return Wire(router)


@pytest.fixture(params=["own", "http_client"])
async def dyte(
    request: pytest.FixtureRequest, router: respx.MockRouter
) -> AsyncIterator[AsyncDyte]:
    """A client on the router: ours, or one given an `http_client` (the other build path)."""
    transport = httpx.MockTransport(router.async_handler)
    if request.param == "own":
        async with AsyncDyte("org", "key", transport=transport, rate_limit=None) as client:
            yield client
    else:
        async with (
            httpx.AsyncClient(transport=transport) as http,
            AsyncDyte("org", "key", http_client=http, rate_limit=None) as client,
        ):
            yield client


@pytest.fixture
def local_time_zone() -> Iterator[None]:
    """The process's local time zone set to UTC+05:30 (then restored)."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is Unix only")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "IST-05:30")
        time.tzset()
        try:
            assert time.localtime(0).tm_gmtoff == 5 * 3600 + 1800
            yield
        finally:
            mp.undo()
            time.tzset()


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_naive_datetimes_are_sent_as_utc_with_an_offset(
    dyte: AsyncDyte, wire: Wire, call: Call
):
    await call(dyte, NAIVE, NAIVE + timedelta(hours=1))
    assert wire.times() == ("2024-05-01T12:30:15+00:00", "2024-05-01T13:30:15+00:00")


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_naive_and_aware_utc_are_the_same_on_the_wire(
    dyte: AsyncDyte, wire: Wire, call: Call
):
    await call(dyte, NAIVE, AWARE_UTC)
    start, end = wire.times()
    assert start == end == "2024-05-01T12:30:15+00:00"


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_aware_datetimes_keep_their_offset(dyte: AsyncDyte, wire: Wire, call: Call):
    await call(dyte, AWARE_IST, AWARE_UTC.replace(microsecond=250))
    assert wire.times() == ("2024-05-01T18:00:15+05:30", "2024-05-01T12:30:15.000250+00:00")


@pytest.mark.usefixtures("local_time_zone")
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_the_local_time_zone_does_not_change_what_is_sent(
    dyte: AsyncDyte, wire: Wire, call: Call
):
    await call(dyte, NAIVE, AWARE_IST)
    assert wire.times() == ("2024-05-01T12:30:15+00:00", "2024-05-01T18:00:15+05:30")


async def test_a_tzinfo_without_an_offset_counts_as_naive(dyte: AsyncDyte, wire: Wire):
    class Floating(tzinfo):
        def utcoffset(self, dt: datetime | None) -> None:
            return None

        def dst(self, dt: datetime | None) -> None:
            return None

        def tzname(self, dt: datetime | None) -> str:
            return "floating"

    await _livestreams_list(dyte, NAIVE.replace(tzinfo=Floating()), None)
    assert wire.times() == ("2024-05-01T12:30:15+00:00", None)


async def test_dates_strings_and_unix_seconds_are_sent_as_given(dyte: AsyncDyte, wire: Wire):
    await _overall(dyte, date(2024, 5, 1), 1714566615)
    assert wire.times() == ("2024-05-01", "1714566615")
    wire.queries.clear()
    await _overall(dyte, "2024-05-01T12:30:15Z", None)
    assert wire.times() == ("2024-05-01T12:30:15Z", None)
