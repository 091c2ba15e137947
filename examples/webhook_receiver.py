"""A webhook receiver: verify the signature, skip redeliveries, wake pending waits.

    DYTE_ORG_ID=... DYTE_API_KEY=... uvicorn examples.webhook_receiver:app

Register `POST https://your.host/webhooks/dyte` as a webhook for the event
`livestreaming.statusUpdate` (Dyte or RealtimeKit). For each delivery the receiver:

1. checks `dyte-signature` / `rtk-signature` over the raw body with the service's public
   key (fetched once by `dyte.webhooks`, refreshed at most once a minute when a signature
   stops matching): 401 when it does not match, 503 when the key cannot be fetched (the
   sender retries later);
2. answers 200 at once to a delivery id (`dyte-uuid` / `rtk-uuid`) it has already
   processed: the sender retries when it misses an answer within 3 seconds;
3. hands livestream events to `dyte.livestreams.notify(event)`, so that every
   `wait_until_live(...)` waiting on that livestream returns now instead of at its next poll.

Several workers (`uvicorn --workers 4`, gunicorn): give every worker the fleet's Redis,

    DYTE_REDIS_URL=redis://redis:6379/0 uvicorn --workers 4 examples.webhook_receiver:app

(`AsyncDyte()` reads it), and the `notify` of the worker the delivery reached wakes the
waits of every worker: a `wait_until_live` running in another worker (or in another
service with the same Redis and organization) returns within milliseconds. The
de-duplication of step 2 is per worker: a redelivery that reaches another worker is
handed on again, which `notify` takes as it takes the first (waking a wait twice is
harmless); a handler of your own with side effects wants a shared record (Redis
`SET key NX EX 600`).

With FastAPI the handler is the same: declare `async def receive(request: Request)` on an
`APIRouter` and read `await request.body()`, never a parsed model (the signature is over
the raw bytes).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dyte_async import AsyncDyte, DyteError, WebhookSignatureError
from dyte_async.webhooks import (
    LivestreamStatusUpdate,
    RecentIds,
    WebhookEvent,
    WebhookPayloadError,
)

logger = logging.getLogger("webhook_receiver")

EventHandler = Callable[[WebhookEvent], "Awaitable[None] | None"]

#: Seconds to wait for the public key on the first delivery: Dyte wants an answer in 3 s.
KEY_TIMEOUT = 2.5


def notify_livestreams(dyte: AsyncDyte) -> EventHandler:
    """The default handler: livestream events go to `dyte.livestreams.notify`."""

    def handle(event: WebhookEvent) -> None:
        if isinstance(event, LivestreamStatusUpdate):
            dyte.livestreams.notify(event)

    return handle


def create_app(
    make_client: Callable[[], AsyncDyte] = AsyncDyte,
    *,
    on_event: EventHandler | None = None,
    recent: RecentIds | None = None,
    path: str = "/webhooks/dyte",
) -> Starlette:
    """The receiver app.

    Args:
        make_client: builds the shared client at startup (tests pass a fake's).
        on_event: called with each new verified event; `notify_livestreams` by default.
        recent: the delivery ids already processed (a fresh `RecentIds` by default).
        path: the URL path of the webhook endpoint.

    Returns:
        The Starlette app (the client is made and closed by its lifespan).
    """
    seen = recent if recent is not None else RecentIds()

    async def receive(request: Request) -> JSONResponse:
        dyte: AsyncDyte = request.app.state.dyte
        handle: EventHandler = request.app.state.handle
        body = await request.body()  # the raw bytes: the signature is over exactly these
        try:
            event = await dyte.webhooks.verify_and_parse(body, request.headers, timeout=KEY_TIMEOUT)
        except WebhookSignatureError:
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        except WebhookPayloadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except DyteError as exc:  # the public key could not be fetched: retry later
            logger.warning("cannot verify a webhook now: %s", exc)
            return JSONResponse({"error": "try again later"}, status_code=503)
        if seen.is_duplicate(event.delivery_id):
            return JSONResponse({"status": "duplicate"})
        try:
            result = handle(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            seen.forget(event.delivery_id)  # not processed: let the sender's retry in
            raise
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with make_client() as dyte:
            app.state.dyte = dyte
            app.state.handle = on_event if on_event is not None else notify_livestreams(dyte)
            try:  # fetch the key now, not on the first delivery
                await dyte.webhooks.public_key()
            except DyteError as exc:
                logger.warning("webhook public key not fetched yet: %s", exc)
            yield {}

    return Starlette(routes=[Route(path, receive, methods=["POST"])], lifespan=lifespan)


def __getattr__(name: str) -> Any:
    # `uvicorn examples.webhook_receiver:app` builds the app lazily (the client at startup).
    if name == "app":
        return create_app()
    raise AttributeError(name)
