"""Livestream endpoints: shapes of the spec's examples, and the lifecycle on a virtual clock."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from dyte_async.testing import FakeClock, FakeDyte
from tests.fake import shapes as spec
from tests.fake.conftest import conforms, in_process

pytestmark = pytest.mark.anyio

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def _meeting(client: httpx.AsyncClient, **fields: Any) -> str:
    response = await client.post("/meetings", json={"title": "Town hall", **fields})
    assert response.status_code == 201
    return str(response.json()["data"]["id"])


async def _status(client: httpx.AsyncClient, meeting_id: str) -> str:
    response = await client.get(f"/meetings/{meeting_id}/active-livestream")
    assert response.status_code == 200
    return str(response.json()["data"]["status"])


async def test_start_answers_201_with_the_livestream(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        response = await client.post(f"/meetings/{meeting_id}/livestreams", json={"name": "th-1"})
    assert response.status_code == 201
    body = response.json()
    conforms(body, spec.START)
    conforms(body["data"], spec.LIVESTREAM)
    data = body["data"]
    assert data["status"] == "INVOKED"
    assert data["name"] == "th-1"
    assert data["meeting_id"] == meeting_id
    assert data["ingest_server"] == "rtmps://fake-ingest.dyte.invalid:443/app/"
    assert re.fullmatch(r"sk_fake_[0-9a-f]+", data["stream_key"])
    assert data["playback_url"] == f"https://fake-playback.dyte.invalid/{data['id']}/index.m3u8"
    assert ISO_MS.match(data["created_at"])
    assert ISO_MS.match(data["updated_at"])
    assert data["disabled"] is False


async def test_start_without_a_body_is_accepted(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        response = await client.post(f"/meetings/{meeting_id}/livestreams")
    assert response.status_code == 201
    assert response.json()["data"]["name"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "has space"}, '"name" with value "has space" fails to match'),
        ({"name": 5}, '"name" must be a string'),
        ({"nope": 1}, '"nope" is not allowed'),
        ({"video_config": {"height": "720"}}, '"video_config.height" must be an integer'),
        ([1, 2], '"value" must be of type object'),
    ],
)
async def test_start_rejects_bad_bodies_with_400(fake: FakeDyte, body: Any, message: str) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        response = await client.post(f"/meetings/{meeting_id}/livestreams", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400
    assert error["message"].startswith("BAD_REQUEST: ")
    assert message in error["message"]


async def test_start_on_unknown_meeting_is_404(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        response = await client.post("/meetings/4b0b7c6e-0000-4000-8000-000000000000/livestreams")
    assert response.status_code == 404
    conforms(response.json(), spec.ERROR)


async def test_second_start_while_active_is_409(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        await client.post(f"/meetings/{meeting_id}/livestreams")
        response = await client.post(f"/meetings/{meeting_id}/livestreams")
    assert response.status_code == 409
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == 409


async def test_status_goes_invoked_offline_live_on_the_clock(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, offline_after=0.5, go_live_after=2.0)
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        await client.post(f"/meetings/{meeting_id}/livestreams")
        assert await _status(client, meeting_id) == "INVOKED"
        clock.advance(0.49)
        assert await _status(client, meeting_id) == "INVOKED"
        clock.advance(0.01)
        assert await _status(client, meeting_id) == "OFFLINE"
        clock.advance(1.49)
        assert await _status(client, meeting_id) == "OFFLINE"
        clock.advance(0.01)
        assert await _status(client, meeting_id) == "LIVE"


async def test_go_live_after_none_waits_for_set_status(clock: FakeClock) -> None:
    fake = FakeDyte(clock=clock, go_live_after=None, offline_after=0.1)
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        await client.post(f"/meetings/{meeting_id}/livestreams")
        clock.advance(3600)
        assert await _status(client, meeting_id) == "OFFLINE"
        fake.set_status(meeting_id, "LIVE")
        assert await _status(client, meeting_id) == "LIVE"


async def test_set_status_is_sticky(fake: FakeDyte, clock: FakeClock) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        started = (await client.post(f"/meetings/{meeting_id}/livestreams")).json()["data"]
        fake.set_status(started["id"], "OFFLINE")
        clock.advance(100)
        assert await _status(client, meeting_id) == "OFFLINE"
        fake.set_status(meeting_id, "SOMETHING_NEW")
        assert await _status(client, meeting_id) == "SOMETHING_NEW"


async def test_errored_livestream_stays_active_with_err_message(
    fake: FakeDyte, clock: FakeClock
) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        started = (await client.post(f"/meetings/{meeting_id}/livestreams")).json()["data"]
        clock.advance(5)
        fake.set_status(meeting_id, "ERRORED", err_message="encoder crashed")
        assert await _status(client, meeting_id) == "ERRORED"
        response = await client.get(f"/livestreams/{started['id']}/active-livestream-session")
    session = response.json()["data"]["session"]
    assert response.json()["data"]["livestream"]["status"] == "ERRORED"
    assert session["err_message"] == "encoder crashed"


async def test_set_status_errors(fake: FakeDyte) -> None:
    meeting = fake.add_meeting(title="x")
    with pytest.raises(KeyError):
        fake.set_status("no-such-id", "LIVE")
    with pytest.raises(ValueError, match="no active livestream"):
        fake.set_status(meeting["id"], "LIVE")
    with pytest.raises(ValueError, match="offline_after"):
        FakeDyte(offline_after=2.0, go_live_after=1.0)


async def test_stop_records_the_session_and_frees_the_meeting(
    fake: FakeDyte, clock: FakeClock
) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        started = (await client.post(f"/meetings/{meeting_id}/livestreams")).json()["data"]
        clock.advance(1.0)  # LIVE now (go_live_after=1.0)
        clock.advance(30.0)
        stop = await client.post(f"/meetings/{meeting_id}/active-livestream/stop")
        active = await client.get(f"/meetings/{meeting_id}/active-livestream")
        details = await client.get(f"/livestreams/{started['id']}")
        again = await client.post(f"/meetings/{meeting_id}/active-livestream/stop")
        restarted = await client.post(f"/meetings/{meeting_id}/livestreams")
    assert stop.status_code == 200
    assert stop.json() == spec.STOP
    assert active.status_code == 404
    assert active.json() == {
        "success": False,
        "error": {
            "code": 404,
            "message": f"No active livestream found for meeting_id {meeting_id}",
        },
    }
    body = details.json()
    conforms(body, spec.LIVESTREAM_DETAILS)
    assert body["data"]["livestream"]["status"] == "IDLE"
    (session,) = body["data"]["sessions"]
    assert session["stopped_time"] is not None
    assert session["ingest_seconds"] == 30
    assert session["viewer_seconds"] == 45.0
    assert datetime.fromisoformat(session["started_time"].replace("Z", "+00:00")) < (
        datetime.fromisoformat(session["stopped_time"].replace("Z", "+00:00"))
    )
    assert again.status_code == 404
    assert restarted.status_code == 201
    assert restarted.json()["data"]["id"] != started["id"]


async def test_set_status_idle_stops(fake: FakeDyte) -> None:
    meeting = fake.add_meeting()
    fake.start_meeting(meeting["id"])
    async with in_process(fake) as client:
        await client.post(f"/meetings/{meeting['id']}/livestreams")
        fake.set_status(meeting["id"], "IDLE")
        response = await client.get(f"/meetings/{meeting['id']}/active-livestream")
    assert response.status_code == 404
    assert fake.active_livestream(meeting["id"]) is None


async def test_meeting_livestream_list_has_the_example_shape(
    fake: FakeDyte, clock: FakeClock
) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        empty = await client.get(f"/meetings/{meeting_id}/livestream")
        for _ in range(3):
            await client.post(f"/meetings/{meeting_id}/livestreams")
            clock.advance(2)
            await client.post(f"/meetings/{meeting_id}/active-livestream/stop")
        page1 = await client.get(f"/meetings/{meeting_id}/livestream", params={"per_page": 2})
        page2 = await client.get(
            f"/meetings/{meeting_id}/livestream", params={"per_page": 2, "page_no": 2}
        )
    assert empty.json() == {
        "success": True,
        "data": {"livestream": None, "sessions": []},
        "paging": {"total_count": 0, "start_offset": 1, "end_offset": 0},
    }
    conforms(page1.json(), spec.MEETING_LIVESTREAM)
    assert page1.json()["paging"] == {"total_count": 3, "start_offset": 1, "end_offset": 2}
    assert page2.json()["paging"] == {"total_count": 3, "start_offset": 3, "end_offset": 3}
    ids = [s["id"] for s in page1.json()["data"]["sessions"] + page2.json()["data"]["sessions"]]
    assert len(set(ids)) == 3


async def test_list_all_livestreams_filters_and_sorts(fake: FakeDyte, clock: FakeClock) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        first = (await client.post(f"/meetings/{meeting_id}/livestreams")).json()["data"]
        clock.advance(2)
        independent = (await client.post("/livestreams", json={"name": "obs"})).json()["data"]
        everything = await client.get("/livestreams")
        ascending = await client.get("/livestreams", params={"sort_order": "ASC"})
        descending = await client.get("/livestreams", params={"sort_order": "DESC"})
        no_meetings = await client.get("/livestreams", params={"exclude_meetings": "true"})
        live = await client.get("/livestreams", params={"status": "LIVE"})
        invoked = await client.get("/livestreams", params={"status": "INVOKED"})
        bad = await client.get("/livestreams", params={"sort_order": "UP"})
    conforms(everything.json(), spec.ALL_LIVESTREAMS)
    assert [ls["id"] for ls in everything.json()["data"]] == [independent["id"], first["id"]]
    assert [ls["id"] for ls in ascending.json()["data"]] == [first["id"], independent["id"]]
    assert [ls["id"] for ls in descending.json()["data"]] == [independent["id"], first["id"]]
    assert [ls["id"] for ls in no_meetings.json()["data"]] == [independent["id"]]
    assert [ls["id"] for ls in live.json()["data"]] == [first["id"]]
    assert [ls["id"] for ls in invoked.json()["data"]] == [independent["id"]]
    assert bad.status_code == 400


async def test_list_all_livestreams_time_range(fake: FakeDyte, clock: FakeClock) -> None:
    async with in_process(fake) as client:
        early = (await client.post("/livestreams")).json()["data"]
        clock.advance(3600)
        late = (await client.post("/livestreams")).json()["data"]
        after = await client.get("/livestreams", params={"start_time": late["created_at"]})
        before = await client.get("/livestreams", params={"end_time": early["created_at"]})
        bad = await client.get("/livestreams", params={"start_time": "yesterday"})
    assert [ls["id"] for ls in after.json()["data"]] == [late["id"]]
    assert [ls["id"] for ls in before.json()["data"]] == [early["id"]]
    assert bad.status_code == 400


async def test_independent_livestream(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        response = await client.post("/livestreams", json={"name": "Livestreaming-Demo"})
    assert response.status_code == 201
    conforms(response.json(), spec.CREATE_INDEPENDENT)
    assert response.json()["data"]["meeting_id"] is None


async def test_session_endpoints(fake: FakeDyte, clock: FakeClock) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        started = (await client.post(f"/meetings/{meeting_id}/livestreams")).json()["data"]
        clock.advance(60)
        active = await client.get(f"/livestreams/{started['id']}/active-livestream-session")
        session = active.json()["data"]["session"]
        one = await client.get(f"/livestreams/sessions/{session['id']}")
        meeting_session = (await client.get(f"/meetings/{meeting_id}/active-session")).json()
        by_meeting_session = await client.get(
            f"/sessions/{meeting_session['data']['id']}/livestream-sessions"
        )
        unknown = await client.get("/livestreams/sessions/nope")
        unknown_meeting_session = await client.get("/sessions/nope/livestream-sessions")
        await client.post(f"/meetings/{meeting_id}/active-livestream/stop")
        not_active = await client.get(f"/livestreams/{started['id']}/active-livestream-session")
    conforms(active.json(), spec.ACTIVE_LIVESTREAM_SESSION)
    assert session["ingest_seconds"] == 59
    assert "stopped_time" not in session  # not stopped: left out (the spec has no null here)
    conforms(one.json(), spec.ONE_SESSION)
    assert one.json()["data"]["id"] == session["id"]
    conforms(by_meeting_session.json(), spec.MEETING_SESSION_LIVESTREAMS)
    assert [s["id"] for s in by_meeting_session.json()["data"]["data"]] == [session["id"]]
    assert unknown.status_code == 404
    assert unknown_meeting_session.status_code == 404
    assert not_active.status_code == 404


async def test_reset_enable_disable(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        created = (await client.post("/livestreams")).json()["data"]
        reset = await client.post(f"/livestreams/{created['id']}/reset-stream-key")
        disabled = await client.put(f"/livestreams/{created['id']}/disable")
        enabled = await client.put(f"/livestreams/{created['id']}/enable")
        missing = await client.put("/livestreams/nope/enable")
    conforms(reset.json(), spec.RESET_STREAM_KEY)
    assert reset.json()["data"]["stream_key"] != created["stream_key"]
    conforms(disabled.json(), spec.DISABLE)
    assert disabled.json()["data"]["disabled"] is True
    assert disabled.json()["data"]["org_id"] == fake.org_id
    assert enabled.json()["data"]["disabled"] is False
    assert missing.status_code == 404


async def test_analytics_sum_sessions_in_range(fake: FakeDyte, clock: FakeClock) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client)
        await client.post(f"/meetings/{meeting_id}/livestreams")
        clock.advance(11)  # 10 s LIVE
        await client.post(f"/meetings/{meeting_id}/active-livestream/stop")
        clock.advance(2 * 86400)
        later = (await client.post("/livestreams")).json()["data"]
        clock.advance(21)  # 20 s LIVE
        overall = await client.get("/analytics/livestreams/overall")
        only_later = await client.get(
            "/analytics/livestreams/overall", params={"start_time": later["created_at"]}
        )
        daywise = await client.get("/analytics/livestreams/daywise")
    conforms(overall.json(), spec.ANALYTICS_OVERALL)
    assert overall.json()["data"] == {
        "count": 2,
        "total_ingest_seconds": 30,
        "total_viewer_seconds": 45,
    }
    assert only_later.json()["data"]["count"] == 1
    conforms(daywise.json(), spec.ANALYTICS_DAYWISE)
    days = daywise.json()["data"]
    assert [d["count"] for d in days] == [1, 1]
    assert days[0]["date"] < days[1]["date"]
    assert days[0]["date"].endswith("T00:00:00.000Z")


async def test_live_stream_on_start(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        meeting_id = await _meeting(client, live_stream_on_start=True)
        before = await client.get(f"/meetings/{meeting_id}/active-livestream")
        fake.start_meeting(meeting_id)
        after = await client.get(f"/meetings/{meeting_id}/active-livestream")
    assert before.status_code == 404
    assert after.status_code == 200
    conforms(after.json(), spec.ACTIVE_LIVESTREAM)


async def test_end_meeting_stops_its_livestream(fake: FakeDyte) -> None:
    meeting = fake.add_meeting(title="t", live_stream_on_start=True)
    fake.start_meeting(meeting["id"])
    assert fake.active_livestream(meeting["id"]) is not None
    fake.end_meeting(meeting["id"])
    assert fake.active_livestream(meeting["id"]) is None
    assert fake.active_session(meeting["id"]) is None
