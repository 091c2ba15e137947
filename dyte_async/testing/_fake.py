"""`FakeDyte`: the facade users hold: configuration, connecting and the request log.

Its other controls are mixins, one file each: the request path (`_fake_requests`), state
control (`_fake_control`), webhooks (`_fake_webhooks`) and faults (`_fake_faults`).
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

import httpx

from dyte_async._clock import SYSTEM_CLOCK, Clock
from dyte_async.testing._auth import Credentials
from dyte_async.testing._fake_control import StateControls
from dyte_async.testing._fake_faults import FaultControls
from dyte_async.testing._fake_requests import RequestPath, check_route
from dyte_async.testing._fake_webhooks import WebhookControls
from dyte_async.testing._faults import FaultQueue
from dyte_async.testing._http_server import ServerLimits, serve_http
from dyte_async.testing._log import RecordedRequest
from dyte_async.testing._ratelimit import SlidingWindow
from dyte_async.testing._state import FakeState, Timing
from dyte_async.testing._transport import FakeTransport
from dyte_async.testing._webhook_keys import WebhookKeys
from dyte_async.testing._webhook_targets import WebhookDelivery
from dyte_async.testing._webhooks import WebhookSender

if TYPE_CHECKING:
    from dyte_async._client import AsyncDyte

__all__ = ["FakeDyte"]

DEFAULT_ORG_ID = "fake-org-id"
DEFAULT_API_KEY = "fake-api-key"
DEFAULT_API_TOKEN = "fake-rtk-token"
IN_PROCESS_HOST = "https://fake.dyte.invalid"
FAKE_ACCOUNT_ID = "fake-account-id"
FAKE_APP_ID = "fake-app-id"
REALTIMEKIT_PATH = f"/client/v4/accounts/{FAKE_ACCOUNT_ID}/realtime/kit/{FAKE_APP_ID}"


class FakeDyte(StateControls, WebhookControls, FaultControls, RequestPath):
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

    Credentials: like moto, the fake accepts any well-formed credentials by default (any
    `Basic base64(org:key)` with both parts non-empty on `/v2`, any Bearer token on
    RealtimeKit paths) and records the organization each request named
    (`RecordedRequest.org_id`); every organization sees the same data. Give `org_id`,
    `api_key` or `api_token`, or `strict_auth=True`, and it accepts only its own
    credentials (a 401 otherwise), to test your handling of `AuthenticationError`. A
    missing or malformed `Authorization` header is a 401 either way.

    Args:
        org_id: the organization id (Basic auth user on `/v2`; default `"fake-org-id"`).
        api_key: the API key (Basic auth password on `/v2`; default `"fake-api-key"`).
        api_token: the Bearer token of RealtimeKit paths (default `"fake-rtk-token"`).
        strict_auth: accept only the credentials above (default: True when any of
            `org_id`, `api_key`, `api_token` is given, else False).
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
        auto_join: participants added to a meeting join its session when it starts (a
            livestream start, `start_meeting`), as if their front ends had connected, so
            `active_sessions.kick`/`mute` find them; those added during a session join at
            once either way. False: only those, and `join()` for the others.
        flavor: what `client()` returns: a Dyte v2 client (Basic auth) or a RealtimeKit one
            (`AsyncDyte.realtimekit`, Bearer auth); the fake serves both either way.
        request_log_size: the most entries `requests` keeps (the oldest go first).
        request_log_bytes: about the most memory `requests` holds (the oldest go first;
            the latest entry is always kept).

    Raises:
        ValueError: for inconsistent settings, or a `webhook_keypair` that does not match.
    """

    def __init__(
        self,
        *,
        org_id: str | None = None,
        api_key: str | None = None,
        api_token: str | None = None,
        strict_auth: bool | None = None,
        clock: Clock | None = None,
        go_live_after: float | None = 1.0,
        offline_after: float | None = 0.2,
        rate_limit: tuple[int, float] | None = (2000, 60.0),
        max_per_page: int = 100,
        default_per_page: int = 20,
        seed: int | None = None,
        webhook_keypair: tuple[str, str] | None = None,
        auto_join: bool = True,
        flavor: Literal["dyte", "realtimekit"] = "dyte",
        request_log_size: int = 10_000,
        request_log_bytes: int = 64 * 1024 * 1024,
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
        if flavor not in ("dyte", "realtimekit"):
            raise ValueError("flavor must be 'dyte' or 'realtimekit'")
        if request_log_size < 1 or request_log_bytes < 1:
            raise ValueError("request_log_size and request_log_bytes must be >= 1")
        given: tuple[tuple[str, object], ...] = (
            ("org_id", org_id),
            ("api_key", api_key),
            ("api_token", api_token),
        )
        for name, value in given:
            if value is not None and not (isinstance(value, str) and value.strip()):
                raise ValueError(f"{name} must be a non-empty string")
        if strict_auth is None:
            strict_auth = org_id is not None or api_key is not None or api_token is not None
        #: the organization id `client()` uses (and strict mode requires).
        self.org_id: str = org_id if org_id is not None else DEFAULT_ORG_ID
        #: the API key `client()` uses (and strict mode requires).
        self.api_key: str = api_key if api_key is not None else DEFAULT_API_KEY
        #: the RealtimeKit Bearer token strict mode requires.
        self.api_token: str = api_token if api_token is not None else DEFAULT_API_TOKEN
        #: True when only the credentials above are accepted.
        self.strict_auth: bool = bool(strict_auth)
        #: what `client()` returns: `"dyte"` or `"realtimekit"`.
        self.flavor = flavor
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self._clock_given = clock is not None
        self.max_per_page = max_per_page
        self.default_per_page: int = min(default_per_page, max_per_page)
        #: the in-process base URL of the Dyte v2 API.
        self.base_url = f"{IN_PROCESS_HOST}/v2"
        #: the in-process base URL of the RealtimeKit flavour (Bearer `api_token`).
        self.realtimekit_base_url = f"{IN_PROCESS_HOST}{REALTIMEKIT_PATH}"
        #: the requests received, oldest first (see `RecordedRequest`): the latest
        #: `request_log_size` of them at most, within about `request_log_bytes`.
        self.requests: list[RecordedRequest] = []
        self.request_log_size = request_log_size
        self.request_log_bytes = request_log_bytes
        self._log_costs: collections.deque[int] = collections.deque()
        self._log_bytes = 0
        self._received = 0
        #: requests received per `"METHOD /template"` (unknown paths are not counted).
        self.route_counts: collections.Counter[str] = collections.Counter()
        self._state = FakeState(
            org_id=self.org_id,
            clock=self.clock,
            timing=Timing(offline_after=offline_after, go_live_after=go_live_after),
            seed=seed,
            webhook_keys=WebhookKeys(webhook_keypair),
            auto_join=auto_join,
        )
        self._webhooks = WebhookSender(self._state, seed=seed)
        #: every webhook delivery, oldest first (see `WebhookDelivery`; updated in place
        #: while its attempts are made).
        self.webhook_deliveries: list[WebhookDelivery] = self._webhooks.deliveries
        self._credentials = Credentials(
            org_id=self.org_id,
            api_key=self.api_key,
            api_token=self.api_token,
            strict=self.strict_auth,
        )
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
    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int = 1024 * 1024,
        header_timeout: float = 10.0,
        idle_timeout: float = 30.0,
        max_connections: int = 1024,
    ) -> AsyncIterator[str]:
        """Serve the fake over HTTP/1.1 on a real socket (asyncio or trio).

        Webhooks are sent in the background meanwhile (see `sending_webhooks`). The server
        survives hostile peers: malformed HTTP or JSON gets a 4xx and never ends it; bodies
        are refused (413) past `max_body_bytes` and not read at all when the credentials
        are refused (401); silent connections are closed after the timeouts (real time).

        Args:
            host: the address to bind.
            port: the port (0: any free one).
            max_body_bytes: the largest request body accepted.
            header_timeout: seconds a request's head, and then its body, may take to arrive.
            idle_timeout: seconds a keep-alive connection may stay silent between requests.
            max_connections: connections served at once (beyond: a 503, then close).

        Yields:
            The v2 base URL, e.g. `"http://127.0.0.1:51234/v2"`. Leaving the block stops the
            server, closes its connections and stops webhook deliveries in flight.

        Raises:
            OSError: the address cannot be bound (a one-line message, e.g.
                `cannot listen on 127.0.0.1:8080: address already in use`).
            ValueError: a limit is not positive.
        """
        limits = ServerLimits(
            max_body_bytes=max_body_bytes,
            header_timeout=header_timeout,
            idle_timeout=idle_timeout,
            send_timeout=header_timeout,
            max_connections=max_connections,
        )
        async with (
            serve_http(self._handle, host, port, limits=limits, screen=self._screen) as (
                bound_host,
                bound_port,
            ),
            self._webhooks.running(),
        ):
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            yield f"http://{shown}:{bound_port}/v2"

    def client(self, **options: Any) -> AsyncDyte:
        """Return an `AsyncDyte` wired to this fake in-process.

        With `flavor="realtimekit"` the client is `AsyncDyte.realtimekit(...)` on the
        fake's RealtimeKit paths (Bearer auth). A `clock=` given here while the fake runs
        on the system clock is adopted by the fake too, as long as it is unused (no
        records, no requests): the fake and the client must share one clock, or a wait
        on a `FakeClock` would time out before the fake's livestreams go live.

        Args:
            **options: more `AsyncDyte` arguments (they override the ones set here).

        Returns:
            `AsyncDyte(org_id=..., api_key=..., base_url=self.base_url,
            transport=self.transport(), clock=<this fake's clock if one was given>, **options)`.

        Raises:
            ValueError: `clock=` is not the fake's clock and cannot be adopted.
        """
        from dyte_async._client import AsyncDyte

        clock = options.get("clock")
        if clock is not None and clock is not self.clock:
            self._adopt_clock(clock)
        arguments: dict[str, Any] = {"transport": self.transport()}
        if self._clock_given:
            arguments["clock"] = self.clock
        arguments.update(options)
        if self.flavor == "realtimekit":
            arguments.setdefault("base_url", self.realtimekit_base_url)
            return AsyncDyte.realtimekit(FAKE_ACCOUNT_ID, FAKE_APP_ID, self.api_token, **arguments)
        arguments = {
            "org_id": self.org_id,
            "api_key": self.api_key,
            "base_url": self.base_url,
            **arguments,
        }
        return AsyncDyte(**arguments)

    def _adopt_clock(self, clock: Clock) -> None:
        if self._clock_given or self._received or self._state.meetings or self._state.livestreams:
            raise ValueError(
                "this FakeDyte runs on another clock: give the clock to the fake instead, "
                "FakeDyte(clock=clock) (or dyte_fake_options / @pytest.mark.dyte_fake), and "
                "fake.client() shares it"
            )
        self.clock = clock
        self._clock_given = True
        self._state.use_clock(clock)

    # -- observation --------------------------------------------------------------------

    def count(self, route: str | None = None) -> int:
        """Return how many requests arrived (for `route` only, when given).

        Counts every request since the fake was made or `reset_counters` was called,
        including those the bounded `requests` log no longer holds.

        Raises:
            ValueError: for an unknown route.
        """
        if route is None:
            return self._received
        check_route(route)
        return self.route_counts[route]

    def reset_counters(self) -> None:
        """Empty `requests`, `route_counts` and `webhook_deliveries`.

        State, faults, the rate limit and webhook registrations are kept.
        """
        self.requests.clear()
        self._log_costs.clear()
        self._log_bytes = 0
        self._received = 0
        self.route_counts.clear()
        self.webhook_deliveries.clear()
