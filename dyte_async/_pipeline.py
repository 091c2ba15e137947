"""The one request path: concurrency bound, rate limit, attempt, retry, deadline, decode.

Every request the client sends (resources, paginators, the poller) goes through
`Pipeline.send`, so the guarantees hold for all of them:

- one deadline per call (`timeout=`) across every attempt, backoff sleep, limiter wait and
  slot wait; past it the caller gets `APITimeoutError`, or the last server error when a
  retry could not be fitted in;
- at most `max_concurrency` requests in flight; the others queue here, never in httpx's
  pool (where cancellation can poison httpcore's pool: HAZARDS.md 1);
- the shared sliding-window rate limiter, counting every attempt (retries and polls too),
  each from its start until its end (answer, failure or cancellation), so that a server
  keeping the same limit over arrivals never answers 429; paused for the whole client by
  a 429;
- retries by `RetryPolicy`, within the client's shared `RetryBudget`;
- non-idempotent requests retried only when they cannot have reached the server (the
  connection was never made, or a 429), or after a `recover` hook (e.g. "is a livestream
  already active?") answered that nothing happened.

The client we build ourselves is driven directly: each request is built from a cached
`httpx.URL` and the client's headers merged once per client (a body-less request's with
its `Host`), and handed to the client's transport (`AsyncClient._transport_for_url`, so
proxies from the environment still apply) instead of `AsyncClient.send`; its answer is
read and closed here, so its connection goes back to the pool whatever happens. What goes
on the wire is what `build_request` + `send` would send (tests/unit/test_pipeline_direct.py).
Skipped is what such a client never uses: auth flows (our credentials are a header),
redirects (never followed), event hooks (it has none), cookie persistence (an API
authenticated by header needs none, and the aiohttp transport keeps none either), httpx's
own INFO log line per request (it would show the query string) and `Response.elapsed`.
A client passed in with `http_client=` goes through `build_request` and `send` as
before, with all of its own configuration. Measured: ~250 us of our CPU per call down to
~65 us over a transport that answers at once (benchmarks/).

Logging (logger ``dyte_async``): one DEBUG line per attempt (method, path, status or
failure, attempt number, elapsed time) and one INFO line per retry (reason and wait).
Only the method, the path (never the query, headers or bodies) and status codes or
exception class names are logged, so no credential, token or stream key can appear.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

import anyio
import anyio.lowlevel
import attrs
import httpx

from dyte_async._clock import Clock
from dyte_async._ratelimit import Limiter, LimiterTimeout
from dyte_async._response import Envelope, decode_envelope, error_from_response
from dyte_async._retry import RetryBudget, RetryPolicy, parse_retry_after
from dyte_async.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    DyteError,
    InvalidArgumentError,
    RateLimitError,
)

__all__ = ["ClientStats", "Pipeline", "Recover", "logger"]

logger = logging.getLogger("dyte_async")

#: Called after an ambiguous failure of a non-idempotent request, with the call's deadline:
#: returns the answer that makes a retry unnecessary, or None when the write did not happen
#: (then the request is retried). Raising a `DyteError` means "cannot tell": the call then
#: fails with the original error rather than risk doing the write twice.
Recover = Callable[[float], Awaitable["Envelope | None"]]

# Failures worth another attempt (for a non-idempotent request only when never sent).
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Server errors after which a write may have happened (a `recover` hook is asked).
_AMBIGUOUS_STATUSES = frozenset({500, 502, 504})
# The httpx-aiohttp package's transport (a user may pass it) maps every
# aiohttp.ClientConnectionError, including ServerDisconnectedError (the connection dropped
# mid-request), to httpx.ConnectTimeout. So a connect error caused by an aiohttp exception
# counts as "never sent" only for these aiohttp classes (matched by name along the MRO, so
# aiohttp need not be imported); our own `_transport.AiohttpTransport` maps the same way.
_AIOHTTP_UNSENT = frozenset(
    {"ClientConnectorError", "ConnectionTimeoutError", "ServerFingerprintMismatch"}
)

#: `httpx.URL` of a full URL string: parsing one costs ~20 us, and a client requests the
#: same few paths again and again (URLs are immutable, so sharing them is safe).
_url = functools.lru_cache(maxsize=512)(httpx.URL)
_EMPTY_BODY = httpx.ByteStream(b"")
# Methods whose empty body httpx announces with `Content-Length: 0`.
_EMPTY_BODY_LENGTH_METHODS = frozenset({"POST", "PUT", "PATCH"})


@attrs.frozen(kw_only=True)
class ClientStats:
    """Counters of one client since it was made (`AsyncDyte.stats()`).

    Attributes:
        requests: attempts sent (first attempts and retries).
        retries: retries sent.
        retries_refused: retries the budget refused (the call failed fast instead).
        rate_limited: 429 answers received.
        limiter_wait_seconds: total time calls waited for the client-side rate limiter.
        recovered: ambiguous writes answered by a recovery read instead of a second write.
    """

    requests: int = 0
    retries: int = 0
    retries_refused: int = 0
    rate_limited: int = 0
    limiter_wait_seconds: float = 0.0
    recovered: int = 0


class _Counters:
    __slots__ = ("rate_limited", "recovered", "requests", "retries", "retries_refused")

    def __init__(self) -> None:
        self.requests = 0
        self.retries = 0
        self.retries_refused = 0
        self.rate_limited = 0
        self.recovered = 0


class _Failure:
    """A failed attempt and what it means for the next one (a plain class: no attrs
    class is built for it at import)."""

    __slots__ = ("ambiguous", "cause", "error", "reason", "retry_after", "retryable", "transient")

    def __init__(
        self,
        *,
        error: DyteError,
        cause: BaseException | None,
        retryable: bool,
        transient: bool,
        ambiguous: bool,
        retry_after: float | None,
        reason: str,
    ) -> None:
        self.error = error
        self.cause = cause
        #: worth retrying as it is (the method allows it, or nothing can have been sent).
        self.retryable = retryable
        #: worth retrying once we know the write did not happen (a transient failure).
        self.transient = transient
        #: a non-idempotent request may or may not have taken effect.
        self.ambiguous = ambiguous
        #: the wait the server asked for, in seconds (or the 429 pause we chose).
        self.retry_after = retry_after
        self.reason = reason

    def __repr__(self) -> str:
        return f"_Failure({self.reason!r}, retryable={self.retryable})"


class _OutOfTime:
    """The call's deadline passed before or during an attempt."""

    __slots__ = ("in_flight", "where")

    def __init__(self, where: str, *, in_flight: bool) -> None:
        self.where = where
        self.in_flight = in_flight


class Pipeline:
    """Sends requests for one client. Shared by every concurrent call of that client."""

    def __init__(
        self,
        *,
        get_http: Callable[[], httpx.AsyncClient],
        base_url: str,
        headers: Mapping[str, str] | None,
        policy: RetryPolicy,
        limiter: Limiter,
        max_concurrency: int,
        timeout: float,
        connect_timeout: float,
        clock: Clock,
        attempt_timeout: float | None = None,
        own_http: bool = False,
    ) -> None:
        self._get_http = get_http
        self._base_url = base_url
        self._headers = headers
        #: True when `get_http` returns a client we built (and configured) ourselves: its
        #: requests bypass `AsyncClient.send` (module docstring).
        self._own_http = own_http
        # The client whose headers `_bodyless` holds, by (host, needs Content-Length: 0).
        self._headers_of: httpx.AsyncClient | None = None
        self._bodyless: dict[tuple[bytes, bool], httpx.Headers] = {}
        self.policy = policy
        self.budget = RetryBudget(policy, clock)
        self.limiter = limiter
        self.max_concurrency = max_concurrency
        self._slots = anyio.Semaphore(max_concurrency)
        self.timeout = timeout
        self._connect_timeout = connect_timeout
        #: httpx's timeout for one attempt (connect, read, write and pool, each), in seconds;
        #: None lets an attempt use all that is left of the call's deadline. A shorter bound
        #: leaves time to retry a stalled read (or, for `start`, to ask whether the write
        #: happened). The call's deadline bounds every attempt whatever this says.
        self.attempt_timeout = attempt_timeout
        self.clock = clock
        self._counters = _Counters()

    def stats(self) -> ClientStats:
        c = self._counters
        return ClientStats(
            requests=c.requests,
            retries=c.retries,
            retries_refused=c.retries_refused,
            rate_limited=c.rate_limited,
            limiter_wait_seconds=self.limiter.waited_total,
            recovered=c.recovered,
        )

    def deadline(self, timeout: float | None) -> float:
        """The clock time by which a call with this `timeout` must end."""
        return self.clock.now() + (self.timeout if timeout is None else timeout)

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        timeout: float | None = None,
        deadline: float | None = None,
        idempotent: bool = True,
        recover: Recover | None = None,
    ) -> Envelope:
        """Send one call (with its retries) and decode its envelope.

        Args:
            method: HTTP method.
            path: path below the base URL, already quoted.
            params: query parameters (None values are dropped).
            json: JSON body, or None for no body.
            timeout: seconds for the whole call; the client's default when None.
            deadline: an absolute clock deadline (overrides `timeout`).
            idempotent: False for writes that must not happen twice: they are retried only
                when nothing can have reached the server (connect error, 429).
            recover: for non-idempotent calls, asked after an ambiguous failure (timeout,
                dropped connection, 500/502/504); see `Recover`.

        Raises:
            APIStatusError: the server's error (after retries).
            APIConnectionError: the network failed (after retries); `__cause__` is the
                httpx exception.
            APITimeoutError: the deadline passed.
            ClientClosedError: the client is closed.
            InvalidArgumentError: `json` cannot be encoded (nothing sent).
            ResponseDecodeError: the answer is not a shape we know.
        """
        clock = self.clock
        started = clock.now()
        if deadline is None:
            deadline = started + (self.timeout if timeout is None else timeout)
        request = self._build(method, path, params, json)
        policy = self.policy
        counters = self._counters
        self.budget.record_attempt()
        attempt = 0
        last: _Failure | None = None
        while True:
            attempt += 1
            outcome = await self._attempt(request, method, path, deadline, attempt, idempotent)
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:
                    self.budget.record_success()
                    return decode_envelope(outcome, method=method, path=path)
                failure = self._status_failure(outcome, method, path, idempotent, attempt)
            elif isinstance(outcome, _OutOfTime):
                if last is not None and not outcome.in_flight:
                    # The retry could not start in time: the last answer is the real news.
                    _raise(last)
                raise APITimeoutError(
                    f"{method} {path}: the call's deadline passed {outcome.where} "
                    f"(attempt {attempt}, {clock.now() - started:.2f}s)",
                    method=method,
                    url=path,
                )
            else:
                failure = outcome
            last = failure

            retryable = failure.retryable
            if failure.ambiguous and recover is not None:
                try:
                    found = await recover(deadline)
                except DyteError as exc:
                    logger.info(
                        "%s %s: not retried after %s: the recovery check failed (%s)",
                        method,
                        path,
                        failure.reason,
                        _describe(exc),
                    )
                    _raise(failure)
                if found is not None:
                    counters.recovered += 1
                    logger.info(
                        "%s %s: recovered after %s: the write had taken effect",
                        method,
                        path,
                        failure.reason,
                    )
                    return found
                # The recovery read proved the write did not happen: retry if it is worth it.
                retryable = failure.transient
            if not retryable or attempt > policy.max_retries:
                _raise(failure)
            remaining = deadline - clock.now()
            delay = policy.delay_for(attempt, retry_after=failure.retry_after, remaining=remaining)
            if delay is None or delay >= remaining:
                logger.info(
                    "%s %s: not retried after %s: %s",
                    method,
                    path,
                    failure.reason,
                    "the server's Retry-After exceeds the cap"
                    if failure.retry_after is not None
                    and failure.retry_after > policy.max_retry_after
                    else "the wait would outlast the call's deadline",
                )
                _raise(failure)
            if not self.budget.try_acquire():
                counters.retries_refused += 1
                logger.info(
                    "%s %s: retry refused by the retry budget after %s",
                    method,
                    path,
                    failure.reason,
                )
                _raise(failure)
            counters.retries += 1
            logger.info(
                "%s %s: retry %d/%d in %.2fs after %s (%.2fs elapsed)",
                method,
                path,
                attempt,
                policy.max_retries,
                delay,
                failure.reason,
                clock.now() - started,
            )
            if delay > 0:
                await clock.sleep(delay)

    def _build(
        self, method: str, path: str, params: Mapping[str, Any] | None, json: Any
    ) -> httpx.Request:
        """The request, built once per call (checks that the client is open)."""
        http = self._get_http()
        try:
            url = _url(self._base_url + path)
            if not self._own_http:
                return http.build_request(
                    method, url, params=_query(params), headers=self._headers, json=json
                )
            if self._headers_of is not http:
                self._headers_of = http
                self._bodyless.clear()
            query = _query(params)
            if json is None and query is None:
                return self._build_bodyless(method, url)
            # Our own client has no params, cookies or auth of its own: its headers are all
            # `build_request` would merge in.
            return httpx.Request(method, url, params=query, headers=http.headers, json=json)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"{method} {path}: the request body cannot be sent as JSON ({exc})"
            ) from exc

    def _build_bodyless(self, method: str, url: httpx.URL) -> httpx.Request:
        """`httpx.Request(method, url, headers=...)` with no body, at a third of the cost.

        The headers `Request` would compute (`Host`, then `Content-Length: 0` for a POST,
        PUT or PATCH, then the client's) are computed once per client and method kind, and
        given with an empty stream, which `Request` takes as is.
        """
        netloc = url.netloc
        key = (netloc, method in _EMPTY_BODY_LENGTH_METHODS)
        headers = self._bodyless.get(key)
        if headers is None:
            auto = [(b"Host", netloc)] if url.host else []
            if key[1]:
                auto.append((b"Content-Length", b"0"))
            http = self._headers_of
            assert http is not None
            headers = self._bodyless[key] = httpx.Headers(auto + http.headers.raw)
        request = httpx.Request(method, url, headers=headers, stream=_EMPTY_BODY)
        request.read()  # as `Request` does for a body it encoded itself
        return request

    async def _attempt(
        self,
        request: httpx.Request,
        method: str,
        path: str,
        deadline: float,
        attempt: int,
        idempotent: bool,
    ) -> httpx.Response | _Failure | _OutOfTime:
        """One attempt: a concurrency slot, a rate-limit slot, then the request.

        The rate-limit slot is held until the attempt ends (answer, failure or
        cancellation), so the limiter counts the window from when the server may last
        have seen the request (`SlidingWindowLimiter.release`).
        """
        clock = self.clock
        remaining = deadline - clock.now()
        if remaining <= 0:
            return _OutOfTime("before the attempt", in_flight=False)
        sent_at: float | None = None
        waited = 0.0
        limiter = self.limiter
        slots = self._slots
        with anyio.move_on_after(remaining) as scope:
            # A call made in a cancelled scope sends nothing (the fast path below would not
            # notice: it does not go through the event loop when a slot is free).
            await anyio.lowlevel.checkpoint_if_cancelled()
            try:
                slots.acquire_nowait()
            except anyio.WouldBlock:
                await slots.acquire()
            try:
                try:
                    # A start at the deadline itself would leave no time for the request.
                    slot = await limiter.acquire_slot(deadline=math.nextafter(deadline, -math.inf))
                except LimiterTimeout:
                    return _OutOfTime("waiting for the rate limiter", in_flight=False)
                try:
                    waited = slot.waited
                    remaining = deadline - clock.now()
                    if remaining <= 0:
                        return _OutOfTime("waiting for the rate limiter", in_flight=False)
                    http = self._get_http()
                    if self.attempt_timeout is not None:
                        remaining = min(remaining, self.attempt_timeout)
                    connect = self._connect_timeout
                    request.extensions["timeout"] = {
                        "connect": connect if connect < remaining else remaining,
                        "read": remaining,
                        "write": remaining,
                        "pool": remaining,
                    }
                    self._counters.requests += 1
                    sent_at = clock.now()
                    try:
                        if self._own_http:
                            response = await _send_direct(http, request)
                        else:
                            response = await http.send(request)
                            try:
                                await response.aread()
                            finally:
                                await response.aclose()
                    except httpx.HTTPError as exc:
                        self._log_attempt(
                            method, path, type(exc).__name__, attempt, sent_at, waited
                        )
                        return _network_failure(method, path, exc, idempotent)
                    except RuntimeError as exc:
                        if http.is_closed:  # closed under us while the request was in flight
                            raise ClientClosedError(
                                "this AsyncDyte client was closed during the call"
                            ) from exc
                        raise
                finally:
                    limiter.release(slot)
            finally:
                slots.release()
        if scope.cancelled_caught:
            if sent_at is not None:
                self._log_attempt(method, path, "deadline", attempt, sent_at, waited)
                return _OutOfTime("while the request was in flight", in_flight=True)
            return _OutOfTime("waiting for a connection slot", in_flight=False)
        self._log_attempt(method, path, str(response.status_code), attempt, sent_at, waited)
        return response

    def _log_attempt(
        self,
        method: str,
        path: str,
        result: str,
        attempt: int,
        sent_at: float | None,
        waited: float,
    ) -> None:
        if sent_at is not None and logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s (attempt %d, %.3fs%s)",
                method,
                path,
                result,
                attempt,
                self.clock.now() - sent_at,
                f", {waited:.3f}s waiting for the rate limit" if waited > 0 else "",
            )

    def _status_failure(
        self, response: httpx.Response, method: str, path: str, idempotent: bool, attempt: int
    ) -> _Failure:
        status = response.status_code
        policy = self.policy
        error = error_from_response(response, method=method, path=path)
        retry_after: float | None = None
        if isinstance(error, RateLimitError):
            retry_after = error.retry_after
        elif status in policy.retry_statuses:
            retry_after = parse_retry_after(response.headers)
        if status == 429:
            self._counters.rate_limited += 1
            if retry_after is None:
                # No Retry-After: the whole client backs off as this caller does.
                retry_after = policy.backoff(attempt)
            self.limiter.pause_for(retry_after)
        return _Failure(
            error=error,
            cause=None,
            retryable=status in policy.retry_statuses and (idempotent or status == 429),
            transient=status in policy.retry_statuses,
            ambiguous=not idempotent and status in _AMBIGUOUS_STATUSES,
            retry_after=retry_after,
            reason=f"status {status}",
        )


async def _send_direct(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send `request` on the transport of our own client `http`, and read the answer.

    What `AsyncClient.send` does for a client we configured ourselves, less what such a
    client never uses (module docstring). The body is read and the response closed
    whatever happens, so its connection goes back to the pool.
    """
    if http.is_closed:
        raise ClientClosedError("this AsyncDyte client was closed during the call")
    transport = http._transport_for_url(request.url)
    try:
        response = await transport.handle_async_request(request)
    except httpx.RequestError as exc:
        exc.request = request  # as `send` does: the error names its request
        raise
    response.request = request
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


def _never_sent(exc: httpx.HTTPError) -> bool:
    """Whether `exc` proves the request never reached the server."""
    if isinstance(exc, httpx.PoolTimeout):
        return True
    if not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return False
    origin = exc.__cause__
    if origin is None or not type(origin).__module__.startswith("aiohttp"):
        return True
    return any(cls.__name__ in _AIOHTTP_UNSENT for cls in type(origin).__mro__)


def _network_failure(method: str, path: str, exc: httpx.HTTPError, idempotent: bool) -> _Failure:
    transient = isinstance(exc, _TRANSIENT)
    unsent = transient and _never_sent(exc)
    name = type(exc).__name__
    detail = str(exc)
    summary = f"{name}: {detail}" if detail else name
    error: APIConnectionError
    if isinstance(exc, httpx.TimeoutException):
        error = APITimeoutError(f"{method} {path}: timed out ({summary})", method=method, url=path)
    else:
        error = APIConnectionError(
            f"{method} {path}: connection failed ({summary})", method=method, url=path
        )
    return _Failure(
        error=error,
        cause=exc,
        retryable=transient and (idempotent or unsent),
        transient=transient,
        ambiguous=transient and not idempotent and not unsent,
        retry_after=None,
        reason=name,
    )


def _raise(failure: _Failure) -> NoReturn:
    """Raise the failure's error, chained to the httpx exception behind it."""
    raise failure.error from failure.cause


def _describe(error: BaseException) -> str:
    if isinstance(error, APIStatusError):
        return f"status {error.status_code}"
    return type(error).__name__


def _query(
    params: Mapping[str, Any] | None,
) -> list[tuple[str, str | int | float | bool | None]] | None:
    if not params:
        return None
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif hasattr(value, "isoformat"):
            out.append((key, value.isoformat()))
        else:
            out.append((key, str(value)))
    return out or None
