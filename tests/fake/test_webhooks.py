"""FakeDyte sends signed `livestreaming.statusUpdate` webhooks: payloads, signatures, delivery."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from dyte_async.testing import FakeClock, FakeDyte, WebhookDelivery
from dyte_async.testing.__main__ import build_fake
from dyte_async.testing._http_server import serve_http
from dyte_async.testing._wire import WireRequest, WireResponse
from dyte_async.webhooks import (
    LivestreamStatusUpdate,
    generate_keypair,
    parse_event,
    public_key_from_body,
    signed_headers,
    verify,
)
from tests.fake.conftest import in_process, webhook_keypair

pytestmark = pytest.mark.anyio

WELL_KNOWN = "https://fake.dyte.invalid/.well-known/webhooks.json"


def make_fake(clock: FakeClock | None = None, **options: Any) -> FakeDyte:
    return FakeDyte(clock=clock, seed=11, webhook_keypair=webhook_keypair(), **options)


class Arrivals:
    """Counts what arrives; `wait_for(n)` returns once `n` arrived."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = anyio.Event()

    def arrived(self) -> None:
        self.count += 1
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, count: int, seconds: float = 5.0) -> None:
        with anyio.fail_after(seconds):
            while self.count < count:
                await self._changed.wait()


class Inbox(Arrivals):
    """A webhook callback that keeps what it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[bytes, dict[str, str]]] = []

    async def __call__(self, body: bytes, headers: dict[str, str]) -> None:
        self.received.append((body, headers))
        self.arrived()

    def statuses(self) -> list[str]:
        return [str(parse_event(body).payload["status"]) for body, _ in self.received]


class Receiver(Arrivals):
    """An HTTP receiver on 127.0.0.1 (the fake's own server) answering scripted statuses."""

    def __init__(self, answers: tuple[int, ...] = (), *, hang: bool = False) -> None:
        super().__init__()
        self.requests: list[WireRequest] = []
        self._answers = list(answers)
        self._hang = hang

    async def handle(self, request: WireRequest) -> WireResponse:
        self.requests.append(request)
        self.arrived()
        if self._hang:
            await anyio.sleep_forever()
        status = self._answers.pop(0) if self._answers else 200
        return WireResponse(status=status, headers=(), body=b"{}")


@contextlib.asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[str]:
    async with serve_http(receiver.handle, "127.0.0.1", 0) as (host, port):
        yield f"http://{host}:{port}/hooks"


async def served_key(fake: FakeDyte) -> str:
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        answer = await client.get(WELL_KNOWN)
    assert answer.status_code == 200
    return public_key_from_body(answer.content)


async def start_livestream(fake: FakeDyte, *, independent: bool = False) -> tuple[str, str]:
    """Start a livestream through the API; return `(meeting id or "", livestream id)`."""
    async with in_process(fake) as client:
        if independent:
            answer = await client.post("/livestreams", json={"name": "obs"})
            return "", str(answer.json()["data"]["id"])
        meeting = await client.post("/meetings", json={"title": "Town hall"})
        meeting_id = str(meeting.json()["data"]["id"])
        answer = await client.post(f"/meetings/{meeting_id}/livestreams")
        assert answer.status_code == 201
        return meeting_id, str(answer.json()["data"]["id"])


async def stop_livestream(fake: FakeDyte, meeting_id: str) -> None:
    async with in_process(fake) as client:
        answer = await client.post(f"/meetings/{meeting_id}/active-livestream/stop")
        assert answer.status_code == 200


# -- what is sent -----------------------------------------------------------------------


async def test_each_clock_transition_and_the_stop_are_sent_once_in_order(
    clock: FakeClock,
) -> None:
    fake = make_fake(clock)
    inbox = Inbox()
    webhook_id = fake.add_webhook(callback=inbox)
    meeting_id, stream_id = await start_livestream(fake)
    assert await fake.deliver_webhooks() == []  # INVOKED is not sent by default
    clock.advance(0.2)
    assert [d.status for d in await fake.deliver_webhooks()] == ["OFFLINE"]
    clock.advance(0.8)
    assert [d.status for d in await fake.deliver_webhooks()] == ["LIVE"]
    assert await fake.deliver_webhooks() == []
    await stop_livestream(fake, meeting_id)
    clock.advance(60)
    assert [d.status for d in await fake.deliver_webhooks()] == ["IDLE"]
    assert await fake.deliver_webhooks() == []

    assert inbox.statuses() == ["OFFLINE", "LIVE", "IDLE"]
    key = await served_key(fake)
    delivery_ids = set()
    for body, headers in inbox.received:
        verify(body, headers, key)
        event = parse_event(body, headers)
        assert isinstance(event, LivestreamStatusUpdate)
        assert event.stream_id == stream_id
        assert event.webhook_id == webhook_id
        assert event.delivery_id is not None
        delivery_ids.add(event.delivery_id)
    assert len(delivery_ids) == 3
    assert [d.ok and d.done and d.attempts == 1 for d in fake.webhook_deliveries] == [True] * 3
    assert [d.changed_at for d in fake.webhook_deliveries] == [1000.2, 1001.0, 1001.0]


async def test_changes_made_due_together_go_out_in_time_order(clock: FakeClock) -> None:
    fake = make_fake(clock)
    inbox = Inbox()
    fake.add_webhook(callback=inbox)
    await start_livestream(fake)
    clock.advance(0.1)
    await start_livestream(fake)
    clock.advance(5)
    sent = await fake.deliver_webhooks()
    assert [d.status for d in sent] == ["OFFLINE", "OFFLINE", "LIVE", "LIVE"]
    assert sent[0].stream_id == sent[2].stream_id != sent[1].stream_id == sent[3].stream_id


async def test_the_dyte_payload_is_the_three_documented_fields(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None)
    inbox = Inbox()
    webhook_id = fake.add_webhook(callback=inbox)
    meeting_id, stream_id = await start_livestream(fake)
    fake.set_status(meeting_id, "LIVE")
    [delivery] = await fake.deliver_webhooks()
    assert delivery.payload() == {
        "event": "livestreaming.statusUpdate",
        "streamId": stream_id,
        "status": "LIVE",
    }
    assert delivery.body == (
        b'{"event":"livestreaming.statusUpdate","streamId":"' + stream_id.encode() + b'",'
        b'"status":"LIVE"}'
    )
    assert set(delivery.headers) == {
        "content-type",
        "dyte-signature",
        "dyte-uuid",
        "dyte-webhook-id",
    }
    assert delivery.headers["dyte-webhook-id"] == webhook_id
    assert delivery.headers["dyte-uuid"] == delivery.delivery_id
    assert delivery.meeting_id == meeting_id
    assert inbox.received == [(delivery.body, delivery.headers)]


async def test_the_realtimekit_payload_carries_the_stream_and_its_meeting(
    clock: FakeClock,
) -> None:
    fake = make_fake(clock, go_live_after=None)
    inbox = Inbox()
    webhook_id = fake.add_webhook(callback=inbox, flavor="realtimekit")
    meeting_id, stream_id = await start_livestream(fake)
    active = fake.active_livestream(meeting_id)
    assert active is not None
    fake.set_status(meeting_id, "LIVE")
    [delivery] = await fake.deliver_webhooks()
    payload = delivery.payload()
    meeting = payload.pop("meeting")
    assert payload == {
        "event": "livestreaming.statusUpdate",
        "streamId": stream_id,
        "status": "LIVE",
        "manualIngest": False,
        "playbackUrl": active["playback_url"],
        "ingestServer": active["ingest_server"],
        "streamKey": active["stream_key"],
    }
    assert meeting["id"] == meeting["roomName"] == meeting_id
    assert meeting["title"] == "Town hall"
    assert meeting["status"] == "LIVE"
    assert meeting["organizedBy"] == {"id": fake.org_id, "name": "FakeDyte organization"}
    assert meeting["createdAt"].endswith("Z")
    assert set(delivery.headers) == {"content-type", "rtk-signature", "rtk-uuid", "rtk-webhook-id"}
    assert delivery.headers["rtk-webhook-id"] == webhook_id

    body, headers = inbox.received[0]
    verify(body, headers, await served_key(fake))
    event = parse_event(body, headers)
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.meeting_id == meeting_id
    assert event.stream_key == active["stream_key"]
    assert event.manual_ingest is False
    assert event.meeting is not None
    assert event.meeting.created_at is not None


async def test_an_independent_livestream_has_no_meeting_and_manual_ingest(
    clock: FakeClock,
) -> None:
    fake = make_fake(clock)
    inbox = Inbox()
    fake.add_webhook(callback=inbox, flavor="realtimekit", statuses=["LIVE"])
    await start_livestream(fake, independent=True)
    clock.advance(1)
    [delivery] = await fake.deliver_webhooks()
    payload = delivery.payload()
    assert payload["meeting"] is None
    assert payload["manualIngest"] is True
    event = parse_event(*inbox.received[0])
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.meeting_id is None
    assert delivery.meeting_id is None


async def test_set_status_errored_and_end_meeting_are_sent(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None, offline_after=None)
    inbox = Inbox()
    fake.add_webhook(callback=inbox)
    meeting_id, _ = await start_livestream(fake)
    fake.set_status(meeting_id, "LIVE")
    fake.set_status(meeting_id, "LIVE")  # no change: nothing more to send
    clock.advance(1)
    fake.set_status(meeting_id, "ERRORED", err_message="encoder gone")
    clock.advance(1)
    fake.end_meeting(meeting_id)
    await fake.deliver_webhooks()
    assert inbox.statuses() == ["LIVE", "ERRORED", "IDLE"]


async def test_a_status_forced_at_the_instant_of_a_scheduled_one_replaces_it(
    clock: FakeClock,
) -> None:
    fake = make_fake(clock)
    inbox = Inbox()
    fake.add_webhook(callback=inbox)
    meeting_id, _ = await start_livestream(fake)
    clock.advance(1.0)  # exactly when it goes LIVE
    await fake.deliver_webhooks()
    fake.set_status(meeting_id, "OFFLINE")  # the same instant: LIVE never happened
    await fake.deliver_webhooks()
    fake.set_status(meeting_id, "ERRORED")
    await fake.deliver_webhooks()
    assert inbox.statuses() == ["OFFLINE", "LIVE", "OFFLINE", "ERRORED"]


async def test_statuses_selects_what_is_sent(clock: FakeClock) -> None:
    fake = make_fake(clock)
    every, live = Inbox(), Inbox()
    fake.add_webhook(callback=every, statuses=None)
    fake.add_webhook(callback=live, statuses=("LIVE",))
    await start_livestream(fake)
    clock.advance(2)
    await fake.deliver_webhooks()
    assert every.statuses() == ["INVOKED", "OFFLINE", "LIVE"]
    assert live.statuses() == ["LIVE"]
    # One delivery per webhook and change, each with its own delivery id.
    assert len({d.delivery_id for d in fake.webhook_deliveries}) == 4


async def test_changes_before_registration_are_not_sent(clock: FakeClock) -> None:
    fake = make_fake(clock)
    await start_livestream(fake)
    clock.advance(2)  # LIVE before anyone listens
    inbox = Inbox()
    fake.add_webhook(callback=inbox, statuses=None)
    assert await fake.deliver_webhooks() == []
    meeting_id, _ = await start_livestream(fake)
    await fake.deliver_webhooks()
    assert inbox.statuses() == ["INVOKED"]
    fake.remove_webhook(fake.webhook_deliveries[0].webhook_id)
    fake.set_status(meeting_id, "LIVE")
    assert await fake.deliver_webhooks() == []


@pytest.mark.parametrize("flavor", ["dyte", "realtimekit"])
async def test_the_headers_are_those_of_signed_headers(clock: FakeClock, flavor: Any) -> None:
    fake = make_fake(clock, go_live_after=None)
    webhook_id = fake.add_webhook(callback=Inbox(), flavor=flavor)
    meeting_id, _ = await start_livestream(fake)
    fake.set_status(meeting_id, "LIVE")
    [delivery] = await fake.deliver_webhooks()
    expected = signed_headers(
        delivery.body,
        webhook_keypair()[0],
        flavor=flavor,
        delivery_id=delivery.delivery_id,
        webhook_id=webhook_id,
    )
    assert delivery.headers == expected


async def test_a_sync_callback_is_called_too(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None)
    received: list[bytes] = []
    fake.add_webhook(callback=lambda body, headers: received.append(body))
    meeting_id, _ = await start_livestream(fake)
    fake.set_status(meeting_id, "LIVE")
    [delivery] = await fake.deliver_webhooks()
    assert received == [delivery.body]
    assert delivery.ok


async def test_seeded_fakes_use_the_same_ids(clock: FakeClock) -> None:
    async def ids() -> tuple[str, str]:
        fake = make_fake(FakeClock(), go_live_after=None)
        webhook_id = fake.add_webhook(callback=Inbox())
        meeting_id, _ = await start_livestream(fake)
        fake.set_status(meeting_id, "LIVE")
        [delivery] = await fake.deliver_webhooks()
        return webhook_id, delivery.delivery_id

    assert await ids() == await ids()


# -- delivery over HTTP -----------------------------------------------------------------


async def test_deliveries_are_posted_to_a_loopback_url(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None)
    receiver = Receiver()
    async with receiving(receiver) as url:
        webhook_id = fake.add_webhook(url, flavor="realtimekit")
        meeting_id, stream_id = await start_livestream(fake)
        fake.set_status(meeting_id, "LIVE")
        [delivery] = await fake.deliver_webhooks()
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hooks"
    assert request.body == delivery.body
    headers = dict(request.headers)
    assert headers["content-type"] == "application/json"
    assert headers["rtk-webhook-id"] == webhook_id
    verify(request.body, headers, await served_key(fake))
    assert (delivery.ok, delivery.http_status, delivery.error, delivery.url) == (
        True,
        200,
        None,
        url,
    )
    assert delivery.stream_id == stream_id


async def test_a_failing_receiver_is_retried_with_the_same_delivery_id(
    clock: FakeClock,
) -> None:
    fake = make_fake(clock, go_live_after=None)
    receiver = Receiver(answers=(500, 302, 404))
    async with receiving(receiver) as url:
        fake.add_webhook(url, max_retries=2, retry_delay=0)
        meeting_id, _ = await start_livestream(fake)
        fake.set_status(meeting_id, "LIVE")
        [delivery] = await fake.deliver_webhooks()
    assert len(receiver.requests) == 3
    assert {dict(r.headers)["dyte-uuid"] for r in receiver.requests} == {delivery.delivery_id}
    assert (delivery.ok, delivery.done, delivery.attempts) == (False, True, 3)
    assert delivery.http_status == 404
    assert delivery.error == "answered HTTP 404"


async def test_a_retry_that_succeeds_ends_the_delivery(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None)
    receiver = Receiver(answers=(503,))
    async with receiving(receiver) as url:
        fake.add_webhook(url, retry_delay=0.001)
        meeting_id, _ = await start_livestream(fake)
        fake.set_status(meeting_id, "LIVE")
        [delivery] = await fake.deliver_webhooks()
    assert (delivery.ok, delivery.attempts, delivery.http_status, delivery.error) == (
        True,
        2,
        200,
        None,
    )


async def test_realtimekit_does_not_retry_a_4xx_but_retries_a_5xx(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None)
    refusing, failing = Receiver(answers=(410, 410)), Receiver(answers=(502, 502))
    async with receiving(refusing) as refusing_url, receiving(failing) as failing_url:
        fake.add_webhook(refusing_url, flavor="realtimekit", retry_delay=0)
        fake.add_webhook(failing_url, flavor="realtimekit", max_retries=1, retry_delay=0)
        meeting_id, _ = await start_livestream(fake)
        fake.set_status(meeting_id, "LIVE")
        refused, failed = await fake.deliver_webhooks()
    assert (refused.ok, refused.attempts, refused.http_status) == (False, 1, 410)
    assert (failed.ok, failed.attempts, failed.http_status) == (False, 2, 502)


async def test_a_receiver_that_is_not_there_is_a_recorded_failure(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None)
    async with receiving(Receiver()) as url:
        pass  # the port is free again: nobody listens
    fake.add_webhook(url, max_retries=1, retry_delay=0)
    meeting_id, _ = await start_livestream(fake)
    fake.set_status(meeting_id, "LIVE")
    [delivery] = await fake.deliver_webhooks()
    assert (delivery.ok, delivery.done, delivery.attempts, delivery.http_status) == (
        False,
        True,
        2,
        None,
    )
    assert delivery.error is not None
    assert delivery.error.startswith("ConnectError")


async def test_a_receiver_slower_than_the_timeout_fails(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None)
    receiver = Receiver(hang=True)
    async with receiving(receiver) as url:
        fake.add_webhook(url, max_retries=0, timeout=0.05)
        meeting_id, _ = await start_livestream(fake)
        fake.set_status(meeting_id, "LIVE")
        [delivery] = await fake.deliver_webhooks()
    assert (delivery.ok, delivery.attempts, delivery.error) == (False, 1, "no answer within 0.05s")


async def test_a_callback_that_raises_or_hangs_fails_and_is_retried(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None)
    calls: list[str] = []

    def broken(body: bytes, headers: dict[str, str]) -> None:
        calls.append("broken")
        raise RuntimeError("receiver bug")

    async def stuck(body: bytes, headers: dict[str, str]) -> None:
        calls.append("stuck")
        await anyio.sleep_forever()

    fake.add_webhook(callback=broken, max_retries=2, retry_delay=0)
    fake.add_webhook(callback=stuck, max_retries=0, timeout=0.02)
    meeting_id, _ = await start_livestream(fake)
    fake.set_status(meeting_id, "LIVE")
    raised, hung = await fake.deliver_webhooks()
    assert calls.count("broken") == 3
    assert calls.count("stuck") == 1
    assert (raised.ok, raised.attempts, raised.error) == (
        False,
        3,
        "the callback raised RuntimeError: receiver bug",
    )
    assert (hung.ok, hung.attempts, hung.error) == (False, 1, "the callback took more than 0.02s")


# -- in the background ------------------------------------------------------------------


async def test_serve_sends_a_set_status_at_once() -> None:
    fake = make_fake(go_live_after=None)
    receiver = Receiver()
    async with receiving(receiver) as url, fake.serve():
        fake.add_webhook(url)
        meeting_id, _ = await start_livestream(fake)
        fake.set_status(meeting_id, "LIVE")
        await receiver.wait_for(1, seconds=2)
        assert [d.status for d in fake.webhook_deliveries] == ["LIVE"]
        assert await fake.deliver_webhooks() == []  # waits for the background round
        assert fake.webhook_deliveries[0].done
    assert fake.webhook_deliveries[0].ok


async def test_the_background_sender_finds_changes_of_a_fake_clock(clock: FakeClock) -> None:
    fake = make_fake(clock)
    inbox = Inbox()
    fake.add_webhook(callback=inbox)
    async with fake.sending_webhooks(poll_interval=0.005):
        meeting_id, _ = await start_livestream(fake)
        clock.advance(1)
        await inbox.wait_for(2)
        await stop_livestream(fake, meeting_id)  # through the API: sent at once
        await inbox.wait_for(3)
    assert inbox.statuses() == ["OFFLINE", "LIVE", "IDLE"]


async def test_a_change_from_the_loop_wakes_the_sender_before_its_next_look() -> None:
    fake = make_fake(go_live_after=None)
    inbox = Inbox()
    fake.add_webhook(callback=inbox)
    async with fake.sending_webhooks(poll_interval=60):
        meeting_id, _ = await start_livestream(fake)
        await anyio.wait_all_tasks_blocked()  # the sender's first look is over: it waits 60 s
        fake.set_status(meeting_id, "LIVE")
        await inbox.wait_for(1, seconds=2)


async def test_a_change_from_another_thread_is_found_by_the_next_look() -> None:
    fake = make_fake(go_live_after=None)
    inbox = Inbox()
    fake.add_webhook(callback=inbox)
    async with fake.sending_webhooks(poll_interval=0.01):
        meeting_id, _ = await start_livestream(fake)
        thread = threading.Thread(target=fake.set_status, args=(meeting_id, "LIVE"))
        thread.start()
        thread.join()
        await inbox.wait_for(1)


async def test_leaving_serve_stops_a_delivery_in_flight() -> None:
    fake = make_fake(go_live_after=None)
    receiver = Receiver(hang=True)
    async with receiving(receiver) as url:
        async with fake.serve():
            fake.add_webhook(url)
            meeting_id, _ = await start_livestream(fake)
            fake.set_status(meeting_id, "LIVE")
            await receiver.wait_for(1)
        [delivery] = fake.webhook_deliveries
        assert (delivery.done, delivery.ok, delivery.attempts) == (False, False, 1)


async def test_nested_senders_share_one_and_errors_pass_through() -> None:
    fake = make_fake(go_live_after=None)
    inbox = Inbox()
    fake.add_webhook(callback=inbox)

    async def run() -> None:
        async with fake.sending_webhooks(), fake.serve():
            meeting_id, _ = await start_livestream(fake)
            fake.set_status(meeting_id, "LIVE")
            await inbox.wait_for(1)
            raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        await run()
    with pytest.raises(ValueError, match="poll_interval"):
        async with fake.sending_webhooks(poll_interval=0):
            pass


# -- configuration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        ((), {}, "exactly one of url and callback"),
        (("http://127.0.0.1:1/x",), {"callback": Inbox()}, "exactly one of url and callback"),
        (("https://hooks.example/x",), {}, "loopback"),
        (("ftp://127.0.0.1/x",), {}, "absolute http"),
        (("http://[::1",), {}, "invalid webhook url"),
        (("http://localhost:1/x",), {"flavor": "zoom"}, "flavor"),
        (("http://localhost:1/x",), {"events": ["meeting.exploded"]}, "unknown or no events"),
        (("http://localhost:1/x",), {"events": []}, "unknown or no events"),
        (("http://localhost:1/x",), {"max_retries": -1}, "max_retries"),
        (("http://localhost:1/x",), {"timeout": 0}, "timeout"),
    ],
)
async def test_add_webhook_rejects(
    args: tuple[str, ...], options: dict[str, Any], message: str
) -> None:
    fake = make_fake()
    with pytest.raises(ValueError, match=message):
        fake.add_webhook(*args, **options)


async def test_add_webhook_accepts_what_it_should() -> None:
    fake = make_fake()
    assert fake.add_webhook("https://hooks.example/x", allow_remote=True, webhook_id="w1") == "w1"
    with pytest.raises(ValueError, match="exists"):
        fake.add_webhook("http://127.0.0.2:1/x", webhook_id="w1")
    fake.add_webhook("http://app.localhost:1/x", events="livestreaming.statusUpdate")
    fake.add_webhook("http://[::1]:1/x", statuses="LIVE", events=["meeting.started"])
    fake.remove_webhook("w1")
    with pytest.raises(KeyError, match="w1"):
        fake.remove_webhook("w1")


async def test_the_key_pair_is_made_when_first_needed_and_checked_when_given() -> None:
    fake = FakeDyte()
    keys = fake._state.webhook_keys
    generated = [keys.generated]
    fake.add_webhook(callback=Inbox())
    generated.append(keys.generated)
    assert generated == [False, True]
    private_pem, public_pem = fake.webhook_keypair
    assert fake.webhook_public_key_pem == public_pem
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    with pytest.raises(ValueError, match="does not match"):
        FakeDyte(webhook_keypair=(webhook_keypair()[0], generate_keypair()[1]))


async def test_reset_counters_forgets_deliveries(clock: FakeClock) -> None:
    fake = make_fake(clock, go_live_after=None)
    inbox = Inbox()
    fake.add_webhook(callback=inbox)
    meeting_id, _ = await start_livestream(fake)
    fake.set_status(meeting_id, "LIVE")
    await fake.deliver_webhooks()
    fake.reset_counters()
    assert fake.webhook_deliveries == []
    fake.set_status(meeting_id, "IDLE")
    deliveries: list[WebhookDelivery] = await fake.deliver_webhooks()
    assert [d.status for d in deliveries] == ["IDLE"]
    assert fake.webhook_deliveries == deliveries


async def test_start_meeting_with_live_stream_on_start_is_found_at_once() -> None:
    fake = make_fake(go_live_after=None)
    inbox = Inbox()
    fake.add_webhook(callback=inbox, statuses=["INVOKED"])
    meeting = fake.add_meeting(title="auto", live_stream_on_start=True)
    async with fake.sending_webhooks(poll_interval=60):
        await anyio.wait_all_tasks_blocked()  # the sender's first look is over
        fake.start_meeting(meeting["id"])
        await inbox.wait_for(1, seconds=2)


def test_one_fake_can_deliver_on_asyncio_then_on_trio() -> None:
    fake = make_fake(FakeClock(), go_live_after=None)
    statuses: list[str] = []
    fake.add_webhook(
        callback=lambda body, headers: statuses.append(parse_event(body).payload["status"])
    )

    started: list[str] = []  # the meeting whose livestream the first run starts

    async def change(status: str) -> None:
        if not started:
            started.append((await start_livestream(fake))[0])
        assert fake.active_livestream(started[0]) is not None
        fake.set_status(started[0], status)
        await fake.deliver_webhooks()

    anyio.run(change, "LIVE", backend="asyncio")
    anyio.run(change, "ERRORED", backend="trio")
    assert statuses == ["LIVE", "ERRORED"]


def test_the_command_line_registers_webhooks() -> None:
    fake = build_fake(["--webhook", "http://127.0.0.1:9/hooks", "--webhook-flavor", "realtimekit"])
    [target] = fake._webhooks.targets.values()
    assert (target.url, target.flavor) == ("http://127.0.0.1:9/hooks", "realtimekit")
    with pytest.raises(SystemExit):
        build_fake(["--webhook", "https://hooks.example/x"])
