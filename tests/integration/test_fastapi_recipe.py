"""The FastAPI recipe (`examples/fastapi_app.py`) run as an app: results answered as JSON,
secrets redacted, fields documented in OpenAPI.

The app runs its lifespan and is driven through httpx's ASGI transport (no socket); its
client is an in-process FakeDyte's. Skipped, with the reason printed by `-ra`, only when
FastAPI is not installed (it is in the `dev` extra).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest

from dyte_async import AsyncDyte, LivestreamStatus
from dyte_async.testing import FakeDyte

pytest.importorskip(
    "fastapi", reason="FastAPI is not installed: `pip install -e .[dev]` to run the recipe"
)

from examples.fastapi_app import create_app  # needs fastapi: after the skip above

pytestmark = pytest.mark.anyio

REDACTED = "<redacted>"


@asynccontextmanager
async def app_client() -> AsyncIterator[tuple[httpx.AsyncClient, AsyncDyte]]:
    """The example app with its lifespan entered, an HTTP client of it, and its `dyte`."""
    fake = FakeDyte(go_live_after=None, offline_after=None, seed=3)
    app = create_app(make_client=fake.client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http,
    ):
        yield http, app.state.dyte


async def test_results_are_answered_as_json_with_secrets_redacted() -> None:
    async with app_client() as (http, dyte):
        created = await http.post("/meetings", params={"title": "Town hall"})
        assert created.status_code == 200, created.text
        meeting = created.json()
        assert meeting == (await dyte.meetings.get(meeting["id"])).to_dict()
        assert meeting["title"] == "Town hall"
        assert datetime.fromisoformat(meeting["created_at"]).tzinfo is not None

        started = await http.post(f"/meetings/{meeting['id']}/livestream")
        assert started.status_code == 200, started.text
        body = started.json()
        assert body["meeting_id"] == meeting["id"]
        assert body["stream_key"] == REDACTED
        assert body["status"] in (LivestreamStatus.INVOKED.value, LivestreamStatus.OFFLINE.value)
        real_key = (await dyte.livestreams.get_active(meeting["id"])).stream_key
        assert real_key
        assert real_key not in started.text

        details = await http.get(f"/livestreams/{body['id']}")
        assert details.status_code == 200, details.text
        assert details.json()["livestream"]["id"] == body["id"]
        assert details.json()["livestream"]["stream_key"] == REDACTED
        assert details.json()["sessions"][0]["livestream_id"] == body["id"]

        listed = await http.get("/meetings")
        assert listed.status_code == 200, listed.text
        assert [m["id"] for m in listed.json()] == [meeting["id"]]


async def test_to_dict_and_an_own_pydantic_model() -> None:
    async with app_client() as (http, dyte):
        meeting = await dyte.meetings.create(title="t")
        await dyte.livestreams.start(meeting.id)
        ls = await dyte.livestreams.get_active(meeting.id)

        active = await http.get(f"/meetings/{meeting.id}/livestream")
        assert active.status_code == 200, active.text
        assert active.json() == ls.to_dict()
        assert active.json()["stream_key"] == REDACTED

        playback = await http.get(f"/meetings/{meeting.id}/playback")
        assert playback.status_code == 200, playback.text
        assert playback.json() == {
            "id": ls.id,
            "status": str(ls.status),
            "playback_url": ls.playback_url,
            "created_at": ls.to_dict()["created_at"].replace("+00:00", "Z"),
        }

        missing = await http.get("/meetings/no-such-meeting/livestream")
        assert missing.status_code == 404
        assert missing.json() == {"error": "not found"}


async def test_openapi_documents_the_result_fields() -> None:
    async with app_client() as (http, _):
        paths = (await http.get("/openapi.json")).json()["paths"]

    def schema(path: str, method: str) -> Any:
        ok = paths[path][method]["responses"]["200"]
        return ok["content"]["application/json"]["schema"]

    livestream = schema("/meetings/{meeting_id}/livestream", "post")
    assert livestream["properties"]["status"]["type"] == "string"
    assert livestream["properties"]["created_at"]["anyOf"][0]["format"] == "date-time"
    assert "redacted" in livestream["properties"]["stream_key"]["description"]
    assert "live_stream_on_start" in schema("/meetings", "get")["items"]["properties"]
    details = schema("/livestreams/{livestream_id}", "get")
    assert details["properties"]["sessions"]["type"] == "array"
