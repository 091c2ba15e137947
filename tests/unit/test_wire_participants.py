"""`dyte.participants`: the exact request on the wire, and the decoded result, per endpoint.

One table row per endpoint and answer shape (`WireCase`, `tests/unit/harness.py`).
"""

from __future__ import annotations

from datetime import datetime, timezone

import attrs
import pytest

from dyte_async import Participant
from tests import spec_examples as ex
from tests.unit.harness import WireCase, check_wire_case, table

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


CASES = [
    WireCase(
        id="add-posts-the-required-fields-and-returns-the-token",
        call=lambda d: d.participants.add(
            MEETING_ID,
            preset_name="livestream_host",
            custom_participant_id="mary@example.com",
            name="Mary Sue",
            picture=None,
        ),
        method="POST",
        path=BASE,
        body={
            "preset_name": "livestream_host",
            "custom_participant_id": "mary@example.com",
            "name": "Mary Sue",
        },
        status=201,
        answer=ex.ADD_PARTICIPANT_201,
        result=attrs.evolve(PARTICIPANT, token=ex.PARTICIPANT_TOKEN),
    ),
    WireCase(
        id="refresh-token-posts-no-body",
        call=lambda d: d.participants.refresh_token(MEETING_ID, PARTICIPANT_ID),
        method="POST",
        path=f"{BASE}/{PARTICIPANT_ID}/token",
        answer=ex.REGEN_TOKEN_200,
        result=ex.REFRESHED_TOKEN,
    ),
    WireCase(
        id="get-without-a-token",
        call=lambda d: d.participants.get(MEETING_ID, PARTICIPANT_ID),
        method="GET",
        path=f"{BASE}/{PARTICIPANT_ID}",
        answer=ex.PARTICIPANT_200,
        result=PARTICIPANT,
        fields=[("token", None)],
    ),
    WireCase(
        id="list-asks-for-pages",
        call=lambda d: d.participants.list(MEETING_ID, per_page=50).to_list(),
        method="GET",
        path=BASE,
        params={"page_no": "1", "per_page": "50"},
        answer=ex.PARTICIPANTS_200,
        result=[PARTICIPANT],
    ),
    WireCase(
        id="update-patches-only-the-given-fields",
        call=lambda d: d.participants.update(
            MEETING_ID, PARTICIPANT_ID, name="Jane Doe", picture=None
        ),
        method="PATCH",
        path=f"{BASE}/{PARTICIPANT_ID}",
        body={"name": "Jane Doe"},
        answer=ex.with_data(ex.ADD_PARTICIPANT_201, name="Jane Doe", picture=None),
        fields=[("name", "Jane Doe"), ("picture", None)],
    ),
    WireCase(
        id="delete-sends-no-body",
        call=lambda d: d.participants.delete(MEETING_ID, PARTICIPANT_ID),
        method="DELETE",
        path=f"{BASE}/{PARTICIPANT_ID}",
        answer=ex.DELETE_PARTICIPANT_200,
    ),
]


@table(*CASES)
async def test_the_request_on_the_wire_and_the_decoded_result(case: WireCase) -> None:
    await check_wire_case(case)
