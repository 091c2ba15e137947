"""The poller's scheduler and messages: which source polls when, wakes, deadlines, errors.

Behaviour only: the requests sent (their times on the clock) and what the waits return or
raise. Same scripted API as `test_poller` (`Api`), on the shared `router` and `clock`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import respx

from dyte_async import (
    AsyncDyte,
    InternalServerError,
    LivestreamErroredError,
    LivestreamStatus,
    NotFoundError,
    WaitTimeoutError,
)
from dyte_async.testing import FakeClock
from tests.unit.conftest import START
from tests.unit.test_poller import (
    Api,
    HeldClock,
    _settle,
    elapsed,
    envelope,
    error,
    open_client,
    poller,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def api(clock: FakeClock, router: respx.MockRouter) -> Api:
    return Api(clock, router)


@pytest.fixture
async def dyte(clock: FakeClock, router: respx.MockRouter, api: Api) -> AsyncIterator[AsyncDyte]:
    async with open_client(clock, router) as client:
        yield client


async def collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


# -- what a timeout says ----------------------------------------------------------------------


async def test_a_timeout_names_the_last_status(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"))
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_until_live("m1", timeout=5)
    assert str(info.value) == "meeting m1: livestream not LIVE after 5 s (last status INVOKED)"
    assert info.value.__cause__ is None


async def test_a_timeout_names_every_status_waited_for(dyte: AsyncDyte, api: Api):
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_for_status("m2", ["OFFLINE", "IDLE"], timeout=2.5)
    assert str(info.value) == (
        "meeting m2: livestream not IDLE or OFFLINE after 2.5 s (no active livestream)"
    )
    assert info.value.last_status is None


async def test_a_timeout_before_any_answer_names_the_failure(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.fault = lambda req, path: error(503, "maintenance")
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_until_live("m3", timeout=4)
    message = str(info.value)
    assert message.startswith(
        "meeting m3: livestream not LIVE after 4 s (no answer yet; last poll failed: 503: "
    )
    assert isinstance(info.value.__cause__, InternalServerError)
    assert elapsed(clock) == 4


async def test_a_timeout_in_list_mode_says_the_meeting_is_not_in_the_list(
    dyte: AsyncDyte, api: Api
):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"))
    single: list[WaitTimeoutError] = []

    async def one() -> None:
        with pytest.raises(WaitTimeoutError) as info:
            await dyte.livestreams.wait_until_live("m4", timeout=5)
        single.append(info.value)

    async def many() -> None:
        with pytest.raises(WaitTimeoutError):
            await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=10))

    async with anyio.create_task_group() as tg:
        tg.start_soon(many)
        await anyio.lowlevel.checkpoint()  # the iterator registers all five first
        tg.start_soon(one)
    (error_,) = single
    assert str(error_).endswith("after 5 s (not in the organization's LIVE livestreams)")
    assert api.count("/meetings/m4/") == 0  # served by the list


async def test_many_timeout_lists_the_first_ten_pending_and_the_count(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(12)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"))
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=3))
    assert str(info.value) == (
        "12 meeting(s) not LIVE after 3 s: m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, ... (12 in all)"
    )
    assert info.value.pending == tuple(meetings)
    assert info.value.__cause__ is None


async def test_many_timeout_names_the_errored_and_missing_and_chains_them(
    dyte: AsyncDyte, api: Api
):
    api.unknown.add("m0")
    api.plan("m1", (0, "ERRORED"))
    api.plan("m2", (0, "INVOKED"))
    api.plan("m3", (0, "LIVE"))
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many(["m0", "m1", "m2", "m3"], timeout=10))
    assert str(info.value) == ("1 meeting(s) not LIVE after 10 s: m2; also 1 errored, 1 not found")
    cause = info.value.__cause__
    assert isinstance(cause, NotFoundError)
    assert (
        cause.message
        == "meeting m0 does not exist (No meeting found); also 1 livestream(s) errored"
    )
    assert isinstance(cause.__cause__, LivestreamErroredError)


async def test_many_timeout_after_failed_polls_chains_the_last_failure(dyte: AsyncDyte, api: Api):
    api.fault = lambda req, path: error(503, "maintenance")
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many(["a", "b"], timeout=6))
    assert info.value.pending == ("a", "b")
    assert isinstance(info.value.__cause__, InternalServerError)


async def test_several_missing_meetings_make_one_not_found_error(dyte: AsyncDyte, api: Api):
    api.unknown |= {"x", "y"}
    api.plan("a", (0, "LIVE"))
    with pytest.raises(NotFoundError) as info:
        await collect(dyte.livestreams.wait_until_live_many(["x", "a", "y"]))
    assert str(info.value) in (  # in the order the checks answered
        "404: 2 meetings do not exist: x, y",
        "404: 2 meetings do not exist: y, x",
    )
    assert info.value.method == ""
    assert info.value.__cause__ is None


async def test_one_missing_meeting_is_its_own_not_found_error(dyte: AsyncDyte, api: Api):
    api.unknown.add("x")
    api.plan("a", (0, "LIVE"))
    with pytest.raises(NotFoundError) as info:
        await collect(dyte.livestreams.wait_until_live_many(["x", "a"]))
    assert str(info.value).startswith("404: meeting x does not exist (No meeting found) (GET ")
    assert info.value.method == "GET"
    assert info.value.url.endswith("/meetings/x")


# -- the latest livestream of a stopped meeting -------------------------------------------


def _history(*items: tuple[str, str | None]) -> dict[str, Any]:
    return {
        "livestreams": [
            {"id": lid, "status": "IDLE", "meeting_id": "m1", "created_at": created}
            for lid, created in items
        ],
        "sessions": [],
    }


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (
            _history(("a", "2024-01-01T00:00:00Z"), ("b", "2024-03-01T00:00:00Z"), ("c", None)),
            "b",
        ),
        (_history(("a", None), ("b", "2024-03-01T00:00:00Z")), "b"),
        (_history(("a", "2024-05-01T00:00:00Z"), ("b", "2024-03-01T00:00:00Z")), "a"),
        (_history(("a", "2024-05-01T00:00:00Z")), "a"),
    ],
)
async def test_the_newest_of_a_meetings_livestreams_is_the_stopped_one(
    dyte: AsyncDyte, api: Api, history: dict[str, Any], expected: str
):
    api.fault = lambda req, path: envelope(history) if path == "/meetings/m1/livestream" else None
    ls = await dyte.livestreams.wait_for_status("m1", "IDLE")
    assert ls.id == expected
    assert ls.meeting_id == "m1"


@pytest.mark.parametrize("body", [{"livestream": None, "sessions": []}, {"livestreams": []}])
async def test_a_meeting_that_never_streamed_has_no_stopped_livestream(
    dyte: AsyncDyte, api: Api, body: dict[str, Any]
):
    api.fault = lambda req, path: envelope(body) if path == "/meetings/m1/livestream" else None
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_for_status("m1", "IDLE", timeout=3)
    assert info.value.last_status is None
    assert "no active livestream" in str(info.value)
    assert api.count("/meetings/m1/livestream") == 1  # read once per stop


async def test_the_stopped_livestream_is_read_by_id_once_seen(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "LIVE"), (3, "STOPPED"))
    api.fault = lambda req, path: error(404) if path == "/livestreams/ls-m1" else None
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_for_status("m1", "IDLE", timeout=10)
    assert info.value.last_status is None  # the read said 404: nothing to show
    assert api.count("/livestreams/ls-m1") == 1
    assert api.count("/meetings/m1/livestream") == 0


# -- waking the polls ------------------------------------------------------------------------


async def _two_sleeping_waits(
    clock: HeldClock, router: respx.MockRouter, act: Any, *, seen: bool = False
) -> Api:
    """Waits on m1 and m2 (60 s intervals); `act(poller)` at t=1; the polls then sent."""
    api = Api(clock, router)
    api.plan("m1", (0, "INVOKED"))
    if seen:
        api.plan("m2", (0, None))
    else:
        api.plan("m2", (0, "INVOKED"))
    async with open_client(clock, router) as dyte, anyio.create_task_group() as tg:
        for m in ("m1", "m2"):
            tg.start_soon(functools.partial(dyte.livestreams.wait_until_live, m, poll_interval=60))
        await _settle()
        clock.advance(1)
        await _settle()
        act(poller(dyte))
        await _settle()
        tg.cancel_scope.cancel()
    return api


async def test_wake_by_meeting_polls_that_meeting_only(router: respx.MockRouter):
    api = await _two_sleeping_waits(HeldClock(), router, lambda p: p.wake(meeting_id="m1"))
    assert api.times("/meetings/m1/") == [0, 1]
    assert api.times("/meetings/m2/") == [0]


async def test_wake_by_an_unknown_meeting_polls_nothing(router: respx.MockRouter):
    api = await _two_sleeping_waits(HeldClock(), router, lambda p: p.wake(meeting_id="zz"))
    assert api.times() == [0, 0]


async def test_wake_without_arguments_polls_everything(router: respx.MockRouter):
    api = await _two_sleeping_waits(HeldClock(), router, lambda p: p.wake())
    assert api.times("/meetings/m1/") == [0, 1]
    assert api.times("/meetings/m2/") == [0, 1]


async def test_wake_by_a_known_livestream_polls_its_meeting(router: respx.MockRouter):
    api = await _two_sleeping_waits(
        HeldClock(), router, lambda p: p.wake(livestream_id="ls-m2"), seen=True
    )
    # m2 had nothing active: ls-m2 is unknown, so the meetings without a livestream poll
    assert api.times("/meetings/m1/") == [0]
    assert api.times("/meetings/m2/active-livestream") == [0, 1]


async def test_wake_by_a_seen_livestream_polls_only_its_meeting(router: respx.MockRouter):
    api = await _two_sleeping_waits(
        HeldClock(), router, lambda p: p.wake(livestream_id="ls-m1"), seen=True
    )
    assert api.times("/meetings/m1/") == [0, 1]
    assert api.times("/meetings/m2/active-livestream") == [0]


async def test_a_wake_during_a_poll_polls_again_right_after(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"))
    p = poller(dyte)
    api.on_request = lambda path: p.wake(meeting_id="m1") if api.count() == 1 else None
    with pytest.raises(WaitTimeoutError):
        await dyte.livestreams.wait_until_live("m1", timeout=1.5)
    assert api.times() == [0, 0]


# -- the schedule ------------------------------------------------------------------------------


async def test_backoff_stops_at_twice_the_interval_and_a_change_resets_it(
    dyte: AsyncDyte, api: Api
):
    api.plan("m1", (0, "INVOKED"), (30, "OFFLINE"))
    with pytest.raises(WaitTimeoutError):
        await dyte.livestreams.wait_until_live("m1", timeout=42, poll_interval=1)
    times = api.times()
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(times)]
    assert gaps[:5] == [1.0, 1.25, 1.5625, 1.953125, 2.0]
    changed = next(i for i, t in enumerate(times) if t >= 30)
    assert gaps[changed] == 1.0  # the poll after the one that saw OFFLINE
    assert gaps[changed + 1] == 1.25


async def test_a_longer_interval_joining_does_not_slow_the_poll(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"))

    async def slow_waiter() -> None:
        with pytest.raises(WaitTimeoutError):
            await dyte.livestreams.wait_until_live("m1", poll_interval=30, timeout=5)

    async with anyio.create_task_group() as tg:
        tg.start_soon(slow_waiter)
        with pytest.raises(WaitTimeoutError):
            await dyte.livestreams.wait_until_live("m1", poll_interval=1, timeout=6)
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(api.times())]
    assert gaps
    assert max(gaps) <= 2.0


async def test_the_fast_waiter_leaving_keeps_the_polls_going(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.plan("m1", (0, "INVOKED"), (25, "LIVE"))

    async def fast_waiter() -> None:
        with pytest.raises(WaitTimeoutError):
            await dyte.livestreams.wait_until_live("m1", poll_interval=0.5, timeout=2)

    async with anyio.create_task_group() as tg:
        tg.start_soon(fast_waiter)
        ls = await dyte.livestreams.wait_until_live("m1", poll_interval=5, timeout=60)
    assert ls.is_live
    assert elapsed(clock) <= 25 + 10


async def test_an_errored_meeting_ends_the_wait_with_its_message(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "ERRORED"))
    api.err_messages["ls-m1"] = "bad key"
    with pytest.raises(LivestreamErroredError) as info:
        await dyte.livestreams.wait_until_live("m1")
    assert str(info.value) == "livestream ls-m1 of meeting m1 errored: bad key"
    assert info.value.livestream is not None
    assert info.value.livestream.status is LivestreamStatus.ERRORED


async def test_an_errored_meeting_without_a_message(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "ERRORED"))
    with pytest.raises(LivestreamErroredError) as info:
        await dyte.livestreams.wait_until_live("m1")
    assert str(info.value) == "livestream ls-m1 of meeting m1 errored"
    # the active session said nothing, so the livestream's sessions were read too
    assert api.count("/livestreams/ls-m1/active-livestream-session") == 1
    assert api.count("/livestreams/ls-m1") == 2


async def test_a_transport_error_in_the_list_is_ridden_out(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (6, "LIVE"))

    def flaky(req: httpx.Request, path: str) -> Any:
        if path == "/livestreams" and api.clock.now() - START < 4:
            return httpx.ReadTimeout("slow")
        return None

    api.fault = flaky
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=30))
    assert len(got) == 5
    assert poller(dyte).list_mode is False


async def test_a_shorter_interval_joining_a_sleeping_poll_brings_it_forward(
    router: respx.MockRouter,
):
    clock = HeldClock()
    api = Api(clock, router)
    api.plan("m1", (0, "INVOKED"))
    async with open_client(clock, router) as dyte, anyio.create_task_group() as tg:
        tg.start_soon(functools.partial(dyte.livestreams.wait_until_live, "m1", poll_interval=60))
        await _settle()
        clock.advance(1)
        await _settle()
        tg.start_soon(functools.partial(dyte.livestreams.wait_until_live, "m1", poll_interval=2))
        await _settle()
        for _ in range(9):  # to t=5.5, half a second at a time
            clock.advance(0.5)
            await _settle()
        tg.cancel_scope.cancel()
    # due 2 s after the last poll (0), then 2 x 1.25 later (unchanged: the interval grows)
    assert api.times() == [0, 2, 4.5]


async def test_failed_polls_are_logged(dyte: AsyncDyte, api: Api, caplog: pytest.LogCaptureFixture):
    caplog.set_level("INFO", logger="dyte_async")
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "LIVE"))
    api.fault = lambda req, path: error(400, "bad sort_order") if path == "/livestreams" else None
    await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert any(
        r.levelname == "WARNING"
        and r.getMessage().startswith("listing livestreams failed (400: bad sort_order")
        and r.getMessage().endswith("); waiting with per-meeting polls instead")
        for r in caplog.records
    )
    caplog.clear()
    api.plan("m9", (0, "LIVE"))
    until = api.clock.now() + 10
    api.fault = lambda req, path: error(503, "later") if api.clock.now() < until else None
    await dyte.livestreams.wait_until_live("m9")
    assert any(
        r.getMessage().startswith("livestream poll failed, polling again later: 503: later")
        for r in caplog.records
    )


# -- every read keeps the wait's deadline ------------------------------------------------------


def _slow_503(paths: set[str], *, page: str | None = None, status: str = "LIVE") -> Any:
    """A fault: 503 with `Retry-After: 30` on `paths` (of one list page when given)."""

    def fault(req: httpx.Request, path: str) -> httpx.Response | None:
        params = req.url.params
        if path in paths and (
            page is None or (params.get("page_no") == page and params.get("status") == status)
        ):
            return error(503, "busy", **{"Retry-After": "30"})
        return None

    return fault


@pytest.mark.parametrize(
    ("paths", "page", "paging"),
    [
        ({"/livestreams"}, "1", "total"),  # the first page
        ({"/livestreams"}, "2", "total"),  # pages after the first
        ({"/livestreams"}, "2", "offsets"),  # pages read one by one (no total_count)
        ({"/meetings/m1/active-livestream"}, None, "total"),  # confirming an ERRORED one
    ],
    ids=["first-page", "pages", "pages-one-by-one", "confirm"],
)
async def test_list_reads_keep_the_waits_deadline(
    dyte: AsyncDyte, api: Api, clock: FakeClock, paths: set[str], page: str | None, paging: str
):
    if paging == "offsets":
        api.paging_keys = {"start_offset", "end_offset"}
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(150)]
    api.extra.append({"id": "old", "status": "ERRORED", "meeting_id": "m1"})
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"))
    api.fault = _slow_503(paths, page=page)
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=5))
    assert elapsed(clock) == 5  # no retry slept past the deadline
    assert isinstance(info.value.__cause__, InternalServerError)


async def test_reading_the_stopped_livestream_keeps_the_waits_deadline(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.fault = _slow_503({"/meetings/m1/livestream"})
    with pytest.raises(WaitTimeoutError):
        await dyte.livestreams.wait_for_status("m1", "IDLE", timeout=5)
    assert elapsed(clock) == 5


async def test_a_list_page_failing_for_the_whole_wait_names_the_failure(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(150)]
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "LIVE"))  # all on page 2, which fails
    api.fault = lambda req, path: error(503) if req.url.params.get("page_no") == "2" else None
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=5))
    assert info.value.pending == tuple(meetings)
    assert isinstance(info.value.__cause__, InternalServerError)
    rounds = {t for t, path, q in api.log if path == "/livestreams" and q["page_no"] == "1"}
    assert len(rounds) >= 2  # a transient failure keeps the list


async def test_the_errored_list_is_read_newest_first(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "LIVE"))
    api.plan("m4", (0, "INVOKED"), (1, "LIVE"))
    await collect(dyte.livestreams.wait_until_live_many(meetings))
    errored = [q for _, path, q in api.log if path == "/livestreams" and q["status"] == "ERRORED"]
    assert errored[0] == {
        "status": "ERRORED",
        "sort_order": "DSC",
        "per_page": "100",
        "page_no": "1",
    }


# -- which waits the list serves ---------------------------------------------------------------


async def test_waits_for_live_or_errored_share_the_list(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (3, "LIVE"))
    async with anyio.create_task_group() as tg:
        for m in meetings:
            tg.start_soon(dyte.livestreams.wait_for_status, m, ["LIVE", "ERRORED"])
    assert api.count("/livestreams") > 0
    assert api.count("/meetings/m4/") <= 1


async def test_waits_for_running_statuses_never_read_stopped_livestreams(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, None), (4, "INVOKED"))
    ls = await dyte.livestreams.wait_for_status("m1", ["LIVE", "INVOKED", "ERRORED"])
    assert ls.status is LivestreamStatus.INVOKED
    assert api.count("/meetings/m1/livestream") == 0


async def test_the_poller_is_busy_while_a_wait_runs(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (3, "LIVE"))
    busy: list[bool] = []
    api.on_request = lambda path: busy.append(not poller(dyte).is_idle())
    await dyte.livestreams.wait_until_live("m1")
    assert busy
    assert all(busy)
    assert poller(dyte).is_idle()


async def test_the_errored_page_keeps_the_waits_deadline(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"))
    api.fault = _slow_503({"/livestreams"}, page="1", status="ERRORED")
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=5))
    assert elapsed(clock) == 5
    assert isinstance(info.value.__cause__, InternalServerError)


async def test_list_mode_checks_keep_the_waits_deadline(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"))
    api.check_fault = lambda req, path: error(503, "busy", **{"Retry-After": "30"})
    with pytest.raises(WaitTimeoutError):
        await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=5))
    assert elapsed(clock) == 5
    assert api.checked() >= 1


@pytest.mark.parametrize("status", [400, 503])
async def test_a_failing_errored_page(dyte: AsyncDyte, api: Api, status: int):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (5, "LIVE"))

    def fault(req: httpx.Request, path: str) -> httpx.Response | None:
        if path == "/livestreams" and req.url.params.get("status") == "ERRORED":
            return error(status, "no")
        return None

    api.fault = fault
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=30))
    assert len(got) == 5
    errored_reads = [
        q for _, path, q in api.log if path == "/livestreams" and q["status"] == "ERRORED"
    ]
    if status == 400:  # refused for good: per-meeting polls from then on
        assert len(errored_reads) == 1
        assert api.count("/meetings/m0/active-livestream") >= 2
    else:  # transient: the list goes on
        assert len(errored_reads) >= 2
        assert api.count("/meetings/m0/active-livestream") == 0


async def test_two_old_errored_livestreams_are_each_confirmed_once(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (20, "LIVE"))
    api.extra = [
        {"id": "old-ls-m1", "status": "ERRORED", "meeting_id": "m1"},
        {"id": "old-ls-m2", "status": "ERRORED", "meeting_id": "m2"},
    ]
    got = await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert len(got) == 5
    assert api.count("/meetings/m1/active-livestream") == 1
    assert api.count("/meetings/m2/active-livestream") == 1


async def test_a_list_round_with_news_resets_the_interval(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(6)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"))
    api.plan("m0", (0, "INVOKED"), (7, "LIVE"))
    async with dyte.livestreams.wait_until_live_many(meetings, timeout=20) as waits:
        first = await waits.__anext__()
        assert first.meeting_id == "m0"
        with pytest.raises(WaitTimeoutError):
            await waits.__anext__()
    rounds = [
        t - START for t, path, q in api.log if path == "/livestreams" and q["status"] == "LIVE"
    ]
    assert rounds[:6] == [0, 2, 4.5, 7.625, 9.625, 12.125]  # 2 again after the news at 7.625


async def test_a_meeting_dropping_out_of_the_live_list_is_seen_stopped(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"))
    api.plan("m0", (0, "LIVE"), (3, "STOPPED"))
    errors: dict[str, WaitTimeoutError] = {}

    async def wait(m: str) -> None:
        with pytest.raises(WaitTimeoutError) as info:
            await dyte.livestreams.wait_for_status(m, "ERRORED", timeout=8)
        errors[m] = info.value

    async with anyio.create_task_group() as tg:
        for m in meetings:
            tg.start_soon(wait, m)
    assert api.count("/livestreams") > 0  # served by the list
    assert errors["m0"].last_status is None  # LIVE at first, then gone from the LIVE list
    assert str(errors["m0"]).endswith("(no active livestream)")


async def test_polls_of_a_stopped_livestream_back_off(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "STOPPED"))
    with pytest.raises(WaitTimeoutError):
        await dyte.livestreams.wait_for_status("m1", "OFFLINE", timeout=12)
    times = api.times("/meetings/m1/active-livestream")
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(times)]
    assert gaps[:3] == [2.0, 2.5, 3.125]
    assert api.count("/meetings/m1/livestream") == 1  # the stopped livestream read once


async def test_a_watch_reads_an_errored_message_once(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "ERRORED"), (9, "LIVE", "ls-new"))
    api.err_messages["ls-m1"] = "boom"
    seen = []
    async for ls in dyte.livestreams.watch("m1"):
        seen.append((ls.id, str(ls.status)))
        if len(seen) == 2:
            break
    assert seen == [("ls-m1", "ERRORED"), ("ls-new", "LIVE")]
    assert api.count("/livestreams/ls-m1/active-livestream-session") == 1


async def test_without_a_total_count_a_short_first_page_is_the_whole_list(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.paging_keys = set()
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings[:4]:
        api.plan(m, (0, "LIVE"))
    api.unknown.add("m4")
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, yield_errors=True))
    assert len(got) == 5
    assert [
        int(q["page_no"])
        for _, path, q in api.log
        if path == "/livestreams" and q["status"] == "LIVE"
    ] == [1]
    assert api.check_times("m4") == [0]
