"""A FastAPI app that returns dyte_async results: three ways, each with secrets redacted.

    pip install fastapi uvicorn
    DYTE_ORG_ID=... DYTE_API_KEY=... uvicorn examples.fastapi_app:app

1. Annotate the handler with the result type (`-> Livestream`, `-> list[Meeting]`, or
   `response_model=`): FastAPI answers the result's `to_dict()` and documents its fields
   in the OpenAPI schema.
2. Return `result.to_dict()` (any framework: Starlette, Django, a log line).
3. Validate `result.to_dict()` into your own pydantic model, to choose the fields.

Stream keys and join tokens are `"<redacted>"` in all three; a handler that must hand a
stream key to an encoder returns `ls.to_dict(include_secrets=True)` on purpose. One
`AsyncDyte` is shared by every request through the app's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dyte_async import AsyncDyte, Livestream, LivestreamDetails, Meeting, NotFoundError


class PlaybackOut(BaseModel):
    """Way 3: only the fields a viewer page needs."""

    id: str
    status: str
    playback_url: str | None
    created_at: datetime | None


def _dyte(request: Request) -> AsyncDyte:
    dyte: AsyncDyte = request.app.state.dyte
    return dyte


def create_app(make_client: Callable[[], AsyncDyte] = AsyncDyte) -> FastAPI:
    """The app; `make_client` builds the shared client (tests pass a fake's)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with make_client() as dyte:
            app.state.dyte = dyte
            yield

    app = FastAPI(lifespan=lifespan)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"error": "not found"}, status_code=404)

    # -- way 1: the result type as the response model -----------------------------------

    @app.post("/meetings")
    async def create_meeting(request: Request, title: str) -> Meeting:
        return await _dyte(request).meetings.create(title=title)

    @app.get("/meetings")
    async def list_meetings(request: Request) -> list[Meeting]:
        return await _dyte(request).meetings.list().to_list(limit=100)

    @app.post("/meetings/{meeting_id}/livestream")
    async def start(request: Request, meeting_id: str) -> Livestream:
        return await _dyte(request).livestreams.start(meeting_id)

    @app.get("/livestreams/{livestream_id}")
    async def details(request: Request, livestream_id: str) -> LivestreamDetails:
        return await _dyte(request).livestreams.get(livestream_id)

    # -- way 2: to_dict() -----------------------------------------------------------------

    @app.get("/meetings/{meeting_id}/livestream")
    async def active(request: Request, meeting_id: str) -> dict[str, Any]:
        return (await _dyte(request).livestreams.get_active(meeting_id)).to_dict()

    # -- way 3: your own pydantic model ---------------------------------------------------

    @app.get("/meetings/{meeting_id}/playback")
    async def playback(request: Request, meeting_id: str) -> PlaybackOut:
        ls = await _dyte(request).livestreams.get_active(meeting_id)
        return PlaybackOut.model_validate(ls.to_dict())

    return app


def __getattr__(name: str) -> Any:
    # `uvicorn examples.fastapi_app:app` builds the real app lazily, from the environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
