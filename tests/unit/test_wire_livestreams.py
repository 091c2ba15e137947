"""`dyte.livestreams`: the exact request on the wire, and the decoded result, per endpoint.

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
    NotFoundError,
)
from tests import spec_examples as ex
from tests.unit.harness import (
    Typed,
    WireCase,
    assert_request,
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

START_PATH = f"/meetings/{MEETING_ID}/livestreams"
ACTIVE_PATH = f"/meetings/{MEETING_ID}/active-livestream"
MEETING_LIST_PATH = f"/meetings/{MEETING_ID}/livestream"
SESSION_PATH = f"/livestreams/{LIVESTREAM_ID}/active-livestream-session"
SESSIONS_OF_MEETING_SESSION = f"/sessions/{MEETING_SESSION_ID}/livestream-sessions"
OVERALL = "/analytics/livestreams/overall"
DAYWISE = "/analytics/livestreams/daywise"
TOTALS = LivestreamAnalytics(count=4, total_ingest_seconds=531, total_viewer_seconds=116)
DAY = LivestreamDayAnalytics(
    date="2023-07-15T00:00:00.000Z", count=4, total_ingest_seconds=531, total_viewer_seconds=116
)

# --- POST /meetings/{meeting_id}/livestreams --------------------------------------------

START_CASES = [
    WireCase(
        id="start-spec-example",
        call=lambda d: d.livestreams.start(MEETING_ID, name="prdmmp-xhycsl"),
        method="POST",
        path=START_PATH,
        body=ex.START_LIVESTREAM_REQUEST,
        status=201,
        answer=ex.START_LIVESTREAM_201,
        result=Livestream(
            id="7088bba8-f522-49a8-b59b-3cd0e946bbb0",
            status=LivestreamStatus.INVOKED,
            # The answer has no meeting_id: the client fills in the one it asked for.
            meeting_id=MEETING_ID,
            ingest_server="rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
            stream_key="sk_ap-south-1_AfnVpeYZjidO_fBpWKody7sDUOEfy9Zc6XAZegkR0Va",
            playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.944908621410.channel.rVKA2KM5Lunt.m3u8",
        ),
        fields=[("is_live", False)],
    ),
    WireCase(
        id="start-video-config",
        call=lambda d: d.livestreams.start(MEETING_ID, video_config={"height": 720, "width": 1280}),
        method="POST",
        path=START_PATH,
        body={"video_config": {"height": 720, "width": 1280}},
        status=201,
        answer=ex.START_LIVESTREAM_201,
    ),
    WireCase(
        id="start-without-name",
        call=lambda d: d.livestreams.start(MEETING_ID),
        method="POST",
        path=START_PATH,
        body={},
        status=201,
        answer=ex.START_LIVESTREAM_201,
    ),
    WireCase(
        id="start-guide-shape-offline-with-meeting-id",
        call=lambda d: d.livestreams.start(MEETING_ID),
        method="POST",
        path=START_PATH,
        body={},
        status=201,
        answer=ex.with_data(ex.START_LIVESTREAM_201, status="OFFLINE", name=None, meeting_id="m-2"),
        fields=[
            ("status", LivestreamStatus.OFFLINE),
            ("status.known", True),
            ("meeting_id", "m-2"),
        ],
    ),
]

# --- GET /meetings/{meeting_id}/active-livestream, POST .../active-livestream/stop ------

ACTIVE_CASES = [
    WireCase(
        id="get-active-spec-example",
        call=lambda d: d.livestreams.get_active(MEETING_ID),
        method="GET",
        path=ACTIVE_PATH,
        answer=ex.ACTIVE_LIVESTREAM_200,
        result=Livestream(
            id="61e03cb4-d4da-42ad-9169-f53360f4f4b4",
            status=LivestreamStatus.LIVE,
            name=None,
            meeting_id=MEETING_ID,
            playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.811208621410.channel.9Ztr6yk4vndX.a1c3",
            created_at=at(2023, 7, 15, 11, 58, 8, 404000),
            updated_at=at(2023, 7, 15, 11, 58, 24, 278000),
            disabled=False,
        ),
        fields=[("is_live", True), ("created_at.utcoffset()", timedelta(0))],
    ),
    WireCase(
        id="get-active-disabled-as-string",
        call=lambda d: d.livestreams.get_active(MEETING_ID),
        method="GET",
        path=ACTIVE_PATH,
        answer=ex.with_data(ex.ACTIVE_LIVESTREAM_200, disabled="true"),
        fields=[("disabled", True)],
    ),
    WireCase(
        id="get-active-unknown-status-kept",
        call=lambda d: d.livestreams.get_active(MEETING_ID),
        method="GET",
        path=ACTIVE_PATH,
        answer=ex.with_data(ex.ACTIVE_LIVESTREAM_200, status="STARTING", surprise={"new": True}),
        fields=[
            ("status", LivestreamStatus("STARTING")),
            ("status", "STARTING"),
            ("status.known", False),
            ("is_live", False),
            ("id", "61e03cb4-d4da-42ad-9169-f53360f4f4b4"),
        ],
    ),
    WireCase(
        id="stop-no-body-returns-message",
        call=lambda d: d.livestreams.stop(MEETING_ID),
        method="POST",
        path=f"{ACTIVE_PATH}/stop",
        answer=ex.STOP_LIVESTREAM_200,
        result="Stopped live stream successfully",
    ),
]

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

# --- POST /livestreams, GET /livestreams/{id}, sessions ------------------------------

LIVESTREAM_CASES = [
    WireCase(
        id="create-spec-example",
        call=lambda d: d.livestreams.create(name="prdmmp-xhycsl"),
        method="POST",
        path="/livestreams",
        body=ex.START_LIVESTREAM_REQUEST,
        status=201,
        answer=ex.CREATE_LIVESTREAM_201,
        result=Livestream(
            id="78dd0b50-4147-4bb8-88d3-2ccc2e98bff0",
            status=LivestreamStatus.INVOKED,
            name="Livestreaming-Demo",
            meeting_id=None,
            ingest_server="rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
            stream_key="sk_ap-south-1_BSErwBSdrcWn_0eG01cFGCJcRcCsflOAX3Eu4B3RyRX",
            playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.944908621410.channel.Jk1l97eJF0ME.m3u8",
            disabled=False,
        ),
    ),
    WireCase(
        id="create-without-name",
        call=lambda d: d.livestreams.create(),
        method="POST",
        path="/livestreams",
        body={},
        status=201,
        answer=ex.CREATE_LIVESTREAM_201,
    ),
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

# --- reset-stream-key, enable, disable (Dyte only) ------------------------------------

KEY_AND_SWITCH_CASES = [
    WireCase(
        id="reset-stream-key-spec-example",
        call=lambda d: d.livestreams.reset_stream_key(LIVESTREAM_ID),
        method="POST",
        path=f"/livestreams/{LIVESTREAM_ID}/reset-stream-key",
        answer=ex.RESET_STREAM_KEY_200,
        result=Livestream(
            id="61e03cb4-d4da-42ad-9169-f53360f4f4b4",
            status=LivestreamStatus.LIVE,
            meeting_id=MEETING_ID,
            ingest_server="rtmps://2ec802dd47b0.global-contribute.live-video.net:223/app/",
            stream_key="",
            playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.124408622242.channel.9Ztr6yk4vndX.m3a1",
            created_at=at(2023, 7, 15, 11, 58, 8, 404000),
            updated_at=at(2023, 7, 15, 12, 2, 48, 242000),
            disabled=True,
        ),
    ),
    WireCase(
        id="enable-livestream-base",
        call=lambda d: d.livestreams.enable(LIVESTREAM_ID),
        method="PUT",
        path=f"/livestreams/{LIVESTREAM_ID}/enable",
        answer=ex.ENABLE_LIVESTREAM_200,
        result=Livestream(
            id="58dd0b50-4147-4bb8-88d3-2ccc2e98baa0",
            status=LivestreamStatus.OFFLINE,
            name="Livestreaming-Demo",
            meeting_id=None,
            ingest_server="rtmps://1ec802dd47a1.global-contribute.live-video.net:344/app/",
            stream_key="sk_ap-south-1_ABCrwBSdrcWn_0eG01cFGCJcRcCsflOAX3Eu4B3RyZX",
            playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.100108621410.channel.Ab1l97eJF0ME.m3u8",
            ingest_seconds=0,
            viewer_seconds=0,
        ),
    ),
    WireCase(
        id="disable-spec-example",
        call=lambda d: d.livestreams.disable(LIVESTREAM_ID),
        method="PUT",
        path=f"/livestreams/{LIVESTREAM_ID}/disable",
        answer=ex.DISABLE_LIVESTREAM_200,
        result=Livestream(
            id="string",
            status=LivestreamStatus.LIVE,
            name="string",
            meeting_id="string",
            ingest_server="string",
            stream_key="string",
            playback_url="string",
            created_at=at(2019, 8, 24, 14, 15, 22),
            updated_at=at(2019, 8, 24, 14, 15, 22),
            disabled=False,
            org_id="string",
        ),
    ),
    WireCase(
        id="disable-schemas-livestream-base-key",
        call=lambda d: d.livestreams.disable(LIVESTREAM_ID),
        method="PUT",
        path=f"/livestreams/{LIVESTREAM_ID}/disable",
        answer=ex.DISABLE_LIVESTREAM_200_SCHEMA,
        fields=[("id", "string"), ("disabled", True)],
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

# --- Cloudflare RealtimeKit: Bearer auth, its base URL, Unix seconds --------------------

REALTIMEKIT_CASES = [
    WireCase(
        id="realtimekit-create",
        call=lambda d: d.livestreams.create(name="prdmmp-xhycsl"),
        method="POST",
        path="/livestreams",
        body={"name": "prdmmp-xhycsl"},
        status=201,
        answer=ex.RTK_CREATE_LIVESTREAM_201,
        fields=[
            ("ingest_server", "rtmps://live.cloudflare.com:443/live/"),
            ("stream_key", "f26566285faca6fbe2e79a73a66rsrrsrrsr3cde23a2bb7dbc6c2c1761b98f4e4"),
        ],
        realtimekit=True,
    ),
    WireCase(
        id="realtimekit-start",
        call=lambda d: d.livestreams.start(MEETING_ID),
        method="POST",
        path=START_PATH,
        body={},
        status=201,
        answer=ex.START_LIVESTREAM_201,
        realtimekit=True,
    ),
    WireCase(
        id="realtimekit-analytics-unix-seconds",
        call=lambda d: d.livestreams.analytics_daywise(start_time=1689379200, end_time=1689465600),
        method="GET",
        path=DAYWISE,
        params={"start_time": "1689379200", "end_time": "1689465600"},
        answer=ex.RTK_ANALYTICS_DAYWISE_200,
        result=(
            LivestreamDayAnalytics(
                date="2023-07-15", count=4, total_ingest_seconds=531, total_viewer_seconds=116
            ),
        ),
        realtimekit=True,
    ),
]


@table(
    *START_CASES,
    *ACTIVE_CASES,
    *LIST_CASES,
    *LIVESTREAM_CASES,
    *KEY_AND_SWITCH_CASES,
    *ANALYTICS_CASES,
    *REALTIMEKIT_CASES,
)
async def test_the_request_on_the_wire_and_the_decoded_result(case: WireCase) -> None:
    await check_wire_case(case)


def test_the_realtimekit_base_url_is_cloudflares() -> None:
    assert (
        f"https://api.cloudflare.com/client/v4/accounts/{ex.RTK_ACCOUNT}"
        f"/realtime/kit/{ex.RTK_APP}/livestreams"
    ) == ex.RTK_BASE_URL + "/livestreams"


# --- Shapes a table does not fit --------------------------------------------------------


async def test_start_after_a_502_returns_the_active_livestream_instead_of_posting_twice() -> None:
    async with mocked() as m:
        post = m.router.post(START_PATH).respond(502, text="<html/>")
        m.router.get(ACTIVE_PATH).respond(200, json=ex.ACTIVE_LIVESTREAM_200)
        ls = await m.dyte.livestreams.start(MEETING_ID, name="townhall")

    assert post.call_count == 1
    assert [(r.method, r.url.path) for r in m.requests] == [
        ("POST", f"/v2{START_PATH}"),
        ("GET", f"/v2{ACTIVE_PATH}"),
    ]
    assert ls.id == "61e03cb4-d4da-42ad-9169-f53360f4f4b4"
    assert ls.is_live


async def test_get_active_without_a_livestream_raises_not_found() -> None:
    async with mocked() as m:
        m.router.get(ACTIVE_PATH).respond(404, json=ex.ERROR_404_NO_ACTIVE_SESSION)
        with pytest.raises(NotFoundError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    (request,) = m.requests
    assert_request(request, "GET", ACTIVE_PATH)
    assert info.value.status_code == 404
    assert info.value.message.startswith("No active session found")


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


async def test_path_segments_are_quoted_on_the_wire() -> None:
    async with mocked() as m:
        m.router.route().respond(200, json=ex.LIVESTREAM_SESSION_200)
        await m.dyte.livestreams.get_session("a/b?c#d e")

    (request,) = m.requests
    assert request.url.raw_path == b"/v2/livestreams/sessions/a%2Fb%3Fc%23d%20e"
    assert request.url.params.multi_items() == []
