"""`dyte.meetings`: the exact request on the wire, and the decoded result, per endpoint."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from dyte_async import Meeting, MeetingStatus
from tests import spec_examples as ex
from tests.unit.harness import assert_request, mocked

pytestmark = pytest.mark.anyio

MEETING_ID = "7f951e37-492b-45dd-8256-7f1660341c17"
CREATED = datetime(2022, 11, 4, 18, 22, 11, 369000, tzinfo=timezone.utc)

#: The decoded D2 Meeting example (its unknown `waiting_room` is ignored).
MEETING = Meeting(
    id=MEETING_ID,
    preferred_region="ap-south-1",
    record_on_start=False,
    created_at=CREATED,
    updated_at=CREATED,
)


async def test_create_posts_the_given_fields_only_and_decodes_the_meeting() -> None:
    async with mocked() as m:
        m.router.post("/meetings").respond(201, json=ex.MEETING_200)
        meeting = await m.dyte.meetings.create(
            title="Town hall",
            live_stream_on_start=True,
            record_on_start=False,
            preferred_region=None,
            recording_config={"live_streaming_config": {"rtmp_url": "rtmps://a.example/live"}},
        )

    (request,) = m.requests
    assert_request(
        request,
        "POST",
        "/meetings",
        body={
            "title": "Town hall",
            "live_stream_on_start": True,
            "record_on_start": False,
            "recording_config": {"live_streaming_config": {"rtmp_url": "rtmps://a.example/live"}},
        },
    )
    assert meeting == MEETING
    assert meeting.live_stream_on_start is False
    assert meeting.status is None


async def test_get_decodes_status_configs_and_cloudflare_fields() -> None:
    body = ex.with_data(
        ex.MEETING_200,
        title="Town hall",
        status="ACTIVE",
        live_stream_on_start=True,
        persist_chat="true",
        session_keep_alive_time_in_secs=120,
        transcribe_on_end=False,
        recording_config={"max_seconds": 3600},
        ai_config={"transcription": {"language": "en-US"}},
    )
    async with mocked() as m:
        m.router.get(f"/meetings/{MEETING_ID}").respond(200, json=body)
        meeting = await m.dyte.meetings.get(MEETING_ID)

    (request,) = m.requests
    assert_request(request, "GET", f"/meetings/{MEETING_ID}")
    assert meeting.title == "Town hall"
    assert meeting.status is MeetingStatus.ACTIVE
    assert meeting.live_stream_on_start is True
    assert meeting.persist_chat is True
    assert meeting.session_keep_alive_time_in_secs == 120
    assert meeting.transcribe_on_end is False
    assert meeting.recording_config == {"max_seconds": 3600}
    assert meeting.ai_config == {"transcription": {"language": "en-US"}}


async def test_list_sends_search_and_time_range_and_decodes_the_page() -> None:
    start = datetime(2022, 11, 1, tzinfo=timezone.utc)
    end = datetime(2022, 11, 30, tzinfo=timezone.utc)
    async with mocked() as m:
        m.router.get("/meetings").respond(200, json=ex.MEETINGS_200)
        pages = [
            page
            async for page in m.dyte.meetings.list(
                search="Town hall", start_time=start, end_time=end, per_page=20
            ).pages()
        ]

    (request,) = m.requests
    assert_request(
        request,
        "GET",
        "/meetings",
        params={
            "search": "Town hall",
            "start_time": "2022-11-01T00:00:00+00:00",
            "end_time": "2022-11-30T00:00:00+00:00",
            "page_no": "1",
            "per_page": "20",
        },
    )
    (page,) = pages
    assert page.items == (MEETING,)
    assert page.total_count == 1


async def test_update_patches_only_the_given_fields() -> None:
    body = ex.with_data(ex.MEETING_200, status="INACTIVE", title="Renamed")
    async with mocked() as m:
        m.router.patch(f"/meetings/{MEETING_ID}").respond(200, json=body)
        meeting = await m.dyte.meetings.update(
            MEETING_ID, status="INACTIVE", title="Renamed", preferred_region=None
        )

    (request,) = m.requests
    assert_request(
        request, "PATCH", f"/meetings/{MEETING_ID}", body={"status": "INACTIVE", "title": "Renamed"}
    )
    assert meeting.status is MeetingStatus.INACTIVE
    assert meeting.title == "Renamed"


async def test_replace_puts_the_create_body() -> None:
    async with mocked() as m:
        m.router.put(f"/meetings/{MEETING_ID}").respond(200, json=ex.MEETING_200)
        meeting = await m.dyte.meetings.replace(
            MEETING_ID, title="Town hall", record_on_start=True, live_stream_on_start=False
        )

    (request,) = m.requests
    assert_request(
        request,
        "PUT",
        f"/meetings/{MEETING_ID}",
        body={"title": "Town hall", "record_on_start": True, "live_stream_on_start": False},
    )
    assert meeting == MEETING


async def test_an_unknown_meeting_status_is_kept() -> None:
    body = ex.with_data(ex.MEETING_200, status="ARCHIVED")
    async with mocked() as m:
        m.router.get(f"/meetings/{MEETING_ID}").respond(200, json=body)
        meeting = await m.dyte.meetings.get(MEETING_ID)
    assert meeting.status == "ARCHIVED"
    assert meeting.status is not None
    assert not meeting.status.known
