"""A web endpoint that starts a meeting's livestream and returns its playback URL.

One `AsyncDyte` is shared by every request through the app's lifespan (one pooled
connection pool, one rate limiter, one retry budget for the whole process):

    DYTE_ORG_ID=... DYTE_API_KEY=... uvicorn examples.starlette_app:app

`POST /meetings/{meeting_id}/live` starts the livestream (or finds the one already
running), waits until it is LIVE and answers `{"playback_url": ...}`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dyte_async import AsyncDyte, ConflictError, DyteError, LivestreamErroredError, NotFoundError


async def go_live(request: Request) -> JSONResponse:
    dyte: AsyncDyte = request.app.state.dyte
    meeting_id = request.path_params["meeting_id"]
    try:
        with contextlib.suppress(ConflictError):  # already streaming: wait for it below
            await dyte.livestreams.start(meeting_id)
        ls = await dyte.livestreams.wait_until_live(meeting_id, timeout=60)
    except NotFoundError:
        return JSONResponse({"error": "no such meeting"}, status_code=404)
    except LivestreamErroredError as exc:
        return JSONResponse({"error": f"livestream failed: {exc}"}, status_code=502)
    except TimeoutError:
        return JSONResponse({"error": "not live yet, try again"}, status_code=504)
    except DyteError as exc:
        return JSONResponse({"error": type(exc).__name__}, status_code=502)
    return JSONResponse({"livestream_id": ls.id, "playback_url": ls.playback_url})


def create_app(make_client: Callable[[], AsyncDyte] = AsyncDyte) -> Starlette:
    """The app; `make_client` builds the shared client (tests pass a fake's)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with make_client() as dyte:
            app.state.dyte = dyte
            yield {}

    return Starlette(
        routes=[Route("/meetings/{meeting_id}/live", go_live, methods=["POST"])],
        lifespan=lifespan,
    )


def __getattr__(name: str) -> Any:
    # `uvicorn examples.starlette_app:app` builds the real app lazily, from the environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
