"""`dyte.livestreams`: the exact request on the wire, and the decoded result, per endpoint.

One table row per endpoint and answer shape (`WireCase`, `tests/unit/harness.py`); bodies are
the spec's own examples (and the schema-shaped variants) from `tests/spec_examples.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dyte_async import (
    Livestream,
    LivestreamDayAnalytics,
    LivestreamStatus,
    NotFoundError,
)
from tests import spec_examples as ex
from tests.unit.harness import (
    WireCase,
    assert_request,
    check_wire_case,
    mocked,
    table,
)

pytestmark = pytest.mark.anyio

MEETING_ID = "bbb03399-24e3-4b0c-90ec-172e97e636be"
LIVESTREAM_ID = "b60ef3da-fbbb-441b-9168-8235b0035248"

UTC = timezone.utc


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


START_PATH = f"/meetings/{MEETING_ID}/livestreams"
ACTIVE_PATH = f"/meetings/{MEETING_ID}/active-livestream"
DAYWISE = "/analytics/livestreams/daywise"

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

# --- POST /livestreams ----------------------------------------------------------------

CREATE_CASES = [
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


@table(*START_CASES, *ACTIVE_CASES, *CREATE_CASES, *KEY_AND_SWITCH_CASES, *REALTIMEKIT_CASES)
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


async def test_path_segments_are_quoted_on_the_wire() -> None:
    async with mocked() as m:
        m.router.route().respond(200, json=ex.LIVESTREAM_SESSION_200)
        await m.dyte.livestreams.get_session("a/b?c#d e")

    (request,) = m.requests
    assert request.url.raw_path == b"/v2/livestreams/sessions/a%2Fb%3Fc%23d%20e"
    assert request.url.params.multi_items() == []
