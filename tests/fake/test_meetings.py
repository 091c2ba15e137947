"""Meetings, participants and the active session."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dyte_async.testing import FakeClock, FakeDyte
from tests.fake import shapes as spec
from tests.fake.conftest import conforms, in_process

pytestmark = pytest.mark.anyio


async def _participant(
    client: httpx.AsyncClient, meeting_id: str, custom_id: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/meetings/{meeting_id}/participants",
        json={"preset_name": "livestream_host", "custom_participant_id": custom_id, **fields},
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_create_and_get_meeting(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        created = await client.post(
            "/meetings",
            json={
                "title": "Town hall",
                "live_stream_on_start": True,
                "preferred_region": "ap-south-1",
                "recording_config": {"max_seconds": 60},
            },
        )
        meeting_id = created.json()["data"]["id"]
        fetched = await client.get(f"/meetings/{meeting_id}")
        missing = await client.get("/meetings/nope")
    assert created.status_code == 201
    conforms(created.json(), {"success": True, "data": spec.MEETING})
    data = fetched.json()["data"]
    assert data == created.json()["data"]
    assert data["live_stream_on_start"] is True
    assert data["recording_config"] == {"max_seconds": 60}
    assert data["status"] == "ACTIVE"
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": 3}, '"title" must be a string'),
        ({"record_on_start": "yes"}, '"record_on_start" must be a boolean'),
        ({"preferred_region": "mars-1"}, '"preferred_region" must be one of'),
        ({"unknown_field": 1}, '"unknown_field" is not allowed'),
        ({"session_keep_alive_time_in_secs": 5}, "between 60 and 600"),
    ],
)
async def test_create_meeting_validates(fake: FakeDyte, body: Any, message: str) -> None:
    async with in_process(fake) as client:
        response = await client.post("/meetings", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


async def test_invalid_json_is_400(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        response = await client.post(
            "/meetings", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("BAD_REQUEST")


async def test_patch_and_put_meeting(fake: FakeDyte, clock: FakeClock) -> None:
    async with in_process(fake) as client:
        created = (
            await client.post("/meetings", json={"title": "a", "persist_chat": True})
        ).json()["data"]
        clock.advance(1)
        patched = await client.patch(
            f"/meetings/{created['id']}", json={"status": "INACTIVE", "title": "b"}
        )
        replaced = await client.put(f"/meetings/{created['id']}", json={"title": "c"})
        bad_status = await client.patch(f"/meetings/{created['id']}", json={"status": "GONE"})
    patched_data = patched.json()["data"]
    assert patched_data["title"] == "b"
    assert patched_data["status"] == "INACTIVE"
    assert patched_data["persist_chat"] is True
    assert patched_data["updated_at"] > created["updated_at"]
    replaced_data = replaced.json()["data"]
    assert replaced_data["title"] == "c"
    assert replaced_data["persist_chat"] is False  # PUT resets what it does not send
    assert replaced_data["status"] == "INACTIVE"
    assert replaced_data["created_at"] == created["created_at"]
    assert bad_status.status_code == 400


async def test_list_meetings_search_and_paging(fake: FakeDyte, clock: FakeClock) -> None:
    async with in_process(fake) as client:
        ids = []
        for index in range(5):
            ids.append(
                (await client.post("/meetings", json={"title": f"Weekly {index}"})).json()["data"][
                    "id"
                ]
            )
            clock.advance(1)
        await client.post("/meetings", json={"title": "Other"})
        all_pages = [
            (await client.get("/meetings", params={"per_page": 4, "page_no": p})).json()
            for p in (1, 2, 3)
        ]
        search = await client.get("/meetings", params={"search": "weekly"})
        by_id = await client.get("/meetings", params={"search": ids[2][:8]})
    assert [page["paging"] for page in all_pages] == [
        {"total_count": 6, "start_offset": 1, "end_offset": 4},
        {"total_count": 6, "start_offset": 5, "end_offset": 6},
        {"total_count": 6, "start_offset": 9, "end_offset": 8},
    ]
    conforms(all_pages[0], {"success": True, "data": [spec.MEETING], "paging": spec.PAGING})
    titles = [m["title"] for page in all_pages for m in page["data"]]
    assert titles == ["Other", "Weekly 4", "Weekly 3", "Weekly 2", "Weekly 1", "Weekly 0"]
    assert search.json()["paging"]["total_count"] == 5
    assert [m["id"] for m in by_id.json()["data"]] == [ids[2]]


async def test_participants_crud(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        meeting_id = (await client.post("/meetings", json={})).json()["data"]["id"]
        added = await client.post(
            f"/meetings/{meeting_id}/participants",
            json={"preset_name": "livestream_host", "custom_participant_id": "host-1", "name": "H"},
        )
        participant = added.json()["data"]
        base = f"/meetings/{meeting_id}/participants/{participant['id']}"
        fetched = await client.get(base)
        patched = await client.patch(base, json={"name": "Host", "preset_name": "viewer"})
        token = await client.post(f"{base}/token")
        listed = await client.get(f"/meetings/{meeting_id}/participants")
        deleted = await client.delete(base)
        gone = await client.get(base)
    assert added.status_code == 201
    conforms(added.json(), {"success": True, "data": {**spec.PARTICIPANT, "token": "t"}})
    conforms(fetched.json(), {"success": True, "data": spec.PARTICIPANT})
    assert "token" not in fetched.json()["data"]
    assert patched.json()["data"]["name"] == "Host"
    assert patched.json()["data"]["preset_name"] == "viewer"
    assert token.json()["data"]["token"] != participant["token"]
    conforms(token.json(), {"success": True, "data": {"token": "t"}})
    conforms(listed.json(), {"success": True, "data": [spec.PARTICIPANT], "paging": spec.PAGING})
    conforms(deleted.json(), {"success": True, "data": spec.DELETED_PARTICIPANT})
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"custom_participant_id": "x"}, 'BAD_REQUEST: "preset_name" is required'),
        ({"preset_name": "host"}, 'BAD_REQUEST: "custom_participant_id" is required'),
        (None, 'BAD_REQUEST: "value" is required'),
    ],
)
async def test_add_participant_requires_fields(fake: FakeDyte, body: Any, message: str) -> None:
    meeting = fake.add_meeting(title="t")
    async with in_process(fake) as client:
        response = await client.post(f"/meetings/{meeting['id']}/participants", json=body)
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": {"code": 400, "message": message}}


async def test_active_session_lifecycle(fake: FakeDyte, clock: FakeClock) -> None:
    meeting = fake.add_meeting(title="Town hall")
    meeting_id = meeting["id"]
    async with in_process(fake) as client:
        host = await _participant(client, meeting_id, "host")
        none = await client.get(f"/meetings/{meeting_id}/active-session")
        fake.start_meeting(meeting_id)
        viewer = await _participant(client, meeting_id, "viewer")  # joins at once
        clock.advance(120)
        active = await client.get(f"/meetings/{meeting_id}/active-session")
    assert none.status_code == 404
    assert none.json() == {
        "success": False,
        "error": {"code": 404, "message": f"No active session found for meeting_id {meeting_id}"},
    }
    conforms(active.json(), spec.ACTIVE_SESSION)
    data = active.json()["data"]
    assert data["associated_id"] == meeting_id
    assert data["live_participants"] == 2
    assert data["max_concurrent_participants"] == 2
    assert data["minutes_consumed"] == 2.0
    session = fake.active_session(meeting_id)
    assert session is not None
    assert {p["id"] for p in session["participants"]} == {host["id"], viewer["id"]}


async def test_kick_and_mute(fake: FakeDyte) -> None:
    meeting_id = fake.add_meeting(title="t")["id"]
    async with in_process(fake) as client:
        people = [await _participant(client, meeting_id, f"p{i}") for i in range(4)]
        fake.start_meeting(meeting_id)
        base = f"/meetings/{meeting_id}/active-session"
        muted = await client.post(f"{base}/mute", json={"participant_ids": [people[0]["id"]]})
        kicked = await client.post(f"{base}/kick", json={"custom_participant_ids": ["p1"]})
        empty = await client.post(f"{base}/kick", json={})
        unknown = await client.post(f"{base}/kick", json={"participant_ids": ["nobody"]})
        mute_all = await client.post(f"{base}/mute-all", json={"allow_unmute": False})
        kick_all = await client.post(f"{base}/kick-all")
        after = await client.get(base)
    participant_item = {"success": True, "data": {"action": "a", "participants": []}}
    conforms(muted.json(), participant_item)
    assert muted.json()["data"]["participants"][0]["id"] == people[0]["id"]
    conforms(muted.json()["data"]["participants"][0], spec.SESSION_PARTICIPANT)
    assert [p["id"] for p in kicked.json()["data"]["participants"]] == [people[1]["id"]]
    assert empty.status_code == 400
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "No user found with id nobody"
    assert mute_all.json()["data"] == {"action": "mute_all", "muted_participants_count": 3}
    assert kick_all.json()["data"] == {"action": "kick_all", "kicked_participants_count": 3}
    assert after.json()["data"]["live_participants"] == 0
    assert after.json()["data"]["max_concurrent_participants"] == 4


async def test_join_helper(fake: FakeDyte) -> None:
    meeting_id = fake.add_meeting()["id"]
    async with in_process(fake) as client:
        participant = await _participant(client, meeting_id, "late")
    with pytest.raises(ValueError, match="start_meeting"):
        fake.join(meeting_id, participant["id"])
    fake.start_meeting(meeting_id)
    fake.end_meeting(meeting_id)
    fake.start_meeting(meeting_id)
    session = fake.active_session(meeting_id)
    assert session is not None
    assert [p["id"] for p in session["participants"]] == [participant["id"]]
    with pytest.raises(KeyError):
        fake.join(meeting_id, "nobody")


async def test_add_meeting_seeds_records(fake: FakeDyte) -> None:
    record = fake.add_meeting(id="m-1", title="Seeded", live_stream_on_start=True)
    assert record["id"] == "m-1"
    assert record["status"] == "ACTIVE"
    async with in_process(fake) as client:
        response = await client.get("/meetings/m-1")
    assert response.json()["data"] == record
