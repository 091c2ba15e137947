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

Every request goes through the public `AsyncClient.send` and is read and closed there, so
its connection goes back to the pool whatever happens. For the client we build ourselves
the request is built from a cached `httpx.URL` and the client's headers merged once per
client (a body-less request's with its `Host`): what `build_request` would make, cheaper
(tests/unit/test_pipeline_direct.py). A client passed in with `http_client=` goes through
`build_request`, with all of its own configuration (params, cookies, auth, hooks).

The send path, one idea per function: `send` (the loop over attempts), `_attempt` (deadline
and concurrency slot), `_rate_limited` (the limiter slot), `_transmit` (httpx), the
classification of a failure (`_status_failure`, `_network_failure`), `_retry.decide`
(the pure retry decision) and `_after_failure` (recover, give up or sleep).

Logging (logger ``dyte_async``): one DEBUG line per attempt (method, path, status or
failure, attempt number, elapsed time) and one INFO line per retry (reason and wait).
Only the method, the path (never the query, headers or bodies) and status codes or
exception class names are logged, so no credential, token or stream key can appear.
"""

from __future__ import annotations

import functools
import itertools
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
from dyte_async._retry import (
    Decision,
    Failure,
    GiveUp,
    RecoverFirst,
    RetryBudget,
    RetryIn,
    RetryPolicy,
    decide,
    parse_retry_after,
)
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
# What the INFO line says when a retry does not fit (`GiveUp.why`).
_GIVE_UP_REASONS = {
    "cap": "the server's Retry-After exceeds the cap",
    "deadline": "the wait would outlast the call's deadline",
}
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


class _OutOfTime:
    """The call's deadline passed before or during an attempt."""

    __slots__ = ("in_flight", "where")

    def __init__(self, where: str, *, in_flight: bool) -> None:
        self.where = where
        self.in_flight = in_flight


class _Call:
    """What every attempt of one call shares."""

    __slots__ = ("deadline", "idempotent", "method", "path", "started")

    def __init__(
        self, method: str, path: str, *, started: float, deadline: float, idempotent: bool
    ) -> None:
        self.method = method
        self.path = path
        self.started = started
        self.deadline = deadline
        self.idempotent = idempotent


class _Trace:
    """When an attempt was sent, and how long it waited for the rate limiter."""

    __slots__ = ("sent_at", "waited")

    def __init__(self) -> None:
        self.sent_at: float | None = None
        self.waited = 0.0


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
        #: requests are built without `build_request` (module docstring).
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
        started = self.clock.now()
        if deadline is None:
            deadline = started + (self.timeout if timeout is None else timeout)
        request = self._build(method, path, params, json)
        call = _Call(method, path, started=started, deadline=deadline, idempotent=idempotent)
        self.budget.record_attempt()
        last: Failure | None = None
        for attempt in itertools.count(1):
            outcome = await self._attempt(request, call, attempt)
            if isinstance(outcome, _OutOfTime):
                self._out_of_time(call, outcome, attempt, last)
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:
                    self.budget.record_success()
                    return decode_envelope(outcome, method=method, path=path)
                outcome = self._status_failure(outcome, call, attempt)
            last = outcome
            found = await self._after_failure(call, outcome, attempt, recover)
            if found is not None:
                return found
        raise AssertionError("unreachable")  # pragma: no cover

    def _out_of_time(
        self, call: _Call, outcome: _OutOfTime, attempt: int, last: Failure | None
    ) -> NoReturn:
        """The deadline check: raise the timeout, or the last failure when a retry did not
        fit in (the last answer is the real news)."""
        if last is not None and not outcome.in_flight:
            _raise(last)
        raise APITimeoutError(
            f"{call.method} {call.path}: the call's deadline passed {outcome.where} "
            f"(attempt {attempt}, {self.clock.now() - call.started:.2f}s)",
            method=call.method,
            url=call.path,
        )

    async def _after_failure(
        self, call: _Call, failure: Failure, attempt: int, recover: Recover | None
    ) -> Envelope | None:
        """Act on `decide`: return the recovered answer, sleep before a retry (None), or
        raise the failure's error."""
        decision = self._decide(call, failure, attempt, can_recover=recover is not None)
        if isinstance(decision, RecoverFirst):
            assert recover is not None
            found = await self._recover(call, failure, recover)
            if found is not None:
                return found
            failure = failure.after_recovery()
            decision = self._decide(call, failure, attempt, can_recover=False)
        if isinstance(decision, GiveUp):
            self._give_up(call, failure, decision)
        assert isinstance(decision, RetryIn)
        self.budget.try_acquire()
        self._counters.retries += 1
        logger.info(
            "%s %s: retry %d/%d in %.2fs after %s (%.2fs elapsed)",
            call.method,
            call.path,
            attempt,
            self.policy.max_retries,
            decision.delay,
            failure.reason,
            self.clock.now() - call.started,
        )
        if decision.delay > 0:
            await self.clock.sleep(decision.delay)
        return None

    def _decide(
        self, call: _Call, failure: Failure, attempt: int, *, can_recover: bool
    ) -> Decision:
        return decide(
            failure,
            attempt=attempt,
            policy=self.policy,
            remaining=call.deadline - self.clock.now(),
            budget_tokens=self.budget.tokens,
            can_recover=can_recover,
        )

    async def _recover(self, call: _Call, failure: Failure, recover: Recover) -> Envelope | None:
        """Ask `recover` whether the ambiguous write happened; raise when it cannot tell."""
        try:
            found = await recover(call.deadline)
        except DyteError as exc:
            logger.info(
                "%s %s: not retried after %s: the recovery check failed (%s)",
                call.method,
                call.path,
                failure.reason,
                _describe(exc),
            )
            _raise(failure)
        if found is not None:
            self._counters.recovered += 1
            logger.info(
                "%s %s: recovered after %s: the write had taken effect",
                call.method,
                call.path,
                failure.reason,
            )
        return found

    def _give_up(self, call: _Call, failure: Failure, decision: GiveUp) -> NoReturn:
        """Log why the failure is not retried (and count a budget refusal), then raise it."""
        if decision.why == "budget":
            self._counters.retries_refused += 1
            logger.info(
                "%s %s: retry refused by the retry budget after %s",
                call.method,
                call.path,
                failure.reason,
            )
        elif decision.why != "final":
            logger.info(
                "%s %s: not retried after %s: %s",
                call.method,
                call.path,
                failure.reason,
                _GIVE_UP_REASONS[decision.why],
            )
        _raise(failure)

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
        self, request: httpx.Request, call: _Call, attempt: int
    ) -> httpx.Response | Failure | _OutOfTime:
        """One attempt within what is left of the deadline: a concurrency slot, then
        `_rate_limited`. Every way of running out of time becomes an `_OutOfTime`."""
        remaining = call.deadline - self.clock.now()
        if remaining <= 0:
            return _OutOfTime("before the attempt", in_flight=False)
        trace = _Trace()
        with anyio.move_on_after(remaining):
            # A call made in a cancelled scope sends nothing (the fast path below would not
            # notice: it does not go through the event loop when a slot is free).
            await anyio.lowlevel.checkpoint_if_cancelled()
            slots = self._slots
            try:
                slots.acquire_nowait()
            except anyio.WouldBlock:
                await slots.acquire()
            try:
                return await self._rate_limited(request, call, attempt, trace)
            finally:
                slots.release()
        if trace.sent_at is not None:
            self._log_attempt(call, "deadline", attempt, trace)
            return _OutOfTime("while the request was in flight", in_flight=True)
        return _OutOfTime("waiting for a connection slot", in_flight=False)

    async def _rate_limited(
        self, request: httpx.Request, call: _Call, attempt: int, trace: _Trace
    ) -> httpx.Response | Failure | _OutOfTime:
        """A rate-limit slot, held until the attempt ends (answer, failure or
        cancellation), so the limiter counts the window from when the server may last
        have seen the request (`SlidingWindowLimiter.release`); then `_transmit`."""
        limiter = self.limiter
        try:
            # A start at the deadline itself would leave no time for the request.
            slot = await limiter.acquire_slot(deadline=math.nextafter(call.deadline, -math.inf))
        except LimiterTimeout:
            return _OutOfTime("waiting for the rate limiter", in_flight=False)
        try:
            trace.waited = slot.waited
            remaining = call.deadline - self.clock.now()
            if remaining <= 0:
                return _OutOfTime("waiting for the rate limiter", in_flight=False)
            return await self._transmit(request, call, attempt, remaining, trace)
        finally:
            limiter.release(slot, at=self.clock.now())

    async def _transmit(
        self, request: httpx.Request, call: _Call, attempt: int, remaining: float, trace: _Trace
    ) -> httpx.Response | Failure:
        """Send the request with httpx timeouts of what is left, read its answer, and
        turn a transport failure into a `Failure`."""
        http = self._get_http()
        request.extensions["timeout"] = self._timeouts(remaining)
        self._counters.requests += 1
        trace.sent_at = self.clock.now()
        try:
            response = await http.send(request)
        except httpx.HTTPError as exc:
            self._log_attempt(call, type(exc).__name__, attempt, trace)
            return _network_failure(call.method, call.path, exc, call.idempotent)
        except RuntimeError as exc:
            if http.is_closed:  # closed before or while the request was in flight
                raise ClientClosedError("this AsyncDyte client was closed during the call") from exc
            raise
        self._log_attempt(call, str(response.status_code), attempt, trace)
        return response

    def _timeouts(self, remaining: float) -> dict[str, float]:
        """httpx's per-request timeouts for an attempt with `remaining` seconds left."""
        if self.attempt_timeout is not None:
            remaining = min(remaining, self.attempt_timeout)
        connect = self._connect_timeout
        return {
            "connect": connect if connect < remaining else remaining,
            "read": remaining,
            "write": remaining,
            "pool": remaining,
        }

    def _log_attempt(self, call: _Call, result: str, attempt: int, trace: _Trace) -> None:
        """The DEBUG line of one attempt that was sent (method, path, result, timing)."""
        if trace.sent_at is not None and logger.isEnabledFor(logging.DEBUG):
            waited = trace.waited
            logger.debug(
                "%s %s -> %s (attempt %d, %.3fs%s)",
                call.method,
                call.path,
                result,
                attempt,
                self.clock.now() - trace.sent_at,
                f", {waited:.3f}s waiting for the rate limit" if waited > 0 else "",
            )

    def _status_failure(self, response: httpx.Response, call: _Call, attempt: int) -> Failure:
        """Classify an error answer; a 429 is counted and pauses the whole client."""
        failure = _status_failure(response, call, self.policy)
        if response.status_code == 429:
            self._counters.rate_limited += 1
            if failure.retry_after is None:
                # No Retry-After: the whole client backs off as this caller does.
                failure.retry_after = self.policy.backoff(attempt)
            self.limiter.pause_for(failure.retry_after)
        return failure


def _status_failure(response: httpx.Response, call: _Call, policy: RetryPolicy) -> Failure:
    """What an error answer means for a retry."""
    status = response.status_code
    error = error_from_response(response, method=call.method, path=call.path)
    retry_after: float | None = None
    if isinstance(error, RateLimitError):
        retry_after = error.retry_after
    elif status in policy.retry_statuses:
        retry_after = parse_retry_after(response.headers)
    transient = status in policy.retry_statuses
    return Failure(
        error=error,
        retryable=transient and (call.idempotent or status == 429),
        transient=transient,
        ambiguous=not call.idempotent and status in _AMBIGUOUS_STATUSES,
        retry_after=retry_after,
        reason=f"status {status}",
    )


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


def _network_failure(method: str, path: str, exc: httpx.HTTPError, idempotent: bool) -> Failure:
    """What a transport failure means for a retry."""
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
    return Failure(
        error=error,
        cause=exc,
        retryable=transient and (idempotent or unsent),
        transient=transient,
        ambiguous=transient and not idempotent and not unsent,
        retry_after=None,
        reason=name,
    )


def _raise(failure: Failure) -> NoReturn:
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
