"""The waits against FakeDyte over a real socket on 127.0.0.1, on the real clock."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from dyte_async import (
    AsyncDyte,
    Livestream,
    LivestreamErroredError,
    LivestreamStatus,
    NotFoundError,
    WaitTimeoutError,
)
from dyte_async.testing import FakeClock, FakeDyte

pytestmark = pytest.mark.anyio

LIST = "GET /livestreams"
ACTIVE = "GET /meetings/{meeting_id}/active-livestream"
MEETING = "GET /meetings/{meeting_id}"


@contextlib.asynccontextmanager
async def served(fake: FakeDyte, **options: Any) -> AsyncIterator[AsyncDyte]:
    async with fake.serve() as base_url:
        options = {"org_id": fake.org_id, "api_key": fake.api_key, "rate_limit": None, **options}
        async with AsyncDyte(base_url=base_url, **options) as dyte:
            yield dyte


@pytest.fixture
def fake() -> FakeDyte:
    # Statuses change only through `fake.set_status` (or the fake's timers where a test sets them).
    return FakeDyte(go_live_after=None, offline_after=None, rate_limit=None, seed=5)


def started_meetings(fake: FakeDyte, n: int) -> list[str]:
    """`n` meetings whose livestream is running (INVOKED), made directly in the fake."""
    ids = []
    for _ in range(n):
        meeting = fake.add_meeting(title="m", live_stream_on_start=True)
        fake.start_meeting(meeting["id"])
        ids.append(meeting["id"])
    return ids


async def go_live_at_random(
    fake: FakeDyte, meeting_ids: list[str], within: float
) -> dict[str, float]:
    """Set each meeting LIVE at a random moment in the next `within` seconds."""
    rng = random.Random(17)
    plan = sorted((rng.uniform(0, within), m) for m in meeting_ids)
    went_live: dict[str, float] = {}
    start = time.monotonic()
    for at, meeting_id in plan:
        await anyio.sleep(max(0.0, start + at - time.monotonic()))
        fake.set_status(meeting_id, "LIVE")
        went_live[meeting_id] = time.monotonic()
    return went_live


async def test_300_meetings_going_live_within_a_second_cost_fewer_requests_than_meetings(
    fake: FakeDyte,
) -> None:
    meetings = started_meetings(fake, 300)
    async with served(fake) as dyte:
        fake.reset_counters()
        got: dict[str, float] = {}
        went_live: dict[str, float] = {}

        async def flip() -> None:
            went_live.update(await go_live_at_random(fake, meetings, within=1.0))

        async with anyio.create_task_group() as tg:
            tg.start_soon(flip)
            async for ls in dyte.livestreams.wait_until_live_many(
                meetings, timeout=30, poll_interval=0.25
            ):
                assert ls.is_live
                assert ls.playback_url
                got[ls.meeting_id or ""] = time.monotonic()
        assert sorted(got) == sorted(meetings)
        # The polls cost fewer requests than meetings; existence checks wait until at most
        # 100 meetings are left to check (the others are LIVE by then), each checked once.
        assert fake.count() - fake.count(MEETING) < len(meetings)
        assert fake.count(MEETING) <= 100
        assert fake.count(ACTIVE) <= 3 * 3  # per meeting only for the last few, if at all
        lags = [got[m] - went_live[m] for m in meetings]
        assert max(lags) < 3.0  # about one interval (0.25 s); generous for loaded machines
        assert dyte.livestreams._poller.is_idle()


async def test_start_wait_playback_stop_wait_idle(fake: FakeDyte) -> None:
    fake_timed = FakeDyte(go_live_after=0.3, offline_after=0.1, rate_limit=None, seed=3)
    async with served(fake_timed) as dyte:
        meeting = await dyte.meetings.create(title="Town hall")
        started = await dyte.livestreams.start(meeting.id, name="townhall")
        assert started.status in (LivestreamStatus.INVOKED, LivestreamStatus.OFFLINE)
        live = await dyte.livestreams.wait_until_live(meeting.id, timeout=10, poll_interval=0.1)
        assert live.id == started.id
        assert live.playback_url
        await dyte.livestreams.stop(meeting.id)
        stopped = await dyte.livestreams.wait_for_status(
            meeting.id, "IDLE", timeout=10, poll_interval=0.1
        )
        assert stopped.id == started.id
        assert stopped.status is LivestreamStatus.IDLE


async def test_errored_is_raised_with_its_message_and_others_still_arrive(fake: FakeDyte) -> None:
    meetings = started_meetings(fake, 12)
    async with served(fake) as dyte:
        fake.set_status(meetings[3], "ERRORED", err_message="RTMP handshake failed")
        for m in meetings[:3] + meetings[4:]:
            fake.set_status(m, "LIVE")
        got: list[Any] = [
            x
            async for x in dyte.livestreams.wait_until_live_many(
                meetings, timeout=10, poll_interval=0.1, yield_errors=True
            )
        ]
        errors = [x for x in got if isinstance(x, LivestreamErroredError)]
        assert len(got) == 12
        assert len(errors) == 1
        assert errors[0].err_message == "RTMP handshake failed"
        with pytest.raises(LivestreamErroredError) as info:
            await dyte.livestreams.wait_until_live(meetings[3], timeout=10, poll_interval=0.1)
        assert info.value.err_message == "RTMP handshake failed"


async def test_timeout_on_the_real_clock(fake: FakeDyte) -> None:
    meetings = started_meetings(fake, 5)
    async with served(fake) as dyte:
        begun = time.monotonic()
        with pytest.raises(WaitTimeoutError) as info:
            await dyte.livestreams.wait_until_live(meetings[0], timeout=0.4, poll_interval=0.1)
        assert 0.35 <= time.monotonic() - begun < 2.0
        assert info.value.last_status is LivestreamStatus.INVOKED
        fake.set_status(meetings[0], "LIVE")
        begun = time.monotonic()
        with pytest.raises(WaitTimeoutError) as many:
            await _drain(
                dyte.livestreams.wait_until_live_many(meetings, timeout=0.5, poll_interval=0.1)
            )
        assert 0.45 <= time.monotonic() - begun < 2.0
        assert set(many.value.pending) == set(meetings[1:])


async def test_a_deadline_inside_a_slow_poll_of_another_wait_is_kept(fake: FakeDyte) -> None:
    (meeting,) = started_meetings(fake, 1)
    async with served(fake) as dyte:
        fake.delay_next(1, 1.5, route=ACTIVE)  # the first poll hangs for 1.5 s
        ended: dict[str, float] = {}
        begun = time.monotonic()

        async def wait(name: str, timeout: float) -> None:
            with pytest.raises(WaitTimeoutError):
                await dyte.livestreams.wait_until_live(meeting, timeout=timeout)
            ended[name] = time.monotonic() - begun

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait, "driver", 3.0)
            await anyio.sleep(0.05)  # the first wait drives the (slow) poll
            tg.start_soon(wait, "short", 0.4)
        assert 0.4 <= ended["short"] < 1.2  # not when the slow poll returns (1.5 s)
        assert 3.0 <= ended["driver"] < 4.5


async def test_faults_during_the_wait_are_ridden_out(fake: FakeDyte) -> None:
    meetings = started_meetings(fake, 6)
    async with served(fake) as dyte:
        fake.fail_next(3, status=503, route=LIST)
        fake.drop_next(2, route=LIST)
        fake.fail_next(2, status=429, retry_after=0.2, route=LIST)
        fake.malformed_next(1, kind="html", route=LIST)

        async def later() -> None:
            await anyio.sleep(0.3)
            for m in meetings:
                fake.set_status(m, "LIVE")

        async with anyio.create_task_group() as tg:
            tg.start_soon(later)
            got = [
                ls
                async for ls in dyte.livestreams.wait_until_live_many(
                    meetings, timeout=20, poll_interval=0.1
                )
            ]
        assert len(got) == 6


async def test_cancelled_waits_leave_the_client_healthy(fake: FakeDyte) -> None:
    meetings = started_meetings(fake, 20)
    async with served(fake) as dyte:
        for round_ in range(20):
            with anyio.move_on_after(random.Random(round_).uniform(0.0, 0.05)):
                async with anyio.create_task_group() as tg:
                    for m in meetings:
                        tg.start_soon(_wait, dyte, m)
                    tg.start_soon(_drain, dyte.livestreams.wait_until_live_many(meetings))
        assert dyte.livestreams._poller.is_idle()
        fake.set_status(meetings[0], "LIVE")
        with anyio.fail_after(5):
            live = await dyte.livestreams.wait_until_live(meetings[0], poll_interval=0.05)
        assert live.is_live


async def test_many_waits_on_one_meeting_share_polls_on_the_real_clock(fake: FakeDyte) -> None:
    (meeting,) = started_meetings(fake, 1)
    async with served(fake) as dyte:
        fake.reset_counters()
        results: list[Livestream] = []

        async def wait() -> None:
            results.append(await dyte.livestreams.wait_until_live(meeting, poll_interval=0.1))

        async def later() -> None:
            await anyio.sleep(0.55)
            fake.set_status(meeting, "LIVE")

        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(wait)
            tg.start_soon(later)
        assert len(results) == 200
        assert fake.count(ACTIVE) <= 8  # about 0.55 s / 0.1 s, with backoff


async def test_an_unknown_meeting_fails_fast_over_a_socket(fake: FakeDyte) -> None:
    idle = fake.add_meeting(title="not streaming yet")["id"]
    async with served(fake) as dyte:
        fake.reset_counters()
        begun = time.monotonic()
        with pytest.raises(NotFoundError) as info:
            await dyte.livestreams.wait_until_live("no-such-meeting", poll_interval=0.05)
        assert time.monotonic() - begun < 2.0  # not the 300 s timeout
        assert info.value.status_code == 404
        assert "meeting no-such-meeting does not exist" in str(info.value)
        assert fake.count(ACTIVE) == 1
        assert fake.count(MEETING) == 1
        # A meeting that exists but has no livestream: the wait goes on, checked once.
        fake.reset_counters()
        with pytest.raises(WaitTimeoutError) as timed_out:
            await dyte.livestreams.wait_until_live(idle, timeout=0.5, poll_interval=0.05)
        assert "no active livestream" in str(timed_out.value)
        assert fake.count(ACTIVE) >= 2
        assert fake.count(MEETING) == 1
        assert dyte.livestreams._poller.is_idle()


async def test_an_unknown_meeting_fails_fast_in_process() -> None:
    clock = FakeClock()
    fake = FakeDyte(clock=clock, go_live_after=None, offline_after=None, rate_limit=None)
    begun = clock.now()
    async with fake.client(rate_limit=None) as dyte:
        with pytest.raises(NotFoundError):
            await dyte.livestreams.wait_until_live("no-such-meeting")
        with pytest.raises(NotFoundError):
            await _drain(dyte.livestreams.watch("no-such-meeting"))
    assert clock.now() == begun
    assert fake.count(MEETING) == 2  # one per wait: a missing meeting is not remembered


async def test_unknown_meetings_among_many_are_reported_and_the_others_arrive(
    fake: FakeDyte,
) -> None:
    meetings = started_meetings(fake, 10)
    unknown = ["no-such-meeting-1", "no-such-meeting-2"]
    async with served(fake) as dyte:
        fake.reset_counters()

        async def later() -> None:
            await anyio.sleep(0.5)  # after the first round
            for m in meetings:
                fake.set_status(m, "LIVE")

        async with anyio.create_task_group() as tg:
            tg.start_soon(later)
            got = [
                x
                async for x in dyte.livestreams.wait_until_live_many(
                    [*meetings[:5], *unknown, *meetings[5:]],
                    timeout=20,
                    poll_interval=0.1,
                    yield_errors=True,
                )
            ]
        missing = [x for x in got if isinstance(x, NotFoundError)]
        assert len(missing) == 2
        assert all(isinstance(x, NotFoundError) for x in got[:2])  # the first round's news
        for name in unknown:
            assert any(name in str(x) for x in missing)
        live = sorted(x.meeting_id or "" for x in got if isinstance(x, Livestream))
        assert live == sorted(meetings)
        assert fake.count(MEETING) <= len(meetings) + len(unknown)
        # Raised at the end when not yielded.
        with pytest.raises(NotFoundError) as info:
            await _drain(
                dyte.livestreams.wait_until_live_many(
                    [*meetings, unknown[0]], timeout=20, poll_interval=0.1
                )
            )
        assert unknown[0] in str(info.value)


async def _wait(dyte: AsyncDyte, meeting_id: str) -> None:
    await dyte.livestreams.wait_until_live(meeting_id, timeout=5.0, poll_interval=0.01)


async def _drain(iterator: Any) -> None:
    async for _ in iterator:
        pass
