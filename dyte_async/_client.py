"""`AsyncDyte`: configuration, the pooled HTTP client's lifecycle, and the resources."""

from __future__ import annotations

import base64
import functools
import logging
import os
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import quote

import httpx

from dyte_async._clock import SYSTEM_CLOCK, Clock
from dyte_async._net import is_loopback, parse_http_url
from dyte_async._pipeline import ClientStats, Pipeline, logger
from dyte_async._ratelimit import RateLimit, make_limiter
from dyte_async._retry import RetryPolicy
from dyte_async._transport import HTTP_BACKENDS, HttpBackend, build_transport
from dyte_async.errors import ClientClosedError, ConfigurationError

if TYPE_CHECKING:
    from dyte_async._fanout import FanOut
    from dyte_async.resources.active_sessions import ActiveSessions
    from dyte_async.resources.livestreams import Livestreams
    from dyte_async.resources.meetings import Meetings
    from dyte_async.resources.participants import Participants
    from dyte_async.resources.presets import Presets
    from dyte_async.resources.webhooks import Webhooks

__all__ = ["DEFAULT_BASE_URL", "AsyncDyte"]

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_BASE_URL: Final = "https://api.dyte.io/v2"
REALTIMEKIT_BASE_URL: Final = (
    "https://api.cloudflare.com/client/v4/accounts/{account_id}/realtime/kit/{app_id}"
)
DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_MAX_CONCURRENCY: Final = 100
DYTE_RATE_LIMIT: Final = RateLimit(2000, 60.0)
REALTIMEKIT_RATE_LIMIT: Final = RateLimit(250, 10.0)


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


_DEFAULT: Final = _Default()


class AsyncDyte:
    """The asyncio (and trio) client for Dyte's REST API v2 and Cloudflare RealtimeKit.

    One pooled `httpx.AsyncClient` serves every resource and every concurrent call. Use it
    as `async with AsyncDyte(...) as dyte:` or call `await dyte.aclose()` when done.

    Args:
        org_id: organization id; `DYTE_ORG_ID` when None.
        api_key: API key; `DYTE_API_KEY` when None.
        base_url: API base; `DYTE_BASE_URL`, else `https://api.dyte.io/v2`.
        timeout: default seconds for a whole call (all attempts, waits and backoff).
        connect_timeout: seconds to open a connection (per attempt).
        attempt_timeout: seconds one attempt may take (None: the rest of the call's
            `timeout`). Set it below `timeout` so that a stalled read is retried, and a
            stalled `livestreams.start` is checked with `get_active`, within the call.
        max_retries: shortcut for `RetryPolicy(max_retries=...)`.
        retry: a full `RetryPolicy` (wins over `max_retries`).
        rate_limit: client-side `RateLimit`; None turns it off. Default: Dyte's 2000/60 s.
        max_concurrency: requests in flight at once; the rest queue in the client. With
            `http_client=`, keep it at or below that client's pool size, so that requests
            queue here and never inside httpcore's pool (see HAZARDS: cancellation there
            can poison the pool).
        http_client: an `httpx.AsyncClient` to use (never closed by us; no TLS/URL check).
            Its requests go through its `send` (its hooks, auth, params, cookies apply);
            those of the client we build go straight to its transport (faster).
        transport: an httpx async transport for the client we build (e.g. a fake).
        http_backend: the transport of the client we build: "aiohttp" (asyncio only, needs
            the `aiohttp` extra), "httpcore" (httpx's own, with a watchdog), or "auto":
            aiohttp on asyncio when installed, else httpcore. `transport=` and
            `http_client=` win over it.
        allow_insecure_http: allow `http://` to a host other than loopback.
        clock: a `Clock` (tests pass `dyte_async.testing.FakeClock`).
        headers: extra headers sent with every request.

    Raises:
        ConfigurationError: credentials missing, or an unsafe or malformed base URL.
    """

    def __init__(
        self,
        org_id: str | None = None,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        attempt_timeout: float | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | _Default | None = _DEFAULT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_backend: HttpBackend = "auto",
        allow_insecure_http: bool = False,
        clock: Clock | None = None,
        headers: Mapping[str, str] | None = None,
        _authorization: str | None = None,
        _default_rate_limit: RateLimit = DYTE_RATE_LIMIT,
    ) -> None:
        if _authorization is None:
            org_id = org_id if org_id is not None else os.environ.get("DYTE_ORG_ID")
            api_key = api_key if api_key is not None else os.environ.get("DYTE_API_KEY")
            missing = [
                name
                for name, value in (("DYTE_ORG_ID", org_id), ("DYTE_API_KEY", api_key))
                if not value
            ]
            if missing:
                raise ConfigurationError(
                    "missing credentials: pass org_id= and api_key=, or set "
                    + " and ".join(missing)
                )
            token = base64.b64encode(f"{org_id}:{api_key}".encode()).decode("ascii")
            _authorization = f"Basic {token}"
        self._account = _mask(org_id) if org_id else "realtimekit"
        base = base_url or os.environ.get("DYTE_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = _check_base_url(
            base, allow_insecure_http=allow_insecure_http or http_client is not None
        )
        if (
            timeout <= 0
            or connect_timeout <= 0
            or (attempt_timeout is not None and attempt_timeout <= 0)
        ):
            raise ConfigurationError(
                "timeout, connect_timeout and attempt_timeout must be positive"
            )
        if max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be at least 1")
        if retry is None:
            retry = RetryPolicy() if max_retries is None else RetryPolicy(max_retries=max_retries)
        elif max_retries is not None:
            raise ConfigurationError("pass either max_retries= or retry=, not both")
        limit = _default_rate_limit if isinstance(rate_limit, _Default) else rate_limit
        self._clock = clock or SYSTEM_CLOCK
        self._headers = {
            "Authorization": _authorization,
            "Accept": "application/json",
            "User-Agent": f"dyte-async/{_version()}",
            **(headers or {}),
        }
        self._max_concurrency = max_concurrency
        self._connect_timeout = connect_timeout
        self._transport = transport
        if http_backend not in HTTP_BACKENDS:
            raise ConfigurationError(
                f"http_backend must be 'auto', 'aiohttp' or 'httpcore', got {http_backend!r}"
            )
        self._http_backend: HttpBackend = http_backend
        self._user_http = http_client
        self._http: httpx.AsyncClient | None = http_client
        self._closed = False
        self.rate_limit = limit
        self.retry = retry
        self._pipeline = Pipeline(
            get_http=self._get_http,
            base_url=self.base_url,
            # Our own client carries the headers; a client passed in gets them per request.
            headers=self._headers if http_client is not None else None,
            policy=retry,
            limiter=make_limiter(limit, self._clock),
            max_concurrency=max_concurrency,
            timeout=timeout,
            connect_timeout=connect_timeout,
            attempt_timeout=attempt_timeout,
            clock=self._clock,
            own_http=http_client is None,
        )
        self._allow_insecure_http = allow_insecure_http or http_client is not None
        _configure_logging_from_env()

    # -- resources: each module is imported when first used (`import dyte_async` stays
    # cheap); the resource is made once and kept.

    @functools.cached_property
    def livestreams(self) -> Livestreams:
        """Livestreams: start, stop, status, waits and listings (`resources.livestreams`)."""
        from dyte_async.resources.livestreams import Livestreams

        return Livestreams(self._pipeline)

    @functools.cached_property
    def meetings(self) -> Meetings:
        """Meetings: create, get, list, update (`resources.meetings`)."""
        from dyte_async.resources.meetings import Meetings

        return Meetings(self._pipeline)

    @functools.cached_property
    def participants(self) -> Participants:
        """A meeting's participants (`resources.participants`)."""
        from dyte_async.resources.participants import Participants

        return Participants(self._pipeline)

    @functools.cached_property
    def presets(self) -> Presets:
        """Presets: the roles participants join with (`resources.presets`)."""
        from dyte_async.resources.presets import Presets

        return Presets(self._pipeline)

    @functools.cached_property
    def active_sessions(self) -> ActiveSessions:
        """A meeting's active session (`resources.active_sessions`)."""
        from dyte_async.resources.active_sessions import ActiveSessions

        return ActiveSessions(self._pipeline)

    @functools.cached_property
    def webhooks(self) -> Webhooks:
        """Webhook signature checks with the API's public key (`resources.webhooks`)."""
        from dyte_async.resources.webhooks import Webhooks
        from dyte_async.webhooks import webhook_key_url

        return Webhooks(
            self._pipeline,
            get_http=self._get_http,
            key_url=webhook_key_url(self.base_url),
            allow_insecure_http=self._allow_insecure_http,
        )

    @classmethod
    def realtimekit(cls, account_id: str, app_id: str, api_token: str, **options: Any) -> AsyncDyte:
        """A client for Cloudflare RealtimeKit (Dyte's successor).

        Args:
            account_id: the Cloudflare account id.
            app_id: the RealtimeKit app id.
            api_token: a Cloudflare API token with the Realtime permissions.
            **options: any option of `AsyncDyte` (`base_url` overrides the computed one).

        Raises:
            ConfigurationError: an empty or malformed id, or no token.
        """
        for name, value in (("account_id", account_id), ("app_id", app_id)):
            if not value or "/" in value or "?" in value or "#" in value:
                raise ConfigurationError(f"{name} must be a non-empty id, got {value!r}")
        if not api_token:
            raise ConfigurationError("api_token is required")
        options.setdefault(
            "base_url",
            REALTIMEKIT_BASE_URL.format(account_id=quote(account_id), app_id=quote(app_id)),
        )
        return cls(
            _authorization=f"Bearer {api_token}",
            _default_rate_limit=REALTIMEKIT_RATE_LIMIT,
            **options,
        )

    # -- lifecycle ---------------------------------------------------------------------

    def _get_http(self) -> httpx.AsyncClient:
        if self._closed:
            raise ClientClosedError("this AsyncDyte client is closed; make a new one")
        if self._http is None:
            self._http = self._build_http()
        return self._http

    def _build_http(self) -> httpx.AsyncClient:
        # Runs at first use, inside the event loop: the backend can be chosen for it.
        n = self._max_concurrency
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n, keepalive_expiry=30.0)
        transport = self._transport
        if transport is None:
            transport = build_transport(self._http_backend, limits)
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers,
            transport=transport,
            limits=limits,
            timeout=httpx.Timeout(DEFAULT_TIMEOUT, connect=self._connect_timeout),
            follow_redirects=False,
        )

    @property
    def is_closed(self) -> bool:
        """True after `aclose()`."""
        return self._closed

    async def __aenter__(self) -> AsyncDyte:
        self._get_http()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled HTTP client (not one passed in with `http_client=`). Idempotent."""
        if self._closed:
            return
        self._closed = True
        http, self._http = self._http, None
        if http is not None and http is not self._user_http:
            await http.aclose()

    # -- fan-out ---------------------------------------------------------------------------

    def map(
        self,
        fn: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int | None = None,
    ) -> FanOut[T, R]:
        """Run `fn(item)` per item, `concurrency` at a time; each `Outcome` comes as it ends.

        `async with dyte.map(dyte.livestreams.stop, ids, concurrency=20) as outcomes:` then
        `async for outcome in outcomes:`; each `Outcome` holds the item and its result or
        its exception, so one failure never loses the others. Leaving the block early
        cancels what is still running. The client's rate limit and `max_concurrency`
        still apply to every request underneath.

        Args:
            fn: an async function of one item.
            items: an iterable or async iterable, read lazily.
            concurrency: items in progress at once (default: `max_concurrency`).
        """
        from dyte_async._fanout import FanOut

        return FanOut(fn, items, concurrency=concurrency or self._max_concurrency)

    # -- introspection -----------------------------------------------------------------

    def stats(self) -> ClientStats:
        """Counters since the client was made: requests, retries, 429s, limiter waits."""
        return self._pipeline.stats()

    @property
    def clock(self) -> Clock:
        """The clock this client reads time from."""
        return self._clock

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<AsyncDyte {self.base_url} account={self._account} {state}>"


def _mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 4 else "…"


def _check_base_url(url: str, *, allow_insecure_http: bool) -> str:
    parsed = parse_http_url(url, "base_url")
    if parsed.userinfo:
        raise ConfigurationError("base_url must not carry credentials")
    if parsed.scheme == "http" and not allow_insecure_http and not is_loopback(parsed.host):
        raise ConfigurationError(
            f"refusing to send credentials in clear text to {parsed.host}: use https, "
            "or pass allow_insecure_http=True"
        )
    return url.rstrip("/")


@functools.cache
def _version() -> str:
    # importlib.metadata costs ~8 ms to import: paid by the first client, not the import.
    from dyte_async._version import __version__

    return __version__


_LOG_LEVELS: Final = {"debug": logging.DEBUG, "info": logging.INFO}


def _configure_logging_from_env() -> None:
    level = _LOG_LEVELS.get(os.environ.get("DYTE_LOG", "").strip().lower())
    if level is None or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
