"""The fake's webhook bodies, signed as the services sign them."""

from __future__ import annotations

from typing import Any

from dyte_async.testing._render import INGEST_SERVER, PLAYBACK_URL
from dyte_async.testing._state import FakeState, Livestream
from dyte_async.testing._webhook_changes import Change
from dyte_async.testing._webhook_targets import (
    LIVESTREAM_STATUS_UPDATE,
    ORGANIZATION_NAME,
    WebhookDelivery,
    WebhookTarget,
)
from dyte_async.webhooks._jsjson import js_stringify

__all__ = ["dyte_payload", "realtimekit_payload", "signed_delivery"]


def dyte_payload(livestream: Livestream, status: str) -> dict[str, Any]:
    """The Dyte payload: `{"event", "streamId", "status"}`."""
    return {"event": LIVESTREAM_STATUS_UPDATE, "streamId": livestream.id, "status": status}


def realtimekit_payload(state: FakeState, livestream: Livestream, status: str) -> dict[str, Any]:
    """The RealtimeKit payload (ENDPOINTS.md section 8), `meeting` null when independent.

    `manualIngest` is true for independent livestreams (pushed by an encoder);
    `meeting.roomName` is the meeting id and `meeting.status` the livestream status, as in
    the docs' example.
    """
    meeting = state.meetings.get(livestream.meeting_id) if livestream.meeting_id else None
    return {
        "event": LIVESTREAM_STATUS_UPDATE,
        "streamId": livestream.id,
        "status": status,
        "manualIngest": livestream.meeting_id is None,
        "playbackUrl": PLAYBACK_URL.format(id=livestream.id),
        "ingestServer": INGEST_SERVER,
        "streamKey": livestream.stream_key,
        "meeting": None
        if meeting is None
        else {
            "id": meeting.id,
            "title": meeting.fields.get("title"),
            "createdAt": state.iso(meeting.created_at),
            "roomName": meeting.id,
            "status": status,
            "organizedBy": {"id": state.org_id, "name": ORGANIZATION_NAME},
        },
    }


def signed_delivery(
    state: FakeState, target: WebhookTarget, change: Change, delivery_id: str
) -> WebhookDelivery:
    """The delivery of `change` to `target`: its body in the target's flavour, signed."""
    livestream = change.livestream
    if target.flavor == "dyte":
        payload = dyte_payload(livestream, change.status)
    else:
        payload = realtimekit_payload(state, livestream, change.status)
    body = js_stringify(payload).encode("utf-8")
    headers = state.webhook_keys.signed_headers(
        body,
        flavor=target.flavor,
        delivery_id=delivery_id,
        webhook_id=target.id,
    )
    return WebhookDelivery(
        webhook_id=target.id,
        delivery_id=delivery_id,
        url=target.url,
        flavor=target.flavor,
        event=LIVESTREAM_STATUS_UPDATE,
        stream_id=livestream.id,
        meeting_id=livestream.meeting_id,
        status=change.status,
        changed_at=change.at,
        body=body,
        headers=headers,
    )
