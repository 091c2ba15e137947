"""The fake's request path: record, delay, rate-limit, apply faults, then answer."""

from __future__ import annotations

import collections

import attrs

from dyte_async._clock import Clock
from dyte_async.testing._auth import Credentials
from dyte_async.testing._faults import FaultQueue, fail_response, garble
from dyte_async.testing._log import RecordedRequest, record_cost, record_of
from dyte_async.testing._ratelimit import SlidingWindow
from dyte_async.testing._routes import ROUTE_KEYS, Resolved, dispatch, resolve
from dyte_async.testing._state import FakeState
from dyte_async.testing._webhooks import WebhookSender
from dyte_async.testing._wire import WireRequest, WireResponse, error_response

__all__ = ["RequestPath", "check_count", "check_route"]


def check_route(route: str | None) -> None:
    """Refuse a route that is not one of the spec's `"METHOD /template"` keys.

    Raises:
        ValueError: for an unknown route.
    """
    if route is not None and route not in ROUTE_KEYS:
        raise ValueError(
            f"unknown route {route!r}: use 'METHOD /template' with the spec's path template, "
            "e.g. 'POST /meetings/{meeting_id}/livestreams'"
        )


def check_count(n: int) -> None:
    """Refuse a negative count of requests.

    Raises:
        ValueError: `n` is negative.
    """
    if n < 0:
        raise ValueError("n must be >= 0")


class RequestPath:
    """The part of `FakeDyte` that answers requests (a mixin: its state lives on the fake)."""

    clock: Clock
    max_per_page: int
    default_per_page: int
    requests: list[RecordedRequest]
    route_counts: collections.Counter[str]
    _state: FakeState
    _webhooks: WebhookSender
    _credentials: Credentials
    _faults: FaultQueue
    _limiter: SlidingWindow | None
    request_log_size: int
    request_log_bytes: int
    _log_costs: collections.deque[int]
    _log_bytes: int
    _received: int

    def _record(self, record: RecordedRequest, cost: int) -> None:
        """Append to `requests`, dropping the oldest entries past the log's bounds."""
        if len(self._log_costs) != len(self.requests):  # the list was changed by hand
            self._log_costs = collections.deque(512 for _ in self.requests)
            self._log_bytes = 512 * len(self.requests)
        self.requests.append(record)
        self._log_costs.append(cost)
        self._log_bytes += cost
        self._received += 1
        drop = 0
        while len(self._log_costs) > 1 and (
            len(self._log_costs) > self.request_log_size or self._log_bytes > self.request_log_bytes
        ):
            self._log_bytes -= self._log_costs.popleft()
            drop += 1
        if drop:
            del self.requests[:drop]

    def _screen(self, request: WireRequest) -> bool:
        """Whether the served fake should read this request's body (False: refused credentials)."""
        resolved = resolve(request.method, request.path)
        if resolved.api is None:
            return True
        return self._credentials.accepts(
            resolved.api, request.header("authorization"), request.path
        )

    async def _handle(self, request: WireRequest) -> WireResponse | None:
        """Record, delay, rate-limit, apply faults, then answer (None: drop the connection)."""
        resolved = resolve(request.method, request.path)
        org_id = None
        if resolved.api is not None:
            org_id = self._credentials.identify(
                resolved.api, request.header("authorization"), request.path
            )
        record = record_of(request, resolved, at=self.clock.now(), org_id=org_id)
        self._record(record, record_cost(request))
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
