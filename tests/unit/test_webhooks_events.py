"""parse_event: typed events from both payload flavours, generic events, clear errors; RecentIds."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest

from dyte_async.errors import DyteError, ResponseDecodeError, WebhookSignatureError
from dyte_async.models import LivestreamStatus
from dyte_async.testing import FakeClock
from dyte_async.webhooks import (
    LIVESTREAM_STATUS_UPDATE,
    GenericEvent,
    LivestreamStatusUpdate,
    RecentIds,
    WebhookEvent,
    WebhookMeeting,
    WebhookOrganization,
    WebhookPayloadError,
    delivery_id,
    parse_event,
    webhook_id,
)

# ENDPOINTS.md section 8, verbatim shapes.
DYTE = {
    "event": "livestreaming.statusUpdate",
    "streamId": "d231d346-c422-43a6-a324-c0d65b79c8a7",
    "status": "LIVE",
}
RTK = {
    "event": "livestreaming.statusUpdate",
    "streamId": "d231d346-c422-43a6-a324-c0d65b79c8a7",
    "status": "LIVE",
    "manualIngest": False,
    "playbackUrl": "https://example.com/live.m3u8",
    "ingestServer": "rtmps://example.com/live",
    "streamKey": "sk-very-secret",
    "meeting": {
        "id": "50c8940e-0000-4000-8000-000000000001",
        "title": "Weekly sync",
        "createdAt": "2025-01-02T03:04:05.000Z",
        "roomName": "50c8940e-0000-4000-8000-000000000001",
        "status": "LIVE",
        "organizedBy": {"id": "c94c437b-0000", "name": "Example organization"},
    },
}


def raw(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def test_dytes_payload_parses_into_a_status_update() -> None:
    event = parse_event(raw(DYTE))
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.event == LIVESTREAM_STATUS_UPDATE
    assert event.stream_id == DYTE["streamId"]
    assert event.status is LivestreamStatus.LIVE
    assert event.is_live
    assert event.meeting is None
    assert event.meeting_id is None
    assert event.stream_key is None
    assert event.manual_ingest is None
    assert event.delivery_id is None
    assert event.payload == DYTE


def test_realtimekits_payload_fills_every_field() -> None:
    event = parse_event(raw(RTK))
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.manual_ingest is False
    assert event.playback_url == "https://example.com/live.m3u8"
    assert event.ingest_server == "rtmps://example.com/live"
    assert event.stream_key == "sk-very-secret"
    assert event.meeting == WebhookMeeting(
        id="50c8940e-0000-4000-8000-000000000001",
        title="Weekly sync",
        created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        room_name="50c8940e-0000-4000-8000-000000000001",
        status="LIVE",
        organized_by=WebhookOrganization(id="c94c437b-0000", name="Example organization"),
    )
    assert event.meeting_id == "50c8940e-0000-4000-8000-000000000001"


def test_the_stream_key_and_raw_payload_stay_out_of_repr() -> None:
    event = parse_event(raw(RTK))
    text = repr(event)
    assert "sk-very-secret" not in text
    assert "payload" not in text
    assert "stream_id='d231d346" in text
    assert "Weekly sync" in text


def test_events_are_frozen_and_hashable() -> None:
    event = parse_event(raw(RTK))
    assert event == parse_event(raw(RTK))
    assert hash(event) == hash(parse_event(raw(RTK)))
    assert isinstance(event, LivestreamStatusUpdate)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.status = LivestreamStatus.IDLE  # type: ignore[misc]


@pytest.mark.parametrize("status", ["OFFLINE", "IDLE", "ERRORED", "STARTING"])
def test_every_status_is_kept_even_unknown_ones(status: str) -> None:
    event = parse_event(raw({**DYTE, "status": status}))
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.status == status
    assert event.status.known is (status != "STARTING")
    assert not event.is_live


def test_unknown_fields_are_ignored_but_kept_in_payload() -> None:
    payload = {
        **DYTE,
        "futureField": {"x": 1},
        "futureList": [{"nestedKey": 1}],
        "meeting": {"id": "m", "newThing": True},
    }
    event = parse_event(raw(payload))
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.meeting_id == "m"
    assert event.payload["futureField"] == {"x": 1}


def test_null_optional_fields_are_none() -> None:
    event = parse_event(raw({**DYTE, "playbackUrl": None, "meeting": None, "manualIngest": None}))
    assert isinstance(event, LivestreamStatusUpdate)
    assert event.playback_url is None
    assert event.meeting is None


@pytest.mark.parametrize(
    "name",
    ["meeting.started", "recording.statusUpdate", "meeting.participantJoined", "brand.new"],
)
def test_other_events_parse_into_a_generic_event(name: str) -> None:
    payload = {"event": name, "meeting": {"id": "m-1"}, "reason": "x"}
    event = parse_event(raw(payload), {"dyte-uuid": "u-1"})
    assert type(event) is GenericEvent
    assert isinstance(event, WebhookEvent)
    assert event.event == name
    assert event.payload == payload
    assert event.delivery_id == "u-1"


def test_text_and_decoded_bodies_are_accepted() -> None:
    assert parse_event(json.dumps(RTK)) == parse_event(raw(RTK))
    assert parse_event(RTK) == parse_event(raw(RTK))
    assert parse_event(bytearray(raw(DYTE))) == parse_event(memoryview(raw(DYTE)))


# -- delivery ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"dyte-uuid": "u-1", "dyte-webhook-id": "w-1"},
        {"rtk-uuid": "u-1", "rtk-webhook-id": "w-1"},
        {"RTK-UUID": " u-1 ", "Rtk-Webhook-Id": "w-1"},
    ],
)
def test_delivery_and_webhook_ids_come_from_either_flavours_headers(headers: Any) -> None:
    assert delivery_id(headers) == "u-1"
    assert webhook_id(headers) == "w-1"
    event = parse_event(raw(DYTE), headers)
    assert (event.delivery_id, event.webhook_id) == ("u-1", "w-1")


def test_raw_byte_header_values_are_read() -> None:
    assert delivery_id({"dyte-uuid": b"u-9"}) == "u-9"  # type: ignore[dict-item]


def test_absent_or_blank_ids_are_none() -> None:
    assert delivery_id(None) is None
    assert delivery_id({}) is None
    assert delivery_id({"dyte-uuid": "  "}) is None
    assert webhook_id({"x": "y"}) is None


# -- malformed bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"null", "JSON object"),
        (b"{}", "'event'"),
        (b'{"event": 3}', "'event'"),
        (b'{"event": ""}', "'event'"),
        (b'{"event":"livestreaming.statusUpdate","status":"LIVE"}', "stream_id"),
        (b'{"event":"livestreaming.statusUpdate","streamId":"s"}', "status"),
        (b'{"event":"livestreaming.statusUpdate","streamId":"s","status":null}', "statusUpdate"),
        (
            b'{"event":"livestreaming.statusUpdate","streamId":"s","status":"LIVE","meeting":7}',
            "cannot decode",
        ),
        (b'{"event":"livestreaming.statusUpdate","streamId":{},"status":"LIVE"}', "cannot decode"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_malformed_bodies_raise_a_payload_error(body: bytes, message: str) -> None:
    with pytest.raises(WebhookPayloadError, match=message) as info:
        parse_event(body)
    error = info.value
    assert isinstance(error, ResponseDecodeError)
    assert isinstance(error, ValueError)
    assert isinstance(error, DyteError)
    assert not isinstance(error, WebhookSignatureError)
    assert error.body == ""


def test_a_body_of_another_type_is_a_payload_error() -> None:
    with pytest.raises(WebhookPayloadError):
        parse_event(12345)  # type: ignore[arg-type]


def test_payload_errors_never_carry_the_stream_key() -> None:
    body = raw({**RTK, "manualIngest": "maybe"})
    with pytest.raises(WebhookPayloadError) as info:
        parse_event(body)
    assert "sk-very-secret" not in str(info.value)
    assert info.value.__cause__ is None


# -- RecentIds ---------------------------------------------------------------------------------


def test_recent_ids_flags_the_second_sighting() -> None:
    recent = RecentIds()
    assert not recent.is_duplicate("a")
    assert recent.is_duplicate("a")
    assert not recent.is_duplicate("b")
    assert "a" in recent
    assert "c" not in recent
    assert len(recent) == 2


def test_recent_ids_never_flags_a_missing_id() -> None:
    recent = RecentIds()
    assert not recent.is_duplicate(None)
    assert not recent.is_duplicate(None)
    assert len(recent) == 0


def test_recent_ids_is_bounded_and_drops_the_least_recently_seen() -> None:
    recent = RecentIds(maxsize=3, ttl=None)
    for key in "abc":
        recent.is_duplicate(key)
    assert recent.is_duplicate("a")  # a is now the most recent
    recent.is_duplicate("d")  # evicts b
    assert len(recent) == 3
    assert "b" not in recent
    assert {"a", "c", "d"} <= {k for k in "abcd" if k in recent}


def test_recent_ids_expire_after_ttl(clock: FakeClock) -> None:
    recent = RecentIds(ttl=60.0, clock=clock)
    recent.is_duplicate("a")
    clock.advance(30)
    recent.is_duplicate("b")
    clock.advance(29.5)
    assert "a" in recent
    clock.advance(1)  # a is 60.5 s old, b 30.5 s
    assert "a" not in recent
    assert "b" in recent
    assert not recent.is_duplicate("a")  # a fresh sighting after expiry
    assert len(recent) == 2


def test_a_repeat_sighting_extends_the_ttl(clock: FakeClock) -> None:
    recent = RecentIds(ttl=10.0, clock=clock)
    recent.is_duplicate("a")
    clock.advance(8)
    assert recent.is_duplicate("a")
    clock.advance(8)
    assert recent.is_duplicate("a")


def test_forget_lets_a_retry_through() -> None:
    recent = RecentIds()
    recent.is_duplicate("a")
    recent.forget("a")
    recent.forget("never-seen")
    recent.forget(None)
    assert not recent.is_duplicate("a")
    recent.clear()
    assert len(recent) == 0
    assert "size=0" in repr(recent)


@pytest.mark.parametrize(("maxsize", "ttl"), [(0, 1.0), (-1, 1.0), (10, 0.0), (10, -5.0)])
def test_recent_ids_rejects_bad_limits(maxsize: int, ttl: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        RecentIds(maxsize=maxsize, ttl=ttl)
