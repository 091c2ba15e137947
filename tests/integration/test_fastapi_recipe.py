"""The README's FastAPI recipe, run in a FastAPI app: results returned as `to_dict()`.

The app is driven through httpx's ASGI transport (no socket) and talks to an in-process
FakeDyte. Skipped, with the reason printed by `-ra`, only when FastAPI is not installed
(it is in the `dev` extra).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest

from dyte_async import AsyncDyte, Livestream, LivestreamDetails, LivestreamStatus, Meeting
from dyte_async.testing import FakeDyte

fastapi = pytest.importorskip(
    "fastapi", reason="FastAPI is not installed: `pip install -e .[dev]` to run the recipe"
)
pydantic = pytest.importorskip("pydantic", reason="pydantic comes with FastAPI")

pytestmark = pytest.mark.anyio


class LivestreamOut(pydantic.BaseModel):  # type: ignore[name-defined,misc]
    """A typed response model: FastAPI documents it and validates `ls.to_dict()` into it."""

    id: str
    status: str
    meeting_id: str | None
    playback_url: str | None
    stream_key: str | None
    created_at: datetime | None


def make_app(dyte: AsyncDyte) -> Any:
    """The recipe: a handler returns `result.to_dict()` (secrets redacted), or validates it
    into a pydantic response model."""
    app = fastapi.FastAPI()

    @app.post("/meetings")
    async def create_meeting(title: str) -> dict[str, Any]:
        meeting = await dyte.meetings.create(title=title)
        return meeting.to_dict()

    @app.post("/meetings/{meeting_id}/livestream")
    async def start(meeting_id: str) -> dict[str, Any]:
        ls = await dyte.livestreams.start(meeting_id, name="townhall")
        return ls.to_dict()

    @app.get("/meetings/{meeting_id}/livestream", response_model=LivestreamOut)
    async def active(meeting_id: str) -> Any:
        ls = await dyte.livestreams.get_active(meeting_id)
        return LivestreamOut.model_validate(ls.to_dict())

    @app.get("/livestreams/{livestream_id}")
    async def details(livestream_id: str) -> dict[str, Any]:
        return (await dyte.livestreams.get(livestream_id)).to_dict()

    # Or return the result itself: the return annotation (or `response_model=`) makes
    # FastAPI serialize it by `to_dict()` and document its fields in OpenAPI.
    @app.get("/direct/meetings/{meeting_id}/livestream")
    async def active_direct(meeting_id: str) -> Livestream:
        return await dyte.livestreams.get_active(meeting_id)

    @app.get("/direct/livestreams/{livestream_id}")
    async def details_direct(livestream_id: str) -> LivestreamDetails:
        return await dyte.livestreams.get(livestream_id)

    @app.get("/direct/meetings", response_model=list[Meeting])
    async def meetings_direct() -> Any:
        return await dyte.meetings.list().to_list()

    return app


@asynccontextmanager
async def app_client() -> AsyncIterator[tuple[httpx.AsyncClient, AsyncDyte]]:
    fake = FakeDyte(go_live_after=None, offline_after=None, seed=3)
    async with fake.client() as dyte:
        transport = httpx.ASGITransport(app=make_app(dyte))
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            yield http, dyte


async def test_a_handler_returns_results_as_json_with_secrets_redacted() -> None:
    async with app_client() as (http, dyte):
        created = await http.post("/meetings", params={"title": "Town hall"})
        assert created.status_code == 200, created.text
        meeting = created.json()
        assert meeting["title"] == "Town hall"
        assert datetime.fromisoformat(meeting["created_at"]).tzinfo is not None

        started = await http.post(f"/meetings/{meeting['id']}/livestream")
        assert started.status_code == 200, started.text
        body = started.json()
        assert body["meeting_id"] == meeting["id"]
        assert body["stream_key"] == "<redacted>"
        assert body["status"] in (LivestreamStatus.INVOKED.value, LivestreamStatus.OFFLINE.value)
        real_key = (await dyte.livestreams.get_active(meeting["id"])).stream_key
        assert real_key
        assert real_key not in started.text

        details = await http.get(f"/livestreams/{body['id']}")
        assert details.status_code == 200, details.text
        assert details.json()["livestream"]["id"] == body["id"]
        assert details.json()["livestream"]["stream_key"] == "<redacted>"
        assert isinstance(details.json()["sessions"], list)


async def test_a_pydantic_response_model_takes_to_dict() -> None:
    async with app_client() as (http, _):
        meeting = (await http.post("/meetings", params={"title": "t"})).json()
        await http.post(f"/meetings/{meeting['id']}/livestream")
        answer = await http.get(f"/meetings/{meeting['id']}/livestream")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == set(LivestreamOut.model_fields)
        assert body["meeting_id"] == meeting["id"]
        assert body["stream_key"] == "<redacted>"
        schema = (await http.get("/openapi.json")).json()
        assert "LivestreamOut" in schema["components"]["schemas"]


async def test_a_handler_returns_results_themselves_with_a_response_model() -> None:
    async with app_client() as (http, dyte):
        meeting = await dyte.meetings.create(title="direct")
        started = await dyte.livestreams.start(meeting.id)
        assert started.stream_key

        answer = await http.get(f"/direct/meetings/{meeting.id}/livestream")
        assert answer.status_code == 200, answer.text
        assert answer.json() == (await dyte.livestreams.get_active(meeting.id)).to_dict()
        assert answer.json()["stream_key"] == "<redacted>"
        assert started.stream_key not in answer.text

        details = await http.get(f"/direct/livestreams/{started.id}")
        assert details.status_code == 200, details.text
        assert details.json()["livestream"]["stream_key"] == "<redacted>"
        assert details.json()["sessions"][0]["livestream_id"] == started.id

        listed = await http.get("/direct/meetings")
        assert listed.status_code == 200, listed.text
        assert [m["title"] for m in listed.json()] == ["direct"]

        paths = (await http.get("/openapi.json")).json()["paths"]

        def schema(path: str) -> Any:
            ok = paths[path]["get"]["responses"]["200"]
            return ok["content"]["application/json"]["schema"]

        livestream = schema("/direct/meetings/{meeting_id}/livestream")
        assert livestream["properties"]["status"]["type"] == "string"
        assert livestream["properties"]["created_at"]["anyOf"][0]["format"] == "date-time"
        assert "redacted" in livestream["properties"]["stream_key"]["description"]
        assert "live_stream_on_start" in schema("/direct/meetings")["items"]["properties"]
