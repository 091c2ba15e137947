"""dyte.webhooks against FakeDyte: the derived key URL reaches the fake's key, both flavours."""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import anyio
import pytest

from dyte_async import AsyncDyte
from dyte_async.resources.livestreams import Livestreams
from dyte_async.resources.webhooks import Webhooks
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


def webhooks_of(dyte: AsyncDyte) -> Webhooks:
    existing = getattr(dyte, "webhooks", None)
    if isinstance(existing, Webhooks):
        return existing
    return Webhooks(
        dyte._pipeline,
        get_http=dyte._get_http,
        key_url=webhook_key_url(dyte.base_url),
        allow_insecure_http=True,
    )


def delivery(stream_id: str, status: str, flavor: str = "dyte") -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"event": "livestreaming.statusUpdate", "streamId": stream_id, "status": status}
    )
    raw = body.encode()
    return raw, signed_headers(raw, keypair()[0], flavor=flavor)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> FakeDyte:
    fake = FakeDyte(clock=FakeClock())
    fake.webhook_public_key_pem = keypair()[1]
    return fake


async def test_the_dyte_client_fetches_the_fakes_key(fake: FakeDyte) -> None:
    async with fake.client() as dyte:
        webhooks = webhooks_of(dyte)
        assert webhooks.key_url == webhook_key_url(fake.base_url)
        assert (await webhooks.public_key()).strip() == keypair()[1].strip()
        event = await webhooks.verify_and_parse(*delivery("s-1", "LIVE"))
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.stream_id == "s-1"


async def test_the_realtimekit_client_fetches_the_fakes_key(fake: FakeDyte) -> None:
    dyte = AsyncDyte.realtimekit(
        "acc",
        "app",
        fake.api_token,
        base_url=fake.realtimekit_base_url,
        transport=fake.transport(),
        clock=FakeClock(),
    )
    async with dyte:
        event = await webhooks_of(dyte).verify_and_parse(*delivery("s-2", "IDLE", "realtimekit"))
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.status == "IDLE"


async def test_over_a_real_loopback_socket(fake: FakeDyte) -> None:
    async with (
        fake.serve() as base_url,
        AsyncDyte(fake.org_id, fake.api_key, base_url=base_url, rate_limit=None) as dyte,
    ):
        webhooks = webhooks_of(dyte)
        assert webhooks.key_url.startswith("http://127.0.0.1:")
        await webhooks.verify(*delivery("s-3", "LIVE"))


@pytest.mark.skipif(
    not hasattr(Livestreams, "notify"), reason="dyte.livestreams.notify lands with the poller"
)
async def test_notify_resolves_a_pending_wait_at_once() -> None:
    """A real clock and a 60 s poll interval: only the webhook can end the wait in time."""
    fake = FakeDyte(go_live_after=None)
    fake.webhook_public_key_pem = keypair()[1]
    meeting = fake.add_meeting(title="webhook")["id"]
    async with fake.client(rate_limit=None) as dyte:
        livestream = await dyte.livestreams.start(meeting)
        webhooks = webhooks_of(dyte)
        await webhooks.public_key()
        result: list[object] = []

        async def wait() -> None:
            result.append(
                await dyte.livestreams.wait_until_live(meeting, timeout=120, poll_interval=60)
            )

        started = time.monotonic()
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(wait)
                await anyio.sleep(0.2)  # the first poll has seen it not live yet
                fake.set_status(meeting, "LIVE")
                event = await webhooks.verify_and_parse(*delivery(livestream.id, "LIVE"))
                livestreams: Any = dyte.livestreams  # typed once notify lands
                livestreams.notify(event)
        assert time.monotonic() - started < 10
        assert len(result) == 1
