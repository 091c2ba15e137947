"""`dyte.livestreams`: the exact request on the wire, and the decoded result, per endpoint.

Bodies are the spec's own examples (and the schema-shaped variants) from `spec_examples`.
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
from tests.unit.harness import assert_request, mocked, mocked_realtimekit

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


# --- POST /meetings/{meeting_id}/livestreams --------------------------------------------


async def test_start_posts_the_name_and_decodes_the_spec_example() -> None:
    async with mocked() as m:
        m.router.post(f"/meetings/{MEETING_ID}/livestreams").respond(
            201, json=ex.START_LIVESTREAM_201
        )
        ls = await m.dyte.livestreams.start(MEETING_ID, name="prdmmp-xhycsl")

    (request,) = m.requests
    assert_request(
        request,
        "POST",
        f"/meetings/{MEETING_ID}/livestreams",
        body=ex.START_LIVESTREAM_REQUEST,
    )
    assert ls == Livestream(
        id="7088bba8-f522-49a8-b59b-3cd0e946bbb0",
        status=LivestreamStatus.INVOKED,
        # The answer has no meeting_id: the client fills in the one it asked for.
        meeting_id=MEETING_ID,
        ingest_server="rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
        stream_key="sk_ap-south-1_AfnVpeYZjidO_fBpWKody7sDUOEfy9Zc6XAZegkR0Va",
        playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.944908621410.channel.rVKA2KM5Lunt.m3u8",
    )
    assert not ls.is_live


async def test_start_sends_video_config_and_omits_a_missing_name() -> None:
    async with mocked() as m:
        m.router.post(f"/meetings/{MEETING_ID}/livestreams").respond(
            201, json=ex.START_LIVESTREAM_201
        )
        await m.dyte.livestreams.start(MEETING_ID, video_config={"height": 720, "width": 1280})
        await m.dyte.livestreams.start(MEETING_ID)

    with_config, bare = m.requests
    path = f"/meetings/{MEETING_ID}/livestreams"
    assert_request(with_config, "POST", path, body={"video_config": {"height": 720, "width": 1280}})
    assert_request(bare, "POST", path, body={})


async def test_start_decodes_the_guide_shape_with_offline_status_and_meeting_id() -> None:
    body = ex.with_data(ex.START_LIVESTREAM_201, status="OFFLINE", name=None, meeting_id="m-2")
    async with mocked() as m:
        m.router.post(f"/meetings/{MEETING_ID}/livestreams").respond(201, json=body)
        ls = await m.dyte.livestreams.start(MEETING_ID)
    assert ls.status is LivestreamStatus.OFFLINE
    assert ls.status.known
    assert ls.meeting_id == "m-2"


async def test_start_after_a_502_returns_the_active_livestream_instead_of_posting_twice() -> None:
    async with mocked() as m:
        post = m.router.post(f"/meetings/{MEETING_ID}/livestreams").respond(502, text="<html/>")
        m.router.get(f"/meetings/{MEETING_ID}/active-livestream").respond(
            200, json=ex.ACTIVE_LIVESTREAM_200
        )
        ls = await m.dyte.livestreams.start(MEETING_ID, name="townhall")

    assert post.call_count == 1
    assert [(r.method, r.url.path) for r in m.requests] == [
        ("POST", f"/v2/meetings/{MEETING_ID}/livestreams"),
        ("GET", f"/v2/meetings/{MEETING_ID}/active-livestream"),
    ]
    assert ls.id == "61e03cb4-d4da-42ad-9169-f53360f4f4b4"
    assert ls.is_live


# --- GET /meetings/{meeting_id}/active-livestream ---------------------------------------


async def test_get_active_decodes_the_spec_example() -> None:
    async with mocked() as m:
        m.router.get(f"/meetings/{MEETING_ID}/active-livestream").respond(
            200, json=ex.ACTIVE_LIVESTREAM_200
        )
        ls = await m.dyte.livestreams.get_active(MEETING_ID)

    (request,) = m.requests
    assert_request(request, "GET", f"/meetings/{MEETING_ID}/active-livestream")
    assert ls == Livestream(
        id="61e03cb4-d4da-42ad-9169-f53360f4f4b4",
        status=LivestreamStatus.LIVE,
        name=None,
        meeting_id=MEETING_ID,
        playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.811208621410.channel.9Ztr6yk4vndX.a1c3",
        created_at=at(2023, 7, 15, 11, 58, 8, 404000),
        updated_at=at(2023, 7, 15, 11, 58, 24, 278000),
        disabled=False,
    )
    assert ls.is_live
    assert ls.created_at is not None
    assert ls.created_at.utcoffset() == timedelta(0)


async def test_get_active_accepts_disabled_as_the_schemas_string() -> None:
    body = ex.with_data(ex.ACTIVE_LIVESTREAM_200, disabled="true")
    async with mocked() as m:
        m.router.get(f"/meetings/{MEETING_ID}/active-livestream").respond(200, json=body)
        ls = await m.dyte.livestreams.get_active(MEETING_ID)
    assert ls.disabled is True


async def test_get_active_keeps_a_status_the_spec_does_not_know() -> None:
    body = ex.with_data(ex.ACTIVE_LIVESTREAM_200, status="STARTING", surprise={"new": True})
    async with mocked() as m:
        m.router.get(f"/meetings/{MEETING_ID}/active-livestream").respond(200, json=body)
        ls = await m.dyte.livestreams.get_active(MEETING_ID)
    assert ls.status == LivestreamStatus("STARTING") == "STARTING"
    assert not ls.status.known
    assert not ls.is_live
    assert ls.id == "61e03cb4-d4da-42ad-9169-f53360f4f4b4"


async def test_get_active_without_a_livestream_raises_not_found() -> None:
    async with mocked() as m:
        m.router.get(f"/meetings/{MEETING_ID}/active-livestream").respond(
            404, json=ex.ERROR_404_NO_ACTIVE_SESSION
        )
        with pytest.raises(NotFoundError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    assert info.value.status_code == 404
    assert info.value.message.startswith("No active session found")


# --- POST /meetings/{meeting_id}/active-livestream/stop --------------------------------


async def test_stop_posts_no_body_and_returns_the_servers_message() -> None:
    async with mocked() as m:
        m.router.post(f"/meetings/{MEETING_ID}/active-livestream/stop").respond(
            200, json=ex.STOP_LIVESTREAM_200
        )
        message = await m.dyte.livestreams.stop(MEETING_ID)

    (request,) = m.requests
    assert_request(request, "POST", f"/meetings/{MEETING_ID}/active-livestream/stop")
    assert message == "Stopped live stream successfully"


# --- GET /livestreams --------------------------------------------------------------------


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


async def test_list_asks_for_page_one_and_decodes_the_spec_example() -> None:
    async with mocked() as m:
        m.router.get("/livestreams").respond(200, json=ex.ALL_LIVESTREAMS_200)
        pages = [page async for page in m.dyte.livestreams.list().pages()]

    (request,) = m.requests
    assert_request(request, "GET", "/livestreams", params={"page_no": "1"})
    (page,) = pages
    assert page.items == (ALL_LIVESTREAMS_ITEM,)
    assert (page.total_count, page.start_offset, page.end_offset) == (1, 1, 1)


async def test_list_decodes_the_schema_shape_data_object_with_nested_paging() -> None:
    async with mocked() as m:
        m.router.get("/livestreams").respond(200, json=ex.ALL_LIVESTREAMS_200_SCHEMA)
        pages = [page async for page in m.dyte.livestreams.list().pages()]

    (page,) = pages
    (ls,) = page.items
    assert ls.id == "3fd739f4-3c41-456e-bfba-6ebd51e16d2d"
    assert ls.name == "test"
    assert ls.status is LivestreamStatus.IDLE
    assert ls.disabled is False  # from the string "false"
    assert page.total_count == 1
    assert len(m.requests) == 1


async def test_list_sends_every_filter_in_the_specs_spelling() -> None:
    start = datetime(2023, 7, 15, 0, 0, tzinfo=UTC)
    end = datetime(2023, 7, 16, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    async with mocked() as m:
        m.router.get("/livestreams").respond(200, json=ex.ALL_LIVESTREAMS_200)
        await m.dyte.livestreams.list(
            status=LivestreamStatus.LIVE,
            exclude_meetings=True,
            start_time=start,
            end_time=end,
            sort_order="DESC",
            per_page=25,
        ).to_list()
        await m.dyte.livestreams.list(
            status="IDLE", exclude_meetings=False, sort_order="ASC"
        ).to_list()

    first, second = m.requests
    assert_request(
        first,
        "GET",
        "/livestreams",
        params={
            "status": "LIVE",
            "exclude_meetings": "true",
            "start_time": "2023-07-15T00:00:00+00:00",
            "end_time": "2023-07-16T12:30:00+05:30",
            "sort_order": "DSC",  # the spec's enum is ASC|DSC
            "page_no": "1",
            "per_page": "25",
        },
    )
    assert_request(
        second,
        "GET",
        "/livestreams",
        params={"status": "IDLE", "exclude_meetings": "false", "sort_order": "ASC", "page_no": "1"},
    )


@pytest.mark.parametrize(("given", "sent"), [("DSC", "DSC"), ("desc", "DSC"), ("asc", "ASC")])
async def test_list_sort_order_spellings(given: Any, sent: str) -> None:
    async with mocked() as m:
        m.router.get("/livestreams").respond(200, json=ex.ALL_LIVESTREAMS_200)
        await m.dyte.livestreams.list(sort_order=given).to_list()
    assert m.requests[0].url.params["sort_order"] == sent


# --- GET /meetings/{meeting_id}/livestream ---------------------------------------------


async def test_list_for_meeting_decodes_the_spec_example() -> None:
    async with mocked() as m:
        m.router.get(f"/meetings/{MEETING_ID}/livestream").respond(
            200, json=ex.MEETING_LIVESTREAMS_200
        )
        pages = [page async for page in m.dyte.livestreams.list_for_meeting(MEETING_ID).pages()]

    (request,) = m.requests
    assert_request(request, "GET", f"/meetings/{MEETING_ID}/livestream", params={"page_no": "1"})
    (page,) = pages
    (details,) = page.items
    assert details == LivestreamDetails(
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
    )
    assert details.session == DETAILS_SESSION
    assert page.total_count == 1


async def test_list_for_meeting_decodes_the_schema_shape() -> None:
    async with mocked() as m:
        m.router.get(f"/meetings/{MEETING_ID}/livestream").respond(
            200, json=ex.MEETING_LIVESTREAMS_200_SCHEMA
        )
        items = await m.dyte.livestreams.list_for_meeting(MEETING_ID, per_page=10).to_list()

    assert_request(
        m.requests[0],
        "GET",
        f"/meetings/{MEETING_ID}/livestream",
        params={"page_no": "1", "per_page": "10"},
    )
    (details,) = items
    assert details.livestream == DETAILS_LIVESTREAM
    (session,) = details.sessions
    assert session.ingest_seconds == 60  # from the schema's string "60"
    assert session.viewer_seconds == 42.5


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
        m.router.get(f"/meetings/{MEETING_ID}/livestream").respond(200, json=body)
        items = await m.dyte.livestreams.list_for_meeting(MEETING_ID).to_list()

    assert [(d.livestream.id, [s.id for s in d.sessions]) for d in items] == [
        (LIVESTREAM_ID, [SESSION_ID]),
        ("ls-2", ["s-2"]),
    ]


# --- POST /livestreams ---------------------------------------------------------------------


async def test_create_posts_the_name_and_decodes_the_spec_example() -> None:
    async with mocked() as m:
        m.router.post("/livestreams").respond(201, json=ex.CREATE_LIVESTREAM_201)
        ls = await m.dyte.livestreams.create(name="prdmmp-xhycsl")
        await m.dyte.livestreams.create()

    named, bare = m.requests
    assert_request(named, "POST", "/livestreams", body=ex.START_LIVESTREAM_REQUEST)
    assert_request(bare, "POST", "/livestreams", body={})
    assert ls == Livestream(
        id="78dd0b50-4147-4bb8-88d3-2ccc2e98bff0",
        status=LivestreamStatus.INVOKED,
        name="Livestreaming-Demo",
        meeting_id=None,
        ingest_server="rtmps://2ec802dd47b0.global-contribute.live-video.net:443/app/",
        stream_key="sk_ap-south-1_BSErwBSdrcWn_0eG01cFGCJcRcCsflOAX3Eu4B3RyRX",
        playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.944908621410.channel.Jk1l97eJF0ME.m3u8",
        disabled=False,
    )


# --- GET /livestreams/{livestream_id} -------------------------------------------------


async def test_get_decodes_the_spec_example_with_a_sessions_array() -> None:
    async with mocked() as m:
        m.router.get(f"/livestreams/{LIVESTREAM_ID}").respond(200, json=ex.LIVESTREAM_200)
        details = await m.dyte.livestreams.get(LIVESTREAM_ID)

    (request,) = m.requests
    assert_request(request, "GET", f"/livestreams/{LIVESTREAM_ID}")
    assert details == LivestreamDetails(livestream=DETAILS_LIVESTREAM, sessions=(DETAILS_SESSION,))


async def test_get_decodes_the_schema_shape_with_one_session_object() -> None:
    async with mocked() as m:
        m.router.get(f"/livestreams/{LIVESTREAM_ID}").respond(200, json=ex.LIVESTREAM_200_SCHEMA)
        details = await m.dyte.livestreams.get(LIVESTREAM_ID)
    assert details.livestream.disabled is True  # from the schema's string "true"
    assert details.sessions == (DETAILS_SESSION,)


async def test_get_decodes_the_flat_rtmp_guide_shape_without_sessions() -> None:
    async with mocked() as m:
        m.router.get(f"/livestreams/{LIVESTREAM_ID}").respond(
            200, json=ex.LIVESTREAM_200_RTMP_GUIDE
        )
        details = await m.dyte.livestreams.get(LIVESTREAM_ID)
    assert details.livestream == Livestream(
        id="5b1e1b4c-a5d0-4d0e-8f3a-1f5b6c2a9e10",
        status=LivestreamStatus.OFFLINE,
        name="test_livestream",
        meeting_id=None,
        ingest_server="rtmps://live.cloudflare.com:443/live/",
        stream_key="f26566285faca6fbe2e79a73a66rsrrsrrsr3cde23a2bb7dbc6c2c1761b98f4e4",
        playback_url="https://customer-s8oj0c1n5ek8ah1e.cloudflarestream.com/7de6a3fec0f9c05bf1df140950d3a237/manifest/video.m3u8",
        ingest_seconds=0,
        viewer_seconds=0,
    )
    assert details.sessions == ()
    assert details.session is None


# --- GET /livestreams/{livestream_id}/active-livestream-session -----------------------


async def test_get_active_session_decodes_the_spec_example() -> None:
    async with mocked() as m:
        m.router.get(f"/livestreams/{LIVESTREAM_ID}/active-livestream-session").respond(
            200, json=ex.ACTIVE_LIVESTREAM_SESSION_200
        )
        details = await m.dyte.livestreams.get_active_session(LIVESTREAM_ID)

    (request,) = m.requests
    assert_request(request, "GET", f"/livestreams/{LIVESTREAM_ID}/active-livestream-session")
    assert details == LivestreamDetails(livestream=DETAILS_LIVESTREAM, sessions=(DETAILS_SESSION,))
    assert details.session == DETAILS_SESSION


async def test_get_active_session_reads_the_schemas_string_numbers() -> None:
    async with mocked() as m:
        m.router.get(f"/livestreams/{LIVESTREAM_ID}/active-livestream-session").respond(
            200, json=ex.ACTIVE_LIVESTREAM_SESSION_200_SCHEMA
        )
        details = await m.dyte.livestreams.get_active_session(LIVESTREAM_ID)
    assert details.session is not None
    assert details.session.ingest_seconds == 118
    assert details.session.viewer_seconds == 116.5
    assert details.livestream.disabled is False


# --- GET /livestreams/sessions/{livestream-session-id} --------------------------------


async def test_get_session_decodes_the_spec_example() -> None:
    async with mocked() as m:
        m.router.get(f"/livestreams/sessions/{SESSION_ID}").respond(
            200, json=ex.LIVESTREAM_SESSION_200
        )
        session = await m.dyte.livestreams.get_session(SESSION_ID)

    (request,) = m.requests
    assert_request(request, "GET", f"/livestreams/sessions/{SESSION_ID}")
    assert session == DETAILS_SESSION


# --- GET /sessions/{session_id}/livestream-sessions ----------------------------------


async def test_list_for_session_decodes_the_nested_data_data_example() -> None:
    async with mocked() as m:
        m.router.get(f"/sessions/{MEETING_SESSION_ID}/livestream-sessions").respond(
            200, json=ex.SESSION_LIVESTREAM_SESSIONS_200
        )
        pages = [
            page
            async for page in m.dyte.livestreams.list_for_session(
                MEETING_SESSION_ID, per_page=5
            ).pages()
        ]

    (request,) = m.requests
    assert_request(
        request,
        "GET",
        f"/sessions/{MEETING_SESSION_ID}/livestream-sessions",
        params={"page_no": "1", "per_page": "5"},
    )
    (page,) = pages
    assert page.items == (
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
    )
    assert (page.total_count, page.start_offset, page.end_offset) == (1, 1, 1)


async def test_list_for_session_decodes_the_flat_schema_shape() -> None:
    async with mocked() as m:
        m.router.get(f"/sessions/{MEETING_SESSION_ID}/livestream-sessions").respond(
            200, json=ex.SESSION_LIVESTREAM_SESSIONS_200_SCHEMA
        )
        pages = [
            page async for page in m.dyte.livestreams.list_for_session(MEETING_SESSION_ID).pages()
        ]
    (page,) = pages
    assert page.items == (DETAILS_SESSION,)
    assert page.total_count == 1  # the schema's paging numbers are floats


# --- reset-stream-key, enable, disable (Dyte only) ------------------------------------


async def test_reset_stream_key_posts_no_body_and_decodes_the_spec_example() -> None:
    async with mocked() as m:
        m.router.post(f"/livestreams/{LIVESTREAM_ID}/reset-stream-key").respond(
            200, json=ex.RESET_STREAM_KEY_200
        )
        ls = await m.dyte.livestreams.reset_stream_key(LIVESTREAM_ID)

    (request,) = m.requests
    assert_request(request, "POST", f"/livestreams/{LIVESTREAM_ID}/reset-stream-key")
    assert ls == Livestream(
        id="61e03cb4-d4da-42ad-9169-f53360f4f4b4",
        status=LivestreamStatus.LIVE,
        meeting_id=MEETING_ID,
        ingest_server="rtmps://2ec802dd47b0.global-contribute.live-video.net:223/app/",
        stream_key="",
        playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.124408622242.channel.9Ztr6yk4vndX.m3a1",
        created_at=at(2023, 7, 15, 11, 58, 8, 404000),
        updated_at=at(2023, 7, 15, 12, 2, 48, 242000),
        disabled=True,
    )


async def test_enable_puts_no_body_and_decodes_livestream_base() -> None:
    async with mocked() as m:
        m.router.put(f"/livestreams/{LIVESTREAM_ID}/enable").respond(
            200, json=ex.ENABLE_LIVESTREAM_200
        )
        ls = await m.dyte.livestreams.enable(LIVESTREAM_ID)

    (request,) = m.requests
    assert_request(request, "PUT", f"/livestreams/{LIVESTREAM_ID}/enable")
    assert ls == Livestream(
        id="58dd0b50-4147-4bb8-88d3-2ccc2e98baa0",
        status=LivestreamStatus.OFFLINE,
        name="Livestreaming-Demo",
        meeting_id=None,
        ingest_server="rtmps://1ec802dd47a1.global-contribute.live-video.net:344/app/",
        stream_key="sk_ap-south-1_ABCrwBSdrcWn_0eG01cFGCJcRcCsflOAX3Eu4B3RyZX",
        playback_url="https://2ec802dd47b0.ap-south-1.playback.live-video.net/api/video/v1/ap-south-1.100108621410.channel.Ab1l97eJF0ME.m3u8",
        ingest_seconds=0,
        viewer_seconds=0,
    )


async def test_disable_puts_no_body_and_decodes_the_spec_example() -> None:
    async with mocked() as m:
        m.router.put(f"/livestreams/{LIVESTREAM_ID}/disable").respond(
            200, json=ex.DISABLE_LIVESTREAM_200
        )
        ls = await m.dyte.livestreams.disable(LIVESTREAM_ID)

    (request,) = m.requests
    assert_request(request, "PUT", f"/livestreams/{LIVESTREAM_ID}/disable")
    assert ls == Livestream(
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
    )


async def test_disable_decodes_the_schemas_livestream_base_key() -> None:
    async with mocked() as m:
        m.router.put(f"/livestreams/{LIVESTREAM_ID}/disable").respond(
            200, json=ex.DISABLE_LIVESTREAM_200_SCHEMA
        )
        ls = await m.dyte.livestreams.disable(LIVESTREAM_ID)
    assert ls.id == "string"
    assert ls.disabled is True


# --- analytics -----------------------------------------------------------------------


async def test_analytics_overall_sends_iso_times_and_decodes_the_spec_examples_array() -> None:
    start = datetime(2023, 7, 1, tzinfo=UTC)
    end = datetime(2023, 7, 31, 23, 59, 59, tzinfo=UTC)
    async with mocked() as m:
        m.router.get("/analytics/livestreams/overall").respond(200, json=ex.ANALYTICS_OVERALL_200)
        totals = await m.dyte.livestreams.analytics_overall(start_time=start, end_time=end)
        await m.dyte.livestreams.analytics_overall()

    ranged, bare = m.requests
    assert_request(
        ranged,
        "GET",
        "/analytics/livestreams/overall",
        params={"start_time": "2023-07-01T00:00:00+00:00", "end_time": "2023-07-31T23:59:59+00:00"},
    )
    assert_request(bare, "GET", "/analytics/livestreams/overall")
    assert totals == LivestreamAnalytics(
        count=4, total_ingest_seconds=531, total_viewer_seconds=116
    )


async def test_analytics_overall_decodes_the_schemas_object() -> None:
    async with mocked() as m:
        m.router.get("/analytics/livestreams/overall").respond(
            200, json=ex.ANALYTICS_OVERALL_200_SCHEMA
        )
        totals = await m.dyte.livestreams.analytics_overall()
    assert totals == LivestreamAnalytics(
        count=4, total_ingest_seconds=531, total_viewer_seconds=116
    )
    assert isinstance(totals.count, int)


async def test_analytics_daywise_decodes_the_spec_example() -> None:
    start = datetime(2023, 7, 15, tzinfo=UTC)
    async with mocked() as m:
        m.router.get("/analytics/livestreams/daywise").respond(200, json=ex.ANALYTICS_DAYWISE_200)
        days = await m.dyte.livestreams.analytics_daywise(start_time=start)

    (request,) = m.requests
    assert_request(
        request,
        "GET",
        "/analytics/livestreams/daywise",
        params={"start_time": "2023-07-15T00:00:00+00:00"},
    )
    assert days == (
        LivestreamDayAnalytics(
            date="2023-07-15T00:00:00.000Z",
            count=4,
            total_ingest_seconds=531,
            total_viewer_seconds=116,
        ),
    )


async def test_analytics_daywise_decodes_the_schemas_object_of_strings() -> None:
    async with mocked() as m:
        m.router.get("/analytics/livestreams/daywise").respond(
            200, json=ex.ANALYTICS_DAYWISE_200_SCHEMA
        )
        days = await m.dyte.livestreams.analytics_daywise()
    assert days == (
        LivestreamDayAnalytics(
            date="2023-07-15T00:00:00.000Z",
            count=4,
            total_ingest_seconds=531,
            total_viewer_seconds=116,
        ),
    )
    assert isinstance(days[0].count, int)


# --- Cloudflare RealtimeKit ------------------------------------------------------------


async def test_realtimekit_sends_bearer_auth_to_the_cloudflare_path() -> None:
    async with mocked_realtimekit() as m:
        m.router.post("/livestreams").respond(201, json=ex.RTK_CREATE_LIVESTREAM_201)
        m.router.post(f"/meetings/{MEETING_ID}/livestreams").respond(
            201, json=ex.START_LIVESTREAM_201
        )
        created = await m.dyte.livestreams.create(name="prdmmp-xhycsl")
        await m.dyte.livestreams.start(MEETING_ID)

    create_request, start_request = m.requests
    bearer = f"Bearer {ex.RTK_TOKEN}"
    assert_request(
        create_request,
        "POST",
        "/livestreams",
        body={"name": "prdmmp-xhycsl"},
        base_url=ex.RTK_BASE_URL,
        authorization=bearer,
    )
    assert str(create_request.url) == (
        f"https://api.cloudflare.com/client/v4/accounts/{ex.RTK_ACCOUNT}"
        f"/realtime/kit/{ex.RTK_APP}/livestreams"
    )
    assert_request(
        start_request,
        "POST",
        f"/meetings/{MEETING_ID}/livestreams",
        body={},
        base_url=ex.RTK_BASE_URL,
        authorization=bearer,
    )
    assert created.ingest_server == "rtmps://live.cloudflare.com:443/live/"
    assert created.stream_key == (
        "f26566285faca6fbe2e79a73a66rsrrsrrsr3cde23a2bb7dbc6c2c1761b98f4e4"
    )


async def test_realtimekit_analytics_take_unix_seconds() -> None:
    async with mocked_realtimekit() as m:
        m.router.get("/analytics/livestreams/daywise").respond(
            200, json=ex.RTK_ANALYTICS_DAYWISE_200
        )
        days = await m.dyte.livestreams.analytics_daywise(
            start_time=1689379200, end_time=1689465600
        )

    (request,) = m.requests
    assert_request(
        request,
        "GET",
        "/analytics/livestreams/daywise",
        params={"start_time": "1689379200", "end_time": "1689465600"},
        base_url=ex.RTK_BASE_URL,
        authorization=f"Bearer {ex.RTK_TOKEN}",
    )
    assert days == (
        LivestreamDayAnalytics(
            date="2023-07-15", count=4, total_ingest_seconds=531, total_viewer_seconds=116
        ),
    )


async def test_path_segments_are_quoted_on_the_wire() -> None:
    async with mocked() as m:
        m.router.route().respond(200, json=ex.LIVESTREAM_SESSION_200)
        await m.dyte.livestreams.get_session("a/b?c#d e")

    (request,) = m.requests
    assert request.url.raw_path == b"/v2/livestreams/sessions/a%2Fb%3Fc%23d%20e"
    assert request.url.params.multi_items() == []
