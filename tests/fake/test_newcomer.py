"""The paths a new user takes first: moderation as in the README, a FakeClock, RealtimeKit."""

from __future__ import annotations

import pytest

from dyte_async import NotFoundError
from dyte_async.testing import FakeClock, FakeDyte

pytestmark = pytest.mark.anyio


async def _moderate(fake: FakeDyte) -> None:
    async with fake.client() as dyte:
        meeting = await dyte.meetings.create(title="Town hall")
        await dyte.participants.add(
            meeting.id, preset_name="livestream_host", custom_participant_id="host-ada"
        )
        viewer = await dyte.participants.add(
            meeting.id, preset_name="livestream_viewer", custom_participant_id="viewer-42"
        )
        await dyte.livestreams.start(meeting.id, name="townhall")
        await dyte.active_sessions.mute(meeting.id, custom_participant_ids=["viewer-42"])
        await dyte.active_sessions.kick(meeting.id, participant_ids=[viewer.id])
        session = await dyte.active_sessions.get(meeting.id)
        assert session.live_participants == 1  # the host stays


async def test_participants_added_before_the_start_can_be_moderated() -> None:
    fake = FakeDyte(clock=FakeClock())
    await _moderate(fake)
    assert fake.count("POST /meetings/{meeting_id}/active-session/kick") == 1


async def test_without_auto_join_they_must_join_first() -> None:
    fake = FakeDyte(clock=FakeClock(), auto_join=False)
    with pytest.raises(NotFoundError, match="viewer-42"):
        await _moderate(fake)


async def test_a_clock_given_to_the_client_is_shared_with_an_unused_fake() -> None:
    fake = FakeDyte()
    clock = FakeClock()
    async with fake.client(clock=clock) as dyte:
        meeting = await dyte.meetings.create(title="t")
        await dyte.livestreams.start(meeting.id)
        live = await dyte.livestreams.wait_until_live(meeting.id, timeout=120)
    assert live.status == "LIVE"
    assert fake.clock is clock
    assert 1.0 <= clock.now() - 1000.0 < 10.0  # LIVE after go_live_after on the fake clock
    assert clock.slept  # the wait slept on the virtual clock, not for real


async def test_a_clock_cannot_be_swapped_under_a_used_fake() -> None:
    fake = FakeDyte()
    async with fake.client() as dyte:
        await dyte.meetings.create(title="t")
    with pytest.raises(ValueError, match=r"FakeDyte\(clock=clock\)"):
        fake.client(clock=FakeClock())
    given = FakeDyte(clock=FakeClock())
    with pytest.raises(ValueError, match="another clock"):
        given.client(clock=FakeClock())


async def test_the_realtimekit_flavor_gives_a_realtimekit_client() -> None:
    fake = FakeDyte(clock=FakeClock(), flavor="realtimekit")
    async with fake.client() as dyte:
        meeting = await dyte.meetings.create(title="rtk")
    assert meeting.title == "rtk"
    assert fake.requests[-1].org_id == "fake-app-id"
    assert fake.requests[-1].route == "POST /meetings"


def test_an_unknown_flavor_is_refused() -> None:
    with pytest.raises(ValueError, match="flavor"):
        FakeDyte(flavor="zoom")  # type: ignore[arg-type]
