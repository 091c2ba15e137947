"""`dyte.participants`: the exact request on the wire, and the decoded result, per endpoint."""

from __future__ import annotations

from datetime import datetime, timezone

import attrs
import pytest

from dyte_async import Participant
from tests import spec_examples as ex
from tests.unit.harness import assert_request, mocked

pytestmark = pytest.mark.anyio

MEETING_ID = "7f951e37-492b-45dd-8256-7f1660341c17"
PARTICIPANT_ID = "2b4b2a6e-7f3a-4c55-9a1e-3d9a8f1e2c10"
BASE = f"/meetings/{MEETING_ID}/participants"

PARTICIPANT = Participant(
    id=PARTICIPANT_ID,
    custom_participant_id="mary@example.com",
    preset_name="livestream_host",
    name="Mary Sue",
    picture="https://i.imgur.com/test.jpg",
    created_at=datetime(2023, 7, 15, 11, 58, 8, 404000, tzinfo=timezone.utc),
    updated_at=datetime(2023, 7, 15, 11, 58, 24, 278000, tzinfo=timezone.utc),
)


async def test_add_posts_the_required_fields_and_returns_the_token() -> None:
    async with mocked() as m:
        m.router.post(BASE).respond(201, json=ex.ADD_PARTICIPANT_201)
        participant = await m.dyte.participants.add(
            MEETING_ID,
            preset_name="livestream_host",
            custom_participant_id="mary@example.com",
            name="Mary Sue",
            picture=None,
        )

    (request,) = m.requests
    assert_request(
        request,
        "POST",
        BASE,
        body={
            "preset_name": "livestream_host",
            "custom_participant_id": "mary@example.com",
            "name": "Mary Sue",
        },
    )
    assert participant == attrs.evolve(PARTICIPANT, token=ex.PARTICIPANT_TOKEN)


async def test_refresh_token_posts_no_body_and_returns_the_new_token() -> None:
    async with mocked() as m:
        m.router.post(f"{BASE}/{PARTICIPANT_ID}/token").respond(200, json=ex.REGEN_TOKEN_200)
        token = await m.dyte.participants.refresh_token(MEETING_ID, PARTICIPANT_ID)

    (request,) = m.requests
    assert_request(request, "POST", f"{BASE}/{PARTICIPANT_ID}/token")
    assert token == ex.REFRESHED_TOKEN


async def test_get_decodes_the_participant_without_a_token() -> None:
    async with mocked() as m:
        m.router.get(f"{BASE}/{PARTICIPANT_ID}").respond(200, json=ex.PARTICIPANT_200)
        participant = await m.dyte.participants.get(MEETING_ID, PARTICIPANT_ID)

    (request,) = m.requests
    assert_request(request, "GET", f"{BASE}/{PARTICIPANT_ID}")
    assert participant == PARTICIPANT
    assert participant.token is None


async def test_list_asks_for_pages_and_decodes_the_participants() -> None:
    async with mocked() as m:
        m.router.get(BASE).respond(200, json=ex.PARTICIPANTS_200)
        participants = await m.dyte.participants.list(MEETING_ID, per_page=50).to_list()

    (request,) = m.requests
    assert_request(request, "GET", BASE, params={"page_no": "1", "per_page": "50"})
    assert participants == [PARTICIPANT]


async def test_update_patches_only_the_given_fields() -> None:
    body = ex.with_data(ex.ADD_PARTICIPANT_201, name="Jane Doe", picture=None)
    async with mocked() as m:
        m.router.patch(f"{BASE}/{PARTICIPANT_ID}").respond(200, json=body)
        participant = await m.dyte.participants.update(
            MEETING_ID, PARTICIPANT_ID, name="Jane Doe", picture=None
        )

    (request,) = m.requests
    assert_request(request, "PATCH", f"{BASE}/{PARTICIPANT_ID}", body={"name": "Jane Doe"})
    assert participant.name == "Jane Doe"
    assert participant.picture is None


async def test_delete_sends_no_body() -> None:
    async with mocked() as m:
        route = m.router.delete(f"{BASE}/{PARTICIPANT_ID}").respond(
            200, json=ex.DELETE_PARTICIPANT_200
        )
        await m.dyte.participants.delete(MEETING_ID, PARTICIPANT_ID)

    assert route.call_count == 1
    assert_request(route.calls.last.request, "DELETE", f"{BASE}/{PARTICIPANT_ID}")
