"""`RawResponse`: a call's result with the HTTP answer it came from (status, headers).

`AsyncDyte.with_raw_response(fn, *args, **kwargs)` runs one call with a capture set in its
context (`CAPTURE`); `Pipeline.send` records each successful answer in it, so the last
one the call received (the one its result was read from) is kept. A call answered
without a request (a wait served by another process's read, with ``redis=``) has none:
`status_code` is None and `headers` empty.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Generic, ParamSpec, TypeVar

import attrs
import httpx

from dyte_async._response import request_id_of

if TYPE_CHECKING:
    from dyte_async._transport._lean import LeanAnswer

__all__ = ["CAPTURE", "Capture", "RawResponse", "with_raw_response"]

T = TypeVar("T")
P = ParamSpec("P")


class Capture:
    """The last successful answer of a call, and how it got there."""

    __slots__ = ("answer", "attempts", "elapsed")

    def __init__(self) -> None:
        self.answer: httpx.Response | LeanAnswer | None = None
        self.attempts = 0
        self.elapsed = 0.0

    def record(self, answer: httpx.Response | LeanAnswer, attempts: int, elapsed: float) -> None:
        """`answer` ended a call after `attempts` attempts and `elapsed` seconds."""
        self.answer = answer
        self.attempts = attempts
        self.elapsed = elapsed

    def headers(self) -> httpx.Headers:
        answer = self.answer
        if answer is None:
            return httpx.Headers()
        if isinstance(answer, httpx.Response):
            return answer.headers
        return httpx.Headers(list(answer.raw_headers))


#: The capture of the call running in this context (None: nobody asked; nothing recorded).
CAPTURE: ContextVar[Capture | None] = ContextVar("dyte_async_raw_capture", default=None)


@attrs.frozen(repr=False)
class RawResponse(Generic[T]):
    """A call's parsed result and the HTTP answer it was read from.

    Attributes:
        parsed: what the call returned (a `Livestream`, a `Meeting`, ...).
        status_code: the answer's HTTP status (None: the call sent no request).
        headers: the answer's headers (rate-limit headers, request id, ...).
        request_id: the answer's request id header, when it has one.
        attempts: attempts the request took (1 without retries; 0 without a request).
        elapsed: seconds from the call's start to that answer, retries included.
    """

    parsed: T
    status_code: int | None
    headers: httpx.Headers
    request_id: str | None
    attempts: int
    elapsed: float

    def __repr__(self) -> str:
        # Never the headers (a server may set cookies) nor the result (its repr is its own).
        return (
            f"<RawResponse status_code={self.status_code} request_id={self.request_id!r} "
            f"attempts={self.attempts} {type(self.parsed).__name__}>"
        )


async def with_raw_response(
    fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> RawResponse[T]:
    """Await `fn(*args, **kwargs)` and return its result with the answer it came from."""
    capture = Capture()
    token = CAPTURE.set(capture)
    try:
        parsed = await fn(*args, **kwargs)
    finally:
        CAPTURE.reset(token)
    headers = capture.headers()
    return RawResponse(
        parsed=parsed,
        status_code=None if capture.answer is None else capture.answer.status_code,
        headers=headers,
        request_id=request_id_of(headers),
        attempts=capture.attempts,
        elapsed=capture.elapsed,
    )
