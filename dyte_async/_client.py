"""`AsyncDyte`: options (checked in `_config`), the HTTP client's lifecycle, the resources."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Final, ParamSpec, TypeVar
from urllib.parse import quote

import attrs
import httpx

from dyte_async._clock import Clock
from dyte_async._config import (
    DEFAULT,
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    DYTE_RATE_LIMIT,
    REALTIMEKIT_BASE_URL,
    REALTIMEKIT_RATE_LIMIT,
    ClientConfig,
    Default,
    clean_credential,
)
from dyte_async._fleet import open_link
from dyte_async._pipeline import Pipeline, logger
from dyte_async._ratelimit import RateLimit, make_limiter
from dyte_async._raw import RawResponse, with_raw_response
from dyte_async._retry import RetryPolicy
from dyte_async._stats import ClientStats
from dyte_async._telemetry import make_telemetry
from dyte_async._transport import HttpBackend, build_transport
from dyte_async._transport._lean import lean_lane
from dyte_async.errors import ClientClosedError, ConfigurationError

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider
    from redis.asyncio import Redis
    from typing_extensions import Unpack

    from dyte_async._client_options import ClientOptions
    from dyte_async._fanout import FanOut
    from dyte_async._fleet._wakeups import Wakeups
    from dyte_async._telemetry._otel import Telemetry
    from dyte_async.resources.active_sessions import ActiveSessions
    from dyte_async.resources.livestreams import Livestreams
    from dyte_async.resources.meetings import Meetings
    from dyte_async.resources.participants import Participants
    from dyte_async.resources.presets import Presets
    from dyte_async.resources.webhooks import Webhooks

__all__ = ["DEFAULT_BASE_URL", "AsyncDyte"]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


class AsyncDyte:
    """The asyncio (and trio) client for Dyte's REST API v2 and Cloudflare RealtimeKit.

    One pooled `httpx.AsyncClient` serves every resource and every concurrent call. Use it
    as `async with AsyncDyte(...) as dyte:` or call `await dyte.aclose()` when done.

    A client belongs to the event loop it is first used on (its connections do): used
    from another loop (say, a module-level client and several `asyncio.run`), a call
    raises `ConfigurationError` before sending anything. Make one client per event loop.

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
        max_response_bytes: the most bytes of one answer's body read (after gzip/deflate
            is undone, incrementally), success or error, on every transport and with
            `http_client=`: past it the call fails with `ResponseTooLargeError` (never
            retried) and the connection is closed. Default 4 MiB.
        redis: a Redis URL (`redis://`, `rediss://`, `unix://`) or a `redis.asyncio.Redis`
            (the `[redis]` extra; `DYTE_REDIS_URL` when None): `rate_limit` becomes the
            limit of every client sharing the key, in any process or machine, and a 429
            pauses all of them (asyncio only). Redis unreachable: calls go on under a
            local limit (see `fleet_size_hint`) with one WARNING.
        rate_limit_key: the fleet's key in Redis (default: derived from the base URL and
            the org id, so the clients of one organization share it).
        fleet_size_hint: how many processes share the limit: while Redis is down each
            keeps `requests // fleet_size_hint` of it to itself. Default 1.
        proxy: the proxy every request of the client we build goes through, on every
            transport: an `http://` or `https://` URL, `user:password@` in it for Basic
            proxy authorization (https base URLs go through a CONNECT tunnel, so the
            proxy never sees the API's credentials). Credentials for an `http://` proxy
            that is not loopback need `allow_insecure_http=True`.
        trust_env: when `proxy` is None, honour `HTTPS_PROXY` / `HTTP_PROXY` /
            `ALL_PROXY` and `NO_PROXY` (lowercase names too), as httpx does; loopback
            hosts always go direct. With `http_client=` or `transport=` neither applies
            (their owner sets their proxy).
        tracer_provider: the OpenTelemetry `TracerProvider` of the client's spans (a span
            per call, a child span per attempt; the `[otel]` extra); None: the global one.
            Without opentelemetry-api, or without an SDK, nothing is recorded.
        meter_provider: the OpenTelemetry `MeterProvider` of the
            `http.client.request.duration` histogram; None: the global one.

    Raises:
        ConfigurationError: credentials missing or holding a control or non-ASCII
            character (surrounding whitespace is stripped), an unsafe or malformed
            base URL, or a malformed or unsafe proxy (the message names `proxy=` or the
            variable, never its credentials). Later, from a call: the client is used on
            a second event loop.
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
        rate_limit: RateLimit | Default | None = DEFAULT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_backend: HttpBackend = "auto",
        allow_insecure_http: bool = False,
        clock: Clock | None = None,
        headers: Mapping[str, str] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        redis: str | Redis | None = None,
        rate_limit_key: str | None = None,
        fleet_size_hint: int = 1,
        proxy: str | httpx.URL | None = None,
        trust_env: bool = True,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        _authorization: str | None = None,
        _default_rate_limit: RateLimit = DYTE_RATE_LIMIT,
    ) -> None:
        config = ClientConfig.build(
            org_id=org_id,
            api_key=api_key,
            authorization=_authorization,
            base_url=base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            attempt_timeout=attempt_timeout,
            max_retries=max_retries,
            retry=retry,
            rate_limit=rate_limit,
            default_rate_limit=_default_rate_limit,
            max_concurrency=max_concurrency,
            http_client=http_client,
            transport=transport,
            http_backend=http_backend,
            allow_insecure_http=allow_insecure_http,
            clock=clock,
            headers=headers,
            max_response_bytes=max_response_bytes,
            redis=redis,
            rate_limit_key=rate_limit_key,
            fleet_size_hint=fleet_size_hint,
            proxy=proxy,
            trust_env=trust_env,
        )
        self._config = config
        self.base_url: str = config.base_url
        self.rate_limit: RateLimit | None = config.rate_limit
        self.retry: RetryPolicy = config.retry
        self._http: httpx.AsyncClient | None = http_client
        # The transport under the client we build (None with `http_client=`), so tests and
        # diagnostics need not read httpx's private `AsyncClient._transport`.
        self._transport: httpx.AsyncBaseTransport | None = None
        self._closed = False
        #: the client `with_options` derived this one from (None: this one owns the pool)
        self._parent: AsyncDyte | None = None
        self._loop: object | None = None  # the event loop of the first use
        #: the fleet's Redis (`redis=`), shared by the limiter and the wake-ups
        self._link = open_link(config.fleet)
        self._stack: contextlib.AsyncExitStack | None = None
        self._wakeups: Wakeups | None = None
        if self._link is not None:
            from dyte_async._fleet._wakeups import Wakeups

            self._wakeups = Wakeups(self._link)
        self._pipeline = self._build_pipeline(
            config,
            make_telemetry(
                config.base_url,
                config.clock,
                tracer_provider=tracer_provider,
                meter_provider=meter_provider,
            ),
        )
        _configure_logging_from_env()

    def _build_pipeline(self, config: ClientConfig, telemetry: Telemetry | None) -> Pipeline:
        return Pipeline(
            get_http=self._get_http,
            base_url=config.base_url,
            # Our own client carries the headers; a client passed in gets them per request.
            headers=config.headers if config.http_client is not None else None,
            policy=config.retry,
            limiter=make_limiter(config.rate_limit, config.clock, self._link),
            max_concurrency=config.max_concurrency,
            timeout=config.timeout,
            connect_timeout=config.connect_timeout,
            attempt_timeout=config.attempt_timeout,
            clock=config.clock,
            own_http=config.http_client is None,
            max_response_bytes=config.max_response_bytes,
            telemetry=telemetry,
        )

    # -- resources: each module is imported when first used (`import dyte_async` stays
    # cheap); the resource is made once and kept.

    @functools.cached_property
    def livestreams(self) -> Livestreams:
        """Livestreams: start, stop, status, waits and listings (`resources.livestreams`)."""
        from dyte_async.resources.livestreams import Livestreams

        if self._parent is not None:
            # One poller per pool: the waits of every derived client coalesce.
            return Livestreams(self._pipeline, shared=self._parent.livestreams)
        if self._wakeups is None or self._link is None:
            return Livestreams(self._pipeline)
        from dyte_async._fleet._backlog import SharedBacklog
        from dyte_async._fleet._reads import SharedReads

        reader = SharedReads(self._pipeline, self._link, self._wakeups)
        backlog = SharedBacklog(self._link, reader.outage)
        return Livestreams(self._pipeline, wakeups=self._wakeups, reader=reader, backlog=backlog)

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
            allow_insecure_http=self._config.allow_insecure_http,
        )

    @classmethod
    def realtimekit(
        cls, account_id: str, app_id: str, api_token: str, **options: Unpack[ClientOptions]
    ) -> AsyncDyte:
        """A client for Cloudflare RealtimeKit (Dyte's successor).

        Args:
            account_id: the Cloudflare account id.
            app_id: the RealtimeKit app id.
            api_token: a Cloudflare API token with the Realtime permissions.
            **options: any option of `AsyncDyte` (`ClientOptions`, typed like the
                constructor's; `base_url` overrides the computed one).

        Raises:
            ConfigurationError: an empty or malformed id, or no token; a control or
                non-ASCII character in any of them (surrounding whitespace, as a file's
                trailing newline, is stripped). Messages name the argument, never the token.
        """
        account_id = clean_credential(account_id, "account_id")
        app_id = clean_credential(app_id, "app_id")
        for name, value in (("account_id", account_id), ("app_id", app_id)):
            if not value or "/" in value or "?" in value or "#" in value:
                raise ConfigurationError(f"{name} must be a non-empty id, got {value!r}")
        api_token = clean_credential(api_token, "api_token")
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
        if self._parent is not None:
            return self._parent._get_http()
        if self._closed:
            raise ClientClosedError("this AsyncDyte client is closed; make a new one")
        loop = _current_loop()
        if loop is not None and loop is not self._loop:
            if self._loop is not None:
                raise ConfigurationError(
                    "this AsyncDyte client is bound to the event loop it was first used on, "
                    "and this call runs on another one: make one client per event loop "
                    "(e.g. `async with AsyncDyte(...)` inside the function given to "
                    "asyncio.run), not one at module level shared by several asyncio.run"
                )
            self._loop = loop
        if self._http is None:
            self._http = self._build_http()
        return self._http

    def _build_http(self) -> httpx.AsyncClient:
        # Runs at first use, inside the event loop: the backend can be chosen for it.
        config = self._config
        n = config.max_concurrency
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n, keepalive_expiry=30.0)
        transport = config.transport
        if transport is None:
            transport = build_transport(
                config.http_backend, limits, config.max_response_bytes, proxy=config.proxy
            )
        self._transport = transport
        http = httpx.AsyncClient(
            base_url=config.base_url,
            headers=dict(config.headers),
            transport=transport,
            limits=limits,
            timeout=httpx.Timeout(DEFAULT_TIMEOUT, connect=config.connect_timeout),
            follow_redirects=False,
        )
        if config.transport is None:
            # Ours on aiohttp: the pipeline sends straight to aiohttp (`_transport._lean`).
            self._pipeline.use_lean(
                lean_lane(
                    transport,
                    base_url=config.base_url,
                    headers=http.headers,
                    max_body=config.max_response_bytes,
                    connect_timeout=config.connect_timeout,
                )
            )
        return http

    @property
    def is_closed(self) -> bool:
        """True after `aclose()` (of the client `with_options` was called on, for one it made)."""
        return self._closed if self._parent is None else self._parent.is_closed

    async def __aenter__(self) -> AsyncDyte:
        if self._parent is not None:
            return self  # the pool is its parent's: opened and closed there
        self._get_http()  # the transport (and the lean lane's session) made in the loop now
        # Warm start: the livestream resource's modules and the hot decoders, not at the
        # first call (`import dyte_async` stays lazy).
        from dyte_async._convert import warm

        _ = self.livestreams
        warm()
        if self._link is not None:
            # The fleet's connections and background work live in this block.
            stack = contextlib.AsyncExitStack()
            await stack.__aenter__()
            try:
                await self._link.enter(stack)
            except BaseException:
                await stack.aclose()
                raise
            self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._parent is not None:
            return  # the pool and the fleet's work are its parent's: left open
        try:
            await self.aclose()
        finally:
            stack, self._stack = self._stack, None
            if stack is not None:
                await stack.aclose()

    async def aclose(self) -> None:
        """Close the pooled HTTP client (not one passed in with `http_client=`). Idempotent.

        On a client `with_options` made, nothing: the pool is the original client's.
        """
        if self._closed or self._parent is not None:
            return
        self._closed = True
        http, self._http = self._http, None
        try:
            if http is not None and http is not self._config.http_client:
                await http.aclose()
        finally:
            await self._pipeline.limiter.aclose()
            if self._wakeups is not None:
                await self._wakeups.aclose()
            if self._link is not None:
                self._link.stop()
                await self._link.aclose()

    # -- per-call options and raw answers ----------------------------------------------------

    def with_options(
        self,
        *,
        timeout: float | None = None,
        attempt_timeout: float | Default | None = DEFAULT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | int | float | bool] | None = None,
    ) -> AsyncDyte:
        """A client with other defaults that shares this one's pool: connections,
        `max_concurrency`, rate limit (and fleet), retry budget, poller and `stats()`.

        Cheap (about 20 µs), so it also serves one call:
        ``await dyte.with_options(timeout=5, max_retries=0).livestreams.get_active(m)``.
        It is closed with this client; its own `aclose()` does nothing.

        Args:
            timeout: seconds for a whole call (default: this client's).
            attempt_timeout: seconds for one attempt (None: the rest of the call's;
                default: this client's).
            max_retries: retries after the first attempt (this client's policy otherwise).
            retry: a whole `RetryPolicy` instead (not with `max_retries`).
            headers: headers sent on every request, on top of this client's (a name given
                replaces this client's header of that name).
            query: query parameters added to every request (they replace the call's own
                of the same name).

        Raises:
            ConfigurationError: a timeout that is not positive, `max_retries` with `retry`,
                a header that cannot be sent.
        """
        from dyte_async._derive import derive

        return derive(
            self,
            timeout=timeout,
            attempt_timeout=attempt_timeout,
            max_retries=max_retries,
            retry=retry,
            headers=headers,
            query=query,
        )

    async def with_raw_response(
        self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> RawResponse[T]:
        """Await ``fn(*args, **kwargs)`` (a method of this client's resources) and return
        its result with the HTTP answer it was read from: status, headers, request id.

        ``raw = await dyte.with_raw_response(dyte.livestreams.get_active, meeting_id)``;
        ``raw.parsed`` is the `Livestream`, ``raw.headers`` the answer's headers. Where a
        call sends several requests (a `start` that checks what happened, a wait), the
        answer is the last one it received. Errors are raised as the call raises them
        (`APIStatusError` carries the error answer's status, headers and request id).
        """
        return await with_raw_response(fn, *args, **kwargs)

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

        return FanOut(fn, items, concurrency=concurrency or self._config.max_concurrency)

    # -- introspection -----------------------------------------------------------------

    def stats(self) -> ClientStats:
        """Counters since the client was made: requests, retries, 429s, limiter waits."""
        stats = self._pipeline.stats()
        fallbacks = getattr(self._pipeline.limiter, "fallbacks", 0)
        return attrs.evolve(stats, limiter_fallbacks=fallbacks) if fallbacks else stats

    @property
    def clock(self) -> Clock:
        """The clock this client reads time from."""
        return self._config.clock

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<AsyncDyte {self.base_url} account={self._config.account} {state}>"


def _current_loop() -> object | None:
    """The running event loop (asyncio's loop, trio's token), or None outside one."""
    try:
        import sniffio

        library = sniffio.current_async_library()
        if library == "asyncio":
            import asyncio

            return asyncio.get_running_loop()
        if library == "trio":
            import trio

            return trio.lowlevel.current_trio_token()
    except Exception:  # no event loop detected: nothing to compare
        return None
    return None


_LOG_LEVELS: Final = {"debug": logging.DEBUG, "info": logging.INFO}


def _configure_logging_from_env() -> None:
    level = _LOG_LEVELS.get(os.environ.get("DYTE_LOG", "").strip().lower())
    if level is None or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
