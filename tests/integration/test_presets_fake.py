"""Presets and active sessions against `FakeDyte` over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import attrs
import pytest

from dyte_async import AsyncDyte
from dyte_async.errors import InvalidArgumentError, NotFoundError
from dyte_async.models import ActiveSessionStatus, Preset, ProduceAccess
from dyte_async.testing import FakeDyte

pytestmark = pytest.mark.anyio

NAMES = ["livestream_host", "livestream_viewer"]


@pytest.fixture
def fake() -> FakeDyte:
    return FakeDyte(seed=7)


@pytest.fixture
async def base_url(fake: FakeDyte) -> AsyncIterator[str]:
    async with fake.serve() as url:
        yield url


@pytest.fixture
async def dyte(fake: FakeDyte, base_url: str) -> AsyncIterator[AsyncDyte]:
    async with AsyncDyte(fake.org_id, fake.api_key, base_url=base_url) as client:
        yield client


async def stored_names(dyte: AsyncDyte) -> list[str]:
    return sorted([str(p.name) async for p in dyte.presets.list()])


# -- get-or-create under concurrency ----------------------------------------------------------


async def test_twenty_concurrent_callers_of_one_client_create_each_preset_once(
    fake: FakeDyte, dyte: AsyncDyte
) -> None:
    results: list[tuple[Preset, Preset]] = []
    presets = dyte.presets  # one per client

    async def call() -> None:
        results.append(await presets.ensure_livestream_presets())

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(call)

    assert fake.count("POST /presets") == 2
    assert await stored_names(dyte) == NAMES
    assert len(results) == 20
    assert len({(host.id, viewer.id) for host, viewer in results}) == 1


async def test_twenty_clients_racing_like_processes_still_make_each_preset_once(
    fake: FakeDyte, base_url: str
) -> None:
    results: list[tuple[Preset, Preset]] = []

    async def process() -> None:
        async with AsyncDyte(fake.org_id, fake.api_key, base_url=base_url) as client:
            results.append(await client.presets.ensure_livestream_presets())

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(process)

    async with AsyncDyte(fake.org_id, fake.api_key, base_url=base_url) as client:
        assert await stored_names(client) == NAMES
    assert len(results) == 20
    assert len({(host.id, viewer.id) for host, viewer in results}) == 1
    host, viewer = results[0]
    assert host.permissions.can_livestream is True
    assert viewer.permissions.media.video.can_produce is ProduceAccess.NOT_ALLOWED


async def test_ensure_is_idempotent_across_calls(fake: FakeDyte, dyte: AsyncDyte) -> None:
    presets = dyte.presets
    first = await presets.ensure_livestream_presets()
    second = await presets.ensure_livestream_presets()

    assert [p.id for p in first] == [p.id for p in second]
    assert fake.count("POST /presets") == 2


async def test_a_create_whose_answer_is_lost_is_not_made_twice(
    fake: FakeDyte, dyte: AsyncDyte
) -> None:
    fake.drop_next(after_action=True, route="POST /presets")

    preset = await dyte.presets.get_or_create("stage", {"config": {"view_type": "WEBINAR"}})

    assert preset.name == "stage"
    assert fake.count("POST /presets") == 1
    assert await stored_names(dyte) == ["stage"]


# -- the endpoints and the round trip ---------------------------------------------------------


async def test_crud_and_read_modify_write_keep_unknown_keys(dyte: AsyncDyte) -> None:
    presets = dyte.presets
    # A key the library does not type goes in the body mapping (the keywords are typed).
    created = await presets.create(
        {"future_key": {"nested": [1, {"a": None}]}},
        name="studio",
        config={"view_type": "WEBINAR", "livestream_viewer_qualities": [360, 720]},
        permissions={"can_livestream": False, "stage_enabled": True, "media": {"x": {"y": 1}}},
    )
    fetched = await presets.get(created.id)
    assert fetched == created

    changed = attrs.evolve(
        fetched, permissions=attrs.evolve(fetched.permissions, can_livestream=True)
    )
    await presets.update(fetched.id, changed)
    again = await presets.get(fetched.id)

    expected: dict[str, Any] = fetched.to_dict()
    expected["permissions"]["can_livestream"] = True
    actual = again.to_dict()
    actual.pop("updated_at")
    expected.pop("updated_at")
    assert actual == expected
    assert again.raw["future_key"] == {"nested": [1, {"a": None}]}

    renamed = await presets.update(again.id, name="studio_2")
    assert renamed.name == "studio_2"
    assert renamed.permissions.can_livestream is True
    await presets.delete(again.id)
    with pytest.raises(NotFoundError):
        await presets.get(again.id)


# -- moderating a live meeting ----------------------------------------------------------------


async def test_kick_and_mute_a_livestreamed_meeting(fake: FakeDyte, dyte: AsyncDyte) -> None:
    host_preset, viewer_preset = await dyte.presets.ensure_livestream_presets()
    sessions = dyte.active_sessions
    meeting = await dyte.meetings.create(title="Town hall")
    with pytest.raises(NotFoundError):
        await sessions.get(meeting.id)
    await dyte.livestreams.start(meeting.id)
    host = await dyte.participants.add(
        meeting.id, preset_name=host_preset.name, custom_participant_id="host-1", name="Ada"
    )
    viewers = [
        await dyte.participants.add(
            meeting.id, preset_name=viewer_preset.name, custom_participant_id=f"viewer-{n}"
        )
        for n in range(3)
    ]

    session = await sessions.get(meeting.id)
    assert session.status is ActiveSessionStatus.LIVE
    assert session.associated_id == meeting.id
    assert session.live_participants == 4

    muted = await sessions.mute(meeting.id, custom_participant_ids=["viewer-0"])
    assert [p.id for p in muted.participants] == [viewers[0].id]
    assert muted.count == 1
    state = fake.active_session(meeting.id)
    assert state is not None
    peers = {p["custom_participant_id"]: p for p in state["participants"]}
    assert peers["viewer-0"]["muted"] is True
    assert peers["viewer-1"]["muted"] is False

    everyone = await sessions.mute_all(meeting.id, allow_unmute=False)
    assert everyone.count == 4
    state = fake.active_session(meeting.id)
    assert state is not None
    assert all(p["muted"] and not p["allow_unmute"] for p in state["participants"])

    kicked = await sessions.kick(meeting.id, participant_ids=[viewers[1].id])
    assert [p.custom_participant_id for p in kicked.participants] == ["viewer-1"]
    assert (await sessions.get(meeting.id)).live_participants == 3
    with pytest.raises(NotFoundError, match="No user found"):
        await sessions.kick(meeting.id, participant_ids=[viewers[1].id])
    with pytest.raises(InvalidArgumentError):
        await sessions.kick(meeting.id)

    rest = await sessions.kick_all(meeting.id)
    assert rest.count == 3
    assert (await sessions.get(meeting.id)).live_participants == 0
    assert host.token
