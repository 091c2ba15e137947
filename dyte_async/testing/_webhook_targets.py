"""The fake's webhook records: flavours, known events, a registered target, a delivery."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal

import attrs

from dyte_async._net import is_loopback, parse_http_url

__all__ = [
    "DEFAULT_STATUSES",
    "KNOWN_EVENTS",
    "LIVESTREAM_STATUS_UPDATE",
    "ORGANIZATION_NAME",
    "WebhookCallback",
    "WebhookDelivery",
    "WebhookFlavor",
    "WebhookTarget",
    "check_url",
]

WebhookFlavor = Literal["dyte", "realtimekit"]
#: Receives `(body, headers)` of each delivery; raising (or timing out) fails the attempt.
WebhookCallback = Callable[[bytes, dict[str, str]], "Awaitable[None] | None"]

LIVESTREAM_STATUS_UPDATE: Final = "livestreaming.statusUpdate"
#: The `events` a webhook may subscribe to (the spec's enum); only
#: `livestreaming.statusUpdate` is ever sent by the fake.
KNOWN_EVENTS: Final = frozenset(
    {
        "meeting.started",
        "meeting.ended",
        "meeting.participantJoined",
        "meeting.participantLeft",
        "meeting.chatSynced",
        "recording.statusUpdate",
        LIVESTREAM_STATUS_UPDATE,
        "meeting.transcript",
        "meeting.summary",
    }
)
#: The statuses sent by default: the docs' LIVE, OFFLINE and IDLE, plus ERRORED (so that
#: waits learn of a failure at once). INVOKED is not sent unless asked for.
DEFAULT_STATUSES: Final = ("LIVE", "OFFLINE", "IDLE", "ERRORED")
#: `meeting.organizedBy.name` in RealtimeKit payloads.
ORGANIZATION_NAME: Final = "FakeDyte organization"


def check_url(url: str, *, allow_remote: bool) -> str:
    """Return `url` if the fake may POST to it.

    Raises:
        ValueError: not an absolute http(s) URL, or not loopback without `allow_remote`.
    """
    parsed = parse_http_url(url, "webhook url")  # a ConfigurationError is a ValueError
    if not allow_remote and not is_loopback(parsed.host):
        raise ValueError(
            f"refusing to send webhooks to {parsed.host}: FakeDyte sends to loopback "
            "addresses only unless allow_remote=True"
        )
    return url


@attrs.frozen(kw_only=True)
class WebhookTarget:
    """A registered webhook: where deliveries go, and which ones.

    Attributes:
        id: the webhook id (sent as `dyte-webhook-id` / `rtk-webhook-id`).
        url: where deliveries are POSTed (None: `callback` receives them).
        callback: called with `(body, headers)` instead of POSTing.
        flavor: `"dyte"` (`dyte-*` headers, 3-field payload) or `"realtimekit"`.
        events: event names subscribed to.
        statuses: livestream statuses sent (None: every change, INVOKED included).
        since: clock time of registration: earlier changes are not sent.
        max_retries: retries after a failed attempt.
        retry_delay: real seconds before the first retry (doubled each time, at most 1 s).
        timeout: real seconds an attempt may take.
    """

    id: str
    url: str | None
    callback: WebhookCallback | None = attrs.field(repr=False)
    flavor: WebhookFlavor
    events: frozenset[str]
    statuses: frozenset[str] | None
    since: float
    max_retries: int
    retry_delay: float
    timeout: float

    def wants(self, event: str, status: str, at: float) -> bool:
        """True when this webhook subscribes to `event` with `status`, changed at `at`."""
        return (
            event in self.events
            and (self.statuses is None or status in self.statuses)
            and at >= self.since
        )


@attrs.define(eq=False, kw_only=True)
class WebhookDelivery:
    """One webhook delivery (with its retries): what was sent, and how it went.

    Entries appear in `FakeDyte.webhook_deliveries` when the change is found and are
    updated in place while attempts are made.

    Attributes:
        webhook_id: the webhook it went to.
        delivery_id: the `dyte-uuid` / `rtk-uuid` (the same on every attempt).
        url: the URL POSTed to (None: a callback).
        flavor: `"dyte"` or `"realtimekit"`.
        event: the event name, `"livestreaming.statusUpdate"`.
        stream_id: the livestream id (`streamId`).
        meeting_id: the livestream's meeting (None: an independent livestream).
        status: the livestream status the delivery reports.
        changed_at: clock time of the status change.
        body: the exact bytes sent (and signed).
        headers: the headers sent: signature, delivery id, webhook id, content type.
        attempts: attempts made so far.
        http_status: the last answer's HTTP status (None: no answer, or a callback).
        ok: True once an attempt succeeded.
        error: why the last attempt failed (None after a success).
        done: True when no more attempts will be made (succeeded, or gave up).
    """

    webhook_id: str
    delivery_id: str
    url: str | None
    flavor: WebhookFlavor
    event: str
    stream_id: str
    meeting_id: str | None
    status: str
    changed_at: float
    body: bytes = attrs.field(repr=False)
    headers: dict[str, str] = attrs.field(repr=False)
    attempts: int = 0
    http_status: int | None = None
    ok: bool = False
    error: str | None = None
    done: bool = False

    def payload(self) -> Any:
        """Return the decoded JSON body."""
        return json.loads(self.body)
