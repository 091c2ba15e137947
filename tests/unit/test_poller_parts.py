"""The poller's parts seen from outside: status arguments, the reads of stopped and errored
livestreams, and the deadline heap's clean-up (memory stays bounded by the live waits).

Same scripted API as `test_poller` (`Api`), on the shared `router` and `clock`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
import pytest
import respx

from dyte_async import (
    AsyncDyte,
    InvalidArgumentError,
    LivestreamErroredError,
    LivestreamStatus,
    NotFoundError,
)
from dyte_async._poller import LIVE_ONLY, normalize_statuses
from dyte_async.testing import FakeClock
from tests.unit.test_poller import (
    STOPPED,
    Api,
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


# -- status arguments -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", 5, None])
def test_a_status_must_be_a_non_empty_string(bad: Any):
    with pytest.raises(InvalidArgumentError, match="a status must be a non-empty string, got"):
        normalize_statuses(["LIVE", bad])


def test_no_status_at_all_is_refused_with_a_clear_message():
    with pytest.raises(InvalidArgumentError, match=r"^wait_for_status needs at least one status$"):
        normalize_statuses([])


def test_statuses_are_read_case_insensitively():
    assert normalize_statuses("live") == LIVE_ONLY
    assert normalize_statuses(["idle", LivestreamStatus.LIVE]) == {
        LivestreamStatus.IDLE,
        LivestreamStatus.LIVE,
    }


# -- reading a stopped livestream -------------------------------------------------------------


async def test_a_stopped_livestream_seen_before_is_read_by_id_with_one_item(
    dyte: AsyncDyte, api: Api
):
    api.plan("m1", (0, "LIVE"), (5, STOPPED))
    await dyte.livestreams.wait_for_status("m1", "IDLE")
    reads = [(path, query) for _, path, query in api.log if path == "/livestreams/ls-m1"]
    assert reads == [("/livestreams/ls-m1", {"per_page": "1"})]


async def test_a_stopped_livestream_never_seen_is_read_from_the_meeting_with_one_item(
    dyte: AsyncDyte, api: Api
):
    api.plan("m1", (0, STOPPED))
    await dyte.livestreams.wait_for_status("m1", "IDLE")
    reads = [(path, query) for _, path, query in api.log if path == "/meetings/m1/livestream"]
    assert reads == [("/meetings/m1/livestream", {"per_page": "1"})]


def _without_meeting_id(livestream: dict[str, Any] | None) -> dict[str, Any]:
    assert livestream is not None
    return {k: v for k, v in livestream.items() if k != "meeting_id"}


async def test_a_stopped_livestream_read_by_id_names_its_meeting(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "LIVE"), (5, STOPPED))

    def answer(request: httpx.Request, path: str) -> httpx.Response | None:
        if path == "/livestreams/ls-m1":
            found = _without_meeting_id(api.livestream("m1"))
            return envelope({"livestream": found, "sessions": []})
        return None

    api.fault = answer
    ls = await dyte.livestreams.wait_for_status("m1", "IDLE")
    assert ls.meeting_id == "m1"


async def test_the_meetings_latest_livestream_names_its_meeting(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, STOPPED))

    def answer(request: httpx.Request, path: str) -> httpx.Response | None:
        if path == "/meetings/m1/livestream":
            found = _without_meeting_id(api.livestream("m1"))
            return envelope({"livestream": found, "sessions": []})
        return None

    api.fault = answer
    ls = await dyte.livestreams.wait_for_status("m1", "IDLE")
    assert ls.meeting_id == "m1"
    assert ls.id == "ls-m1"


async def test_a_meeting_that_never_streamed_keeps_the_wait_going(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.plan("m1", (0, None), (10, "LIVE"), (20, STOPPED))
    ls = await dyte.livestreams.wait_for_status("m1", "IDLE", poll_interval=1)
    assert ls.status is LivestreamStatus.IDLE
    assert elapsed(clock) >= 20


# -- the error message of an errored livestream ----------------------------------------------


async def test_the_error_message_falls_back_to_the_livestreams_sessions(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "ERRORED"))
    api.err_messages["ls-m1"] = "ingest failed"

    def no_session(request: httpx.Request, path: str) -> httpx.Response | None:
        if path.endswith("/active-livestream-session"):
            return error(404, "No active session")
        return None

    api.fault = no_session
    with pytest.raises(LivestreamErroredError) as info:
        await dyte.livestreams.wait_until_live("m1")
    assert info.value.err_message == "ingest failed"
    assert api.count("/livestreams/ls-m1/active-livestream-session") == 1
    assert api.count("/livestreams/ls-m1") == 2  # the session, then the livestream


# -- the deadline heap ------------------------------------------------------------------------


class Gate:
    """A poll that hangs until cancelled (so its wait stays, with the earliest deadline)."""

    def __init__(self) -> None:
        self.entered: anyio.Event | None = None

    async def respond(self, request: httpx.Request) -> httpx.Response:
        assert self.entered is not None
        self.entered.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


def expected_heap_sizes(lasting: int, finished: int) -> list[int]:
    """The heap's length after each of `finished` waits ends behind `lasting` live ones.

    Entries of finished waits are dropped when the heap holds more than 64 entries and
    more than twice as many as there are live waits.
    """
    sizes, n = [], lasting
    for _ in range(finished):
        n += 1
        if n > max(64, 2 * lasting):
            n = lasting
        sizes.append(n)
    return sizes


@pytest.mark.parametrize("lasting", [1, 40])
async def test_finished_waits_do_not_pile_up_in_the_deadline_heap(
    clock: FakeClock, router: respx.MockRouter, lasting: int
):
    gate = Gate()
    router.get("/meetings/held/active-livestream").mock(side_effect=gate.respond)
    api = Api(clock, router)
    api.plan("m1", (0, "LIVE"))
    async with open_client(clock, router) as dyte:
        gate.entered = anyio.Event()
        heap = poller(dyte).deadlines._heap  # private: memory is the point here
        sizes = []
        async with anyio.create_task_group() as tg:
            # The earliest deadlines belong to waits that last (sharing one hung poll):
            # finished waits behind them are not popped by `expire`, only by the clean-up.
            for _ in range(lasting):
                tg.start_soon(
                    functools.partial(dyte.livestreams.wait_until_live, "held", timeout=50)
                )
            await gate.entered.wait()
            await _settle()
            for _ in range(200):
                await dyte.livestreams.wait_until_live("m1", timeout=100)
                sizes.append(len(heap))
            tg.cancel_scope.cancel()
        assert sizes == expected_heap_sizes(lasting, 200)
        assert elapsed(clock) == 0


# -- meetings that errored or do not exist, in one error --------------------------------------


async def collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


async def test_several_errored_meetings_raise_the_first_ones_livestream_and_message(
    dyte: AsyncDyte, api: Api
):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "LIVE"))
    api.plan("m1", (0, "ERRORED"))
    api.plan("m2", (0, "INVOKED"), (6, "ERRORED"))
    api.err_messages["ls-m1"] = "first failure"
    api.err_messages["ls-m2"] = "second failure"
    with pytest.raises(LivestreamErroredError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings))
    message = str(info.value)
    assert message.startswith("2 livestreams errored: ")
    assert "first failure; " in message
    assert message.endswith("second failure")
    assert info.value.livestream is not None
    assert info.value.livestream.meeting_id == "m1"
    assert info.value.err_message == "first failure"


def _no_meeting(request: httpx.Request, path: str) -> httpx.Response | None:
    if path == "/meetings/nope":
        return error(404, "No meeting found", **{"x-request-id": "req-42"})
    return None


async def test_a_meeting_that_does_not_exist_keeps_the_answers_details(dyte: AsyncDyte, api: Api):
    api.check_fault = _no_meeting
    with pytest.raises(NotFoundError) as info:
        await dyte.livestreams.wait_until_live("nope")
    _assert_details_of_the_check(info.value)
    assert str(info.value).startswith("404: meeting nope does not exist (")


async def test_an_unknown_and_an_errored_meeting_keep_the_checks_details(dyte: AsyncDyte, api: Api):
    api.check_fault = _no_meeting
    api.plan("m1", (0, "INVOKED"), (3, "ERRORED"))
    api.plan("m2", (0, "INVOKED"), (5, "LIVE"))
    with pytest.raises(NotFoundError) as info:
        await collect(dyte.livestreams.wait_until_live_many(["m1", "nope", "m2"]))
    _assert_details_of_the_check(info.value)
    assert info.value.message.endswith("; also 1 livestream(s) errored")
    assert isinstance(info.value.__cause__, LivestreamErroredError)


def _assert_details_of_the_check(exc: NotFoundError) -> None:
    assert exc.status_code == 404
    assert exc.code == 404
    assert exc.request_id == "req-42"
    assert exc.headers is not None
    assert exc.headers["x-request-id"] == "req-42"
    assert exc.body == {"success": False, "error": {"code": 404, "message": "No meeting found"}}
    assert exc.method == "GET"
    assert exc.url.endswith("/meetings/nope")


async def test_a_meeting_that_does_not_exist_is_logged(
    dyte: AsyncDyte, api: Api, caplog: pytest.LogCaptureFixture
):
    api.unknown.add("nope")
    with caplog.at_level(logging.INFO, logger="dyte_async"), pytest.raises(NotFoundError):
        await dyte.livestreams.wait_until_live("nope")
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("meeting nope does not exist: ") for m in messages), messages


@pytest.mark.parametrize(("unknown", "shown"), [(10, False), (11, True)])
async def test_many_unknown_meetings_are_named_ten_at_most(
    dyte: AsyncDyte, api: Api, unknown: int, shown: bool
):
    meetings = [f"q{i:02}" for i in range(unknown)]
    api.unknown |= set(meetings)
    with pytest.raises(NotFoundError) as info:
        await collect(dyte.livestreams.wait_until_live_many(meetings))
    message = str(info.value)
    assert f"{unknown} meetings do not exist: " in message
    assert (f", ... ({unknown} in all)" in message) is shown
    assert re.findall(r"\bq\d\d\b", message) == meetings[:10]


# -- the requests and the shapes of their answers ---------------------------------------------


async def test_every_read_of_the_waits_is_a_get(
    dyte: AsyncDyte, api: Api, router: respx.MockRouter
):
    many = [f"m{i}" for i in range(6)]  # more than LIST_THRESHOLD: the list is read
    for m in many:
        api.plan(m, (0, "INVOKED"), (3, "LIVE"))
    api.plan("m5", (0, "INVOKED"), (2, "ERRORED"))
    api.plan("s1", (0, None), (20, "LIVE"), (30, STOPPED))
    api.plan("s2", (0, STOPPED))
    await collect(dyte.livestreams.wait_until_live_many(many, yield_errors=True))
    await dyte.livestreams.wait_for_status("s1", "IDLE")
    await dyte.livestreams.wait_for_status("s2", "IDLE")
    paths = {unquote(call.request.url.path) for call in router.calls}
    assert {"/v2/livestreams", "/v2/meetings/s1", "/v2/livestreams/ls-s1"} <= paths
    assert {
        "/v2/meetings/s2/livestream",
        "/v2/livestreams/ls-m5/active-livestream-session",
    } <= paths
    assert {call.request.method for call in router.calls} == {"GET"}


async def test_an_active_livestream_without_its_meeting_names_it(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "LIVE"))

    def answer(request: httpx.Request, path: str) -> httpx.Response | None:
        if path == "/meetings/m1/active-livestream":
            return envelope(_without_meeting_id(api.livestream("m1")))
        return None

    api.fault = answer
    ls = await dyte.livestreams.wait_until_live("m1")
    assert ls.meeting_id == "m1"


async def test_the_list_is_read_under_its_livestreams_key(dyte: AsyncDyte, api: Api):
    meetings = [f"m{i}" for i in range(5)]
    for m in meetings:
        api.plan(m, (0, "LIVE"))

    def wrapped(request: httpx.Request, path: str) -> httpx.Response | None:
        if path != "/livestreams":
            return None
        api.fault = None
        plain = api.list(dict(request.url.params))
        api.fault = wrapped
        body = plain.json()
        return envelope({"livestreams": body["data"]}, body.get("paging"))

    api.fault = wrapped
    got = await collect(dyte.livestreams.wait_until_live_many(meetings))
    assert sorted(ls.meeting_id for ls in got) == meetings
    assert api.count("/meetings/") == 0  # all found in the list: no per-meeting read


async def test_the_newest_of_a_meetings_livestreams_is_the_latest(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, STOPPED))

    def livestream(number: int, created_at: str) -> dict[str, Any]:
        return {
            "id": f"ls-{number}",
            "status": "IDLE",
            "meeting_id": "m1",
            "created_at": created_at,
        }

    def history(request: httpx.Request, path: str) -> httpx.Response | None:
        if path == "/meetings/m1/livestream":
            items = [
                livestream(1, "2024-01-01T00:00:00Z"),
                livestream(3, "2024-03-01T00:00:00Z"),
                livestream(2, "2024-02-01T00:00:00Z"),
            ]
            return envelope({"livestreams": items, "sessions": []})
        return None

    api.fault = history
    ls = await dyte.livestreams.wait_for_status("m1", "IDLE")
    assert ls.id == "ls-3"


@pytest.mark.parametrize("timeout", [0, -1, True, "5"])
async def test_a_timeout_must_be_a_positive_number(dyte: AsyncDyte, api: Api, timeout: Any):
    with pytest.raises(
        InvalidArgumentError, match="timeout must be a positive number or None, got"
    ):
        await dyte.livestreams.wait_until_live("m1", timeout=timeout)
    assert api.count() == 0


@pytest.mark.parametrize("interval", [0, True, float("nan")])
async def test_a_poll_interval_must_be_a_positive_finite_number(
    dyte: AsyncDyte, api: Api, interval: Any
):
    with pytest.raises(
        InvalidArgumentError, match="poll_interval must be a positive finite number"
    ):
        await dyte.livestreams.wait_until_live("m1", poll_interval=interval)
    assert api.count() == 0
