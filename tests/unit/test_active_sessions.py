"""`dyte.active_sessions` on the wire (respx), against the spec's bodies and examples."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

from dyte_async import AsyncDyte
from dyte_async.errors import InvalidArgumentError, NotFoundError, ResponseDecodeError
from dyte_async.models import (
    ActiveSession,
    ActiveSessionStatus,
    ModerationResult,
    SessionParticipant,
)
from dyte_async.resources.active_sessions import ActiveSessions
from dyte_async.testing import FakeClock

pytestmark = pytest.mark.anyio

MEETING_ID = "6bf2b8be-04dd-4191-b602-1128921a306b"
PATH = f"/meetings/{MEETING_ID}/active-session"

# components/examples/GetActiveSessionSuccessResponse, verbatim.
ACTIVE_SESSION_EXAMPLE: dict[str, Any] = {
    "success": True,
    "data": {
        "id": "813432c7-3c5a-45e2-9acf-eef7061c7584",
        "associated_id": "6bf2b8be-04dd-4191-b602-1128921a306b",
        "type": "meeting",
        "status": "LIVE",
        "live_participants": 1,
        "max_concurrent_participants": 2,
        "minutes_consumed": 2.3434,
        "started_at": "2022-01-12T14:21:34.388Z",
        "ended_at": "null",
        "created_at": "2022-01-12T14:21:34.398Z",
        "updated_at": "2022-01-12T14:26:00.784Z",
    },
}
# components/examples/GetActiveSessionNotFoundResponse, verbatim.
NOT_FOUND_EXAMPLE = {
    "success": False,
    "error": {
        "code": 404,
        "message": "No active session found for meeting_id 6bf2b8be-04dd-4191-b602-1128921a306b",
    },
}
# components/examples/ParticipantNotFoundResponse, verbatim.
PARTICIPANT_NOT_FOUND_EXAMPLE = {
    "success": False,
    "error": {"code": 404, "message": "No user found with id 813432c7-3c5a-45e2-9acf-eef7061c7584"},
}
# A SessionParticipant (components/schemas/SessionParticipant: id, created_at, updated_at
# required; name, email, picture).
SESSION_PARTICIPANT = {
    "id": "005f4e0c-4d08-4d4e-a391-a76be75cd296",
    "name": "Mark",
    "email": "mark@example.com",
    "picture": "https://example.com/mark.png",
    "created_at": "2023-02-01T10:51:08.030Z",
    "updated_at": "2023-02-01T10:51:08.030Z",
}


def ok(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data})


def sent(route: respx.Route) -> Any:
    content = route.calls.last.request.content
    return json.loads(content) if content else None


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


@pytest.fixture
def sessions(dyte: AsyncDyte) -> ActiveSessions:
    return dyte.active_sessions


# -- get ----------------------------------------------------------------------------------------


async def test_get_decodes_the_spec_example(
    router: respx.MockRouter, sessions: ActiveSessions
) -> None:
    route = router.get(PATH).mock(return_value=httpx.Response(200, json=ACTIVE_SESSION_EXAMPLE))

    session = await sessions.get(MEETING_ID)

    assert route.call_count == 1
    assert session == ActiveSession(
        id="813432c7-3c5a-45e2-9acf-eef7061c7584",
        associated_id=MEETING_ID,
        type="meeting",
        status=ActiveSessionStatus.LIVE,
        live_participants=1,
        max_concurrent_participants=2,
        minutes_consumed=2.3434,
        started_at=datetime(2022, 1, 12, 14, 21, 34, 388000, tzinfo=timezone.utc),
        ended_at=None,
        created_at=datetime(2022, 1, 12, 14, 21, 34, 398000, tzinfo=timezone.utc),
        updated_at=datetime(2022, 1, 12, 14, 26, 0, 784000, tzinfo=timezone.utc),
    )
    assert session.is_live


async def test_get_decodes_breakout_rooms_and_unknown_statuses(
    router: respx.MockRouter, sessions: ActiveSessions
) -> None:
    data = {
        **ACTIVE_SESSION_EXAMPLE["data"],
        "status": "ENDED",
        "ended_at": "2022-01-12T15:00:00.000Z",
        "meeting_display_name": "Town hall",
        "organization_id": "org-1",
        "meta": {"region": "ap-south-1"},
        "breakout_rooms": [{"id": "room-1", "status": "PAUSED", "ended_at": None}],
    }
    router.get(PATH).mock(return_value=ok(data))

    session = await sessions.get(MEETING_ID)

    assert session.status is ActiveSessionStatus.ENDED
    assert not session.is_live
    assert session.ended_at == datetime(2022, 1, 12, 15, tzinfo=timezone.utc)
    assert session.meta == {"region": "ap-south-1"}
    (room,) = session.breakout_rooms
    assert room.id == "room-1"
    assert room.status == "PAUSED"
    assert not room.status.known


async def test_get_without_a_running_session_is_not_found(
    router: respx.MockRouter, sessions: ActiveSessions
) -> None:
    router.get(PATH).mock(return_value=httpx.Response(404, json=NOT_FOUND_EXAMPLE))

    with pytest.raises(NotFoundError, match="No active session found") as caught:
        await sessions.get(MEETING_ID)

    assert caught.value.code == 404


async def test_get_of_a_body_that_is_no_session_is_a_decode_error(
    router: respx.MockRouter, sessions: ActiveSessions
) -> None:
    router.get(PATH).mock(return_value=ok(["not", "a", "session"]))

    with pytest.raises(ResponseDecodeError):
        await sessions.get(MEETING_ID)


# -- kick and mute ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "action"), [("kick", "kick"), ("mute", "mute")])
@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({"participant_ids": ["p1", "p2"]}, {"participant_ids": ["p1", "p2"]}),
        ({"custom_participant_ids": ("c1",)}, {"custom_participant_ids": ["c1"]}),
        (
            {"participant_ids": ["p1", "p1"], "custom_participant_ids": {"c1": 0}.keys()},
            {"participant_ids": ["p1"], "custom_participant_ids": ["c1"]},
        ),
    ],
)
async def test_kick_and_mute_send_the_spec_body_and_decode_the_participants(
    router: respx.MockRouter,
    sessions: ActiveSessions,
    method: str,
    action: str,
    kwargs: dict[str, Any],
    body: dict[str, Any],
) -> None:
    route = router.post(f"{PATH}/{method}").mock(
        return_value=ok({"action": action, "participants": [SESSION_PARTICIPANT]})
    )

    result = await getattr(sessions, method)(MEETING_ID, **kwargs)

    assert route.call_count == 1
    assert sent(route) == body
    assert result == ModerationResult(
        action=action,
        participants=(
            SessionParticipant(
                id=SESSION_PARTICIPANT["id"],
                name="Mark",
                email="mark@example.com",
                picture="https://example.com/mark.png",
                created_at=datetime(2023, 2, 1, 10, 51, 8, 30000, tzinfo=timezone.utc),
                updated_at=datetime(2023, 2, 1, 10, 51, 8, 30000, tzinfo=timezone.utc),
            ),
        ),
        count=1,
    )


@pytest.mark.parametrize("method", ["kick", "mute"])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "participant_ids or custom_participant_ids"),
        ({"participant_ids": [], "custom_participant_ids": ()}, "participant_ids or"),
        ({"participant_ids": "p1"}, "not one string"),
        ({"custom_participant_ids": "c1"}, "not one string"),
        ({"participant_ids": ["p1", ""]}, "non-empty"),
        ({"participant_ids": [7]}, "non-empty"),
        ({"participant_ids": 7}, "list of ids"),
    ],
)
async def test_kick_and_mute_refuse_to_send_without_participants(
    router: respx.MockRouter,
    sessions: ActiveSessions,
    method: str,
    kwargs: dict[str, Any],
    match: str,
) -> None:
    route = router.route().mock(return_value=ok({}))

    with pytest.raises(InvalidArgumentError, match=match):
        await getattr(sessions, method)(MEETING_ID, **kwargs)

    assert route.call_count == 0


async def test_kick_of_an_unknown_participant_is_not_found(
    router: respx.MockRouter, sessions: ActiveSessions
) -> None:
    router.post(f"{PATH}/kick").mock(
        return_value=httpx.Response(404, json=PARTICIPANT_NOT_FOUND_EXAMPLE)
    )

    with pytest.raises(NotFoundError, match="No user found"):
        await sessions.kick(MEETING_ID, participant_ids=["813432c7-3c5a-45e2-9acf-eef7061c7584"])


async def test_kick_all_posts_no_body_and_reads_the_count(
    router: respx.MockRouter, sessions: ActiveSessions
) -> None:
    route = router.post(f"{PATH}/kick-all").mock(
        return_value=ok({"action": "kick_all", "kicked_participants_count": 12})
    )

    result = await sessions.kick_all(MEETING_ID)

    assert sent(route) is None
    assert result == ModerationResult(action="kick_all", count=12)


@pytest.mark.parametrize(
    ("allow_unmute", "body"),
    [(None, {}), (False, {"allow_unmute": False}), (True, {"allow_unmute": True})],
)
async def test_mute_all_sends_allow_unmute_only_when_given(
    router: respx.MockRouter,
    sessions: ActiveSessions,
    allow_unmute: bool | None,
    body: dict[str, Any],
) -> None:
    route = router.post(f"{PATH}/mute-all").mock(
        return_value=ok({"action": "mute_all", "muted_participants_count": 3.0})
    )

    result = await sessions.mute_all(MEETING_ID, allow_unmute=allow_unmute)

    assert sent(route) == body
    assert result.count == 3
    assert result.action == "mute_all"


async def test_mute_all_refuses_a_non_bool(
    router: respx.MockRouter, sessions: ActiveSessions
) -> None:
    route = router.route().mock(return_value=ok({}))

    with pytest.raises(InvalidArgumentError, match="allow_unmute"):
        await sessions.mute_all(MEETING_ID, allow_unmute="no")  # type: ignore[arg-type]

    assert route.call_count == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, ModerationResult()),
        ({}, ModerationResult()),
        ({"action": 5, "participants": []}, ModerationResult(count=0)),
    ],
)
async def test_moderation_answers_with_little_in_them_still_decode(
    router: respx.MockRouter, sessions: ActiveSessions, data: Any, expected: ModerationResult
) -> None:
    router.post(f"{PATH}/mute").mock(return_value=ok(data))

    assert await sessions.mute(MEETING_ID, participant_ids=["p1"]) == expected


@pytest.mark.parametrize(
    ("data", "count"),
    [([1, 2], None), ({"participants": {"id": "x"}}, None), ({"participants": [1]}, 1)],
)
async def test_moderation_answers_of_the_wrong_shape_still_succeed(
    router: respx.MockRouter, sessions: ActiveSessions, data: Any, count: int | None
) -> None:
    # The kick took effect (issue 12): a damaged report of it never fails the call.
    router.post(f"{PATH}/kick").mock(return_value=ok(data))

    result = await sessions.kick(MEETING_ID, participant_ids=["p1"])

    assert result == ModerationResult(count=count)


async def test_moderation_is_retried_after_a_server_error(
    router: respx.MockRouter, sessions: ActiveSessions
) -> None:
    route = router.post(f"{PATH}/mute-all").mock(
        side_effect=[
            httpx.Response(503, json={"success": False, "error": {"code": 503, "message": "x"}}),
            ok({"action": "mute_all", "muted_participants_count": 2}),
        ]
    )

    result = await sessions.mute_all(MEETING_ID, allow_unmute=False)

    assert route.call_count == 2
    assert result.count == 2


@pytest.mark.parametrize("bad", ["", "..", None])
async def test_bad_meeting_ids_send_nothing(
    router: respx.MockRouter, sessions: ActiveSessions, bad: Any
) -> None:
    route = router.route().mock(return_value=ok({}))

    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: sessions.get(bad),
        lambda: sessions.kick(bad, participant_ids=["p"]),
        lambda: sessions.kick_all(bad),
        lambda: sessions.mute(bad, participant_ids=["p"]),
        lambda: sessions.mute_all(bad),
    ]
    for call in calls:
        with pytest.raises(InvalidArgumentError, match="meeting_id"):
            await call()

    assert route.call_count == 0
