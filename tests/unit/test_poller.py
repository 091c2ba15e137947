"""The poller behind `wait_until_live`, `wait_for_status`, `watch` and `wait_until_live_many`.

Every test runs on a `FakeClock` (no real sleep) against respx, with answers computed from
per-meeting timelines read on that clock, on asyncio and on trio.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import itertools
import math
import random
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
import pytest
import respx
import sniffio

from dyte_async import (
    AsyncDyte,
    AuthenticationError,
    InternalServerError,
    InvalidArgumentError,
    Livestream,
    LivestreamErroredError,
    LivestreamStatus,
    NotFoundError,
    PermissionDeniedError,
    WaitTimeoutError,
)
from dyte_async._poller import Poller
from dyte_async.testing import FakeClock
from tests.unit.conftest import START

pytestmark = pytest.mark.anyio

STOPPED = "STOPPED"  # a timeline step: stopped (active read 404s, the livestream reads IDLE)

Step = tuple[float, str | None] | tuple[float, str | None, str]
Fault = Callable[[httpx.Request, str], "httpx.Response | Exception | None"]


def envelope(data: Any, paging: dict[str, int] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"success": True, "data": data}
    if paging is not None:
        body["paging"] = paging
    return httpx.Response(200, json=body)


def error(status: int, message: str = "nope", **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"success": False, "error": {"code": status, "message": message}},
        headers=headers,
    )


class Api:
    """A scripted Dyte: each meeting's livestream follows a timeline on the fake clock.

    `plan("m1", (0, None), (3, "INVOKED"), (5, "LIVE"))`: no active livestream until
    t=3, INVOKED until t=5, LIVE after (t counts from the clock's start). A step may name
    the livestream id (default `ls-<meeting>`); `STOPPED` means stopped (the active read
    404s, reads of the livestream say IDLE).

    Every meeting exists except those in `unknown`. The existence checks
    (`GET /meetings/{id}`) have a route of their own, `checks`, with their own log
    (`check_log`), fault (`check_fault`) and hook (`on_check`), so `log` holds the polls only.
    """

    def __init__(self, clock: FakeClock, router: respx.MockRouter) -> None:
        self.clock = clock
        self.plans: dict[str, list[tuple[float, str | None, str]]] = {}
        self.err_messages: dict[str, str] = {}
        self.extra: list[dict[str, Any]] = []  # other livestreams of the org
        self.unknown: set[str] = set()  # meetings that do not exist
        self.log: list[tuple[float, str, dict[str, str]]] = []
        self.fault: Fault | None = None
        self.on_request: Callable[[str], None] | None = None
        self.check_log: list[tuple[float, str]] = []
        self.check_fault: Fault | None = None
        self.on_check: Callable[[str], None] | None = None
        #: the paging numbers list answers carry (a server may leave some out)
        self.paging_keys = {"total_count", "start_offset", "end_offset"}
        #: a list answers this page for any later `page_no` (1: a server ignoring page_no)
        self.last_page: int | None = None
        self.checks = router.get(path__regex=r"^/meetings/[^/]+$").mock(
            side_effect=self.handle_check
        )
        router.route().mock(side_effect=self.handle)

    def plan(self, meeting_id: str, *steps: Step) -> None:
        out = []
        for step in steps:
            rest = step[2:]
            livestream_id = str(rest[0]) if rest else f"ls-{meeting_id}"
            out.append((START + step[0], step[1], livestream_id))
        self.plans[meeting_id] = out

    def state(self, meeting_id: str) -> tuple[str | None, str]:
        status: str | None = None
        livestream_id = f"ls-{meeting_id}"
        for at, value, lid in self.plans.get(meeting_id, []):
            if at <= self.clock.now():
                status, livestream_id = value, lid
        return status, livestream_id

    def livestream(self, meeting_id: str) -> dict[str, Any] | None:
        status, livestream_id = self.state(meeting_id)
        if status is None:
            return None
        return {
            "id": livestream_id,
            "status": "IDLE" if status == STOPPED else status,
            "meeting_id": meeting_id,
            "name": None,
            "playback_url": f"https://play.example/{livestream_id}.m3u8",
            "disabled": False,
        }

    def count(self, prefix: str = "") -> int:
        return sum(1 for _, path, _ in self.log if path.startswith(prefix))

    def times(self, prefix: str = "") -> list[float]:
        return [t - START for t, path, _ in self.log if path.startswith(prefix)]

    def checked(self, meeting_id: str | None = None) -> int:
        """How many existence checks arrived (of one meeting, when given)."""
        return sum(1 for _, m in self.check_log if meeting_id in (None, m))

    def check_times(self, meeting_id: str | None = None) -> list[float]:
        return [t - START for t, m in self.check_log if meeting_id in (None, m)]

    def handle_check(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path.removeprefix("/v2"))
        meeting_id = path.split("/")[2]
        self.check_log.append((self.clock.now(), meeting_id))
        if self.on_check is not None:
            self.on_check(meeting_id)
        if self.check_fault is not None:
            outcome = self.check_fault(request, path)
            if isinstance(outcome, Exception):
                raise outcome
            if outcome is not None:
                return outcome
        if meeting_id in self.unknown:
            return error(404, "No meeting found")
        return envelope({"id": meeting_id, "title": "m", "status": "ACTIVE"})

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path.removeprefix("/v2"))
        query = dict(request.url.params)
        self.log.append((self.clock.now(), path, query))
        if self.on_request is not None:
            self.on_request(path)
        if self.fault is not None:
            outcome = self.fault(request, path)
            if isinstance(outcome, Exception):
                raise outcome
            if outcome is not None:
                return outcome
        parts = path.strip("/").split("/")
        if parts[0] == "meetings" and parts[1] in self.unknown:
            return error(404, f"No meeting found for meeting_id {parts[1]}")
        if parts[0] == "meetings" and parts[2:] == ["active-livestream"]:
            status, _ = self.state(parts[1])
            if status is None or status == STOPPED:
                return error(404, f"No active livestream found for meeting_id {parts[1]}")
            return envelope(self.livestream(parts[1]))
        if parts[0] == "meetings" and parts[2:] == ["livestream"]:
            return envelope({"livestream": self.livestream(parts[1]), "sessions": []})
        if parts == ["livestreams"]:
            return self.list(query)
        if parts[0] == "livestreams" and len(parts) >= 2:
            for meeting_id in self.plans:
                found = self.livestream(meeting_id)
                if found is not None and found["id"] == parts[1]:
                    session = {
                        "id": "s-" + parts[1],
                        "livestream_id": parts[1],
                        "err_message": self.err_messages.get(parts[1]),
                    }
                    if parts[2:] == ["active-livestream-session"]:
                        return envelope({"livestream": found, "session": session})
                    return envelope({"livestream": found, "sessions": [session]})
            return error(404, "No livestream")
        return error(400, f"unexpected {path}")

    def list(self, query: dict[str, str]) -> httpx.Response:
        items = list(self.extra)  # the org's other livestreams first
        items += [x for x in (self.livestream(m) for m in self.plans) if x is not None]
        items = [x for x in items if x["status"] == query.get("status", x["status"])]
        per_page = int(query.get("per_page", "20"))
        page_no = int(query.get("page_no", "1"))
        if self.last_page is not None:
            page_no = min(page_no, self.last_page)
        start = (page_no - 1) * per_page
        page = items[start : start + per_page]
        paging = {
            "total_count": len(items),
            "start_offset": start + 1,
            "end_offset": start + len(page),
        }
        return envelope(page, {k: v for k, v in paging.items() if k in self.paging_keys})


@pytest.fixture
def api(clock: FakeClock, router: respx.MockRouter) -> Api:
    return Api(clock, router)


@contextlib.asynccontextmanager
async def open_client(clock: Any, router: respx.MockRouter) -> AsyncIterator[AsyncDyte]:
    """A client of the respx router on `clock`, without jitter (so times are exact)."""
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=None,
    )
    client.livestreams._poller.jitter = 0.0
    async with client:
        yield client


@pytest.fixture
async def dyte(clock: FakeClock, router: respx.MockRouter, api: Api) -> AsyncIterator[AsyncDyte]:
    async with open_client(clock, router) as client:
        yield client


def poller(dyte: AsyncDyte) -> Poller:
    return dyte.livestreams._poller


def elapsed(clock: FakeClock) -> float:
    return clock.now() - START


def task_count() -> int:
    """Tasks alive in this event loop (asyncio or trio)."""
    if sniffio.current_async_library() == "trio":
        import trio

        def walk(task: trio.lowlevel.Task) -> int:
            return 1 + sum(walk(t) for n in task.child_nurseries for t in n.child_tasks)

        root = trio.lowlevel.current_root_task()
        assert root is not None
        return walk(root)
    return len(asyncio.all_tasks())


# -- wait_until_live ------------------------------------------------------------------------


async def test_404_then_live_returns_the_live_livestream(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.plan("m1", (0, None), (3, "INVOKED"), (5, "LIVE"))
    ls = await dyte.livestreams.wait_until_live("m1")
    assert ls.status is LivestreamStatus.LIVE
    assert ls.meeting_id == "m1"
    assert ls.playback_url == "https://play.example/ls-m1.m3u8"
    # polls at 0 (404), 2 (404, unchanged: the interval grows to 2.5), 4.5 (INVOKED), 6.5
    assert api.times() == [0, 2, 4.5, 6.5]
    assert elapsed(clock) == 6.5
    assert api.check_times() == [0]  # the first 404 confirmed the meeting exists, once


@pytest.mark.parametrize("status", ["INVOKED", "OFFLINE", "IDLE", "STARTING"])
async def test_other_statuses_keep_waiting(dyte: AsyncDyte, api: Api, status: str):
    api.plan("m1", (0, status), (7, "LIVE"))
    ls = await dyte.livestreams.wait_until_live("m1", poll_interval=1)
    assert ls.is_live
    assert api.count("/meetings/m1/active-livestream") >= 5


async def test_live_already_returns_after_one_request(dyte: AsyncDyte, api: Api, clock: FakeClock):
    api.plan("m1", (0, "LIVE"))
    assert (await dyte.livestreams.wait_until_live("m1")).is_live
    assert api.count() == 1
    assert api.checks.call_count == 0  # seen with a livestream: it exists
    assert elapsed(clock) == 0


async def test_errored_raises_with_the_sessions_err_message(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (3, "ERRORED"))
    api.err_messages["ls-m1"] = "ingest failed: bad stream key"
    with pytest.raises(LivestreamErroredError) as info:
        await dyte.livestreams.wait_until_live("m1")
    assert info.value.err_message == "ingest failed: bad stream key"
    assert info.value.livestream is not None
    assert info.value.livestream.status is LivestreamStatus.ERRORED
    assert "ingest failed" in str(info.value)
    assert api.count("/livestreams/ls-m1/active-livestream-session") == 1


async def test_errored_message_failure_does_not_mask_the_error(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "ERRORED"))
    api.fault = lambda req, path: error(503) if path.startswith("/livestreams/") else None
    with pytest.raises(LivestreamErroredError) as info:
        await dyte.livestreams.wait_until_live("m1")
    assert info.value.err_message is None
    assert "errored" in str(info.value)


async def test_deadline_raises_wait_timeout_with_the_last_status(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.plan("m1", (0, "INVOKED"))
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_until_live("m1", timeout=10)
    assert isinstance(info.value, TimeoutError)
    assert info.value.last_status is LivestreamStatus.INVOKED
    assert info.value.pending == ("m1",)
    assert "INVOKED" in str(info.value)
    assert elapsed(clock) == 10  # on the injected clock, to the dot
    assert clock.slept[-1] < 4.0  # the last sleep stopped at the deadline


async def test_deadline_when_never_started(dyte: AsyncDyte, api: Api, clock: FakeClock):
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_until_live("m1", timeout=5)
    assert info.value.last_status is None
    assert "no active livestream" in str(info.value)
    assert elapsed(clock) == 5


async def test_transient_failures_do_not_end_the_wait(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (20, "LIVE"))
    kinds: Iterator[httpx.Response | Exception] = iter(
        [error(503), httpx.ConnectError("refused"), error(429, **{"Retry-After": "1"}), error(500)]
        * 100
    )

    def flaky(request: httpx.Request, path: str) -> httpx.Response | Exception | None:
        return next(kinds) if api.clock.now() - START < 15 else None

    api.fault = flaky
    ls = await dyte.livestreams.wait_until_live("m1", timeout=60)
    assert ls.is_live
    assert dyte.stats().retries > 0  # the client's middleware retried within the polls


async def test_timeout_after_transient_failures_names_the_cause(dyte: AsyncDyte, api: Api):
    api.fault = lambda req, path: error(503, "maintenance")
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_until_live("m1", timeout=30)
    assert isinstance(info.value.__cause__, InternalServerError)
    assert "maintenance" in str(info.value)


@pytest.mark.parametrize(
    ("status", "exc_type"), [(401, AuthenticationError), (403, PermissionDeniedError)]
)
async def test_non_transient_errors_end_the_wait(
    dyte: AsyncDyte, api: Api, status: int, exc_type: type[Exception]
):
    api.fault = lambda req, path: error(status)
    with pytest.raises(exc_type):
        await dyte.livestreams.wait_until_live("m1")
    assert api.count() == 1
    assert poller(dyte).is_idle()


async def test_invalid_arguments_send_nothing(dyte: AsyncDyte, api: Api):
    ls = dyte.livestreams
    with pytest.raises(InvalidArgumentError):
        await ls.wait_until_live("")
    with pytest.raises(InvalidArgumentError):
        await ls.wait_until_live("m1", timeout=0)
    with pytest.raises(InvalidArgumentError):
        await ls.wait_until_live("m1", poll_interval=0)
    with pytest.raises(InvalidArgumentError):
        await ls.wait_until_live("m1", poll_interval=math.inf)
    with pytest.raises(InvalidArgumentError):
        await ls.wait_for_status("m1", [])
    with pytest.raises(InvalidArgumentError):
        ls.watch("../x/..", poll_interval=-1)
    with pytest.raises(InvalidArgumentError):
        ls.wait_until_live_many(["m1", ""])
    assert api.count() == 0
    assert poller(dyte).is_idle()


# -- meetings that do not exist ---------------------------------------------------------------


async def _wait_kind(dyte: AsyncDyte, kind: str, meeting_id: str, **options: Any) -> Any:
    if kind == "wait_until_live":
        return await dyte.livestreams.wait_until_live(meeting_id, **options)
    if kind == "wait_for_status":
        return await dyte.livestreams.wait_for_status(meeting_id, ["IDLE", "LIVE"], **options)
    async for ls in dyte.livestreams.watch(meeting_id, **options):
        return ls
    raise AssertionError("the watch ended")


@pytest.mark.parametrize("kind", ["wait_until_live", "wait_for_status", "watch"])
async def test_an_unknown_meeting_fails_fast_with_not_found(
    dyte: AsyncDyte, api: Api, clock: FakeClock, kind: str
):
    api.unknown.add("no-such-meeting")
    with pytest.raises(NotFoundError) as info:
        await _wait_kind(dyte, kind, "no-such-meeting")
    assert info.value.status_code == 404
    assert "meeting no-such-meeting does not exist" in str(info.value)
    assert api.count() == 1  # one poll (404) ...
    assert api.checked("no-such-meeting") == 1  # ... and one check (404)
    assert elapsed(clock) == 0  # not a sleep towards the 300 s deadline
    assert clock.slept == []
    assert poller(dyte).is_idle()


def slowly(handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    """An async respx side effect: `handler`, answering after a few checkpoints."""

    async def respond(request: httpx.Request) -> httpx.Response:
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        return handler(request)

    return respond


async def test_concurrent_waits_on_an_unknown_meeting_share_one_check(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.unknown.add("nope")
    api.checks.side_effect = slowly(api.handle_check)  # the others join while it is asked
    outcomes: list[BaseException] = []

    async def wait(kind: str) -> None:
        with pytest.raises(NotFoundError) as info:
            await _wait_kind(dyte, kind, "nope")
        outcomes.append(info.value)

    async with anyio.create_task_group() as tg:
        for i in range(30):
            tg.start_soon(wait, ("wait_until_live", "wait_for_status", "watch")[i % 3])
    assert len(outcomes) == 30
    assert api.count() == 1
    assert api.checks.call_count == 1
    assert elapsed(clock) == 0
    assert poller(dyte).is_idle()


async def test_a_meeting_without_a_livestream_yet_is_checked_once(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.plan("m1", (0, None), (40, "LIVE"))
    results: list[Livestream] = []

    async def wait(delay: float) -> None:
        await clock.sleep(delay)
        results.append(await dyte.livestreams.wait_until_live("m1", poll_interval=1))

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(wait, (i % 5) * 3.0)  # some join while the poll is under way
    assert len(results) == 50
    assert all(r.is_live for r in results)
    assert api.count("/meetings/m1/active-livestream") >= 15  # many polls saw 404 ...
    assert api.checks.call_count == 1  # ... one check across all of them and all waiters
    assert poller(dyte).is_idle()


async def test_a_known_meeting_is_not_checked_again_by_later_waits(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    for _ in range(3):  # never started: every wait times out, with one check in all
        with pytest.raises(WaitTimeoutError) as info:
            await dyte.livestreams.wait_until_live("m1", timeout=5)
        assert "no active livestream" in str(info.value)
    assert api.checked("m1") == 1
    # A meeting seen with a livestream exists: no check even when it stops.
    api.plan("m2", (0, "LIVE"), (20, STOPPED))
    await dyte.livestreams.wait_until_live("m2")
    await dyte.livestreams.wait_for_status("m2", "IDLE")
    assert api.checked("m2") == 0


async def test_the_remembered_meetings_are_bounded(dyte: AsyncDyte, api: Api):
    poller(dyte).existence.limit = 2
    for m in ("m1", "m2", "m1", "m3", "m1", "m2"):
        with pytest.raises(WaitTimeoutError):
            await dyte.livestreams.wait_until_live(m, timeout=1)
    # m3 made room by forgetting m2, the least recently waited on, so m2 was checked again
    assert [m for _, m in api.check_log] == ["m1", "m2", "m3", "m2"]
    # Remembered now: m1, then m2 (the most recent). m3 is checked and makes room by
    # forgetting m1; m2 is still known; m1 is checked again.
    for m in ("m3", "m2", "m1"):
        with pytest.raises(WaitTimeoutError):
            await dyte.livestreams.wait_until_live(m, timeout=1)
    assert [m for _, m in api.check_log][4:] == ["m3", "m1"]


@pytest.mark.parametrize(
    "failure",
    [error(503, "maintenance"), httpx.ConnectError("refused"), error(429, **{"Retry-After": "1"})],
    ids=["503", "connect", "429"],
)
async def test_a_transient_failure_of_the_check_is_retried_at_a_later_poll(
    dyte: AsyncDyte, api: Api, clock: FakeClock, failure: httpx.Response | Exception
):
    api.unknown.add("nope")
    api.check_fault = lambda req, path: failure if elapsed(clock) < 10 else None
    with pytest.raises(NotFoundError):
        await dyte.livestreams.wait_until_live("nope", timeout=60)
    polls = api.times()
    assert len([t for t in polls if t < 10]) >= 2  # kept waiting, polling, ...
    assert all(any(p <= c for p in polls) for c in api.check_times())
    assert api.check_times()[-1] >= 10  # ... and checking again until it got an answer
    assert elapsed(clock) < 20
    assert poller(dyte).is_idle()


async def test_an_existing_meeting_whose_check_failed_is_checked_until_confirmed(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.plan("m1", (0, None), (30, "LIVE"))
    api.check_fault = lambda req, path: error(502) if elapsed(clock) < 10 else None
    assert (await dyte.livestreams.wait_until_live("m1", timeout=60)).is_live
    assert len([t for t in api.check_times() if t >= 10]) == 1  # confirmed, then no more


async def test_a_check_failing_until_the_deadline_times_out_on_time(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    api.check_fault = lambda req, path: error(503, "maintenance")
    with pytest.raises(WaitTimeoutError) as info:
        await dyte.livestreams.wait_until_live("m1", timeout=8)
    assert elapsed(clock) == 8
    assert isinstance(info.value.__cause__, InternalServerError)
    assert "maintenance" in str(info.value)


@pytest.mark.parametrize(
    ("status", "exc_type"), [(401, AuthenticationError), (403, PermissionDeniedError)]
)
async def test_a_check_refused_for_good_ends_the_wait(
    dyte: AsyncDyte, api: Api, status: int, exc_type: type[Exception]
):
    api.check_fault = lambda req, path: error(status)
    with pytest.raises(exc_type):
        await dyte.livestreams.wait_until_live("m1")
    assert api.count() == 1
    assert api.checks.call_count == 1
    assert poller(dyte).is_idle()


async def test_cancelled_during_the_check_leaves_nothing_behind(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, None), (5, "LIVE"))
    before = task_count()
    hung: list[float] = []
    with anyio.CancelScope() as scope:

        async def hang(request: httpx.Request) -> httpx.Response:
            hung.append(elapsed(api.clock))
            scope.cancel()
            await anyio.sleep_forever()
            raise AssertionError("not reached")

        api.checks.side_effect = hang
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(dyte.livestreams.wait_until_live, "m1")
    assert scope.cancelled_caught
    p = poller(dyte)
    assert p.is_idle()
    assert task_count() == before
    # Not answered (no check is left in flight): the next wait checks again.
    api.checks.side_effect = api.handle_check
    assert (await dyte.livestreams.wait_until_live("m1")).is_live
    assert hung == [0]
    assert api.check_times() == [0]


# -- timing ---------------------------------------------------------------------------------


async def test_interval_backs_off_gently_and_resets_on_change(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (20, "OFFLINE"), (40, "LIVE"))
    await dyte.livestreams.wait_until_live("m1")
    times = api.times()
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(times)]
    # 2, then x1.25 per unchanged poll up to 2x; back to 2 after the change at t=20
    assert gaps[:6] == [2.0, 2.5, 3.125, 3.90625, 4.0, 4.0]
    change = next(i for i, t in enumerate(times) if t >= 20)
    assert gaps[change] == 2.0
    assert max(gaps) == 4.0


async def test_a_change_is_seen_within_one_current_interval(
    dyte: AsyncDyte, api: Api, clock: FakeClock
):
    for live_at in (0.5, 3.3, 9.99, 31.0):
        api.plan("m1", (0, "INVOKED"), (live_at, "LIVE"))
        started = elapsed(clock)
        api.log.clear()
        await dyte.livestreams.wait_until_live("m1", poll_interval=2)
        times = api.times()
        gap_before = times[-1] - times[-2]
        assert times[-1] - (started + live_at) <= gap_before <= 4.0
        api.plans.clear()


async def test_jitter_only_shortens_the_interval(dyte: AsyncDyte, api: Api):
    p = poller(dyte)
    p.jitter = 0.1
    p.backoff = 1.0
    p.rand = random.Random(7).random
    api.plan("m1", (0, "INVOKED"), (60, "LIVE"))
    await dyte.livestreams.wait_until_live("m1", poll_interval=2)
    times = api.times()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(1.8 <= g <= 2.0 for g in gaps)
    assert len(set(gaps)) > 5  # actually spread


# -- wait_for_status --------------------------------------------------------------------------


async def test_wait_for_status_sees_a_stop_take_effect(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "LIVE"), (5, STOPPED))
    ls = await dyte.livestreams.wait_for_status("m1", "IDLE")
    assert ls.status is LivestreamStatus.IDLE
    assert ls.id == "ls-m1"
    assert api.count("/livestreams/ls-m1") == 1  # the stopped livestream read once


async def test_wait_for_status_after_stop_without_seeing_it_live(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, STOPPED))
    ls = await dyte.livestreams.wait_for_status("m1", ["IDLE", "OFFLINE"])
    assert ls.status is LivestreamStatus.IDLE
    assert api.count("/meetings/m1/livestream") == 1


async def test_wait_for_status_returns_errored_when_asked(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (4, "ERRORED"))
    ls = await dyte.livestreams.wait_for_status("m1", {LivestreamStatus.ERRORED, "LIVE"})
    assert ls.status is LivestreamStatus.ERRORED


async def test_wait_for_status_raises_on_errored_otherwise(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "LIVE"), (4, "ERRORED"))
    with pytest.raises(LivestreamErroredError):
        await dyte.livestreams.wait_for_status("m1", "OFFLINE")


async def test_wait_for_status_accepts_unknown_statuses(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (3, "STARTING"))
    ls = await dyte.livestreams.wait_for_status("m1", "starting")
    assert ls.status == "STARTING"


# -- watch --------------------------------------------------------------------------------------


async def test_watch_yields_each_change_through_flapping(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, None), (2, "INVOKED"), (5, "LIVE"), (11, "OFFLINE"), (17, "LIVE"))
    seen = []
    async with dyte.livestreams.watch("m1", poll_interval=1) as watch:
        async for ls in watch:
            seen.append(str(ls.status))
            if len(seen) == 4:
                break
    assert seen == ["INVOKED", "LIVE", "OFFLINE", "LIVE"]
    assert poller(dyte).is_idle()


async def test_watch_yields_errored_and_the_stopped_livestream(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "LIVE"), (3, "ERRORED"), (6, STOPPED), (9, "LIVE", "ls-new"))
    seen = []
    async for ls in dyte.livestreams.watch("m1"):
        seen.append((ls.id, str(ls.status)))
        if len(seen) == 4:
            break
    assert seen == [
        ("ls-m1", "LIVE"),
        ("ls-m1", "ERRORED"),
        ("ls-m1", "IDLE"),
        ("ls-new", "LIVE"),
    ]


async def test_watch_raises_a_non_transient_error(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "LIVE"))
    watch = dyte.livestreams.watch("m1")
    assert (await watch.__anext__()).is_live
    api.fault = lambda req, path: error(403)
    with pytest.raises(PermissionDeniedError):
        await watch.__anext__()
    with pytest.raises(StopAsyncIteration):
        await watch.__anext__()
    assert poller(dyte).is_idle()


async def test_a_dropped_watch_leaves_nothing_registered(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "LIVE"))
    async for _ in dyte.livestreams.watch("m1"):
        break
    gc.collect()
    assert poller(dyte).is_idle()


# -- coalescing -----------------------------------------------------------------------------


async def test_100_waits_on_one_meeting_share_one_request_per_interval(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, None), (7, "INVOKED"), (15, "LIVE"))
    results: list[Livestream] = []

    async def wait() -> None:
        results.append(await dyte.livestreams.wait_until_live("m1"))

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(wait)
    assert len(results) == 100
    assert all(r.is_live for r in results)
    times = api.times()
    assert len(times) == len(set(times))  # one request per poll time
    assert all(b - a >= 2.0 for a, b in itertools.pairwise(times))
    assert len(times) <= 8
    assert api.checks.call_count == 1  # plus one existence check in all
    assert poller(dyte).is_idle()


async def test_a_wait_joining_late_shares_the_running_poll(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (30, "LIVE"))
    results: list[float] = []

    async def wait(delay: float) -> None:
        await api.clock.sleep(delay)
        await dyte.livestreams.wait_until_live("m1")
        results.append(elapsed(api.clock))

    async with anyio.create_task_group() as tg:
        for delay in (0, 5, 11, 12.5, 20):
            tg.start_soon(wait, delay)
    assert len(results) == 5
    times = api.times()
    assert all(b - a >= 2.0 for a, b in itertools.pairwise(times))


async def test_a_shorter_poll_interval_joining_brings_the_poll_forward(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (30, "LIVE"))

    async def late_fast_waiter() -> None:
        await api.clock.sleep(9)
        await dyte.livestreams.wait_until_live("m1", poll_interval=0.5)

    async with anyio.create_task_group() as tg:
        tg.start_soon(dyte.livestreams.wait_until_live, "m1")
        tg.start_soon(late_fast_waiter)
    times = api.times()
    late = [b - a for a, b in itertools.pairwise(times) if a >= 12]
    assert late
    assert max(late) <= 1.0


async def test_waits_on_different_meetings_switch_to_the_list(dyte: AsyncDyte, api: Api):
    rng = random.Random(1)
    meetings = [f"m{i}" for i in range(40)]
    for m in meetings:
        api.plan(m, (0, None), (1, "INVOKED"), (rng.uniform(2, 30), "LIVE"))
    done: list[str] = []

    async def wait(m: str) -> None:
        ls = await dyte.livestreams.wait_until_live(m)
        assert ls.meeting_id == m
        assert ls.is_live
        done.append(m)

    async with anyio.create_task_group() as tg:
        for m in meetings:
            tg.start_soon(wait, m)
    assert sorted(done) == sorted(meetings)
    per_meeting = api.count("/meetings/")
    listing = api.count("/livestreams")
    assert per_meeting <= 2 * 4  # before the list took over, and after it handed back
    assert per_meeting + listing < 40
    assert poller(dyte).is_idle()
    assert not poller(dyte).list_mode


async def test_driver_cancelled_another_waiter_takes_over(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (20, "LIVE"))
    results: list[Livestream] = []

    async def wait() -> None:
        results.append(await dyte.livestreams.wait_until_live("m1"))

    first = anyio.CancelScope()
    api.on_request = lambda path: first.cancel() if api.count() == 3 else None
    async with anyio.create_task_group() as tg:
        tg.start_soon(_in_scope, first, dyte.livestreams.wait_until_live, "m1")
        await anyio.lowlevel.checkpoint()  # the first wait drives the poll
        tg.start_soon(wait)
    assert first.cancelled_caught
    assert len(results) == 1
    assert results[0].is_live
    times = api.times()
    assert all(b - a >= 2.0 for a, b in itertools.pairwise(times))


async def _in_scope(scope: anyio.CancelScope, fn: Callable[..., Any], *args: Any) -> None:
    with scope:
        await fn(*args)


async def test_a_short_deadline_among_long_ones_is_exact(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (30, "LIVE"))
    outcome: dict[str, float] = {}

    async def short() -> None:
        with pytest.raises(WaitTimeoutError):
            await dyte.livestreams.wait_until_live("m1", timeout=5)
        outcome["short"] = elapsed(api.clock)

    async def long() -> None:
        await dyte.livestreams.wait_until_live("m1", timeout=100)
        outcome["long"] = elapsed(api.clock)

    async with anyio.create_task_group() as tg:
        tg.start_soon(long)
        tg.start_soon(short)
    # The short wait ends at its deadline, before the next poll; on trio another task may
    # move the fake clock on before the woken task runs, so only asyncio reads exactly 5.
    next_poll = min(t for t in api.times() if t > 5)
    assert 5 <= outcome["short"] <= next_poll
    if sniffio.current_async_library() == "asyncio":
        assert outcome["short"] == 5
    assert 30 <= outcome["long"] <= 34


# -- cancellation ---------------------------------------------------------------------------


@pytest.mark.parametrize("cancel_at_request", [1, 2, 3, 5, 8])
async def test_cancellation_at_any_point_leaves_nothing_behind(
    dyte: AsyncDyte, api: Api, cancel_at_request: int
):
    for i in range(8):
        api.plan(f"m{i}", (0, None), (3, "INVOKED"), (50, "LIVE"))
    before = task_count()
    with anyio.CancelScope() as scope:
        api.on_request = lambda path: scope.cancel() if api.count() == cancel_at_request else None
        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(dyte.livestreams.wait_until_live, f"m{i % 5}")
            tg.start_soon(dyte.livestreams.wait_for_status, "m6", "IDLE")
            tg.start_soon(_drain, dyte.livestreams.watch("m7"))
            tg.start_soon(_drain, dyte.livestreams.wait_until_live_many(["m0", "m6", "m7"]))
    assert scope.cancelled_caught
    gc.collect()
    assert poller(dyte).is_idle()
    assert task_count() == before
    # and the poller still works afterwards
    api.on_request = None
    api.plan("m9", (0, "LIVE"))
    assert (await dyte.livestreams.wait_until_live("m9")).is_live


async def _drain(iterator: Any) -> None:
    async for _ in iterator:
        pass


async def test_a_cancelled_watch_can_resume(dyte: AsyncDyte, api: Api):
    api.plan("m1", (0, "INVOKED"), (5, "LIVE"))
    watch = dyte.livestreams.watch("m1")
    assert (await watch.__anext__()).status == "INVOKED"
    with anyio.move_on_after(0):
        await watch.__anext__()
    assert poller(dyte).is_idle()
    assert (await watch.__anext__()).status == "LIVE"
    await watch.aclose()
    assert poller(dyte).is_idle()


# -- the webhook hook -------------------------------------------------------------------------


class HeldClock(FakeClock):
    """The library's `FakeClock`, except that a sleep lasts until the test moves time past
    its end (`FakeClock.sleep` moves time itself, so a poll could never be caught asleep).
    """

    def __init__(self) -> None:
        super().__init__(START)
        self._moved = anyio.Event()

    async def sleep(self, seconds: float) -> None:
        end = self.now() + max(0.0, seconds)
        await anyio.lowlevel.checkpoint()
        while self.now() < end:
            await self._moved.wait()

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        self._moved.set()
        self._moved = anyio.Event()


async def test_wake_makes_a_sleeping_poll_happen_now(router: respx.MockRouter):
    clock = HeldClock()
    api = Api(clock, router)
    api.plan("m1", (0, "INVOKED"))
    async with open_client(clock, router) as dyte:
        p = poller(dyte)
        async with anyio.create_task_group() as tg:
            tg.start_soon(dyte.livestreams.wait_until_live, "m1")
            await _settle()
            assert api.times() == [0]
            clock.advance(0.5)
            await _settle()
            api.plan("m1", (0, "LIVE"))
            p.wake(livestream_id="ls-m1")  # what a webhook will do
            await _settle()
        assert api.times() == [0, 0.5]


async def test_notify_with_a_webhook_event_ends_a_long_interval_at_once(
    router: respx.MockRouter,
):
    from dyte_async.webhooks import GenericEvent, LivestreamStatusUpdate, WebhookMeeting

    clock = HeldClock()
    api = Api(clock, router)
    api.plan("m1", (0, "INVOKED"))
    api.plan("m2", (0, "INVOKED"))
    async with open_client(clock, router) as dyte, anyio.create_task_group() as tg:
        tg.start_soon(functools.partial(dyte.livestreams.wait_until_live, "m1", poll_interval=60))
        await _settle()
        assert api.times() == [0]
        clock.advance(1)
        await _settle()
        # An event for a meeting nobody waits on, and another kind of event: no poll.
        dyte.livestreams.notify(
            LivestreamStatusUpdate(
                event="livestreaming.statusUpdate",
                stream_id="ls-zz",
                status=LivestreamStatus.LIVE,
                meeting=WebhookMeeting(id="zz"),
            )
        )
        dyte.livestreams.notify(GenericEvent(event="meeting.started"))
        await _settle()
        assert api.times() == [0]
        api.plan("m1", (0, "LIVE"))
        dyte.livestreams.notify(
            LivestreamStatusUpdate(
                event="livestreaming.statusUpdate", stream_id="ls-m1", status=LivestreamStatus.LIVE
            )
        )
        await _settle()
    assert api.times() == [0, 1]


async def _settle() -> None:
    for _ in range(50):
        await anyio.lowlevel.checkpoint()
