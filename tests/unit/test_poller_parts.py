"""The poller's parts seen from outside: status arguments, the reads of stopped and errored
livestreams, and the deadline heap's clean-up (memory stays bounded by the live waits).

Same scripted API as `test_poller` (`Api`), on the shared `router` and `clock`.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import respx

from dyte_async import (
    AsyncDyte,
    InvalidArgumentError,
    LivestreamErroredError,
    LivestreamStatus,
)
from dyte_async._poller import LIVE_ONLY, normalize_statuses
from dyte_async.testing import FakeClock
from tests.unit.test_poller import STOPPED, Api, elapsed, envelope, error, open_client, poller

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


async def test_finished_waits_do_not_pile_up_in_the_deadline_heap(
    clock: FakeClock, router: respx.MockRouter
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
            # The earliest deadline belongs to a wait that lasts: finished waits behind it
            # are not popped by `expire`, only by the clean-up.
            tg.start_soon(functools.partial(dyte.livestreams.wait_until_live, "held", timeout=50))
            await gate.entered.wait()
            for _ in range(300):
                await dyte.livestreams.wait_until_live("m1", timeout=100)
                sizes.append(len(heap))
            tg.cancel_scope.cancel()
        # At most 64 entries (the lasting wait and 63 stale ones) before the stale are dropped.
        assert max(sizes) == 64
        assert sizes[:63] == list(range(2, 65))
        assert sizes[63] == 1  # only the lasting wait is left
        assert elapsed(clock) == 0
