"""dyte.webhooks against FakeDyte: the derived key URL reaches the fake's key, both flavours."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import httpx
import pytest

from dyte_async import AsyncDyte
from dyte_async.testing import FakeClock, FakeDyte
from dyte_async.webhooks import (
    LivestreamStatusUpdate,
    generate_keypair,
    signed_headers,
    webhook_key_url,
)

pytestmark = pytest.mark.anyio


@functools.cache
def keypair() -> tuple[str, str]:
    return generate_keypair()


def delivery(stream_id: str, status: str, flavor: str = "dyte") -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"event": "livestreaming.statusUpdate", "streamId": stream_id, "status": status}
    )
    raw = body.encode()
    return raw, signed_headers(raw, keypair()[0], flavor=flavor)  # type: ignore[arg-type]


#: The fake's counter of status polls (`wait_until_live` reads this endpoint).
POLL_ROUTE = "GET /meetings/{meeting_id}/active-livestream"


@pytest.fixture
def fake(clock: FakeClock) -> FakeDyte:
    fake = FakeDyte(clock=clock)
    fake.webhook_public_key_pem = keypair()[1]
    return fake


async def test_the_dyte_client_fetches_the_fakes_key(fake: FakeDyte) -> None:
    async with fake.client() as dyte:
        webhooks = dyte.webhooks
        assert webhooks.key_url == webhook_key_url(fake.base_url)
        assert (await webhooks.public_key()).strip() == keypair()[1].strip()
        event = await webhooks.verify_and_parse(*delivery("s-1", "LIVE"))
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.stream_id == "s-1"


async def test_the_realtimekit_client_fetches_the_fakes_key(
    fake: FakeDyte, clock: FakeClock
) -> None:
    dyte = AsyncDyte.realtimekit(
        "acc",
        "app",
        fake.api_token,
        base_url=fake.realtimekit_base_url,
        transport=fake.transport(),
        clock=clock,
    )
    async with dyte:
        event = await dyte.webhooks.verify_and_parse(*delivery("s-2", "IDLE", "realtimekit"))
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.status == "IDLE"


async def test_over_a_real_loopback_socket(fake: FakeDyte) -> None:
    async with (
        fake.serve() as base_url,
        AsyncDyte(fake.org_id, fake.api_key, base_url=base_url, rate_limit=None) as dyte,
    ):
        webhooks = dyte.webhooks
        assert webhooks.key_url.startswith("http://127.0.0.1:")
        await webhooks.verify(*delivery("s-3", "LIVE"))


class PollHook(httpx.AsyncBaseTransport):
    """The fake's transport, calling `hook` once the first status poll has been answered."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hook: Callable[[], None]) -> None:
        self.inner = inner
        self.hook: Callable[[], None] | None = hook

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.hook is not None and request.url.path.endswith("/active-livestream"):
            hook, self.hook = self.hook, None
            hook()
        return response


async def test_notify_resolves_a_pending_wait_at_once(clock: FakeClock) -> None:
    """A 60 s poll interval: the webhook, not the next poll, ends the wait (virtual time).

    The event arrives while the first poll (which sees the livestream not live yet) is in
    flight: the wait polls once more at once instead of sleeping its interval.
    """
    fake = FakeDyte(clock=clock, go_live_after=None)
    fake.webhook_public_key_pem = keypair()[1]
    meeting = fake.add_meeting(title="webhook")["id"]
    async with fake.client(rate_limit=None) as starter:
        livestream = await starter.livestreams.start(meeting)
        event = await starter.webhooks.verify_and_parse(*delivery(livestream.id, "LIVE"))

    def go_live() -> None:
        fake.set_status(meeting, "LIVE")
        dyte.livestreams.notify(event)

    dyte = fake.client(rate_limit=None, transport=PollHook(fake.transport(), go_live))
    async with dyte:
        started = clock.now()
        result = await dyte.livestreams.wait_until_live(meeting, timeout=120, poll_interval=60)
    assert result.id == livestream.id
    assert result.is_live
    assert fake.count(POLL_ROUTE) == 2
    assert clock.now() == started  # no poll interval (60 s, jittered) went by
    assert clock.slept == []
