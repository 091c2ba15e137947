"""The client against FakeDyte over a real socket on 127.0.0.1: the flow, errors, load."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest

from dyte_async import (
    APIStatusError,
    AsyncDyte,
    AuthenticationError,
    LivestreamStatus,
    NotFoundError,
    ResponseDecodeError,
)
from dyte_async.testing import FakeDyte

pytestmark = pytest.mark.anyio

START = "POST /meetings/{meeting_id}/livestreams"
ACTIVE = "GET /meetings/{meeting_id}/active-livestream"


@contextlib.asynccontextmanager
async def served(fake: FakeDyte, **options: Any) -> AsyncIterator[AsyncDyte]:
    """The fake on a real socket, and a client of it with the fake's credentials."""
    async with fake.serve() as base_url:
        options = {"org_id": fake.org_id, "api_key": fake.api_key, **options}
        async with AsyncDyte(base_url=base_url, **options) as dyte:
            yield dyte


@pytest.fixture
def fake() -> FakeDyte:
    # Livestreams change status only through `fake.set_status`: no timing in these tests.
    return FakeDyte(go_live_after=None, offline_after=None, seed=11)


async def test_the_whole_flow_over_a_socket(fake: FakeDyte) -> None:
    async with served(fake) as dyte:
        meeting = await dyte.meetings.create(title="Town hall", record_on_start=False)
        assert meeting.title == "Town hall"
        assert (await dyte.meetings.get(meeting.id)).id == meeting.id

        host = await dyte.participants.add(
            meeting.id, preset_name="livestream_host", custom_participant_id="host-1", name="Ann"
        )
        assert host.token
        assert host.token not in repr(host)

        started = await dyte.livestreams.start(meeting.id, name="townhall")
        assert started.meeting_id == meeting.id
        assert started.status in (LivestreamStatus.INVOKED, LivestreamStatus.OFFLINE)
        assert started.stream_key
        assert started.stream_key not in repr(started)

        fake.set_status(meeting.id, "LIVE")
        active = await dyte.livestreams.get_active(meeting.id)
        assert active.id == started.id
        assert active.is_live
        assert active.playback_url

        listed = await dyte.livestreams.list(per_page=2).to_list()
        assert [ls.id for ls in listed] == [started.id]
        live_only = await dyte.livestreams.list(status=LivestreamStatus.LIVE).to_list()
        assert [ls.id for ls in live_only] == [started.id]

        for_meeting = await dyte.livestreams.list_for_meeting(meeting.id).to_list()
        assert [d.livestream.id for d in for_meeting] == [started.id]
        assert for_meeting[0].session is not None

        details = await dyte.livestreams.get(started.id)
        assert details.livestream.id == started.id
        assert len(details.sessions) == 1
        session = details.sessions[0]
        assert (await dyte.livestreams.get_session(session.id)).id == session.id
        active_session = await dyte.livestreams.get_active_session(started.id)
        assert active_session.session is not None
        assert active_session.session.id == session.id

        meeting_session = fake.active_session(meeting.id)
        assert meeting_session is not None
        by_session = await dyte.livestreams.list_for_session(meeting_session["id"]).to_list()
        assert [s.id for s in by_session] == [session.id]

        overall = await dyte.livestreams.analytics_overall()
        assert overall.count == 1
        daywise = await dyte.livestreams.analytics_daywise()
        assert sum(day.count for day in daywise) == 1

        new_token = await dyte.participants.refresh_token(meeting.id, host.id)
        assert new_token
        assert new_token != host.token
        people = await dyte.participants.list(meeting.id).to_list()
        assert [p.custom_participant_id for p in people] == ["host-1"]
        assert (await dyte.participants.get(meeting.id, host.id)).name == "Ann"
        await dyte.participants.delete(meeting.id, host.id)
        assert await dyte.participants.list(meeting.id).to_list() == []

        message = await dyte.livestreams.stop(meeting.id)
        assert message
        with pytest.raises(NotFoundError):
            await dyte.livestreams.get_active(meeting.id)
        stopped = await dyte.livestreams.get(started.id)
        assert stopped.livestream.status is LivestreamStatus.IDLE
        assert stopped.sessions[0].stopped_time is not None

        meetings = await dyte.meetings.list(search="Town").to_list()
        assert [m.id for m in meetings] == [meeting.id]
        assert dyte.stats().retries == 0
    # Every request went over the socket and was answered; the one 404 is the last get_active.
    assert {r.client for r in fake.requests} == {"127.0.0.1"}
    assert [r.status for r in fake.requests].count(404) == 1
    assert {r.status for r in fake.requests} == {200, 201, 404}


async def test_active_livestream_of_an_idle_meeting_is_not_found(fake: FakeDyte) -> None:
    async with served(fake) as dyte:
        meeting = await dyte.meetings.create(title="quiet")
        with pytest.raises(NotFoundError) as caught:
            await dyte.livestreams.get_active(meeting.id)
    assert caught.value.status_code == 404
    assert fake.count(ACTIVE) == 1  # a 404 is an answer, not retried


async def test_a_wrong_api_key_is_an_authentication_error() -> None:
    fake = FakeDyte(go_live_after=None, offline_after=None, seed=11, strict_auth=True)
    async with served(fake, api_key="not-the-key") as dyte:
        with pytest.raises(AuthenticationError) as caught:
            await dyte.meetings.list().to_list()
    assert caught.value.status_code == 401
    assert "not-the-key" not in str(caught.value)
    assert fake.count("GET /meetings") == 1


@pytest.mark.parametrize("kind", ["html", "truncated", "empty", "not_object"])
async def test_a_malformed_body_is_a_decode_error(fake: FakeDyte, kind: Any) -> None:
    async with served(fake) as dyte:
        meeting = await dyte.meetings.create(title="garbled")
        fake.malformed_next(kind=kind, route="GET /meetings/{meeting_id}")
        with pytest.raises(ResponseDecodeError):
            await dyte.meetings.get(meeting.id)
        # The fault was used up: the next read is fine.
        assert (await dyte.meetings.get(meeting.id)).id == meeting.id


async def test_success_false_on_a_200_is_a_status_error(fake: FakeDyte) -> None:
    async with served(fake) as dyte:
        meeting = await dyte.meetings.create(title="garbled")
        fake.malformed_next(kind="success_false", route="GET /meetings/{meeting_id}")
        with pytest.raises(APIStatusError):
            await dyte.meetings.get(meeting.id)


async def test_a_dropped_get_is_retried(fake: FakeDyte) -> None:
    async with served(fake) as dyte:
        meeting = await dyte.meetings.create(title="flaky")
        await dyte.livestreams.start(meeting.id)
        fake.drop_next(route=ACTIVE)
        active = await dyte.livestreams.get_active(meeting.id)
    assert active.meeting_id == meeting.id
    assert fake.count(ACTIVE) == 2
    assert [r.status for r in fake.requests if r.route == ACTIVE] == [None, 200]


async def test_a_start_dropped_after_it_acted_is_recovered_with_one_post(fake: FakeDyte) -> None:
    async with served(fake) as dyte:
        meeting = await dyte.meetings.create(title="ambiguous")
        fake.drop_next(after_action=True, route=START)
        livestream = await dyte.livestreams.start(meeting.id)
        assert dyte.stats().recovered == 1
        history = await dyte.livestreams.list_for_meeting(meeting.id).to_list()
    assert fake.count(START) == 1
    assert fake.count(ACTIVE) == 1
    active = fake.active_livestream(meeting.id)
    assert active is not None
    assert livestream.id == active["id"]
    assert len(history) == 1
    assert len(history[0].sessions) == 1


async def test_a_thousand_concurrent_mixed_operations(fake: FakeDyte) -> None:
    fake = FakeDyte(go_live_after=None, offline_after=None, rate_limit=None, seed=3)
    rng = random.Random(5)
    async with served(fake) as dyte:
        meetings = [await dyte.meetings.create(title=f"load {i}") for i in range(20)]
        ids = [m.id for m in meetings]
        for mid in ids[:10]:
            await dyte.livestreams.start(mid)
        fake.reset_counters()

        def op(index: int) -> Callable[[], Awaitable[object]]:
            mid = rng.choice(ids)
            live = rng.choice(ids[:10])
            ops: list[Callable[[], Awaitable[object]]] = [
                lambda: dyte.meetings.get(mid),
                lambda: dyte.livestreams.get_active(live),
                lambda: dyte.livestreams.list_for_meeting(live, per_page=5).first_page(),
                lambda: dyte.meetings.list(per_page=10).first_page(),
                lambda: dyte.livestreams.list(per_page=10).first_page(),
                lambda: dyte.participants.add(
                    mid, preset_name="viewer", custom_participant_id=f"p{index}"
                ),
                lambda: dyte.meetings.update(mid, title=f"load {index}"),
                lambda: dyte.meetings.create(title=f"extra {index}"),
            ]
            return ops[index % len(ops)]

        calls = [op(i) for i in range(1000)]
        kinds: Counter[str] = Counter()

        async def run(call: Callable[[], Awaitable[object]]) -> None:
            kinds[type(await call()).__name__] += 1

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for call in calls:
                    tg.start_soon(run, call)
        stats = dyte.stats()
    assert sum(kinds.values()) == 1000
    assert fake.count() == 1000
    assert all(r.status is not None and r.status < 300 for r in fake.requests)
    assert stats.retries == 0
