"""Every write the server answered with success returns success, whatever the informational
fields say (Prism's dynamic answers: plain strings for dates, strings for `disabled`, 7-digit
fractions that Python 3.10's `fromisoformat` refuses)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from dyte_async import AsyncDyte
from dyte_async.models import Livestream, Meeting, ModerationResult, Participant
from dyte_async.testing import FakeClock

pytestmark = pytest.mark.anyio

M = "bbb03399-5d3f-4c8e-9d02-1a2b3c4d5e6f"
L = "61e03cb4-2d5e-4a3b-9c8d-7e6f5a4b3c2d"
P = "005f4e0c-4d08-4d4e-a391-a76be75cd296"
KEY = "sk-live-prism-0123456789"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.prism.c2ln"
ODD = {"created_at": "dolor sit amet", "updated_at": "2023-07-15T11:58:08.4041234Z"}

LIVESTREAM = {
    "id": L,
    "name": "ut",
    "status": "LIVE",
    "meeting_id": M,
    "ingest_server": "rtmps://ingest.example/live",
    "stream_key": KEY,
    "playback_url": "https://play.example/x.m3u8",
    "disabled": "dolore",  # the inline schemas type it as a string
    "ingest_seconds": "sixty",
    **ODD,
}
PARTICIPANT = {
    "id": P,
    "custom_participant_id": "c1",
    "preset_name": "host",
    "name": ["not", "a", "name"],
    "picture": 7,
    "token": TOKEN,
    **ODD,
}
MEETING = {
    "id": M,
    "title": {"x": 1},
    "status": "ACTIVE",
    "record_on_start": "sometimes",
    "created_at": "2023-07-15T11:58:08.4041234+05:30",
    "updated_at": "in",
}
SESSION_PARTICIPANT = {"id": P, "email": "x@example.com", **ODD}


def ok(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"success": True, "data": data})


@pytest.fixture
async def dyte(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[AsyncDyte]:
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=None,
    )
    async with client:
        yield client


Call = Callable[[AsyncDyte], Awaitable[Any]]
LIVESTREAM_WRITES: list[tuple[str, str, Call]] = [
    ("POST", f"/meetings/{M}/livestreams", lambda d: d.livestreams.start(M)),
    ("POST", "/livestreams", lambda d: d.livestreams.create()),
    ("POST", f"/livestreams/{L}/reset-stream-key", lambda d: d.livestreams.reset_stream_key(L)),
    ("PUT", f"/livestreams/{L}/enable", lambda d: d.livestreams.enable(L)),
    ("PUT", f"/livestreams/{L}/disable", lambda d: d.livestreams.disable(L)),
]


@pytest.mark.parametrize(
    ("method", "path", "call"), LIVESTREAM_WRITES, ids=[p for _, p, _ in LIVESTREAM_WRITES]
)
async def test_livestream_writes_keep_the_key_whatever_the_rest_says(
    router: respx.MockRouter, dyte: AsyncDyte, method: str, path: str, call: Call
) -> None:
    getattr(router, method.lower())(path).mock(return_value=ok(LIVESTREAM))

    livestream = await call(dyte)

    assert isinstance(livestream, Livestream)
    assert (livestream.id, livestream.stream_key, livestream.status) == (L, KEY, "LIVE")
    assert livestream.playback_url == LIVESTREAM["playback_url"]
    assert (livestream.disabled, livestream.created_at, livestream.ingest_seconds) == (
        False,
        None,
        None,
    )
    assert livestream.updated_at is not None
    assert livestream.updated_at.microsecond == 404123


PARTICIPANT_WRITES: list[tuple[str, str, Call]] = [
    (
        "POST",
        f"/meetings/{M}/participants",
        lambda d: d.participants.add(M, preset_name="host", custom_participant_id="c1"),
    ),
    ("PATCH", f"/meetings/{M}/participants/{P}", lambda d: d.participants.update(M, P, name="x")),
]


@pytest.mark.parametrize(
    ("method", "path", "call"), PARTICIPANT_WRITES, ids=[m for m, _, _ in PARTICIPANT_WRITES]
)
async def test_participant_writes_keep_the_token(
    router: respx.MockRouter, dyte: AsyncDyte, method: str, path: str, call: Call
) -> None:
    getattr(router, method.lower())(path).mock(return_value=ok(PARTICIPANT, 201))

    participant = await call(dyte)

    assert isinstance(participant, Participant)
    assert (participant.id, participant.token, participant.name) == (P, TOKEN, None)
    assert participant.created_at is None
    assert participant.updated_at is not None


MEETING_WRITES: list[tuple[str, str, Call]] = [
    ("POST", "/meetings", lambda d: d.meetings.create(title="t")),
    ("PATCH", f"/meetings/{M}", lambda d: d.meetings.update(M, title="t")),
    ("PUT", f"/meetings/{M}", lambda d: d.meetings.replace(M, title="t")),
]


@pytest.mark.parametrize(
    ("method", "path", "call"), MEETING_WRITES, ids=[m for m, _, _ in MEETING_WRITES]
)
async def test_meeting_writes_keep_the_id(
    router: respx.MockRouter, dyte: AsyncDyte, method: str, path: str, call: Call
) -> None:
    getattr(router, method.lower())(path).mock(return_value=ok(MEETING, 201))

    meeting = await call(dyte)

    assert isinstance(meeting, Meeting)
    assert (meeting.id, meeting.status, meeting.title, meeting.record_on_start) == (
        M,
        "ACTIVE",
        None,
        False,
    )
    assert meeting.created_at is not None
    assert meeting.created_at.microsecond == 404123


@pytest.mark.parametrize("action", ["kick", "mute"])
async def test_kick_and_mute_succeed_with_prism_participants(
    router: respx.MockRouter, dyte: AsyncDyte, action: str
) -> None:
    data = {"action": action, "participants": [SESSION_PARTICIPANT, {"name": "no id"}, 3]}
    router.post(f"/meetings/{M}/active-session/{action}").mock(return_value=ok(data))

    result = await getattr(dyte.active_sessions, action)(M, participant_ids=[P])

    assert isinstance(result, ModerationResult)
    assert [p.id for p in result.participants] == [P]
    assert result.participants[0].created_at is None
    assert result.count == 3  # what the server said it acted on


@pytest.mark.parametrize(
    ("action", "key"),
    [("kick-all", "kicked_participants_count"), ("mute-all", "muted_participants_count")],
)
@pytest.mark.parametrize("data", [{}, {"action": 5}, [1, 2], "done", {"participants": {"a": 1}}])
async def test_the_all_calls_succeed_whatever_the_report(
    router: respx.MockRouter, dyte: AsyncDyte, action: str, key: str, data: Any
) -> None:
    router.post(f"/meetings/{M}/active-session/{action}").mock(return_value=ok(data))

    call = dyte.active_sessions.kick_all if action == "kick-all" else dyte.active_sessions.mute_all
    result = await call(M)

    assert result.participants == ()
    assert result.count is None


async def test_a_stop_with_an_empty_data_object_succeeds(
    router: respx.MockRouter, dyte: AsyncDyte
) -> None:
    router.post(f"/meetings/{M}/active-livestream/stop").mock(return_value=ok({}))

    assert await dyte.livestreams.stop(M) == ""
