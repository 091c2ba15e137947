"""`dyte.meetings`: the exact request on the wire, and the decoded result, per endpoint.

One table row per endpoint and answer shape (`WireCase`, `tests/unit/harness.py`).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from dyte_async import Meeting, MeetingStatus
from tests import spec_examples as ex
from tests.unit.harness import WireCase, check_wire_case, one_page, table

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


CASES = [
    WireCase(
        id="create-posts-the-given-fields-only",
        call=lambda d: d.meetings.create(
            title="Town hall",
            live_stream_on_start=True,
            record_on_start=False,
            preferred_region=None,
            recording_config={"live_streaming_config": {"rtmp_url": "rtmps://a.example/live"}},
        ),
        method="POST",
        path="/meetings",
        body={
            "title": "Town hall",
            "live_stream_on_start": True,
            "record_on_start": False,
            "recording_config": {"live_streaming_config": {"rtmp_url": "rtmps://a.example/live"}},
        },
        status=201,
        answer=ex.MEETING_200,
        result=MEETING,
        fields=[("live_stream_on_start", False), ("status", None)],
    ),
    WireCase(
        id="get-status-configs-and-cloudflare-fields",
        call=lambda d: d.meetings.get(MEETING_ID),
        method="GET",
        path=f"/meetings/{MEETING_ID}",
        answer=ex.with_data(
            ex.MEETING_200,
            title="Town hall",
            status="ACTIVE",
            live_stream_on_start=True,
            persist_chat="true",
            session_keep_alive_time_in_secs=120,
            transcribe_on_end=False,
            recording_config={"max_seconds": 3600},
            ai_config={"transcription": {"language": "en-US"}},
        ),
        fields=[
            ("title", "Town hall"),
            ("status", MeetingStatus.ACTIVE),
            ("live_stream_on_start", True),
            ("persist_chat", True),
            ("session_keep_alive_time_in_secs", 120),
            ("transcribe_on_end", False),
            ("recording_config", {"max_seconds": 3600}),
            ("ai_config", {"transcription": {"language": "en-US"}}),
        ],
    ),
    WireCase(
        id="get-keeps-an-unknown-status",
        call=lambda d: d.meetings.get(MEETING_ID),
        method="GET",
        path=f"/meetings/{MEETING_ID}",
        answer=ex.with_data(ex.MEETING_200, status="ARCHIVED"),
        fields=[("status", "ARCHIVED"), ("status.known", False)],
    ),
    WireCase(
        id="list-sends-search-and-time-range",
        call=lambda d: one_page(
            d.meetings.list(
                search="Town hall",
                start_time=datetime(2022, 11, 1, tzinfo=timezone.utc),
                end_time=datetime(2022, 11, 30, tzinfo=timezone.utc),
                per_page=20,
            )
        ),
        method="GET",
        path="/meetings",
        params={
            "search": "Town hall",
            "start_time": "2022-11-01T00:00:00+00:00",
            "end_time": "2022-11-30T00:00:00+00:00",
            "page_no": "1",
            "per_page": "20",
        },
        answer=ex.MEETINGS_200,
        fields=[("items", (MEETING,)), ("total_count", 1)],
    ),
    WireCase(
        id="update-patches-only-the-given-fields",
        call=lambda d: d.meetings.update(
            MEETING_ID, status="INACTIVE", title="Renamed", preferred_region=None
        ),
        method="PATCH",
        path=f"/meetings/{MEETING_ID}",
        body={"status": "INACTIVE", "title": "Renamed"},
        answer=ex.with_data(ex.MEETING_200, status="INACTIVE", title="Renamed"),
        fields=[("status", MeetingStatus.INACTIVE), ("title", "Renamed")],
    ),
    WireCase(
        id="replace-puts-the-create-body",
        call=lambda d: d.meetings.replace(
            MEETING_ID, title="Town hall", record_on_start=True, live_stream_on_start=False
        ),
        method="PUT",
        path=f"/meetings/{MEETING_ID}",
        body={"title": "Town hall", "record_on_start": True, "live_stream_on_start": False},
        answer=ex.MEETING_200,
        result=MEETING,
    ),
]


@table(*CASES)
async def test_the_request_on_the_wire_and_the_decoded_result(case: WireCase) -> None:
    await check_wire_case(case)
