"""Time as the library sees it: one clock for "now" and "sleep", injectable for tests."""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import anyio

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Monotonic time and sleeping, the two things every timed layer needs.

    Retries, the rate limiter, deadlines and the poller all read time through one
    `Clock`, so a test can pass `dyte_async.testing.FakeClock` and never wait for real.
    """

    def now(self) -> float:
        """Seconds on a monotonic clock."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a checkpoint: cancellable)."""
        ...


class SystemClock:
    """The real clock: `time.monotonic` and `anyio.sleep` (asyncio and trio alike)."""

    __slots__ = ()

    #: Seconds on `time.monotonic`: the function itself, so that a reading costs no
    #: Python call (the request path reads the clock several times per call).
    now: staticmethod[[], float] = staticmethod(time.monotonic)

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (negative: none) with `anyio.sleep` (a checkpoint: cancellable)."""
        await anyio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()
