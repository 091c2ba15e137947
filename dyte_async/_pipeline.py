"""The one request path: concurrency bound, rate limit, attempt, retry, deadline, decode.

Every request the client sends (resources, paginators, the poller) goes through
`Pipeline.send`, so the guarantees hold for all of them:

- one deadline per call (`timeout=`) across every attempt, backoff sleep, limiter wait and
  pool wait; past it the caller gets `APITimeoutError`, or the last server error;
- at most `max_concurrency` requests in flight; the others queue here, never in httpx's
  pool (where cancellation can poison httpcore's pool: HAZARDS.md 1);
- the shared sliding-window rate limiter, paused for the whole client by a 429;
- retries by `RetryPolicy`, within the shared `RetryBudget`;
- non-idempotent requests retried only when they cannot have reached the server, or after
  a `recover` hook (e.g. "is a livestream already active?") found nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import attrs
import httpx

from dyte_async._clock import Clock
from dyte_async._ratelimit import LimiterTimeout, NoLimiter, SlidingWindowLimiter
from dyte_async._response import Envelope, decode_envelope, error_from_response
from dyte_async._retry import RetryBudget, RetryPolicy
from dyte_async.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    DyteError,
    RateLimitError,
)

__all__ = ["ClientStats", "Pipeline", "Recover", "logger"]

logger = logging.getLogger("dyte_async")

#: Called after an ambiguous failure of a non-idempotent request, with the call's deadline:
#: returns the answer that makes a retry unnecessary, or None to retry.
Recover = Callable[[float], Awaitable["Envelope | None"]]

# Failures that prove the request never reached the server: safe to retry any method.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after which the server may or may not have acted.
_AMBIGUOUS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Server errors after which a write may have happened.
_AMBIGUOUS_STATUSES = frozenset({500, 502, 504})


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


class Pipeline:
    """Sends requests for one client. Shared by every concurrent call of that client."""

    def __init__(
        self,
        *,
        get_http: Callable[[], httpx.AsyncClient],
        base_url: str,
        headers: Mapping[str, str] | None,
        policy: RetryPolicy,
        limiter: SlidingWindowLimiter | NoLimiter,
        max_concurrency: int,
        timeout: float,
        connect_timeout: float,
        clock: Clock,
    ) -> None:
        self._get_http = get_http
        self._base_url = base_url
        self._headers = headers
        self.policy = policy
        self.budget = RetryBudget(policy, clock)
        self.limiter = limiter
        self._slots = anyio.CapacityLimiter(max_concurrency)
        self.timeout = timeout
        self._connect_timeout = connect_timeout
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
            idempotent: False for writes that must not happen twice.
            recover: for non-idempotent calls, asked after an ambiguous failure.

        Raises:
            APIStatusError: the server's error (after retries).
            APIConnectionError: the network failed (after retries).
            APITimeoutError: the deadline passed.
            ResponseDecodeError: the answer is not a shape we know.
        """
        if deadline is None:
            deadline = self.deadline(timeout)
        clock = self.clock
        policy = self.policy
        counters = self._counters
        query = _query(params)
        self.budget.record_attempt()
        retries = 0
        started = clock.now()
        while True:
            result = await self._attempt(method, path, query, json, deadline, retries)
            if isinstance(result, httpx.Response):
                status = result.status_code
                if 200 <= status < 300:
                    self.budget.record_success()
                    return decode_envelope(result, method=method, path=path)
                error: DyteError = error_from_response(result, method=method, path=path)
                retry_after = error.retry_after if isinstance(error, RateLimitError) else None
                if status == 429:
                    counters.rate_limited += 1
                    self.limiter.pause_for(
                        retry_after if retry_after is not None else policy.backoff(retries + 1)
                    )
                retryable = status in policy.retry_statuses and (idempotent or status == 429)
                ambiguous = not idempotent and status in _AMBIGUOUS_STATUSES
                cause: BaseException | None = None
            else:
                error, cause = result
                if isinstance(error, _DeadlineBeforeSend):
                    raise error.as_timeout() from None
                retry_after = None
                unsent = isinstance(cause, _UNSENT)
                retryable = (unsent or idempotent) and isinstance(cause, (*_UNSENT, *_AMBIGUOUS))
                ambiguous = not idempotent and not unsent and isinstance(cause, _AMBIGUOUS)
            if retries >= policy.max_retries:
                raise _final(error, cause)
            if ambiguous and recover is not None:
                found = await self._recover(recover, deadline)
                if found is not None:
                    counters.recovered += 1
                    return found
                retryable = True
            if not retryable:
                raise _final(error, cause)
            delay = policy.delay_for(retries + 1, retry_after=retry_after)
            if delay is None or clock.now() + delay >= deadline:
                raise _final(error, cause)
            if not self.budget.try_acquire():
                counters.retries_refused += 1
                logger.info("%s %s: retry refused by the retry budget (%s)", method, path, error)
                raise _final(error, cause)
            retries += 1
            counters.retries += 1
            logger.info(
                "%s %s: retry %d in %.2fs after %s (%.2fs elapsed)",
                method,
                path,
                retries,
                delay,
                _reason(error),
                clock.now() - started,
            )
            await clock.sleep(delay)

    async def _recover(self, recover: Recover, deadline: float) -> Envelope | None:
        try:
            return await recover(deadline)
        except DyteError as exc:
            logger.info("recovery read failed: %s", exc)
            return None

    async def _attempt(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str | int | float | bool | None]] | None,
        json: Any,
        deadline: float,
        retries: int,
    ) -> httpx.Response | tuple[DyteError, BaseException | None]:
        """One attempt: a concurrency slot, a rate-limit slot, then the request."""
        clock = self.clock
        remaining = deadline - clock.now()
        if remaining <= 0:
            return _DeadlineBeforeSend(method, path), None
        http = self._get_http()
        begun = clock.now()
        with anyio.move_on_after(remaining) as scope:
            async with self._slots:
                try:
                    await self.limiter.acquire(deadline=deadline)
                except LimiterTimeout:
                    return _DeadlineBeforeSend(method, path, "waiting for the rate limiter"), None
                remaining = deadline - clock.now()
                if remaining <= 0:
                    return _DeadlineBeforeSend(method, path), None
                request = http.build_request(
                    method,
                    self._base_url + path,
                    params=query,
                    headers=self._headers,
                    json=json,
                    timeout=httpx.Timeout(remaining, connect=min(self._connect_timeout, remaining)),
                )
                self._counters.requests += 1
                try:
                    response = await http.send(request)
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
                except httpx.TimeoutException as exc:
                    return _timeout(method, path, exc), exc
                except httpx.HTTPError as exc:
                    return _connection(method, path, exc), exc
        if scope.cancelled_caught:
            return _DeadlineBeforeSend(method, path), None
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d (attempt %d, %.3fs)",
                method,
                path,
                response.status_code,
                retries + 1,
                clock.now() - begun,
            )
        return response


class _DeadlineBeforeSend(APITimeoutError):
    """The deadline passed before an attempt could be sent (or finished)."""

    def __init__(self, method: str, path: str, what: str = "") -> None:
        detail = f" {what}" if what else ""
        super().__init__(f"{method} {path}: deadline exceeded{detail}", method=method, url=path)

    def as_timeout(self) -> APITimeoutError:
        return APITimeoutError(self.message, method=self.method, url=self.url)


def _timeout(method: str, path: str, exc: httpx.TimeoutException) -> APITimeoutError:
    return APITimeoutError(
        f"{method} {path}: timed out ({type(exc).__name__})", method=method, url=path
    )


def _connection(method: str, path: str, exc: httpx.HTTPError) -> APIConnectionError:
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(
        f"{method} {path}: connection failed ({type(exc).__name__}: {detail})",
        method=method,
        url=path,
    )


def _final(error: DyteError, cause: BaseException | None) -> DyteError:
    if cause is not None and error.__cause__ is None:
        error.__cause__ = cause
    return error


def _reason(error: DyteError) -> str:
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
