"""`wait_until_live_many` and list polling: one org-wide poll instead of one per meeting."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import respx

from dyte_async import (
    AsyncDyte,
    Livestream,
    LivestreamErroredError,
    NotFoundError,
    PermissionDeniedError,
    WaitTimeoutError,
)
from dyte_async.testing import FakeClock
from tests.unit.conftest import START
from tests.unit.test_poller import Api, error, open_client, poller

pytestmark = pytest.mark.anyio


@pytest.fixture
def api(clock: FakeClock, router: respx.MockRouter) -> Api:
    return Api(clock, router)


@pytest.fixture
async def dyte(clock: FakeClock, router: respx.MockRouter, api: Api) -> AsyncIterator[AsyncDyte]:
    async with open_client(clock, router) as client:
        yield client


async def collect(iterator: Any, into: list[Any] | None = None) -> list[Any]:
    out = [] if into is None else into
    async for item in iterator:
        out.append(item)
    return out


def live_requests(api: Api) -> list[dict[str, str]]:
    return [q for _, path, q in api.log if path == "/livestreams" and q.get("status") == "LIVE"]


async def test_yields_each_meeting_in_the_order_it_goes_live(dyte: AsyncDyte, api: Api):
    order = [f"m{i}" for i in range(10)]
    for i, m in enumerate(reversed(order)):
        api.plan(m, (0, "INVOKED"), (2 + 3 * i, "LIVE"))
    got = await collect(dyte.livestreams.wait_until_live_many(order))
    assert [ls.meeting_id for ls in got] == list(reversed(order))
    assert all(ls.is_live for ls in got)
    # the list serves them all, until so few are left that polling each costs no more
    apart = {path.split("/")[2] for _, path, _ in api.log if path.startswith("/meetings/")}
    assert apart <= {"m0", "m1"}
    assert poller(dyte).is_idle()


async def test_list_requests_ask_for_the_largest_page_newest_first(dyte: AsyncDyte, api: Api):
    for i in range(5):
        api.plan(f"m{i}", (0, "LIVE"))
    await collect(dyte.livestreams.wait_until_live_many([f"m{i}" for i in range(5)]))
    (query,) = live_requests(api)
    assert query == {"status": "LIVE", "sort_order": "DSC", "per_page": "100", "page_no": "1"}


async def test_cost_does_not_grow_with_the_number_of_meetings(dyte: AsyncDyte, api: Api):
    rng = random.Random(3)
    meetings = [f"m{i}" for i in range(300)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (rng.uniform(0, 60), "LIVE"))
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, poll_interval=2))
    assert sorted(ls.meeting_id or "" for ls in got) == sorted(meetings)
    rounds = len({t for t, path, _ in api.log if path == "/livestreams"})
    # each round: up to 3 LIVE pages (300 LIVE at the end) and one ERRORED page
    assert api.count() <= 4 * rounds + 3
    assert rounds <= 60 / 2 + 3
    assert api.count() < len(meetings)
    # plus, once, an existence check of each meeting not LIVE when its turn came: at most
    # 100 a round, one per meeting in all
    checks = Counter(m for _, m in api.check_log)
    assert max(checks.values()) == 1
    assert max(Counter(t for t, _ in api.check_log).values()) <= 100


async def test_pages_are_walked_until_every_meeting_is_found(dyte: AsyncDyte, api: Api):
    api.extra = [{"id": f"other{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(250)]
    for i in range(5):
        api.plan(f"m{i}", (0, "INVOKED"), (3, "LIVE"))
    got = await collect(dyte.livestreams.wait_until_live_many([f"m{i}" for i in range(5)]))
    assert len(got) == 5
    pages = [int(q["page_no"]) for q in live_requests(api)]
    assert max(pages) == 3  # the org's 250 other LIVE livestreams come first


async def test_pages_added_while_a_round_reads_are_read_too(dyte: AsyncDyte, api: Api):
    # Every time page 2 is read, 100 more of the org's livestreams go LIVE ahead of ours,
    # pushing ours past the pages page 1 announced.
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(150)]
    for i in range(5):
        api.plan(f"m{i}", (0, "LIVE"))

    def grow(req: Any, path: str) -> None:
        if path == "/livestreams" and req.url.params.get("page_no") == "2":
            n = len(api.extra)
            api.extra[:0] = [
                {"id": f"o{n + i}", "status": "LIVE", "meeting_id": "x"} for i in range(100)
            ]

    api.fault = grow
    got = await collect(dyte.livestreams.wait_until_live_many([f"m{i}" for i in range(5)]))
    assert len(got) == 5
    assert api.clock.now() == START  # found in the first round


async def test_a_failing_page_does_not_lose_the_others(dyte: AsyncDyte, api: Api):
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(250)]
    for i in range(5):
        api.plan(f"m{i}", (0, "LIVE"))
    api.fault = lambda req, path: error(503) if req.url.params.get("page_no") == "2" else None
    got = await collect(dyte.livestreams.wait_until_live_many([f"m{i}" for i in range(5)]))
    assert len(got) == 5  # all on page 3, read even though page 2 keeps failing
    assert api.count("/livestreams") >= 3


async def test_few_meetings_are_polled_one_by_one(dyte: AsyncDyte, api: Api):
    api.plan("a", (0, None), (3, "LIVE"))
    api.plan("b", (0, "INVOKED"), (5, "LIVE"))
    got = await collect(dyte.livestreams.wait_until_live_many(["a", "b", "a"]))
    assert [ls.meeting_id for ls in got] == ["a", "b"]
    assert api.count("/livestreams") == 0
    assert api.count("/meetings/a/") == 3  # 0, 2, 4.5 (with backoff)


async def test_list_is_used_only_when_cheaper(dyte: AsyncDyte, api: Api):
    # 1,000 LIVE livestreams in the org: 10 pages a round, dearer than 6 meetings polled apart
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(1000)]
    meetings = [f"m{i}" for i in range(6)]
    for i, m in enumerate(meetings):
        api.plan(m, (0, "INVOKED"), (10 + i, "LIVE"))
    got = await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert len(got) == 6
    assert len(live_requests(api)) <= 10  # one round, learning the cost, then per meeting
    assert api.count("/meetings/") > 6


async def test_errored_meetings_are_raised_at_the_end(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(6)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (9, "LIVE"))
    api.plan("m2", (0, "INVOKED"), (3, "ERRORED"))
    api.err_messages["ls-m2"] = "encoder disconnected"
    got: list[Livestream] = []
    with pytest.raises(LivestreamErroredError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings), got)
    assert sorted(ls.meeting_id or "" for ls in got) == ["m0", "m1", "m3", "m4", "m5"]
    assert info.value.err_message == "encoder disconnected"
    assert info.value.livestream is not None
    assert info.value.livestream.meeting_id == "m2"
    assert api.count("/meetings/m2/active-livestream") == 1  # the ERRORED list, confirmed
    assert poller(dyte).is_idle()


async def test_several_errored_meetings_are_named_in_one_error(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (4, "ERRORED"))
    api.plan("m0", (0, "LIVE"))
    with pytest.raises(LivestreamErroredError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert str(info.value).startswith("4 livestreams errored")
    for m in meetings[1:]:
        assert m in str(info.value)


async def test_yield_errors_yields_them_as_they_come(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (8, "LIVE"))
    api.plan("m4", (0, "INVOKED"), (2, "ERRORED"))
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, yield_errors=True))
    assert isinstance(got[0], LivestreamErroredError)
    assert got[0].livestream is not None
    assert got[0].livestream.meeting_id == "m4"
    assert all(isinstance(x, Livestream) and x.is_live for x in got[1:])
    assert len(got) == 5


async def test_an_old_errored_livestream_is_confirmed_once_and_ignored(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (20, "LIVE"))
    api.extra = [{"id": "old-ls-m1", "status": "ERRORED", "meeting_id": "m1"}]
    got = await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert len(got) == 5
    assert api.count("/meetings/m1/active-livestream") == 1
    assert api.count("/livestreams/") == 0  # no error message fetched for a stale one


async def test_timeout_names_the_pending_meetings(dyte: AsyncDyte, api: Api, clock: FakeClock):
    meetings = [f"m{i}" for i in range(6)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (5, "LIVE"))
    api.plan("m1", (0, "INVOKED"))
    api.plan("m4", (0, None))
    got: list[Livestream] = []
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=30), got)
    assert len(got) == 4
    assert info.value.pending == ("m1", "m4")
    assert "m1, m4" in str(info.value)
    assert clock.now() - 1000.0 == 30
    assert poller(dyte).is_idle()


async def test_timeout_with_an_errored_meeting_chains_it(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "LIVE"))
    api.plan("m0", (0, "ERRORED"))
    api.plan("m1", (0, "INVOKED"))
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=10))
    assert info.value.pending == ("m1",)
    assert isinstance(info.value.__cause__, LivestreamErroredError)


async def test_a_list_the_server_refuses_falls_back_to_per_meeting_polls(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for i, m in enumerate(meetings):
        api.plan(m, (0, "INVOKED"), (3 + i, "LIVE"))
    api.fault = lambda req, path: error(400, "bad sort_order") if path == "/livestreams" else None
    got = await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert len(got) == 5
    assert api.count("/livestreams") == 1
    assert not poller(dyte).list_mode


async def test_transient_list_failures_do_not_end_the_wait(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (10, "LIVE"))

    def flaky(req: Any, path: str) -> Any:
        return error(502) if api.clock.now() < 1020 else None

    api.fault = flaky
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=60))
    assert len(got) == 5


async def test_single_waits_and_many_waits_share_the_list(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(8)]
    for i, m in enumerate(meetings):
        api.plan(m, (0, "INVOKED"), (5 + i, "LIVE"))
    singles: list[Livestream] = []

    async def one(m: str) -> None:
        singles.append(await dyte.livestreams.wait_until_live(m))

    async with anyio.create_task_group() as tg:
        tg.start_soon(collect, dyte.livestreams.wait_until_live_many(meetings[:5]))
        for m in meetings[3:]:
            tg.start_soon(one, m)
    assert len(singles) == 5
    # one list round per interval serves the iterator and the single waits alike
    firsts = [t for t, path, q in api.log if path == "/livestreams" and q["status"] == "LIVE"]
    assert all(b - a >= 2.0 for a, b in itertools.pairwise(firsts))
    # Per meeting only before the list took over (t=0: trio may start the single waits
    # first, and 3 meetings are too few for the list) and once few remain (m6, m7).
    apart = {
        path.split("/")[2] for t, path, _ in api.log if path.startswith("/meetings/") and t > START
    }
    assert apart <= {"m6", "m7"}
    assert poller(dyte).is_idle()


async def test_a_watch_on_a_list_meeting_polls_it_apart(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(6)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (6, "LIVE"))
    seen: list[str] = []

    async def watch() -> None:
        async for ls in dyte.livestreams.watch("m0"):
            seen.append(str(ls.status))
            if ls.is_live:
                return

    async with anyio.create_task_group() as tg:
        tg.start_soon(collect, dyte.livestreams.wait_until_live_many(meetings))
        tg.start_soon(watch)
    assert seen == ["INVOKED", "LIVE"]
    assert api.count("/meetings/m0/active-livestream") >= 3
    assert poller(dyte).is_idle()


async def test_empty_and_aclose(dyte: AsyncDyte, api: Api):
    assert await collect(dyte.livestreams.wait_until_live_many([])) == []
    for i in range(5):
        api.plan(f"m{i}", (0, "INVOKED"), (4 * i, "LIVE"))
    async with dyte.livestreams.wait_until_live_many([f"m{i}" for i in range(5)]) as waits:
        async for ls in waits:
            assert ls.meeting_id == "m0"
            assert set(waits.pending) == {"m1", "m2", "m3", "m4"}
            break
    assert poller(dyte).is_idle()
    with pytest.raises(StopAsyncIteration):
        await waits.__anext__()


# -- meetings that do not exist -------------------------------------------------------------


def not_found_ids(errors: list[Any], candidates: set[str]) -> set[str]:
    return {m for m in candidates for e in errors if f"meeting {m} does not exist" in str(e)}


async def test_an_unknown_meeting_among_few_is_raised_at_the_end(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.unknown.add("nope")
    api.plan("a", (0, None), (3, "LIVE"))
    api.plan("b", (0, "INVOKED"), (5, "LIVE"))
    got: list[Livestream] = []
    with pytest.raises(NotFoundError) as info:
        await collect(dyte.livestreams.wait_until_live_many(["a", "nope", "b"]), got)
    assert [ls.meeting_id for ls in got] == ["a", "b"]
    assert "meeting nope does not exist" in str(info.value)
    assert clock.now() - START < 10  # when b was seen LIVE, not at the deadline (300 s)
    assert api.checked("nope") == 1
    assert api.checked("a") == 1  # it had no livestream yet: confirmed once
    assert api.checked("b") == 0  # seen with a livestream: no check
    assert poller(dyte).is_idle()


async def test_unknown_meetings_in_list_mode_are_yielded_at_once_with_yield_errors(
    dyte: AsyncDyte, api: Api
):
    meetings = [f"m{i}" for i in range(20)]
    unknown = {"m3", "m11", "m17"}
    api.unknown |= unknown
    for i, m in enumerate(meetings):
        api.plan(m, (0, "INVOKED"), (10 + i, "LIVE"))
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, yield_errors=True))
    assert len(got) == 20
    assert all(isinstance(x, NotFoundError) for x in got[:3])  # from the first round
    assert not_found_ids(got[:3], set(meetings)) == unknown
    assert all(isinstance(x, Livestream) and x.is_live for x in got[3:])
    assert live_requests(api)  # served by the list
    assert api.count("/meetings/") <= 2 * 4  # per meeting only at the end, if at all
    checks = Counter(m for _, m in api.check_log)
    assert set(checks) == set(meetings)  # none was seen LIVE at its turn: each checked ...
    assert set(checks.values()) == {1}  # ... once
    assert api.check_times() == [0] * 20
    assert poller(dyte).is_idle()


async def test_list_mode_checks_run_ten_at_a_time(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(35)]
    api.unknown |= set(meetings[30:])
    for m in meetings[:30]:
        api.plan(m, (0, "INVOKED"), (5, "LIVE"))
    in_flight = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
        finally:
            in_flight -= 1
        return api.handle_check(request)

    api.checks.side_effect = slow
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, yield_errors=True))
    assert sum(isinstance(x, NotFoundError) for x in got) == 5
    assert peak == 10
    assert api.checked() == 35


async def test_list_mode_checks_wait_while_many_meetings_are_starting(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    poller(dyte).checks_per_round = 4
    meetings = [f"m{i}" for i in range(12)] + ["u0", "u1"]
    api.unknown |= {"u0", "u1"}
    for m in meetings[:12]:
        api.plan(m, (0, "INVOKED"), (3, "LIVE"))
    found_at: list[float] = []
    async for x in dyte.livestreams.wait_until_live_many(meetings, yield_errors=True):
        if isinstance(x, NotFoundError):
            found_at.append(clock.now() - START)
    # Rounds at 0 and 2 see 14 meetings missing from the list: more than a round checks,
    # and none missing for the grace (30 s) yet, so none is checked. By the round at 4.5
    # the others are LIVE (no check needed), and u0 and u1 are few enough to check.
    assert sorted(api.check_log) == [(START + 4.5, "u0"), (START + 4.5, "u1")]
    assert found_at == [4.5, 4.5]


async def test_list_mode_checks_stragglers_after_the_grace_a_batch_a_round(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    poller(dyte).checks_per_round = 4
    meetings = [f"m{i}" for i in range(10)] + ["u0", "u1"]
    api.unknown |= {"u0", "u1"}
    for m in meetings[:10]:
        api.plan(m, (0, "INVOKED"), (100, "LIVE"))
    found_at: list[float] = []
    got = []
    async for x in dyte.livestreams.wait_until_live_many(meetings, yield_errors=True):
        got.append(x)
        if isinstance(x, NotFoundError):
            found_at.append(clock.now() - START)
    assert len(got) == 12
    times = [t - START for t, _ in api.check_log]
    assert min(times) >= 30  # not before the grace
    assert max(Counter(times).values()) <= 4  # at most a batch a round
    assert Counter(m for _, m in api.check_log) == Counter(meetings)  # each once
    assert len(found_at) == 2
    assert max(found_at) < 50  # three rounds after the grace, not at LIVE (100) or the end


async def test_unknown_and_errored_meetings_are_raised_together_at_the_end(
    dyte: AsyncDyte, api: Api
):
    meetings = [f"m{i}" for i in range(7)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (5, "LIVE"))
    api.unknown |= {"m1", "m4"}
    api.plan("m2", (0, "INVOKED"), (3, "ERRORED"))
    api.err_messages["ls-m2"] = "encoder disconnected"
    got: list[Livestream] = []
    with pytest.raises(NotFoundError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings), got)
    assert sorted(ls.meeting_id or "" for ls in got) == ["m0", "m3", "m5", "m6"]
    message = str(info.value)
    assert message.startswith("404: 2 meetings do not exist: ")
    assert "m1" in message
    assert "m4" in message
    assert message.endswith("; also 1 livestream(s) errored")
    assert info.value.status_code == 404
    cause = info.value.__cause__
    assert isinstance(cause, LivestreamErroredError)
    assert cause.err_message == "encoder disconnected"
    assert poller(dyte).is_idle()


async def test_timeout_leaves_unknown_meetings_out_of_pending(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings[2:]:
        api.plan(m, (0, "LIVE"))
    api.unknown.add("m0")
    api.plan("m1", (0, "INVOKED"))
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings, timeout=10))
    assert info.value.pending == ("m1",)
    assert "also 1 not found" in str(info.value)
    assert isinstance(info.value.__cause__, NotFoundError)
    assert clock.now() - START == 10
    assert poller(dyte).is_idle()


async def test_a_check_refused_for_good_in_list_mode_ends_the_wait(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(30)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (5, "LIVE"))
    api.check_fault = lambda req, path: error(403)
    with pytest.raises(PermissionDeniedError):
        await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert api.checked() <= 10  # the round's checks not yet under way were not sent
    assert poller(dyte).is_idle()


async def test_transient_check_failures_in_list_mode_are_retried_in_later_rounds(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    meetings = [f"m{i}" for i in range(6)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (30, "LIVE"))
    api.unknown.add("m5")
    api.check_fault = lambda req, path: error(503) if clock.now() - START < 10 else None
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, yield_errors=True))
    assert isinstance(got[0], NotFoundError)
    assert 10 <= [t for t, m in api.check_log if m == "m5"][-1] - START < 20
    assert len(got) == 6
    ok = [m for m in meetings if m != "m5"]
    answered = Counter(m for t, m in api.check_log if t - START >= 10)
    assert all(answered[m] == 1 for m in ok)  # once answered, never asked again


# -- a list without the paging numbers ------------------------------------------------------


async def test_without_a_total_count_pages_are_read_one_by_one_until_a_short_one(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.paging_keys = {"start_offset", "end_offset"}
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(250)]
    for i in range(5):
        api.plan(f"m{i}", (0, "LIVE"))
    got = await collect(dyte.livestreams.wait_until_live_many([f"m{i}" for i in range(5)]))
    assert len(got) == 5
    assert [int(q["page_no"]) for q in live_requests(api)] == [1, 2, 3]  # 100, 100, 55
    assert clock.now() == START


async def test_without_a_total_count_a_full_last_page_ends_at_the_empty_one(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.paging_keys = set()
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(200)]
    for i in range(4):
        api.plan(f"m{i}", (0, "INVOKED"), (3, "LIVE"))
    api.plan("m4", (0, "INVOKED"))
    api.unknown.add("nope")
    with pytest.raises(WaitTimeoutError) as info:
        await collect(
            dyte.livestreams.wait_until_live_many([*(f"m{i}" for i in range(5)), "nope"], timeout=1)
        )
    assert info.value.pending == ("m0", "m1", "m2", "m3", "m4")
    assert api.check_times("nope") == [0]  # the whole list was read: missing ones checked
    # The first round: 200 of the org's LIVE livestreams, two full pages, then an empty one.
    assert [int(q["page_no"]) for q in live_requests(api)] == [1, 2, 3]
    assert api.count("/meetings/") == 0  # served by the list


async def test_a_server_ignoring_page_no_cannot_make_a_round_loop(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.last_page = 1
    api.paging_keys = {"start_offset", "end_offset"}
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(150)]
    for i in range(5):
        api.plan(f"m{i}", (0, "LIVE"))
    with pytest.raises(WaitTimeoutError) as info:
        await collect(dyte.livestreams.wait_until_live_many([f"m{i}" for i in range(5)], timeout=3))
    assert len(info.value.pending) == 5
    pages = [int(q["page_no"]) for q in live_requests(api)]
    assert pages[:2] == [1, 2]  # page 2 repeats page 1: the round ends there
    assert pages.count(3) == 0
    assert clock.now() - START == 3


async def test_without_a_total_count_a_round_stops_at_the_page_that_completes_it(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.paging_keys = {"start_offset", "end_offset"}
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(195)]
    for i in range(5):
        api.plan(f"m{i}", (0, "LIVE"))
    got = await collect(dyte.livestreams.wait_until_live_many([f"m{i}" for i in range(5)]))
    assert len(got) == 5
    assert [int(q["page_no"]) for q in live_requests(api)] == [1, 2]  # page 2 full, all found


async def test_without_a_total_count_a_page_repeating_the_last_ends_the_round(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.last_page = 2  # pages 3, 4, ... repeat page 2
    api.paging_keys = {"start_offset", "end_offset"}
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(350)]
    for i in range(5):
        api.plan(f"m{i}", (0, "LIVE"))
    with pytest.raises(WaitTimeoutError):
        await collect(dyte.livestreams.wait_until_live_many([f"m{i}" for i in range(5)], timeout=1))
    assert [int(q["page_no"]) for q in live_requests(api)] == [1, 2, 3]


async def test_without_a_total_count_a_whole_list_lets_unknown_meetings_be_checked(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.paging_keys = {"start_offset", "end_offset"}
    api.extra = [{"id": f"o{i}", "status": "LIVE", "meeting_id": f"x{i}"} for i in range(150)]
    for i in range(4):
        api.plan(f"m{i}", (0, "LIVE"))
    api.unknown.add("nope")
    got = await collect(
        dyte.livestreams.wait_until_live_many(
            [*(f"m{i}" for i in range(4)), "nope"], yield_errors=True
        )
    )
    assert isinstance(got[-1], NotFoundError)
    assert api.check_times("nope") == [0]  # the first round read the whole list: checked


async def test_an_old_errored_livestream_of_a_meeting_with_nothing_active_is_ignored(
    dyte: AsyncDyte, api: Api
):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (10, "LIVE"))
    api.plan("m1", (0, None), (10, "LIVE"))
    api.extra = [{"id": "old-ls-m1", "status": "ERRORED", "meeting_id": "m1"}]
    got = await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert len(got) == 5
    assert api.count("/meetings/m1/active-livestream") == 1  # confirmed once: stale
    assert api.count("/livestreams/") == 0


@pytest.mark.parametrize(
    ("status", "outcome"), [(503, "live"), (403, PermissionDeniedError)], ids=["503", "403"]
)
async def test_a_failed_errored_confirmation(dyte: AsyncDyte, api: Api, status: int, outcome: Any):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "INVOKED"), (5, "LIVE"))
    api.extra = [{"id": "old-ls-m1", "status": "ERRORED", "meeting_id": "m1"}]
    api.fault = lambda req, path: (
        error(status) if path == "/meetings/m1/active-livestream" and api.count(path) == 1 else None
    )
    if outcome == "live":  # transient: the next round confirms it again
        got = await collect(dyte.livestreams.wait_until_live_many(meetings))
        assert len(got) == 5
        assert api.count("/meetings/m1/active-livestream") >= 2
    else:
        with pytest.raises(outcome):
            await collect(dyte.livestreams.wait_until_live_many(meetings))
        assert poller(dyte).is_idle()


class FleetBacklog:
    """A fleet whose other processes have `others` meetings left to check."""

    def __init__(self, others: int) -> None:
        self.others = others
        self.reported: list[int] = []

    async def total(self, mine: int) -> int:
        self.reported.append(mine)
        return mine + self.others


@pytest.mark.parametrize(("others", "first_check", "per_round"), [(0, 0.0, 4), (10, 30.0, 2)])
async def test_list_mode_checks_go_by_the_fleets_backlog(
    dyte: AsyncDyte, api: Api, others: int, first_check: float, per_round: int
):
    """Four meetings to check are few for one process (4 a round): checked at once. In a
    fleet with 10 more elsewhere they are many: they wait for the grace, and this process
    checks its share of a round (4 x 4/14, rounded up: 2)."""
    poller(dyte).checks_per_round = 4
    backlog = FleetBacklog(others)
    poller(dyte).backlog = backlog
    meetings = ["m0", "m1", "u0", "u1"]
    api.unknown |= {"u0", "u1"}
    for m in meetings[:2]:
        api.plan(m, (0, "INVOKED"), (100, "LIVE"))
    got = await collect(dyte.livestreams.wait_until_live_many(meetings, yield_errors=True))
    assert sum(isinstance(x, NotFoundError) for x in got) == 2
    assert backlog.reported[0] == 4  # this process's count is what it tells the fleet
    times = [t - START for t, _ in api.check_log]
    assert min(times) == pytest.approx(first_check, abs=2.5)
    assert max(Counter(times).values()) == per_round
    assert Counter(m for _, m in api.check_log) == Counter(meetings)  # each once
