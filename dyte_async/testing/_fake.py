"""`FakeDyte`: the facade users hold: configuration, state control, faults and the request log."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from dyte_async._clock import SYSTEM_CLOCK, Clock
from dyte_async.testing._api_meetings import MEETING_DEFAULTS
from dyte_async.testing._faults import (
    MALFORMED_KINDS,
    Delay,
    Fault,
    FaultQueue,
    MalformedKind,
    fail_response,
    garble,
)
from dyte_async.testing._http_server import serve_http
from dyte_async.testing._log import RecordedRequest, record_of
from dyte_async.testing._ratelimit import SlidingWindow
from dyte_async.testing._render import livestream_json, meeting_json
from dyte_async.testing._routes import ROUTE_KEYS, Credentials, Resolved, dispatch, resolve
from dyte_async.testing._state import FakeState, Livestream, Meeting, Timing
from dyte_async.testing._transport import FakeTransport
from dyte_async.testing._webhook_keys import WebhookKeys
from dyte_async.testing._webhooks import (
    DEFAULT_STATUSES,
    LIVESTREAM_STATUS_UPDATE,
    WebhookCallback,
    WebhookDelivery,
    WebhookFlavor,
    WebhookSender,
)
from dyte_async.testing._wire import WireRequest, WireResponse, error_response

if TYPE_CHECKING:
    from dyte_async._client import AsyncDyte

__all__ = ["FakeDyte"]

IN_PROCESS_HOST = "https://fake.dyte.invalid"
REALTIMEKIT_PATH = "/client/v4/accounts/fake-account-id/realtime/kit/fake-app-id"


def _check_route(route: str | None) -> None:
    if route is not None and route not in ROUTE_KEYS:
        raise ValueError(
            f"unknown route {route!r}: use 'METHOD /template' with the spec's path template, "
            "e.g. 'POST /meetings/{meeting_id}/livestreams'"
        )


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError("n must be >= 0")


class FakeDyte:
    """A stateful, in-memory fake of the Dyte v2 API (and its RealtimeKit twin).

    Use it in-process (`transport()`, `client()`) or over a real socket (`serve()`).
    Livestreams go INVOKED, then OFFLINE after `offline_after`, then LIVE after
    `go_live_after` seconds of the clock, computed when read: with a `FakeClock`, advancing
    the clock is all it takes. Faults (`fail_next`, `delay_next`, `drop_next`,
    `malformed_next`) script misbehaviour; `requests`, `count()` and `route_counts` show
    what arrived.

    Webhooks: `add_webhook(url)` (or `callback=`) subscribes a receiver to
    `livestreaming.statusUpdate`; each status change (LIVE, OFFLINE, IDLE, ERRORED by
    default; from the clock, `set_status`, starts and stops) is signed with the fake's own
    key pair (public key at `GET /.well-known/webhooks.json`) and delivered: at once while
    `serve()` or `sending_webhooks()` runs, else on `await deliver_webhooks()`. See
    `webhook_deliveries`.

    Choices where the spec is silent or contradicts itself:

    - Answers take the shape of the spec's examples (e.g. `GET /livestreams/{id}` gives
      `data.livestream` + `data.sessions` + top-level `paging`).
    - Paging: `page_no` is 1-based (0 means 1); `per_page` 0 means the default and is
      clamped to `max_per_page`; offsets are 1-based and inclusive, and an empty page has
      `end_offset == start_offset - 1`.
    - Meetings and livestreams list newest first, participants and presets in creation order.
    - Starting a meeting's livestream starts the meeting's session if none runs (the
      livestreamer joins it); each start creates a new livestream and session.
    - A livestream is "active" from start until stop (or `set_status(..., "IDLE")`),
      whatever its status, ERRORED included.
    - Requests are handled in this order: record, `delay_next`, rate limit, the other
      faults, authentication, routing (404/405), body parsing (400), the endpoint.

    Args:
        org_id: the organization id (Basic auth user on `/v2`).
        api_key: the API key (Basic auth password on `/v2`).
        api_token: the Bearer token accepted on RealtimeKit paths.
        clock: the clock of the lifecycle, the rate limit, delays and timestamps
            (default: the system clock).
        go_live_after: seconds from start to LIVE (None: only through `set_status`).
        offline_after: seconds from start to OFFLINE (None: never); at most `go_live_after`.
        rate_limit: `(requests, window seconds)` allowed per client address (None: no limit).
        max_per_page: the largest `per_page` honoured.
        default_per_page: `per_page` when a request gives none.
        seed: seed for ids, stream keys and tokens (None: random).
        webhook_keypair: `(private_pem, public_pem)` to sign webhooks with, e.g. one
            `dyte_async.webhooks.generate_keypair()` cached for a test session (None: a
            pair generated when first needed, which takes some tens of milliseconds).

    Raises:
        ValueError: for inconsistent settings, or a `webhook_keypair` that does not match.
    """

    def __init__(
        self,
        *,
        org_id: str = "fake-org-id",
        api_key: str = "fake-api-key",
        api_token: str = "fake-rtk-token",
        clock: Clock | None = None,
        go_live_after: float | None = 1.0,
        offline_after: float | None = 0.2,
        rate_limit: tuple[int, float] | None = (2000, 60.0),
        max_per_page: int = 100,
        default_per_page: int = 20,
        seed: int | None = None,
        webhook_keypair: tuple[str, str] | None = None,
    ) -> None:
        if (
            go_live_after is not None
            and offline_after is not None
            and offline_after > go_live_after
        ):
            raise ValueError("offline_after must be <= go_live_after")
        if (go_live_after is not None and go_live_after < 0) or (
            offline_after is not None and offline_after < 0
        ):
            raise ValueError("go_live_after and offline_after must be >= 0")
        if max_per_page < 1 or default_per_page < 1:
            raise ValueError("max_per_page and default_per_page must be >= 1")
        self.org_id = org_id
        self.api_key = api_key
        self.api_token = api_token
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self._clock_given = clock is not None
        self.max_per_page = max_per_page
        self.default_per_page = min(default_per_page, max_per_page)
        #: the in-process base URL of the Dyte v2 API.
        self.base_url = f"{IN_PROCESS_HOST}/v2"
        #: the in-process base URL of the RealtimeKit flavour (Bearer `api_token`).
        self.realtimekit_base_url = f"{IN_PROCESS_HOST}{REALTIMEKIT_PATH}"
        #: every request received, oldest first (see `RecordedRequest`).
        self.requests: list[RecordedRequest] = []
        #: requests received per `"METHOD /template"` (unknown paths are not counted).
        self.route_counts: collections.Counter[str] = collections.Counter()
        self._state = FakeState(
            org_id=org_id,
            clock=self.clock,
            timing=Timing(offline_after=offline_after, go_live_after=go_live_after),
            seed=seed,
            webhook_keys=WebhookKeys(webhook_keypair),
        )
        self._webhooks = WebhookSender(self._state, seed=seed)
        #: every webhook delivery, oldest first (see `WebhookDelivery`; updated in place
        #: while its attempts are made).
        self.webhook_deliveries: list[WebhookDelivery] = self._webhooks.deliveries
        self._credentials = Credentials(org_id=org_id, api_key=api_key, api_token=api_token)
        self._faults = FaultQueue()
        self._limiter = None if rate_limit is None else SlidingWindow(*rate_limit)

    def __repr__(self) -> str:
        return (
            f"FakeDyte(org_id={self.org_id!r}, meetings={len(self._state.meetings)}, "
            f"livestreams={len(self._state.livestreams)}, requests={len(self.requests)})"
        )

    # -- connecting ---------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """Return an in-process httpx transport to this fake (any host; `/v2` or RealtimeKit paths).

        Returns:
            A transport for `httpx.AsyncClient(transport=...)`; closing it closes nothing.
        """
        return FakeTransport(self._handle)

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve the fake over HTTP/1.1 on a real socket (asyncio or trio).

        Webhooks are sent in the background meanwhile (see `sending_webhooks`).

        Args:
            host: the address to bind.
            port: the port (0: any free one).

        Yields:
            The v2 base URL, e.g. `"http://127.0.0.1:51234/v2"`. Leaving the block stops the
            server, closes its connections and stops webhook deliveries in flight.
        """
        async with (
            serve_http(self._handle, host, port) as (bound_host, bound_port),
            self._webhooks.running(),
        ):
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            yield f"http://{shown}:{bound_port}/v2"

    def client(self, **options: Any) -> AsyncDyte:
        """Return an `AsyncDyte` wired to this fake in-process.

        Args:
            **options: more `AsyncDyte` arguments (they override the ones set here).

        Returns:
            `AsyncDyte(org_id=..., api_key=..., base_url=self.base_url,
            transport=self.transport(), clock=<this fake's clock if one was given>, **options)`.
        """
        from dyte_async._client import AsyncDyte

        arguments: dict[str, Any] = {
            "org_id": self.org_id,
            "api_key": self.api_key,
            "base_url": self.base_url,
            "transport": self.transport(),
        }
        if self._clock_given:
            arguments["clock"] = self.clock
        arguments.update(options)
        return AsyncDyte(**arguments)

    # -- the request path ---------------------------------------------------------------

    async def _handle(self, request: WireRequest) -> WireResponse | None:
        """Record, delay, rate-limit, apply faults, then answer (None: drop the connection)."""
        resolved = resolve(request.method, request.path)
        record = record_of(request, resolved, at=self.clock.now())
        self.requests.append(record)
        if resolved.key is not None:
            self.route_counts[resolved.key] += 1
        delay = self._faults.take_delay(resolved.key)
        if delay is not None:
            await self.clock.sleep(delay)
        response = self._answer(request, resolved)
        self._set_status(record, None if response is None else response.status)
        self._webhooks.kick()  # the request may have started or stopped a livestream
        return response

    def _answer(self, request: WireRequest, resolved: Resolved) -> WireResponse | None:
        if self._limiter is not None:
            wait = self._limiter.acquire(request.client, self.clock.now())
            if wait is not None:
                return error_response(
                    429,
                    "Too many requests",
                    headers=(("retry-after", str(wait)), ("x-envoy-ratelimited", "true")),
                )
        fault = self._faults.take(resolved.key)
        if fault is not None and fault.kind == "fail":
            return fail_response(fault)
        if fault is not None and fault.kind == "drop" and not fault.after_action:
            return None
        response = dispatch(
            self._state,
            self._credentials,
            request,
            resolved,
            default_per_page=self.default_per_page,
            max_per_page=self.max_per_page,
        )
        if fault is not None and fault.kind == "drop":
            return None
        if fault is not None and fault.kind == "malformed":
            return garble(response, fault.malformed)
        return response

    def _set_status(self, record: RecordedRequest, status: int | None) -> None:
        for index in range(len(self.requests) - 1, -1, -1):
            if self.requests[index] is record:
                self.requests[index] = attrs.evolve(record, status=status)
                return

    # -- state control ------------------------------------------------------------------

    def _meeting(self, meeting_id: str) -> Meeting:
        meeting = self._state.meetings.get(meeting_id)
        if meeting is None:
            raise KeyError(f"no meeting with id {meeting_id!r}")
        return meeting

    def _livestream_for(self, meeting_or_livestream_id: str) -> Livestream:
        livestream = self._state.livestreams.get(meeting_or_livestream_id)
        if livestream is not None:
            return livestream
        meeting = self._meeting(meeting_or_livestream_id)
        active = self._state.active_livestream(meeting)
        if active is None:
            raise ValueError(f"meeting {meeting.id} has no active livestream")
        return active

    def set_status(
        self, meeting_id_or_livestream_id: str, status: str, *, err_message: str | None = None
    ) -> None:
        """Force a livestream's status from now on (sticky: the timers no longer apply).

        `"IDLE"` stops it (as the stop endpoint does); `"ERRORED"` also sets the session's
        `err_message`. Any other string is accepted as is, to mimic statuses the API may add.

        Args:
            meeting_id_or_livestream_id: a livestream id, or a meeting id (its active livestream).
            status: the new status.
            err_message: the session's `err_message` (default for ERRORED: a fixed text).

        Raises:
            KeyError: for an unknown id.
            ValueError: when the meeting has no active livestream, or the livestream is
                stopped and `status` is not IDLE.
        """
        if not status:
            raise ValueError("status must be a non-empty string")
        livestream = self._livestream_for(meeting_id_or_livestream_id)
        self._state.set_status(livestream, status, err_message)
        self._webhooks.kick()

    def add_meeting(self, **fields: Any) -> dict[str, Any]:
        """Store a meeting directly, without validation (`id=` may be given).

        Args:
            **fields: meeting fields; missing ones take the API's defaults.

        Returns:
            The meeting as the API would answer it.
        """
        meeting_id = fields.pop("id", None)
        for key in ("created_at", "updated_at"):
            fields.pop(key, None)
        meeting = self._state.add_meeting(
            {**MEETING_DEFAULTS, **fields},
            meeting_id=None if meeting_id is None else str(meeting_id),
        )
        return meeting_json(self._state, meeting)

    def start_meeting(self, meeting_id: str) -> None:
        """Begin a session of the meeting (the running one is kept if there is one).

        Every participant of the meeting joins it (participants added later join when they
        are added); with `live_stream_on_start`, a livestream starts unless one is running.

        Raises:
            KeyError: for an unknown meeting.
        """
        meeting = self._meeting(meeting_id)
        state = self._state
        state.start_meeting_session(meeting)
        for participant in meeting.participants.values():
            state.join(meeting, participant)
        if meeting.fields.get("live_stream_on_start") and state.active_livestream(meeting) is None:
            state.start_livestream(meeting, name=None)
            self._webhooks.kick()

    def end_meeting(self, meeting_id: str) -> None:
        """End the meeting's session: its livestream stops and every participant leaves.

        Raises:
            KeyError: for an unknown meeting.
        """
        meeting = self._meeting(meeting_id)
        active = self._state.active_livestream(meeting)
        if active is not None:
            self._state.stop_livestream(active)
            self._webhooks.kick()
        self._state.end_meeting_session(meeting)

    def join(self, meeting_id: str, participant_id: str) -> None:
        """Put a participant of the meeting into its running session.

        Raises:
            KeyError: for an unknown meeting or participant.
            ValueError: when the meeting has no running session (see `start_meeting`).
        """
        meeting = self._meeting(meeting_id)
        participant = meeting.participants.get(participant_id)
        if participant is None:
            raise KeyError(f"no participant {participant_id!r} in meeting {meeting_id!r}")
        if meeting.active_session is None:
            raise ValueError(f"meeting {meeting_id} has no active session; call start_meeting")
        self._state.join(meeting, participant)

    def active_livestream(self, meeting_id: str) -> dict[str, Any] | None:
        """Return the meeting's running livestream as the API shows it, or None.

        Raises:
            KeyError: for an unknown meeting.
        """
        active = self._state.active_livestream(self._meeting(meeting_id))
        return None if active is None else livestream_json(self._state, active)

    def active_session(self, meeting_id: str) -> dict[str, Any] | None:
        """Return the meeting's running session, or None.

        Returns:
            `{"id", "participants": [{"id", "custom_participant_id", "muted", "allow_unmute"}]}`.

        Raises:
            KeyError: for an unknown meeting.
        """
        meeting = self._meeting(meeting_id)
        session = meeting.active_session
        if session is None:
            return None
        return {
            "id": session.id,
            "participants": [
                {
                    "id": peer.participant_id,
                    "custom_participant_id": meeting.participants[peer.participant_id].fields[
                        "custom_participant_id"
                    ],
                    "muted": peer.muted,
                    "allow_unmute": peer.allow_unmute,
                }
                for peer in session.peers.values()
                if peer.participant_id in meeting.participants
            ],
        }

    # -- webhooks -----------------------------------------------------------------------

    @property
    def webhook_public_key_pem(self) -> str:
        """The PEM served at `GET /.well-known/webhooks.json`.

        The fake's own public key (its pair is generated on first use), unless another was
        set: assign a PEM to serve it instead (for deliveries you sign yourself; the fake's
        own deliveries then do not verify against it), or None to serve the fake's own.
        """
        return self._state.webhook_keys.served_pem()

    @webhook_public_key_pem.setter
    def webhook_public_key_pem(self, pem: str | None) -> None:
        self._state.webhook_keys.served = pem

    @property
    def webhook_keypair(self) -> tuple[str, str]:
        """`(private_pem, public_pem)` the fake signs webhooks with (generated on first use)."""
        return self._state.webhook_keys.keypair()

    def add_webhook(
        self,
        url: str | None = None,
        *,
        callback: WebhookCallback | None = None,
        flavor: WebhookFlavor = "dyte",
        events: Iterable[str] = (LIVESTREAM_STATUS_UPDATE,),
        statuses: Collection[str] | None = DEFAULT_STATUSES,
        max_retries: int = 5,
        retry_delay: float = 0.01,
        timeout: float = 3.0,
        allow_remote: bool = False,
        webhook_id: str | None = None,
    ) -> str:
        """Subscribe a receiver to livestream status changes from now on.

        Each change found afterwards (see `deliver_webhooks`) is sent as a
        `livestreaming.statusUpdate` POST whose JSON body is signed with the fake's key
        pair (`webhook_keypair`) by `dyte_async.webhooks.signed_headers`, with a fresh
        `dyte-uuid` / `rtk-uuid` per delivery (kept on its retries) and this webhook's id.
        The Dyte body is `{"event", "streamId", "status"}`; the RealtimeKit one adds
        `manualIngest`, `playbackUrl`, `ingestServer`, `streamKey` and `meeting`.

        Success is a 2xx answer within `timeout` seconds. Failures are retried up to
        `max_retries` times, after `retry_delay` real seconds doubled each time (at most
        1 s): with `flavor="dyte"` any failure (as Dyte does: 3xx, 4xx, 5xx, no answer);
        with `"realtimekit"` only 5xx, no answer and network errors (as RealtimeKit does).
        A callback fails by raising or by outliving `timeout`.

        Args:
            url: where to POST (a loopback address unless `allow_remote`).
            callback: called with `(body, headers)` instead of POSTing (sync or async).
            flavor: `"dyte"` (`dyte-*` headers) or `"realtimekit"` (`rtk-*` headers).
            events: event names (the spec's enum); only `livestreaming.statusUpdate` is
                ever sent.
            statuses: the statuses sent (None: every change, INVOKED included).
            max_retries: retries after a failed attempt (Dyte: 5).
            retry_delay: real seconds before the first retry.
            timeout: real seconds an attempt may take (Dyte: 3).
            allow_remote: allow a URL that is not on a loopback address.
            webhook_id: the webhook id (None: a fresh uuid).

        Returns:
            The webhook id (sent as `dyte-webhook-id` / `rtk-webhook-id`).

        Raises:
            ValueError: neither or both of `url` and `callback`, a URL that is not http(s)
                or not loopback, an unknown flavor or event, a taken id, bad numbers.
        """
        target = self._webhooks.add(
            url,
            callback=callback,
            flavor=flavor,
            events=events,
            statuses=statuses,
            max_retries=max_retries,
            retry_delay=retry_delay,
            timeout=timeout,
            allow_remote=allow_remote,
            webhook_id=webhook_id,
        )
        return target.id

    def remove_webhook(self, webhook_id: str) -> None:
        """Unsubscribe a webhook (its deliveries in flight finish).

        Raises:
            KeyError: for an unknown id.
        """
        self._webhooks.remove(webhook_id)

    async def deliver_webhooks(self) -> list[WebhookDelivery]:
        """Send the status changes not sent yet, now; return those deliveries.

        The clock is read now, so with a `FakeClock` the changes its advances made due are
        found. Returns when they are done, retries included. A background sender
        (`serve()`, `sending_webhooks()`) does the same on its own; calling this as well
        waits for its round in progress, and flushes before leaving its block. (Not from
        a webhook callback: it would wait for the round that is calling it.)

        Returns:
            The deliveries made by this call, in order of change (also appended to
            `webhook_deliveries`).
        """
        return await self._webhooks.deliver()

    def sending_webhooks(self, *, poll_interval: float = 0.02) -> AbstractAsyncContextManager[None]:
        """Deliver webhooks in the background while the `async with` block runs.

        `serve()` does this on its own; use it with the in-process transport. Changes made
        through the API, `set_status`, `start_meeting` and `end_meeting` (on the event
        loop's thread) are sent at once; changes due to the clock are found within
        `poll_interval` real seconds. Leaving the block stops deliveries in flight (they
        stay `done=False`) and closes the HTTP clients.

        Raises:
            ValueError: `poll_interval` is not positive (on entering the block).
        """
        return self._webhooks.running(poll_interval)

    # -- faults -------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        retry_after: float | str | None = None,
        route: str | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next `n` matching requests with `status`, without acting on them.

        Args:
            n: how many requests.
            status: the HTTP status.
            retry_after: a `retry-after` header (seconds, or a string such as an HTTP date).
            route: `"METHOD /template"` to match (None: any request).
            body: the body (None: the error envelope; str/bytes: sent verbatim; else JSON).

        Raises:
            ValueError: for an unknown route or a negative `n`.
        """
        _check_route(route)
        _check_count(n)
        self._faults.add(Fault("fail", n, route, status=status, retry_after=retry_after, body=body))

    def delay_next(self, n: int, seconds: float, *, route: str | None = None) -> None:
        """Sleep `seconds` on the clock before handling each of the next `n` matching requests.

        Delays queue apart from the other faults, so a delayed request can also fail.

        Raises:
            ValueError: for an unknown route, a negative `n` or negative `seconds`.
        """
        _check_route(route)
        _check_count(n)
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self._faults.add_delay(Delay(n, float(seconds), route))

    def drop_next(
        self, n: int = 1, *, after_action: bool = False, route: str | None = None
    ) -> None:
        """Close the connection of the next `n` matching requests without answering.

        In-process the transport raises `httpx.RemoteProtocolError`; over a socket the
        connection is closed.

        Args:
            n: how many requests.
            after_action: act first (the write happens, the answer is lost); else drop before.
            route: `"METHOD /template"` to match (None: any request).

        Raises:
            ValueError: for an unknown route or a negative `n`.
        """
        _check_route(route)
        _check_count(n)
        self._faults.add(Fault("drop", n, route, after_action=after_action))

    def malformed_next(
        self, n: int = 1, *, kind: MalformedKind = "html", route: str | None = None
    ) -> None:
        """Act on the next `n` matching requests, then answer with a broken body.

        Args:
            n: how many requests.
            kind: `"html"` (an HTML page), `"truncated"` (half the JSON), `"empty"` (no body),
                `"not_object"` (a JSON array) — all with the real status — or
                `"success_false"` (HTTP 200 with `{"success": false, "error": {...}}`).
            route: `"METHOD /template"` to match (None: any request).

        Raises:
            ValueError: for an unknown kind or route, or a negative `n`.
        """
        if kind not in MALFORMED_KINDS:
            raise ValueError(f"kind must be one of {', '.join(MALFORMED_KINDS)}")
        _check_route(route)
        _check_count(n)
        self._faults.add(Fault("malformed", n, route, malformed=kind))

    def clear_faults(self) -> None:
        """Forget every queued fault and delay."""
        self._faults.clear()

    # -- observation --------------------------------------------------------------------

    def count(self, route: str | None = None) -> int:
        """Return how many requests arrived (for `route` only, when given).

        Raises:
            ValueError: for an unknown route.
        """
        if route is None:
            return len(self.requests)
        _check_route(route)
        return self.route_counts[route]

    def reset_counters(self) -> None:
        """Empty `requests`, `route_counts` and `webhook_deliveries`.

        State, faults, the rate limit and webhook registrations are kept.
        """
        self.requests.clear()
        self.route_counts.clear()
        self.webhook_deliveries.clear()
