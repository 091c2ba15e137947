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
  already active?") answered that nothing happened;
- writes never misreported: a call's `Settle` rule says which error statuses mean "done"
  once an earlier attempt may have taken effect (a 404 for a `stop` retried after a lost
  answer, a 409 for a `start`), so a write that happened is never reported as failed.

On asyncio, the client we build sends through its lean lane (`_transport._lean`): straight
to aiohttp, no httpx `Request`/`Response` per call, one timeout per attempt; the same
error mapping and answer decoder as the httpx lane. Otherwise (trio, `transport=`,
`http_client=`) every request goes through the public `AsyncClient.send` (streamed) and
is read and closed there, so its connection goes back to the pool whatever happens; it is
built once per call by `_request.RequestBuilder`. Proxies are the transports' business:
both lanes of the client we build go through the proxy `proxy=` or the environment
(`HTTPS_PROXY`, ..., `NO_PROXY`; unless `trust_env=False`) gives for the URL
(`_transport._proxy`, read once by `ClientConfig`); a client or transport passed in
(`http_client=`, `transport=`) uses its own settings.

An attempt that finds a concurrency slot and a rate-limit slot free at once (the
limiter's `try_acquire_now`) runs on the lean lane without a cancel scope: its exchange's
one timeout is at most what is left of the deadline, and its expiry reads as the scope's
would (`_OutOfTime`, in flight). Anything that waits runs inside the attempt's scope.

Every answer's body (success or error) is read under `max_response_bytes`, its
gzip/deflate inflated incrementally (`_body`): past the cap the call fails with
`ResponseTooLargeError`, never retried, and the connection is closed unread rather than
pooled.

The send path, one idea per function: `send` (the loop over attempts), `_attempt` (deadline
and concurrency slot; `_attempt_now` when nothing waits), `_rate_limited` (the limiter
slot), `_transmit` (the lean lane or httpx), what a failure means (`_classify`), the pure
retry decision (`_retry.decide`) and `_after_failure` (recover, give up or sleep). A
recorded call runs its loop inside `CallTrace.record`, each attempt inside `_recorded`.

Telemetry (`_telemetry`, with opentelemetry-api installed and an SDK configured): a span per
call, a child span and a `http.client.request.duration` measurement per attempt, events for
limiter waits and retries; none of it (one `is None` test per call) otherwise.

Logging (logger ``dyte_async``): one DEBUG line per attempt (method, path, status or
failure, attempt number, elapsed time) and one INFO line per retry (reason and wait).
Only the method, the path (never the query, headers or bodies) and status codes or
exception class names are logged, so no credential, token or stream key can appear.
"""

from __future__ import annotations

import copy
import functools
import itertools
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import anyio
import anyio.lowlevel
import httpx

from dyte_async._body import DEFAULT_MAX_RESPONSE_BYTES, send_and_read
from dyte_async._classify import network_failure, status_failure
from dyte_async._clock import Clock
from dyte_async._pipeline_failures import Call, FailureHandling, raise_failure
from dyte_async._ratelimit import Limiter, LimiterTimeout, NoLimiter, Slot
from dyte_async._raw import CAPTURE
from dyte_async._request import RequestBuilder
from dyte_async._response import Envelope, decode_answer
from dyte_async._retry import Failure, RetryBudget, RetryPolicy
from dyte_async._stats import ClientStats, Counters
from dyte_async._transport._lean import LeanAnswer, LeanLane, LeanRequest, expired
from dyte_async._writes import Recover, Settle
from dyte_async.errors import APITimeoutError, ClientClosedError, ResponseTooLargeError

if TYPE_CHECKING:
    from dyte_async._telemetry._otel import AttemptTrace, CallTrace, Telemetry

__all__ = ["Pipeline", "logger"]

logger = logging.getLogger("dyte_async")

#: The slot of an attempt under `NoLimiter` (which ignores what it is given back).
_UNLIMITED = Slot(0.0)


class _OutOfTime:
    """The call's deadline passed before or during an attempt."""

    __slots__ = ("in_flight", "where")

    def __init__(self, where: str, *, in_flight: bool) -> None:
        self.where = where
        self.in_flight = in_flight


class _Trace:
    """When an attempt was sent, and how long it waited for the rate limiter."""

    __slots__ = ("recorded", "sent_at", "waited")

    def __init__(self) -> None:
        self.sent_at: float | None = None
        self.waited = 0.0
        #: the attempt runs inside its telemetry (`_recorded`)
        self.recorded = False


class _Lane:
    """The lean lane of a client, shared by its pipeline and those `derive` made."""

    __slots__ = ("lane",)

    def __init__(self) -> None:
        self.lane: LeanLane | None = None


class Pipeline(FailureHandling):
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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._get_http = get_http
        #: `own_http`: `get_http` returns a client we built (and configured) ourselves.
        self._requests = RequestBuilder(base_url, headers, own_http=own_http)
        self.policy = policy
        self.budget: RetryBudget = RetryBudget(policy, clock)
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
        #: the most bytes of one answer's body (decoded) read; past it ResponseTooLargeError.
        self.max_response_bytes = max_response_bytes
        self._counters = Counters()
        #: the lean lane (`_transport._lean`), when the client we built runs on aiohttp.
        self._lane = _Lane()
        #: query parameters added to every request (`derive`)
        self.extra_query: Mapping[str, Any] | None = None
        #: headers on top of the client's on every request (`derive`)
        self.extra_headers: Mapping[str, str] | None = None
        #: spans and metrics (`_telemetry`), None when opentelemetry-api is not installed.
        self._telemetry = telemetry

    @property
    def lean(self) -> LeanLane | None:
        """The lean lane every request goes through (None: the httpx client)."""
        return self._lane.lane

    def use_lean(self, lane: LeanLane | None) -> None:
        """Send every request through `lane` (None: through the httpx client), here and
        in every pipeline `derive` made from this one.

        Args:
            lane: the lean lane of the client's own `AiohttpTransport`.
        """
        self._lane.lane = lane

    def derive(
        self,
        *,
        timeout: float,
        attempt_timeout: float | None,
        policy: RetryPolicy,
        headers: Mapping[str, str] | None,
        query: Mapping[str, Any] | None,
    ) -> Pipeline:
        """A pipeline with other defaults that shares everything else with this one: the
        HTTP client and lean lane, concurrency slots, rate limiter, retry budget and
        counters (`AsyncDyte.with_options`).

        Args:
            timeout: seconds for a whole call.
            attempt_timeout: seconds for one attempt (None: the rest of the call's).
            policy: the retry policy.
            headers: headers on top of the client's (None: none).
            query: query parameters added to every request (None: none).
        """
        derived = copy.copy(self)
        derived.timeout = timeout
        derived.attempt_timeout = attempt_timeout
        derived.policy = policy
        derived.extra_query = dict(query) if query else None
        derived.extra_headers = dict(headers) if headers else None
        derived._requests = self._requests.with_extra(derived.extra_headers)
        return derived

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
        settle: Settle | None = None,
        traced: CallTrace | None = None,
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
            settle: the statuses that mean "done" after an attempt that may have taken
                effect; see `Settle`.
            traced: the call's telemetry (`_telemetry`), given by `send` itself only.

        Raises:
            APIStatusError: the server's error (after retries).
            APIConnectionError: the network failed (after retries); `__cause__` is the
                httpx exception.
            APITimeoutError: the deadline passed.
            ClientClosedError: the client is closed.
            InvalidArgumentError: `json` cannot be encoded (nothing sent).
            ResponseDecodeError: the answer is not a shape we know.
        """
        if traced is None and self._telemetry is not None:
            traced = self._telemetry.begin(method, path)
            if traced is not None:  # recorded: this call again, inside its span
                return await traced.record(
                    self.send(
                        method,
                        path,
                        params=params,
                        json=json,
                        timeout=timeout,
                        deadline=deadline,
                        idempotent=idempotent,
                        recover=recover,
                        settle=settle,
                        traced=traced,
                    )
                )
        started = self.clock.now()
        if deadline is None:
            deadline = started + (self.timeout if timeout is None else timeout)
        http = self._get_http()
        lean = self._lane.lane
        if self.extra_query is not None:
            params = {**(params or {}), **self.extra_query}
        request: httpx.Request | LeanRequest
        if lean is not None:
            request = lean.build(method, path, params, json, self.extra_headers)
        else:
            request = self._requests.build(http, method, path, params, json)
        call = Call(
            method, path, started=started, deadline=deadline, idempotent=idempotent, traced=traced
        )
        self.budget.record_attempt()
        last: Failure | None = None
        maybe_applied = False
        for attempt in itertools.count(1):
            outcome = await self._attempt(request, call, attempt)
            if isinstance(outcome, _OutOfTime):
                self._out_of_time(call, outcome, attempt, last)
            if not isinstance(outcome, Failure):
                status = outcome.status_code
                if 200 <= status < 300:
                    self.budget.record_success()
                    capture = CAPTURE.get()
                    if capture is not None:
                        capture.record(outcome, attempt, self.clock.now() - started)
                    return decode_answer(
                        status,
                        outcome.content,
                        method=method,
                        path=path,
                        as_response=functools.partial(_as_httpx, outcome),
                    )
                outcome = self._status_failure(_as_httpx(outcome), call, attempt)
            last = outcome
            found = await self._after_failure(
                call, outcome, attempt, recover, settle if maybe_applied else None
            )
            if found is not None:
                return found
            maybe_applied = maybe_applied or outcome.maybe_applied
        raise AssertionError("unreachable")  # pragma: no cover

    def _out_of_time(
        self, call: Call, outcome: _OutOfTime, attempt: int, last: Failure | None
    ) -> NoReturn:
        """The deadline check: raise the timeout, or the last failure when a retry did not
        fit in (the last answer is the real news)."""
        if last is not None and not outcome.in_flight:
            raise_failure(last)
        raise APITimeoutError(
            f"{call.method} {call.path}: the call's deadline passed {outcome.where} "
            f"(attempt {attempt}, {self.clock.now() - call.started:.2f}s)",
            method=call.method,
            url=call.path,
        )

    async def _attempt(
        self, request: httpx.Request | LeanRequest, call: Call, attempt: int
    ) -> httpx.Response | LeanAnswer | Failure | _OutOfTime:
        """One attempt within what is left of the deadline: a concurrency slot, then
        `_rate_limited`. Every way of running out of time becomes an `_OutOfTime`."""
        remaining = call.deadline - self.clock.now()
        if remaining <= 0:
            return _OutOfTime("before the attempt", in_flight=False)
        trace = _Trace()
        if isinstance(request, LeanRequest):
            outcome = await self._attempt_now(request, call, attempt, trace)
            if outcome is not None:
                return outcome
            remaining = call.deadline - self.clock.now()
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

    async def _attempt_now(
        self, request: LeanRequest, call: Call, attempt: int, trace: _Trace
    ) -> httpx.Response | LeanAnswer | Failure | _OutOfTime | None:
        """The attempt without a cancel scope, when nothing has to wait: a concurrency slot
        and a rate-limit slot free now. Its one wait, the exchange, has its own timeout of
        at most what is left of the deadline (`LeanLane.exchange`), so a scope could not
        fire first. None (nothing taken, nothing sent) when something would wait: then
        the scoped path runs."""
        # A call made in a cancelled scope sends nothing (nothing below awaits before the
        # request is written).
        await anyio.lowlevel.checkpoint_if_cancelled()
        slots = self._slots
        try:
            slots.acquire_nowait()
        except anyio.WouldBlock:
            return None
        try:
            slot = self._slot_now()
            if slot is None:
                return None
            try:
                remaining = call.deadline - self.clock.now()
                if remaining <= 0:
                    return _OutOfTime("before the attempt", in_flight=False)
                return await self._transmit(request, call, attempt, remaining, trace)
            finally:
                self.limiter.release(slot)
        finally:
            slots.release()

    def _slot_now(self) -> Slot | None:
        """A rate-limit slot starting now without waiting, or None when the limiter would
        make this attempt wait (or cannot tell without waiting)."""
        limiter = self.limiter
        if type(limiter) is NoLimiter:
            return _UNLIMITED
        try_now: Callable[[], Slot | None] | None = getattr(limiter, "try_acquire_now", None)
        return None if try_now is None else try_now()

    async def _rate_limited(
        self, request: httpx.Request | LeanRequest, call: Call, attempt: int, trace: _Trace
    ) -> httpx.Response | LeanAnswer | Failure | _OutOfTime:
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
            if slot.waited > 0 and call.traced is not None:
                call.traced.event("dyte.rate_limiter.wait", {"dyte.wait.seconds": slot.waited})
            remaining = call.deadline - self.clock.now()
            if remaining <= 0:
                return _OutOfTime("waiting for the rate limiter", in_flight=False)
            return await self._transmit(request, call, attempt, remaining, trace)
        finally:
            limiter.release(slot)

    async def _transmit(
        self,
        request: httpx.Request | LeanRequest,
        call: Call,
        attempt: int,
        remaining: float,
        trace: _Trace,
    ) -> httpx.Response | LeanAnswer | Failure | _OutOfTime:
        """Send the request with timeouts of what is left (the lean lane: one for the
        whole attempt; httpx: connect, read, write and pool), read its answer, and turn a
        transport failure into a `Failure`. A recorded call's attempt runs inside
        `_recorded`."""
        if call.traced is not None and not trace.recorded:
            trace.recorded = True
            url = request.text if isinstance(request, LeanRequest) else str(request.url)
            return await _recorded(
                call.traced.attempt(url, attempt),
                self._transmit(request, call, attempt, remaining, trace),
            )
        http: httpx.AsyncClient | None = None
        lane = request.lane if isinstance(request, LeanRequest) else None
        if lane is None:
            http = self._get_http()
        elif lane.closed:  # closed with the client, at once (`AiohttpTransport.aclose`)
            raise ClientClosedError("this AsyncDyte client is closed; make a new one")
        self._counters.requests += 1
        trace.sent_at = self.clock.now()
        response: httpx.Response | LeanAnswer
        by_deadline = False  # the lean lane's timeout is what is left of the deadline
        try:
            if isinstance(request, LeanRequest):
                limit = self.attempt_timeout
                by_deadline = limit is None or remaining <= limit
                response = await request.lane.exchange(
                    request, remaining if limit is None or remaining <= limit else limit
                )
            else:
                assert http is not None
                request.extensions["timeout"] = self._timeouts(remaining)
                response = await send_and_read(http, request, self.max_response_bytes)
        except httpx.HTTPError as exc:
            if isinstance(request, LeanRequest) and by_deadline and expired(exc):
                # The call's deadline ran out in flight: as when the attempt's scope fires.
                self._log_attempt(call, "deadline", attempt, trace)
                return _OutOfTime("while the request was in flight", in_flight=True)
            self._log_attempt(call, type(exc).__name__, attempt, trace)
            return network_failure(call.method, call.path, exc, call.idempotent)
        except ResponseTooLargeError as exc:
            self._log_attempt(call, type(exc).__name__, attempt, trace)
            raise ResponseTooLargeError(
                f"{call.method} {call.path}: the answer is larger than "
                f"{self.max_response_bytes} bytes (max_response_bytes)",
                status_code=exc.status_code,
            ) from None
        except RuntimeError as exc:
            closed = http.is_closed if http is not None else lane is not None and lane.closed
            if closed:  # closed before or while the request was in flight
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

    def _log_attempt(self, call: Call, result: str, attempt: int, trace: _Trace) -> None:
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

    def _status_failure(self, response: httpx.Response, call: Call, attempt: int) -> Failure:
        """Classify an error answer; a 429 is counted and pauses the whole client."""
        failure = status_failure(
            response,
            method=call.method,
            path=call.path,
            idempotent=call.idempotent,
            policy=self.policy,
        )
        if response.status_code == 429:
            self._counters.rate_limited += 1
            if failure.retry_after is None:
                # No Retry-After: the whole client backs off as this caller does.
                failure.retry_after = self.policy.backoff(attempt)
            self.limiter.pause_for(failure.retry_after)
        return failure


async def _recorded(
    recording: AttemptTrace,
    exchange: Awaitable[httpx.Response | LeanAnswer | Failure | _OutOfTime],
) -> httpx.Response | LeanAnswer | Failure | _OutOfTime:
    """Await an attempt's exchange, then end its span and measure it by its outcome."""
    try:
        outcome = await exchange
    except BaseException as exc:
        recording.end(None, type(exc).__qualname__)
        raise
    if isinstance(outcome, Failure):
        cause = outcome.cause
        recording.end(None, outcome.reason if cause is None else type(cause).__qualname__)
    elif isinstance(outcome, _OutOfTime):
        recording.end(None, "timeout")
    else:
        recording.end(outcome.status_code, None)
    return outcome


def _as_httpx(answer: httpx.Response | LeanAnswer) -> httpx.Response:
    """The answer as an `httpx.Response` (the lean lane's made only when needed)."""
    return answer if isinstance(answer, httpx.Response) else answer.to_httpx()
