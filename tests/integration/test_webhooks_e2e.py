"""The whole webhook loop over real sockets: FakeDyte -> signed POST -> receiver -> waiter.

FakeDyte serves the API and its public key on 127.0.0.1 and sends its webhooks to a
receiver on another local port; the receiver checks each signature with the key the
client fetched from the fake's `/.well-known/webhooks.json` and hands the event to
`dyte.livestreams.notify`. A `wait_until_live` polling every 30 s must then return within
100 ms of the status change: only the webhook can make that happen.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette

from dyte_async import AsyncDyte, Livestream, SystemClock
from dyte_async.testing import FakeDyte
from dyte_async.testing._fake import REALTIMEKIT_PATH
from dyte_async.testing._http_server import serve_http
from dyte_async.testing._wire import WireRequest, WireResponse
from dyte_async.webhooks import LivestreamStatusUpdate, generate_keypair
from examples import webhook_receiver

pytestmark = pytest.mark.anyio

POLL_INTERVAL = 30.0
WAKE_BUDGET = 0.1
WEBHOOK_PATH = "/webhooks/dyte"

Message = MutableMapping[str, Any]
Handle = Callable[[WireRequest], Awaitable["WireResponse | None"]]


@functools.cache
def keypair() -> tuple[str, str]:
    return generate_keypair()


def asgi_handle(app: Starlette, port: Callable[[], int]) -> Handle:
    """An ASGI app as a handler of the fake's HTTP/1.1 server (runs on asyncio and trio)."""

    async def handle(request: WireRequest) -> WireResponse:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": "http",
            "path": request.path,
            "raw_path": request.path.encode("latin-1"),
            "query_string": request.query_string.encode("latin-1"),
            "root_path": "",
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers],
            "client": (request.client, 0),
            "server": ("127.0.0.1", port()),
            "state": {},
        }
        pending = [{"type": "http.request", "body": request.body, "more_body": False}]
        status = 500
        headers: list[tuple[str, str]] = []
        body = bytearray()

        async def receive() -> Message:
            return pending.pop() if pending else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers.extend(
                    (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                    for k, v in message.get("headers", [])
                )
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await app(scope, receive, send)
        return WireResponse(status=status, headers=tuple(headers), body=bytes(body))

    return handle


@contextlib.asynccontextmanager
async def serve_app(app: Starlette) -> AsyncIterator[str]:
    """Run `app` (lifespan included) on 127.0.0.1; yield its base URL."""
    bound: list[int] = []
    async with (
        app.router.lifespan_context(app),
        serve_http(asgi_handle(app, lambda: bound[0]), "127.0.0.1", 0) as (host, port),
    ):
        bound.append(port)
        yield f"http://{host}:{port}"


class IntervalWatch(SystemClock):
    """The real clock, announcing the first long sleep (a wait's poll interval) that starts
    once `ready()` holds."""

    def __init__(self) -> None:
        self.sleeping = anyio.Event()
        self.ready: Callable[[], bool] = lambda: False

    async def sleep(self, seconds: float) -> None:
        if seconds >= 1.0 and self.ready():
            self.sleeping.set()
        await super().sleep(seconds)


async def timed_wait(
    dyte: AsyncDyte, meeting_id: str, fake: FakeDyte, set_status: Callable[[], None]
) -> tuple[Livestream, float, int]:
    """Start a 30 s-poll wait, change the status once it sleeps; return (result, latency, polls).

    `dyte` runs on an `IntervalWatch` clock: its event says the fake has answered the first
    poll (not live) and the wait then started a long sleep.
    """
    clock = dyte.clock
    assert isinstance(clock, IntervalWatch)
    before = len(fake.requests)
    clock.ready = lambda: any(
        r.method == "GET" and r.status is not None for r in fake.requests[before:]
    )
    result: list[tuple[Livestream, float]] = []

    async def wait() -> None:
        livestream = await dyte.livestreams.wait_until_live(
            meeting_id, poll_interval=POLL_INTERVAL, timeout=10
        )
        result.append((livestream, time.monotonic()))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            await clock.sleeping.wait()
            assert not result
            changed = time.monotonic()
            set_status()
    [(livestream, returned)] = result
    polls = [r for r in fake.requests[before:] if r.route is not None and r.method == "GET"]
    return livestream, returned - changed, len(polls)


async def test_the_example_receiver_wakes_a_30s_poll_within_100ms() -> None:
    fake = FakeDyte(go_live_after=None, rate_limit=None, webhook_keypair=keypair())
    meeting_id = fake.add_meeting(title="end to end")["id"]
    async with fake.serve() as base_url:
        app = webhook_receiver.create_app(
            lambda: AsyncDyte(
                fake.org_id, fake.api_key, base_url=base_url, rate_limit=None, clock=IntervalWatch()
            )
        )
        async with serve_app(app) as receiver_url:
            dyte: AsyncDyte = app.state.dyte
            # The lifespan fetched the key from the fake's /.well-known/webhooks.json.
            assert fake.count("GET /.well-known/webhooks.json") == 1
            assert dyte.webhooks.fetches == 1
            webhook_id = fake.add_webhook(receiver_url + WEBHOOK_PATH)
            started = await dyte.livestreams.start(meeting_id)

            livestream, latency, polls = await timed_wait(
                dyte, meeting_id, fake, lambda: fake.set_status(meeting_id, "LIVE")
            )
            assert await fake.deliver_webhooks() == []  # everything was sent already

    assert livestream.id == started.id
    assert livestream.status == "LIVE"
    assert latency < WAKE_BUDGET, f"woke {latency * 1000:.0f} ms after the change"
    assert polls <= 2, f"{polls} polls: the webhook, not polling, should end the wait"
    [delivery] = fake.webhook_deliveries
    assert (delivery.ok, delivery.http_status, delivery.attempts) == (True, 200, 1)
    assert (delivery.webhook_id, delivery.stream_id, delivery.status) == (
        webhook_id,
        started.id,
        "LIVE",
    )


async def test_a_realtimekit_receiver_wakes_a_30s_poll_within_100ms() -> None:
    """The RealtimeKit flavour: `rtk-*` headers, the meeting id in the payload."""
    fake = FakeDyte(go_live_after=None, rate_limit=None, webhook_keypair=keypair())
    meeting_id = fake.add_meeting(title="end to end")["id"]
    events: list[LivestreamStatusUpdate] = []
    async with fake.serve() as base_url:
        rtk_base = base_url.removesuffix("/v2") + REALTIMEKIT_PATH
        dyte = AsyncDyte.realtimekit(
            "fake-account-id",
            "fake-app-id",
            fake.api_token,
            base_url=rtk_base,
            rate_limit=None,
            clock=IntervalWatch(),
        )

        async def receive(request: WireRequest) -> WireResponse:
            headers = dict(request.headers)
            event = await dyte.webhooks.verify_and_parse(request.body, headers)
            assert isinstance(event, LivestreamStatusUpdate)
            events.append(event)
            dyte.livestreams.notify(event)
            return WireResponse(status=204, headers=(), body=b"")

        async with dyte, serve_http(receive, "127.0.0.1", 0) as (host, port):
            await dyte.webhooks.public_key()
            fake.add_webhook(f"http://{host}:{port}/rtk", flavor="realtimekit")
            await dyte.livestreams.start(meeting_id)

            livestream, latency, polls = await timed_wait(
                dyte, meeting_id, fake, lambda: fake.set_status(meeting_id, "LIVE")
            )

    assert livestream.status == "LIVE"
    assert latency < WAKE_BUDGET, f"woke {latency * 1000:.0f} ms after the change"
    assert polls <= 2
    [event] = events
    assert event.meeting_id == meeting_id
    assert event.delivery_id == fake.webhook_deliveries[0].delivery_id
    assert fake.webhook_deliveries[0].http_status == 204
