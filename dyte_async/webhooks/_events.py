"""Typed webhook events: `parse_event(body, headers) -> WebhookEvent`.

Payload keys are camelCase (`streamId`), unlike the REST API; the attributes are snake_case.
Events this library has no class for become a `GenericEvent` (name and raw payload), never
an error, so a receiver keeps working when a service adds events. Malformed bodies raise
`WebhookPayloadError` (a `ResponseDecodeError` and a `ValueError`), never a bare
`JSONDecodeError`, `KeyError` or cattrs error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from dyte_async._convert import structure
from dyte_async.errors import ResponseDecodeError
from dyte_async.models import LivestreamStatus
from dyte_async.webhooks._errors import WebhookPayloadError
from dyte_async.webhooks._headers import delivery_id, webhook_id

__all__ = [
    "EVENT_TYPES",
    "LIVESTREAM_STATUS_UPDATE",
    "GenericEvent",
    "LivestreamStatusUpdate",
    "WebhookEvent",
    "WebhookMeeting",
    "WebhookOrganization",
    "parse_event",
]

#: The event name of livestream status changes (same for Dyte and RealtimeKit).
LIVESTREAM_STATUS_UPDATE: Final = "livestreaming.statusUpdate"


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """Base of every parsed webhook event.

    Attributes:
        event: the event name, e.g. `"livestreaming.statusUpdate"`.
        payload: the whole decoded JSON body (not in repr: it may hold a stream key).
        delivery_id: the `dyte-uuid` / `rtk-uuid` header: the same on the sender's
            retries, so use it to process each delivery once (see `RecentIds`).
        webhook_id: the `dyte-webhook-id` / `rtk-webhook-id` header.
    """

    event: str
    payload: Mapping[str, Any] = attrs.field(factory=dict, repr=False, hash=False)
    delivery_id: str | None = None
    webhook_id: str | None = None


@attrs.frozen(kw_only=True)
class GenericEvent(WebhookEvent):
    """An event this library has no typed class for: read what you need from `payload`."""


@attrs.frozen(kw_only=True)
class WebhookOrganization:
    """The organization in a RealtimeKit payload's `meeting.organizedBy`."""

    id: str | None = None
    name: str | None = None


@attrs.frozen(kw_only=True)
class WebhookMeeting:
    """The `meeting` object RealtimeKit adds to livestream events.

    Attributes:
        id: the meeting id (what `dyte.livestreams.wait_*` take).
        title: the meeting title.
        created_at: an aware datetime, when sent.
        room_name: the room name.
        status: the status string the payload gives (e.g. `"LIVE"`).
        organized_by: the organization, when sent.
    """

    id: str
    title: str | None = None
    created_at: datetime | None = None
    room_name: str | None = None
    status: str | None = None
    organized_by: WebhookOrganization | None = None


@attrs.frozen(kw_only=True)
class LivestreamStatusUpdate(WebhookEvent):
    """`livestreaming.statusUpdate`: a livestream changed status.

    Dyte sends `streamId` and `status`; RealtimeKit adds the other fields.

    Attributes:
        stream_id: the livestream id (`Livestream.id`, not the meeting id).
        status: a `LivestreamStatus` (`LIVE`, `OFFLINE`, `IDLE`, ...; unknown values kept).
        manual_ingest: whether the stream is pushed by an external encoder (RealtimeKit).
        playback_url: the HLS playback URL (RealtimeKit).
        ingest_server: the RTMP(S) ingest server (RealtimeKit).
        stream_key: the stream key (RealtimeKit; a secret, not in repr).
        meeting: the meeting (RealtimeKit), or None.
    """

    stream_id: str
    status: LivestreamStatus
    manual_ingest: bool | None = None
    playback_url: str | None = None
    ingest_server: str | None = None
    stream_key: str | None = attrs.field(default=None, repr=False)
    meeting: WebhookMeeting | None = None

    @property
    def meeting_id(self) -> str | None:
        """The meeting id when the payload carried the meeting (RealtimeKit), else None."""
        return self.meeting.id if self.meeting is not None else None

    @property
    def is_live(self) -> bool:
        """True when the status is LIVE."""
        return self.status is LivestreamStatus.LIVE


#: Event name -> class for the events parsed into typed classes.
EVENT_TYPES: Final[Mapping[str, type[WebhookEvent]]] = {
    LIVESTREAM_STATUS_UPDATE: LivestreamStatusUpdate,
}

_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _snake(key: str) -> str:
    return _CAMEL_HUMP.sub(r"_\1", key).lower()


def _snake_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {_snake(k) if isinstance(k, str) else k: _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(item) for item in value]
    return value


def _load(body: bytes | bytearray | memoryview | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        payload: Any = body
    else:
        if isinstance(body, (bytearray, memoryview)):
            body = bytes(body)
        if not isinstance(body, (bytes, str)):
            raise WebhookPayloadError(
                f"a webhook body must be bytes or text, got {type(body).__name__}"
            )
        if not body.strip():
            raise WebhookPayloadError("the webhook body is empty")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise WebhookPayloadError(
                f"the webhook body is not JSON ({type(exc).__name__})"
            ) from None
    if not isinstance(payload, Mapping):
        raise WebhookPayloadError(
            f"the webhook body must be a JSON object, got {type(payload).__name__}"
        )
    return payload


def parse_event(
    body: bytes | bytearray | memoryview | str | Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> WebhookEvent:
    """Decode a webhook body into a typed event. Does **not** check the signature.

    Args:
        body: the raw body (or an already decoded JSON object).
        headers: the request headers, to fill `delivery_id` and `webhook_id`.

    Returns:
        A `LivestreamStatusUpdate` for `livestreaming.statusUpdate`, a `GenericEvent`
        for any other event.

    Raises:
        WebhookPayloadError: not JSON, not an object, no string `event`, or a known event
            without its required fields (e.g. `streamId`, `status`).
    """
    payload = _load(body)
    name = payload.get("event")
    if not isinstance(name, str) or not name:
        raise WebhookPayloadError("the webhook body has no 'event' name")
    ids = {"delivery_id": delivery_id(headers), "webhook_id": webhook_id(headers)}
    cls = EVENT_TYPES.get(name)
    if cls is None:
        return GenericEvent(event=name, payload=dict(payload), **ids)
    fields = _snake_keys(payload)
    fields.update(event=name, payload=dict(payload), **ids)
    try:
        return structure(fields, cls)
    except ResponseDecodeError as exc:
        raise WebhookPayloadError(f"cannot decode a {name} webhook: {exc.message}") from None
