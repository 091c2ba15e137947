"""Scripted faults, in-process and over the socket (the `connect` fixture runs both)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dyte_async.testing import FakeClock, FakeDyte

pytestmark = pytest.mark.anyio

START = "POST /meetings/{meeting_id}/livestreams"


async def _meeting_count(client: httpx.AsyncClient) -> int:
    response = await client.get("/meetings")
    assert response.status_code == 200
    return int(response.json()["paging"]["total_count"])


async def test_fail_next_default_envelope(fake: FakeDyte, connect: Any) -> None:
    fake.fail_next(2)
    async with connect(fake) as client:
        first = await client.post("/meetings", json={})
        second = await client.get("/livestreams")
        third = await client.get("/livestreams")
        count = await _meeting_count(client)
    assert first.status_code == second.status_code == 503
    assert first.json() == {
        "success": False,
        "error": {"code": 503, "message": "Service Unavailable (injected by FakeDyte)"},
    }
    assert third.status_code == 200
    assert count == 0  # the failed POST did not act
    assert [r.status for r in fake.requests] == [503, 503, 200, 200]


async def test_fail_next_options(fake: FakeDyte, connect: Any) -> None:
    fake.fail_next(status=429, retry_after=2.5)
    fake.fail_next(status=429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    fake.fail_next(status=500, body={"custom": True})
    fake.fail_next(status=502, body="<<raw>>")
    fake.fail_next(status=401)
    async with connect(fake) as client:
        responses = [await client.get("/presets") for _ in range(6)]
    assert responses[0].status_code == 429
    assert responses[0].headers["retry-after"] == "2.5"
    assert responses[1].headers["retry-after"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert responses[2].json() == {"custom": True}
    assert responses[3].status_code == 502
    assert responses[3].content == b"<<raw>>"
    assert responses[4].json() == {"message": "Unauthorized"}
    assert responses[5].status_code == 200


async def test_route_specific_faults_are_fifo(fake: FakeDyte, connect: Any) -> None:
    meeting = fake.add_meeting(title="t")
    fake.fail_next(1, status=500, route=START)
    fake.fail_next(1, status=502, route=START)
    async with connect(fake) as client:
        other = await client.get(f"/meetings/{meeting['id']}")
        first = await client.post(f"/meetings/{meeting['id']}/livestreams")
        second = await client.post(f"/meetings/{meeting['id']}/livestreams")
        third = await client.post(f"/meetings/{meeting['id']}/livestreams")
    assert other.status_code == 200
    assert [first.status_code, second.status_code, third.status_code] == [500, 502, 201]


async def test_unknown_fault_route_is_rejected(fake: FakeDyte) -> None:
    with pytest.raises(ValueError, match="unknown route"):
        fake.fail_next(route="POST /meetings/{id}/livestreams")
    with pytest.raises(ValueError, match="kind"):
        fake.malformed_next(kind="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seconds"):
        fake.delay_next(1, -1.0)


async def test_delay_next_sleeps_on_the_clock(clock: FakeClock, connect: Any) -> None:
    fake = FakeDyte(clock=clock)
    fake.delay_next(2, 30.0, route="GET /livestreams")
    fake.fail_next(1, route="GET /livestreams")
    async with connect(fake) as client:
        start = clock.now()
        delayed_and_failed = await client.get("/livestreams")
        delayed = await client.get("/livestreams")
        plain = await client.get("/livestreams")
    assert clock.slept == [30.0, 30.0]
    assert clock.now() == start + 60.0
    assert delayed_and_failed.status_code == 503
    assert delayed.status_code == plain.status_code == 200


async def test_drop_before_action(fake: FakeDyte, connect: Any) -> None:
    fake.drop_next(route="POST /meetings")
    async with connect(fake) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/meetings", json={"title": "lost"})
        count = await _meeting_count(client)
    assert count == 0
    assert fake.requests[0].status is None
    assert fake.requests[0].route == "POST /meetings"


async def test_drop_after_action_keeps_the_write(fake: FakeDyte, connect: Any) -> None:
    meeting = fake.add_meeting(title="t")
    fake.drop_next(after_action=True, route=START)
    async with connect(fake) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(f"/meetings/{meeting['id']}/livestreams")
        active = await client.get(f"/meetings/{meeting['id']}/active-livestream")
    assert active.status_code == 200
    assert fake.requests[0].status is None


async def test_in_process_drop_error_carries_the_request(fake: FakeDyte) -> None:
    fake.drop_next()
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.get("https://fake.dyte.invalid/v2/livestreams")
    assert str(caught.value) == "Server disconnected without sending a response."
    assert caught.value.request.url.path == "/v2/livestreams"


@pytest.mark.parametrize("kind", ["html", "truncated", "empty", "not_object"])
async def test_malformed_bodies_keep_the_status_and_act(
    fake: FakeDyte, connect: Any, kind: Any
) -> None:
    fake.malformed_next(kind=kind, route="POST /meetings")
    async with connect(fake) as client:
        response = await client.post("/meetings", json={"title": "t"})
        count = await _meeting_count(client)
    assert response.status_code == 201
    assert count == 1
    if kind == "html":
        assert response.headers["content-type"] == "text/html"
        assert response.text.startswith("<!DOCTYPE html>")
    elif kind == "not_object":
        assert response.json() == ["not", "an", "object"]
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)


async def test_malformed_success_false(fake: FakeDyte, connect: Any) -> None:
    fake.malformed_next(kind="success_false")
    async with connect(fake) as client:
        response = await client.get("/livestreams")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message"}


async def test_clear_faults(fake: FakeDyte) -> None:
    fake.fail_next(5)
    fake.delay_next(5, 1.0)
    fake.drop_next(5)
    fake.clear_faults()
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as client:
        response = await client.get("/livestreams")
    assert response.status_code == 401  # no fault left: the missing credentials count
