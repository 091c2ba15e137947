"""The fake's fault controls: `fail_next`, `delay_next`, `drop_next`, `malformed_next`."""

from __future__ import annotations

from typing import Any

from dyte_async.testing._fake_requests import check_count, check_route
from dyte_async.testing._faults import MALFORMED_KINDS, Delay, Fault, FaultQueue, MalformedKind

__all__ = ["FaultControls"]


class FaultControls:
    """The part of `FakeDyte` that scripts misbehaviour (a mixin: the queue lives on the fake)."""

    _faults: FaultQueue

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
        check_route(route)
        check_count(n)
        self._faults.add(Fault("fail", n, route, status=status, retry_after=retry_after, body=body))

    def delay_next(self, n: int, seconds: float, *, route: str | None = None) -> None:
        """Sleep `seconds` on the clock before handling each of the next `n` matching requests.

        Delays queue apart from the other faults, so a delayed request can also fail.

        Raises:
            ValueError: for an unknown route, a negative `n` or negative `seconds`.
        """
        check_route(route)
        check_count(n)
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
        check_route(route)
        check_count(n)
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
        check_route(route)
        check_count(n)
        self._faults.add(Fault("malformed", n, route, malformed=kind))

    def clear_faults(self) -> None:
        """Forget every queued fault and delay."""
        self._faults.clear()
