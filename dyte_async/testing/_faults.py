"""Scripted faults: queued misbehaviours that each consume matching requests, first in first out.

Delays live in their own queue, so one request can be both delayed and failed (or dropped,
or garbled); every other fault kind shares one queue, and a request takes at most one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import attrs

from dyte_async.testing._wire import WireResponse, error_body, json_response, reason_phrase

__all__ = [
    "MALFORMED_KINDS",
    "Delay",
    "Fault",
    "FaultQueue",
    "MalformedKind",
    "fail_response",
    "garble",
]

MalformedKind = Literal["html", "truncated", "empty", "success_false", "not_object"]
MALFORMED_KINDS: tuple[MalformedKind, ...] = (
    "html",
    "truncated",
    "empty",
    "success_false",
    "not_object",
)

HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>FakeDyte: injected HTML body.</p></body></html>\n"
)


@attrs.define
class Fault:
    """One queued fault and how many more requests it will take.

    Attributes:
        kind: `"fail"` (answer `status` without acting), `"drop"` (no answer), or
            `"malformed"` (act, then answer a broken body).
        remaining: requests it will still take.
        route: `"METHOD /template"` it applies to (None: any request).
    """

    kind: Literal["fail", "drop", "malformed"]
    remaining: int
    route: str | None
    status: int = 503
    retry_after: float | str | None = None
    body: Any = None
    after_action: bool = False
    malformed: MalformedKind = "html"


@attrs.define
class Delay:
    """A queued delay: `seconds` of clock sleep before answering each of `remaining` requests."""

    remaining: int
    seconds: float
    route: str | None


class FaultQueue:
    """The queued faults and delays of one fake."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._delays: list[Delay] = []

    def add(self, fault: Fault) -> None:
        """Queue `fault` (ignored when it takes no request)."""
        if fault.remaining > 0:
            self._faults.append(fault)

    def add_delay(self, delay: Delay) -> None:
        """Queue `delay` (ignored when it takes no request)."""
        if delay.remaining > 0:
            self._delays.append(delay)

    def take(self, route: str | None) -> Fault | None:
        """Consume one use of the oldest fault matching `route`, and return it."""
        for fault in self._faults:
            if fault.route is None or fault.route == route:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def take_delay(self, route: str | None) -> float | None:
        """Consume one use of the oldest delay matching `route`; return its seconds."""
        for delay in self._delays:
            if delay.route is None or delay.route == route:
                delay.remaining -= 1
                if delay.remaining <= 0:
                    self._delays.remove(delay)
                return delay.seconds
        return None

    def clear(self) -> None:
        """Forget every queued fault and delay."""
        self._faults.clear()
        self._delays.clear()

    def __iter__(self) -> Iterator[Fault | Delay]:
        yield from self._delays
        yield from self._faults

    def __len__(self) -> int:
        return len(self._faults) + len(self._delays)


def _format_retry_after(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def fail_response(fault: Fault) -> WireResponse:
    """Return the answer of a `"fail"` fault.

    The default body is the error envelope (`{"message": "Unauthorized"}` for a 401, as the
    API does); a `str` or `bytes` body is sent verbatim; anything else is sent as JSON.
    """
    headers: tuple[tuple[str, str], ...] = ()
    if fault.retry_after is not None:
        headers = (("retry-after", _format_retry_after(fault.retry_after)),)
    if fault.body is None:
        if fault.status == 401:
            return json_response(401, {"message": "Unauthorized"}, headers=headers)
        body = error_body(fault.status, f"{reason_phrase(fault.status)} (injected by FakeDyte)")
        return json_response(fault.status, body, headers=headers)
    if isinstance(fault.body, (str, bytes)):
        raw = fault.body.encode() if isinstance(fault.body, str) else fault.body
        return WireResponse(
            status=fault.status,
            headers=(("content-type", "application/json; charset=utf-8"), *headers),
            body=raw,
        )
    return json_response(fault.status, fault.body, headers=headers)


def garble(response: WireResponse, kind: MalformedKind) -> WireResponse:
    """Return `response` with its body broken in the way `kind` names.

    `success_false` answers HTTP 200 with `{"success": false, "error": {...}}`; the other kinds
    keep the status of the real answer: `html` (an HTML page, `text/html`), `truncated` (the
    first half of the real JSON), `empty` (no body), `not_object` (a JSON array).
    """
    json_type = (("content-type", "application/json; charset=utf-8"),)
    if kind == "html":
        return WireResponse(response.status, (("content-type", "text/html"),), HTML_PAGE)
    if kind == "truncated":
        return WireResponse(response.status, json_type, response.body[: len(response.body) // 2])
    if kind == "empty":
        return WireResponse(response.status, json_type, b"")
    if kind == "success_false":
        body = error_body(500, "Internal error (injected by FakeDyte)")
        return WireResponse(200, json_type, json.dumps(body).encode())
    return WireResponse(response.status, json_type, b'["not", "an", "object"]')
