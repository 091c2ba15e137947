"""Signed webhooks from the fake: `livestreaming.statusUpdate` on every status change.

Livestream statuses are computed from the clock when read (`_state`), so nothing fires when
a status changes. `WebhookSender.deliver` looks instead: it compares each livestream
session's status history up to now with what it saw last time, and every change it had
not seen becomes one delivery per matching webhook, signed as the services sign (the
headers of `dyte_async.webhooks.signed_headers`), POSTed to the webhook's URL or handed
to its callback. `running()` looks every `poll_interval` seconds, and at once when
`kick()` says the state changed.

Delivery rules (ENDPOINTS.md section 8):

- a delivery succeeds on a 2xx answer within `timeout` seconds (Dyte: 3 s);
- `"dyte"` flavour: any other outcome (3xx, 4xx, 5xx, no answer, a network error) is
  retried, up to `max_retries` times (Dyte: "retry up to 5 times");
- `"realtimekit"` flavour: 5xx, no answer and network errors are retried; another non-2xx
  answer fails the delivery at once;
- retries keep the delivery id (`dyte-uuid` / `rtk-uuid`), as the services do;
- retries wait `retry_delay` real seconds, doubled each time up to 1 s (the services do
  not document their delays; these are short, for tests);
- a callback that raises (or outlives `timeout`) counts as a network error.

Deliveries of one webhook go out one at a time, in the order of the changes; different
webhooks are served concurrently.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import random
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from typing import Any, Final, Literal

import anyio
import attrs
import httpx
import sniffio

from dyte_async._net import is_loopback, parse_http_url
from dyte_async.testing._render import INGEST_SERVER, PLAYBACK_URL
from dyte_async.testing._state import FakeState, Livestream, LivestreamSession
from dyte_async.webhooks._jsjson import js_stringify

__all__ = [
    "DEFAULT_STATUSES",
    "KNOWN_EVENTS",
    "LIVESTREAM_STATUS_UPDATE",
    "ORGANIZATION_NAME",
    "WebhookCallback",
    "WebhookDelivery",
    "WebhookFlavor",
    "WebhookSender",
    "WebhookTarget",
    "check_url",
    "dyte_payload",
    "realtimekit_payload",
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

_MAX_RETRY_DELAY = 1.0


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


@attrs.frozen
class _Change:
    at: float
    status: str
    livestream: Livestream


class _ChangeTracker:
    """Finds the status changes of every livestream session not reported yet.

    Keeps, per session, the points of its timeline (`LivestreamSession.timeline`) already
    seen and the last status reported. A timeline only grows, except that a status forced
    at the very instant of a scheduled change replaces that change: the points after the
    common prefix are then the new ones. A point whose status equals the last reported
    one is no change.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[list[tuple[float, str]], str | None]] = {}
        self._finished: set[str] = set()

    def collect(self, state: FakeState) -> list[_Change]:
        now = state.now()
        found: list[_Change] = []
        for livestream in state.livestreams.values():
            for session in livestream.sessions:
                if session.id not in self._finished:
                    found.extend(self._session(state, livestream, session, now))
        found.sort(key=lambda change: change.at)
        return found

    def _session(
        self, state: FakeState, livestream: Livestream, session: LivestreamSession, now: float
    ) -> list[_Change]:
        points = [p for p in session.timeline(state.timing) if p[0] <= now]
        seen, last = self._seen.get(session.id, ([], None))
        common = 0
        for old, new in zip(seen, points, strict=False):
            if old != new:
                break
            common += 1
        changes = []
        for at, status in points[common:]:
            if status != last:
                changes.append(_Change(at, status, livestream))
                last = status
        if session.stopped_at is not None and session.stopped_at <= now:
            self._finished.add(session.id)  # a stopped session changes no more
            self._seen.pop(session.id, None)
        else:
            self._seen[session.id] = (points, last)
        return changes


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


class _Clients:
    """httpx clients made on first use (plain http needs no TLS context) and closed together."""

    def __init__(self) -> None:
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def get(self, url: str) -> httpx.AsyncClient:
        secure = url.lower().startswith("https:")
        client = self._clients.get(secure)
        if client is None:
            client = httpx.AsyncClient(
                trust_env=False,  # no proxies from the environment: loopback stays loopback
                verify=secure,
                follow_redirects=False,
                headers={"user-agent": "FakeDyte-Webhooks"},
            )
            self._clients[secure] = client
        return client

    async def aclose(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        with anyio.CancelScope(shield=True):
            for client in clients:
                await client.aclose()


class WebhookSender:
    """The fake's webhooks: registrations, finding changes, signing and delivering.

    Args:
        state: the fake's records (and its clock and key pair).
        seed: seed of webhook and delivery ids (None: random).
    """

    def __init__(self, state: FakeState, *, seed: int | None = None) -> None:
        self._state = state
        self._rng = random.Random(None if seed is None else f"{seed}/webhooks")
        self.targets: dict[str, WebhookTarget] = {}
        #: every delivery, oldest first.
        self.deliveries: list[WebhookDelivery] = []
        self._tracker = _ChangeTracker()
        self._lock: tuple[str, anyio.Lock] | None = None
        self._wake: anyio.Event | None = None
        self._runner_thread: int | None = None
        self._runner_clients: _Clients | None = None
        self._runners = 0

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # -- registration -------------------------------------------------------------------

    def add(
        self,
        url: str | None,
        *,
        callback: WebhookCallback | None,
        flavor: WebhookFlavor,
        events: Iterable[str],
        statuses: Collection[str] | None,
        max_retries: int,
        retry_delay: float,
        timeout: float,
        allow_remote: bool,
        webhook_id: str | None,
    ) -> WebhookTarget:
        """Register a webhook (see `FakeDyte.add_webhook`)."""
        if (url is None) == (callback is None):
            raise ValueError("give exactly one of url and callback")
        if url is not None:
            check_url(url, allow_remote=allow_remote)
        if flavor not in ("dyte", "realtimekit"):
            raise ValueError(f"flavor must be 'dyte' or 'realtimekit', got {flavor!r}")
        names = frozenset([events] if isinstance(events, str) else events)
        unknown = sorted(names - KNOWN_EVENTS)
        if unknown or not names:
            raise ValueError(f"unknown or no events {unknown}: use names of {sorted(KNOWN_EVENTS)}")
        if isinstance(statuses, str):
            statuses = (statuses,)
        if max_retries < 0 or retry_delay < 0 or not timeout > 0:
            raise ValueError("max_retries and retry_delay must be >= 0, timeout > 0")
        target_id = webhook_id if webhook_id is not None else self._new_id()
        if target_id in self.targets:
            raise ValueError(f"a webhook with id {target_id!r} exists")
        self._state.webhook_keys.keypair()  # generate now, not on the first delivery
        target = WebhookTarget(
            id=target_id,
            url=url,
            callback=callback,
            flavor=flavor,
            events=names,
            statuses=None if statuses is None else frozenset(statuses),
            since=self._state.now(),
            max_retries=max_retries,
            retry_delay=float(retry_delay),
            timeout=float(timeout),
        )
        self.targets[target.id] = target
        if url is not None and self._runner_clients is not None:
            # Make the HTTP client now: the first one imports httpcore (100-200 ms), which
            # would otherwise delay the first delivery.
            self._runner_clients.get(url)
        self.kick()
        return target

    def remove(self, webhook_id: str) -> None:
        """Unregister a webhook (deliveries in flight finish).

        Raises:
            KeyError: for an unknown id.
        """
        if webhook_id not in self.targets:
            raise KeyError(f"no webhook with id {webhook_id!r}")
        del self.targets[webhook_id]

    # -- finding what to send -----------------------------------------------------------

    def kick(self) -> None:
        """Say the state may have changed: a running sender looks now.

        From another thread than the sender's, this does nothing: the sender's next regular
        look (every `poll_interval`) finds the change.
        """
        wake = self._wake
        if wake is not None and threading.get_ident() == self._runner_thread:
            wake.set()

    def _collect(self) -> list[WebhookDelivery]:
        if not self.targets:
            return []
        found: list[WebhookDelivery] = []
        for change in self._tracker.collect(self._state):
            for target in list(self.targets.values()):
                if target.wants(LIVESTREAM_STATUS_UPDATE, change.status, change.at):
                    found.append(self._delivery(target, change))
        self.deliveries.extend(found)
        return found

    def _delivery(self, target: WebhookTarget, change: _Change) -> WebhookDelivery:
        livestream = change.livestream
        if target.flavor == "dyte":
            payload = dyte_payload(livestream, change.status)
        else:
            payload = realtimekit_payload(self._state, livestream, change.status)
        body = js_stringify(payload).encode("utf-8")
        delivery_id = self._new_id()
        headers = self._state.webhook_keys.signed_headers(
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

    # -- sending ------------------------------------------------------------------------

    def _get_lock(self) -> anyio.Lock:
        # One lock per event loop library: a fake may serve an asyncio test, then a trio one.
        library = sniffio.current_async_library()
        if self._lock is None or (self._lock[0] != library and not self._lock[1].locked()):
            self._lock = (library, anyio.Lock())
        return self._lock[1]

    async def deliver(self, clients: _Clients | None = None) -> list[WebhookDelivery]:
        """Find the changes not reported yet and deliver them; return those deliveries.

        Waits for a delivery round already under way (so that each webhook gets its
        deliveries in order), then delivers what is due now, retries included.
        """
        async with self._get_lock():
            found = self._collect()
            if not found:
                return found
            own = clients is None
            used = _Clients() if clients is None else clients
            try:
                by_target: dict[str, list[WebhookDelivery]] = {}
                for delivery in found:
                    by_target.setdefault(delivery.webhook_id, []).append(delivery)
                async with anyio.create_task_group() as tg:
                    for webhook_id, deliveries in by_target.items():
                        # (no await since `_collect`: every target is still registered)
                        target = self.targets[webhook_id]
                        tg.start_soon(self._send_all, target, deliveries, used)
            finally:
                if own:
                    await used.aclose()
            return found

    async def _send_all(
        self, target: WebhookTarget, deliveries: list[WebhookDelivery], clients: _Clients
    ) -> None:
        for delivery in deliveries:
            await self._send(target, delivery, clients)

    async def _send(
        self, target: WebhookTarget, delivery: WebhookDelivery, clients: _Clients
    ) -> None:
        for attempt in range(target.max_retries + 1):
            if attempt:
                await anyio.sleep(min(target.retry_delay * 2 ** (attempt - 1), _MAX_RETRY_DELAY))
            delivery.attempts += 1
            if target.url is not None:
                retry = await self._post(target, target.url, delivery, clients)
            else:
                retry = await self._call(target, delivery)
            if delivery.ok or not retry:
                break
        delivery.done = True

    async def _post(
        self, target: WebhookTarget, url: str, delivery: WebhookDelivery, clients: _Clients
    ) -> bool:
        """One POST; return whether a failure may be retried."""
        try:
            response = await clients.get(url).post(
                url, content=delivery.body, headers=delivery.headers, timeout=target.timeout
            )
        except httpx.TimeoutException:
            delivery.http_status = None
            delivery.error = f"no answer within {target.timeout:g}s"
            return True
        except httpx.HTTPError as exc:
            delivery.http_status = None
            delivery.error = f"{type(exc).__name__}: {exc}"
            return True
        status = response.status_code
        delivery.http_status = status
        if 200 <= status < 300:
            delivery.ok = True
            delivery.error = None
            return False
        delivery.error = f"answered HTTP {status}"
        return target.flavor == "dyte" or status >= 500

    async def _call(self, target: WebhookTarget, delivery: WebhookDelivery) -> bool:
        """One callback call; return whether a failure may be retried (always)."""
        callback = target.callback
        assert callback is not None
        with anyio.move_on_after(target.timeout) as scope:
            try:
                result = callback(delivery.body, dict(delivery.headers))
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                delivery.error = f"the callback raised {type(exc).__name__}: {exc}"
                return True
        if scope.cancelled_caught:
            delivery.error = f"the callback took more than {target.timeout:g}s"
            return True
        delivery.ok = True
        delivery.error = None
        return False

    # -- in the background --------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self, poll_interval: float = 0.02) -> AsyncIterator[None]:
        """Deliver in the background while the block runs.

        Looks for changes every `poll_interval` real seconds (clock-driven changes, also
        with a `FakeClock` advanced by hand), and at once after `kick()`. Leaving the block
        stops the deliveries in flight (they stay `done=False`) and closes the HTTP clients.
        Nested blocks share the outer one's sender.
        """
        if not poll_interval > 0:
            raise ValueError("poll_interval must be > 0")
        if self._runners:
            self._runners += 1
            try:
                yield
            finally:
                self._runners -= 1
            return
        clients = _Clients()
        for target in self.targets.values():
            if target.url is not None:
                clients.get(target.url)  # now rather than on the first delivery (see `add`)
        raised: BaseException | None = None
        self._runners += 1
        self._runner_thread = threading.get_ident()
        self._runner_clients = clients
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._run, clients, poll_interval)
                try:
                    yield
                except BaseException as exc:  # re-raised as itself, not in a group
                    raised = exc
                finally:
                    tg.cancel_scope.cancel()
        finally:
            self._runners -= 1
            self._wake = None
            self._runner_thread = None
            self._runner_clients = None
            await clients.aclose()
        if raised is not None:
            raise raised

    async def _run(self, clients: _Clients, poll_interval: float) -> None:
        while True:
            self._wake = anyio.Event()  # before looking: a kick during the round counts
            await self.deliver(clients)  # (no webhooks: returns at once)
            with anyio.move_on_after(poll_interval):
                await self._wake.wait()
