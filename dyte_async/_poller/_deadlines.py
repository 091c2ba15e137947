"""The deadlines of every wait in one heap, and the sleepers that must wake for them.

Deadlines are read on the client's clock and kept in one heap per poller, not in a timer
per wait: a driver never sleeps past the earliest deadline of any wait (`expire` tells it
when that is), and on the real clock a watchdog (`watch`) runs beside each poll in flight.
Every sleep goes through `waking_at`, so a wait registering with an earlier deadline than
every sleeper wakes one of them (`wake_by`). So an injected `FakeClock` sees deadlines kept
exactly, and 10,000 waits cost no timers.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
from collections.abc import Iterator

import anyio

from dyte_async._clock import Clock, SystemClock
from dyte_async._poller._state import Waiter

__all__ = ["Deadlines"]


class Deadlines:
    """The waits' deadlines and the scopes of the sleepers.

    Args:
        clock: the client's clock.
    """

    __slots__ = ("_clock", "_heap", "_seq", "_timed", "_waker_times", "_wakers", "watchdog")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        # Deadlines of the waits, earliest first (entries of finished waits are dropped
        # lazily). Drivers sleep at most until the earliest, and expire what is due.
        self._heap: list[tuple[float, int, Waiter]] = []
        self._timed = 0  # registered waiters with a deadline
        self._seq = itertools.count()
        #: With the real clock a poll takes real time: while one is in flight, a watchdog
        #: expires the waits whose deadline falls inside it. (With an injected clock a
        #: request takes no time, and a sleeping watchdog would move the clock itself.)
        self.watchdog: bool = isinstance(clock, SystemClock)
        # Sleeping drivers and watchdogs, by when they wake (a heap; finished ones are
        # dropped lazily).
        self._wakers: dict[int, anyio.CancelScope] = {}
        self._waker_times: list[tuple[float, int]] = []

    def add(self, waiter: Waiter) -> None:
        """A waiter with a finite deadline registered (with its first meeting; once per waiter)."""
        self._timed += 1
        heapq.heappush(self._heap, (waiter.deadline, next(self._seq), waiter))
        self.wake_by(waiter.deadline)

    def drop(self) -> None:
        """A waiter with a finite deadline left its last meeting."""
        self._timed -= 1
        heap = self._heap
        if len(heap) <= 64 or len(heap) <= 2 * self._timed:
            return
        # The entries of finished waits outnumber the live ones: drop them.
        kept = [entry for entry in heap if entry[2].meetings]
        heapq.heapify(kept)
        heap[:] = kept

    def expire(self, now: float) -> float:
        """Kick the waits whose deadline passed; the earliest deadline still to come."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, waiter = heapq.heappop(heap)
            if waiter.meetings:
                waiter.kick()
        while heap and not heap[0][2].meetings:  # finished waits
            heapq.heappop(heap)
        return heap[0][0] if heap else math.inf

    @contextlib.contextmanager
    def waking_at(self, when: float) -> Iterator[anyio.CancelScope]:
        """A cancel scope around a sleep until `when`, known to `wake_by`."""
        key = next(self._seq)
        with anyio.CancelScope() as scope:
            self._wakers[key] = scope
            heapq.heappush(self._waker_times, (when, key))
            try:
                yield scope
            finally:
                del self._wakers[key]
                times = self._waker_times
                if len(times) > 2 * len(self._wakers) + 32:  # drop the finished ones
                    times[:] = [t for t in times if t[1] in self._wakers]
                    heapq.heapify(times)

    def wake_by(self, deadline: float) -> None:
        """Make sure a sleeping driver or watchdog wakes by `deadline`."""
        times = self._waker_times
        while times and times[0][1] not in self._wakers:
            heapq.heappop(times)
        if times and times[0][0] > deadline:
            self._wakers[times[0][1]].cancel()  # it sleeps again, until `deadline` at most

    async def watch(self) -> None:
        """While a poll is in flight (real clock), end the waits whose deadline comes."""
        clock = self._clock
        while True:
            now = clock.now()
            next_deadline = self.expire(now)
            with self.waking_at(next_deadline):
                if next_deadline == math.inf:
                    await anyio.sleep_forever()
                await clock.sleep(next_deadline - now)
