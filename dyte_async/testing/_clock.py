"""A virtual clock: sleeping advances time at once, so tests never wait for real."""

from __future__ import annotations

import anyio.lowlevel

__all__ = ["FakeClock"]


class FakeClock:
    """A `dyte_async.Clock` whose `sleep` returns at once and moves time forward.

    Concurrent sleepers that started at the same time and sleep the same span end up at
    the same virtual time (time moves to `max(now, start + seconds)`), so the clock reads
    like a real one for code that sleeps in parallel: much as trio's
    `MockClock(autojump_threshold=0)`, time jumps as soon as a task waits on it.

    Share one clock between the fake and the client, or a wait would time out in virtual
    time before the fake (on real time) goes live: `FakeDyte(clock=FakeClock())` and then
    `fake.client()`, or `dyte_fake_options` returning `{"clock": "fake"}`. A
    `wait_until_live(timeout=120)` then takes milliseconds.

    Args:
        start: the initial reading of `now()`.
    """

    __slots__ = ("_now", "slept")

    def __init__(self, start: float = 1000.0) -> None:
        self._now = float(start)
        #: every span passed to `sleep`, in call order (for assertions).
        self.slept: list[float] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, float(seconds))
        self.slept.append(seconds)
        start = self._now
        await anyio.lowlevel.checkpoint()
        self._now = max(self._now, start + seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` without sleeping."""
        self._now += max(0.0, float(seconds))

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now:.3f})"
