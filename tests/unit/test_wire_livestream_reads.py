"""`dyte.livestreams` reads (lists, details, sessions, analytics): request and decoded result.

One table row per endpoint and answer shape (`WireCase`, `tests/unit/harness.py`); bodies are
the spec's own examples (and the schema-shaped variants) from `tests/spec_examples.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from dyte_async import (
    Livestream,
    LivestreamAnalytics,
    LivestreamDayAnalytics,
    LivestreamDetails,
    LivestreamSession,
    LivestreamStatus,
)
from tests import spec_examples as ex
from tests.unit.harness import (
    Typed,
    WireCase,
    check_wire_case,
    mocked,
    one_page,
    table,
)

pytestmark = pytest.mark.anyio

MEETING_ID = "bbb03399-24e3-4b0c-90ec-172e97e636be"
LIVESTREAM_ID = "b60ef3da-fbbb-441b-9168-8235b0035248"
SESSION_ID = "cf55a850-c3fd-46b5-b5d2-25b3b9aa1686"
MEETING_SESSION_ID = "6bf2b8be-04dd-4191-b602-1128921a306b"

UTC = timezone.utc


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


# The decoded forms of the shared D2 example objects.
DETAILS_LIVESTREAM = Livestream(
    id=LIVESTREAM_ID,
    status=LivestreamStatus.LIVE,
    name=None,
    meeting_id="bbb87945-df1c-49d9-8159-262a7ae6cfde",
    ingest_server="rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
    stream_key="sk_ap-south-1_x3lKBdJa8UDN_3q6PPLMJnqnbnhyrkXrOG504MUsxnZ",
    playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.944908621410.channel.ob5KQUrP5Zaf.m3u8",
    created_at=at(2023, 7, 15, 7, 8, 26, 634000),
    updated_at=at(2023, 7, 15, 7, 8, 40, 726000),
    disabled=False,
)
DETAILS_SESSION = LivestreamSession(
    id=SESSION_ID,
    livestream_id=LIVESTREAM_ID,
    err_message=None,
    invoked_time=None,
    started_time=at(2023, 7, 15, 7, 8, 39),
    stopped_time=None,
    created_at=at(2023, 7, 15, 7, 8, 40, 742000),
    updated_at=at(2023, 7, 15, 7, 8, 40, 742000),
    ingest_seconds=60,
    viewer_seconds=60,
)


ALL_LIVESTREAMS_ITEM = Livestream(
    id="3fd739f4-3c41-456e-bfba-6ebd51e16d2c",
    status=LivestreamStatus.IDLE,
    name=None,
    meeting_id=None,
    ingest_server="rtmps://1ab802dd26b0.global-contribute.live-video.net:344/app/",
    stream_key="sk_ap-south-1_fiETVh5SNa3V_ABs0NlNCkJqTokqrMbrdWyA1bcII32",
    playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.811208621215.channel.mA2dNqrBulpi.m3u8",
    created_at=at(2023, 7, 15, 11, 48, 34, 753000),
    updated_at=at(2023, 7, 15, 11, 48, 34, 753000),
    disabled=False,
)

MEETING_LIST_PATH = f"/meetings/{MEETING_ID}/livestream"
SESSION_PATH = f"/livestreams/{LIVESTREAM_ID}/active-livestream-session"
SESSIONS_OF_MEETING_SESSION = f"/sessions/{MEETING_SESSION_ID}/livestream-sessions"
OVERALL = "/analytics/livestreams/overall"
DAYWISE = "/analytics/livestreams/daywise"
TOTALS = LivestreamAnalytics(count=4, total_ingest_seconds=531, total_viewer_seconds=116)
DAY = LivestreamDayAnalytics(
    date="2023-07-15T00:00:00.000Z", count=4, total_ingest_seconds=531, total_viewer_seconds=116
)

# --- GET /livestreams, GET /meetings/{meeting_id}/livestream ----------------------------

LIST_CASES = [
    WireCase(
        id="list-spec-example-page-one",
        call=lambda d: one_page(d.livestreams.list()),
        method="GET",
        path="/livestreams",
        params={"page_no": "1"},
        answer=ex.ALL_LIVESTREAMS_200,
        fields=[
            ("items", (ALL_LIVESTREAMS_ITEM,)),
            ("total_count", 1),
            ("start_offset", 1),
            ("end_offset", 1),
        ],
    ),
    WireCase(
        id="list-schema-shape-nested-paging",
        call=lambda d: one_page(d.livestreams.list()),
        method="GET",
        path="/livestreams",
        params={"page_no": "1"},
        answer=ex.ALL_LIVESTREAMS_200_SCHEMA,
        fields=[
            ("items.0.id", "3fd739f4-3c41-456e-bfba-6ebd51e16d2d"),
            ("items.0.name", "test"),
            ("items.0.status", LivestreamStatus.IDLE),
            ("items.0.disabled", False),  # from the string "false"
            ("total_count", 1),
            ("items.__len__()", Typed(1)),
        ],
    ),
    WireCase(
        id="list-every-filter-in-the-specs-spelling",
        call=lambda d: d.livestreams.list(
            status=LivestreamStatus.LIVE,
            exclude_meetings=True,
            start_time=datetime(2023, 7, 15, 0, 0, tzinfo=UTC),
            end_time=datetime(2023, 7, 16, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            sort_order="DESC",
            per_page=25,
        ).to_list(),
        method="GET",
        path="/livestreams",
        params={
            "status": "LIVE",
            "exclude_meetings": "true",
            "start_time": "2023-07-15T00:00:00+00:00",
            "end_time": "2023-07-16T12:30:00+05:30",
            "sort_order": "DSC",  # the spec's enum is ASC|DSC
            "page_no": "1",
            "per_page": "25",
        },
        answer=ex.ALL_LIVESTREAMS_200,
    ),
    WireCase(
        id="list-string-status-and-false-filter",
        call=lambda d: d.livestreams.list(
            status="IDLE", exclude_meetings=False, sort_order="ASC"
        ).to_list(),
        method="GET",
        path="/livestreams",
        params={"status": "IDLE", "exclude_meetings": "false", "sort_order": "ASC", "page_no": "1"},
        answer=ex.ALL_LIVESTREAMS_200,
    ),
    WireCase(
        id="list-for-meeting-spec-example",
        call=lambda d: one_page(d.livestreams.list_for_meeting(MEETING_ID)),
        method="GET",
        path=MEETING_LIST_PATH,
        params={"page_no": "1"},
        answer=ex.MEETING_LIVESTREAMS_200,
        fields=[
            (
                "items",
                (
                    LivestreamDetails(
                        livestream=Livestream(
                            id=LIVESTREAM_ID,
                            status=LivestreamStatus.LIVE,
                            meeting_id="aaa87945-df1c-49d9-8159-262a7ae6cfde",
                            ingest_server="rtmps://2ec802dd47b0.global-contribute.live-video.net:233/app/",
                            stream_key="sk_ap-south-1_x3lKBdJa8UDN_3q6ABCDJnqnbnhyrkXrOG103ABsxnZ",
                            playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.855008621410.channel.ob5KQUrP5Zaf.m3u8",
                            created_at=at(2023, 7, 15, 7, 8, 26, 634000),
                            updated_at=at(2023, 7, 15, 7, 8, 40, 726000),
                        ),
                        sessions=(DETAILS_SESSION,),
                    ),
                ),
            ),
            ("items.0.session", DETAILS_SESSION),
            ("total_count", 1),
        ],
    ),
    WireCase(
        id="list-for-meeting-schema-shape",
        call=lambda d: d.livestreams.list_for_meeting(MEETING_ID, per_page=10).to_list(),
        method="GET",
        path=MEETING_LIST_PATH,
        params={"page_no": "1", "per_page": "10"},
        answer=ex.MEETING_LIVESTREAMS_200_SCHEMA,
        fields=[
            ("__len__()", 1),
            ("0.livestream", DETAILS_LIVESTREAM),
            ("0.sessions.__len__()", 1),
            ("0.sessions.0.ingest_seconds", 60),  # from the schema's string "60"
            ("0.sessions.0.viewer_seconds", 42.5),
        ],
    ),
]

# --- GET /livestreams/{id}, sessions ------------------------------------------------

DETAILS_CASES = [
    WireCase(
        id="get-spec-example-sessions-array",
        call=lambda d: d.livestreams.get(LIVESTREAM_ID),
        method="GET",
        path=f"/livestreams/{LIVESTREAM_ID}",
        answer=ex.LIVESTREAM_200,
        result=LivestreamDetails(livestream=DETAILS_LIVESTREAM, sessions=(DETAILS_SESSION,)),
    ),
    WireCase(
        id="get-schema-shape-one-session-object",
        call=lambda d: d.livestreams.get(LIVESTREAM_ID),
        method="GET",
        path=f"/livestreams/{LIVESTREAM_ID}",
        answer=ex.LIVESTREAM_200_SCHEMA,
        fields=[
            ("livestream.disabled", True),  # from the schema's string "true"
            ("sessions", (DETAILS_SESSION,)),
        ],
    ),
    WireCase(
        id="get-flat-rtmp-guide-shape",
        call=lambda d: d.livestreams.get(LIVESTREAM_ID),
        method="GET",
        path=f"/livestreams/{LIVESTREAM_ID}",
        answer=ex.LIVESTREAM_200_RTMP_GUIDE,
        fields=[
            (
                "livestream",
                Livestream(
                    id="5b1e1b4c-a5d0-4d0e-8f3a-1f5b6c2a9e10",
                    status=LivestreamStatus.OFFLINE,
                    name="test_livestream",
                    meeting_id=None,
                    ingest_server="rtmps://live.cloudflare.com:443/live/",
                    stream_key="f26566285faca6fbe2e79a73a66rsrrsrrsr3cde23a2bb7dbc6c2c1761b98f4e4",
                    playback_url="https://customer-s8oj0c1n5ek8ah1e.cloudflarestream.com/7de6a3fec0f9c05bf1df140950d3a237/manifest/video.m3u8",
                    ingest_seconds=0,
                    viewer_seconds=0,
                ),
            ),
            ("sessions", ()),
            ("session", None),
        ],
    ),
    WireCase(
        id="get-active-session-spec-example",
        call=lambda d: d.livestreams.get_active_session(LIVESTREAM_ID),
        method="GET",
        path=SESSION_PATH,
        answer=ex.ACTIVE_LIVESTREAM_SESSION_200,
        result=LivestreamDetails(livestream=DETAILS_LIVESTREAM, sessions=(DETAILS_SESSION,)),
        fields=[("session", DETAILS_SESSION)],
    ),
    WireCase(
        id="get-active-session-string-numbers",
        call=lambda d: d.livestreams.get_active_session(LIVESTREAM_ID),
        method="GET",
        path=SESSION_PATH,
        answer=ex.ACTIVE_LIVESTREAM_SESSION_200_SCHEMA,
        fields=[
            ("session.ingest_seconds", 118),
            ("session.viewer_seconds", 116.5),
            ("livestream.disabled", False),
        ],
    ),
    WireCase(
        id="get-session-spec-example",
        call=lambda d: d.livestreams.get_session(SESSION_ID),
        method="GET",
        path=f"/livestreams/sessions/{SESSION_ID}",
        answer=ex.LIVESTREAM_SESSION_200,
        result=DETAILS_SESSION,
    ),
    WireCase(
        id="list-for-session-nested-data-data",
        call=lambda d: one_page(d.livestreams.list_for_session(MEETING_SESSION_ID, per_page=5)),
        method="GET",
        path=SESSIONS_OF_MEETING_SESSION,
        params={"page_no": "1", "per_page": "5"},
        answer=ex.SESSION_LIVESTREAM_SESSIONS_200,
        fields=[
            (
                "items",
                (
                    LivestreamSession(
                        id=SESSION_ID,
                        livestream_id="b60ef3da-fbbb-441b-9168-8235b0035123",
                        started_time=at(2023, 7, 15, 7, 8, 39),
                        stopped_time=at(2023, 7, 15, 7, 10, 45),
                        created_at=at(2023, 7, 15, 7, 8, 40, 742000),
                        updated_at=at(2023, 7, 15, 7, 11, 47, 274000),
                        ingest_seconds=118,
                        viewer_seconds=116.11599994199997,
                    ),
                ),
            ),
            ("total_count", 1),
            ("start_offset", 1),
            ("end_offset", 1),
        ],
    ),
    WireCase(
        id="list-for-session-flat-schema-shape",
        call=lambda d: one_page(d.livestreams.list_for_session(MEETING_SESSION_ID)),
        method="GET",
        path=SESSIONS_OF_MEETING_SESSION,
        params={"page_no": "1"},
        answer=ex.SESSION_LIVESTREAM_SESSIONS_200_SCHEMA,
        fields=[
            ("items", (DETAILS_SESSION,)),
            ("total_count", 1),  # the schema's paging numbers are floats
        ],
    ),
]

# --- analytics ------------------------------------------------------------------------

ANALYTICS_CASES = [
    WireCase(
        id="analytics-overall-iso-times-spec-array",
        call=lambda d: d.livestreams.analytics_overall(
            start_time=datetime(2023, 7, 1, tzinfo=UTC),
            end_time=datetime(2023, 7, 31, 23, 59, 59, tzinfo=UTC),
        ),
        method="GET",
        path=OVERALL,
        params={"start_time": "2023-07-01T00:00:00+00:00", "end_time": "2023-07-31T23:59:59+00:00"},
        answer=ex.ANALYTICS_OVERALL_200,
        result=TOTALS,
    ),
    WireCase(
        id="analytics-overall-no-range",
        call=lambda d: d.livestreams.analytics_overall(),
        method="GET",
        path=OVERALL,
        answer=ex.ANALYTICS_OVERALL_200,
        result=TOTALS,
    ),
    WireCase(
        id="analytics-overall-schemas-object",
        call=lambda d: d.livestreams.analytics_overall(),
        method="GET",
        path=OVERALL,
        answer=ex.ANALYTICS_OVERALL_200_SCHEMA,
        result=TOTALS,
        fields=[("count", Typed(4))],
    ),
    WireCase(
        id="analytics-daywise-spec-example",
        call=lambda d: d.livestreams.analytics_daywise(
            start_time=datetime(2023, 7, 15, tzinfo=UTC)
        ),
        method="GET",
        path=DAYWISE,
        params={"start_time": "2023-07-15T00:00:00+00:00"},
        answer=ex.ANALYTICS_DAYWISE_200,
        result=(DAY,),
    ),
    WireCase(
        id="analytics-daywise-schemas-object-of-strings",
        call=lambda d: d.livestreams.analytics_daywise(),
        method="GET",
        path=DAYWISE,
        answer=ex.ANALYTICS_DAYWISE_200_SCHEMA,
        result=(DAY,),
        fields=[("0.count", Typed(4))],
    ),
]


@table(*LIST_CASES, *DETAILS_CASES, *ANALYTICS_CASES)
async def test_the_request_on_the_wire_and_the_decoded_result(case: WireCase) -> None:
    await check_wire_case(case)


# --- Shapes a table does not fit --------------------------------------------------------


@pytest.mark.parametrize(("given", "sent"), [("DSC", "DSC"), ("desc", "DSC"), ("asc", "ASC")])
async def test_list_sort_order_spellings(given: Any, sent: str) -> None:
    async with mocked() as m:
        m.router.get("/livestreams").respond(200, json=ex.ALL_LIVESTREAMS_200)
        await m.dyte.livestreams.list(sort_order=given).to_list()
    assert m.requests[0].url.params["sort_order"] == sent


async def test_list_for_meeting_gives_each_livestream_its_own_sessions() -> None:
    other = {**ex.MEETING_LIVESTREAMS_200["data"]["livestream"], "id": "ls-2"}
    first = ex.MEETING_LIVESTREAMS_200["data"]["sessions"][0]
    body = {
        "success": True,
        "data": {
            "livestreams": [ex.MEETING_LIVESTREAMS_200["data"]["livestream"], other],
            "sessions": [first, {**first, "id": "s-2", "livestream_id": "ls-2"}],
        },
        "paging": {"total_count": 2, "start_offset": 1, "end_offset": 2},
    }
    async with mocked() as m:
        m.router.get(MEETING_LIST_PATH).respond(200, json=body)
        items = await m.dyte.livestreams.list_for_meeting(MEETING_ID).to_list()

    assert [(d.livestream.id, [s.id for s in d.sessions]) for d in items] == [
        (LIVESTREAM_ID, [SESSION_ID]),
        ("ls-2", ["s-2"]),
    ]
