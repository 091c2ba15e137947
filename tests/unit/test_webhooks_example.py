"""examples/webhook_receiver.py: verifies, de-duplicates, hands events on; needs no server."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from starlette.applications import Starlette

from dyte_async import AsyncDyte
from dyte_async.resources.livestreams import Livestreams
from dyte_async.testing import FakeClock
from dyte_async.webhooks import (
    DYTE_WEBHOOK_KEY_URL,
    GenericEvent,
    LivestreamStatusUpdate,
    RecentIds,
    WebhookEvent,
    generate_keypair,
    signed_headers,
)
from examples import webhook_receiver

BODY = json.dumps(
    {"event": "livestreaming.statusUpdate", "streamId": "s-1", "status": "LIVE"}
).encode()


@functools.cache
def keypair() -> tuple[str, str]:
    return generate_keypair()


def make_client_for(router: respx.MockRouter) -> Any:
    def make() -> AsyncDyte:
        return AsyncDyte(
            "org",
            "key",
            transport=httpx.MockTransport(router.async_handler),
            clock=FakeClock(),
            rate_limit=None,
        )

    return make


@pytest.fixture
def router(router: respx.MockRouter) -> respx.MockRouter:
    """The shared router (tests/unit/conftest.py), serving Dyte's webhook key."""
    router.get(DYTE_WEBHOOK_KEY_URL).mock(
        return_value=httpx.Response(200, json={"publicKey": keypair()[1]})
    )
    return router


pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan entered, and an HTTP client of it (no server, no socket)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as http,
    ):
        yield http


class Recorder:
    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.fail_next = False

    async def __call__(self, event: WebhookEvent) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("handler failed")
        self.events.append(event)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(router: respx.MockRouter, recorder: Recorder) -> AsyncIterator[httpx.AsyncClient]:
    app = webhook_receiver.create_app(make_client_for(router), on_event=recorder)
    async with running(app) as http:
        yield http


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/webhooks/dyte", content=body, headers=headers)


def test_the_module_imports_and_builds_its_app_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DYTE_ORG_ID", raising=False)
    monkeypatch.delenv("DYTE_API_KEY", raising=False)
    module = webhook_receiver
    assert isinstance(module.app, Starlette)  # the client is made at startup, not here
    with pytest.raises(AttributeError):
        module.no_such_thing  # noqa: B018


async def test_the_key_is_fetched_at_startup(
    router: respx.MockRouter, client: httpx.AsyncClient
) -> None:
    assert router.routes[0].call_count == 1


async def test_a_signed_delivery_is_handed_on_once(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    headers = signed_headers(BODY, keypair()[0], delivery_id="d-1")
    first = await post(client, BODY, headers)
    assert first.status_code == 200
    assert first.json() == {"status": "ok"}
    again = await post(client, BODY, headers)  # the sender's retry
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert len(recorder.events) == 1
    event = recorder.events[0]
    assert isinstance(event, LivestreamStatusUpdate)
    assert (event.stream_id, event.delivery_id) == ("s-1", "d-1")


async def test_realtimekit_deliveries_and_other_events_pass(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    other = b'{"event":"meeting.started","meeting":{"id":"m"}}'
    assert (
        await post(client, other, signed_headers(other, keypair()[0], flavor="realtimekit"))
    ).is_success
    assert (
        await post(client, BODY, signed_headers(BODY, keypair()[0], flavor="realtimekit"))
    ).is_success
    assert [type(e) for e in recorder.events] == [GenericEvent, LivestreamStatusUpdate]


async def test_a_bad_signature_is_401_and_not_handed_on(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    headers = signed_headers(BODY, keypair()[0])
    tampered = BODY.replace(b"LIVE", b"IDLE")
    assert (await post(client, tampered, headers)).status_code == 401
    assert (await post(client, BODY, {})).status_code == 401
    assert recorder.events == []


async def test_a_signed_but_malformed_body_is_400(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    body = b'{"event": "livestreaming.statusUpdate"}'
    response = await post(client, body, signed_headers(body, keypair()[0]))
    assert response.status_code == 400
    assert "stream_id" in response.json()["error"]
    assert recorder.events == []


async def test_a_key_that_cannot_be_fetched_is_503(
    recorder: Recorder, router: respx.MockRouter
) -> None:
    # respx replaces the fixture's route for the same URL
    router.get(DYTE_WEBHOOK_KEY_URL).mock(return_value=httpx.Response(500))
    app = webhook_receiver.create_app(make_client_for(router), on_event=recorder)
    async with running(app) as client:  # startup survives the failure
        response = await post(client, BODY, signed_headers(BODY, keypair()[0]))
    assert response.status_code == 503
    assert recorder.events == []


async def test_a_failed_handler_lets_the_retry_through(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    headers = signed_headers(BODY, keypair()[0], delivery_id="d-2")
    recorder.fail_next = True
    assert (await post(client, BODY, headers)).status_code == 500
    assert (await post(client, BODY, headers)).json() == {"status": "ok"}
    assert len(recorder.events) == 1


async def test_a_shared_recent_ids_and_a_sync_handler(router: respx.MockRouter) -> None:
    recent = RecentIds()
    seen: list[WebhookEvent] = []
    app = webhook_receiver.create_app(
        make_client_for(router), on_event=seen.append, recent=recent, path="/hook"
    )
    async with running(app) as client:
        headers = signed_headers(BODY, keypair()[0], delivery_id="d-3")
        assert (await client.post("/hook", content=BODY, headers=headers)).json() == {
            "status": "ok"
        }
    assert "d-3" in recent
    assert len(seen) == 1


async def test_by_default_livestream_events_go_to_notify(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    notified: list[WebhookEvent] = []
    monkeypatch.setattr(Livestreams, "notify", lambda self, event: notified.append(event))
    app = webhook_receiver.create_app(make_client_for(router))
    async with running(app) as client:
        other = b'{"event":"meeting.started"}'
        await post(client, other, signed_headers(other, keypair()[0]))
        await post(client, BODY, signed_headers(BODY, keypair()[0]))
    assert [type(e) for e in notified] == [LivestreamStatusUpdate]
