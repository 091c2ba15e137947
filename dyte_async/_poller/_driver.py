"""Running the poll loops with no background task: the waiters drive them.

A poll loop (a `Source`) has no task of its own: it is driven by one of its waiters (the
first to come), which sleeps until the loop is due, polls, and publishes the result to
every waiter of its meetings. When the driver leaves (its wait ended, failed or was
cancelled) it hands the loop over to a waiter blocked on it. So any number of waits on one
meeting cost one request per interval, and nothing outlives the waits.

Timing: the first poll of a loop is immediate; the next comes after the smallest
`poll_interval` of its waiters, growing by `Poller.backoff` per poll while nothing changes
up to `Poller.max_backoff` times that, back to `poll_interval` on any change; each interval
is shortened by a random share of up to `Poller.jitter`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from dyte_async._poller._reader import FRESH_FOR
from dyte_async._poller._settings import DEFAULT_POLL_INTERVAL
from dyte_async._poller._source import Source
from dyte_async._poller._state import Waiter
from dyte_async._telemetry import POLLING

if TYPE_CHECKING:
    from dyte_async._poller._core import Poller

__all__ = ["Driver", "interrupt"]


def interrupt(source: Source) -> None:
    """Wake the source's driver if it sleeps (its schedule moved forward)."""
    driver = source.driver
    if driver is not None and driver.sleep_scope is not None:
        driver.sleep_scope.cancel()


def _hand_over(source: Source, leaving: Waiter) -> None:
    """Wake a waiter blocked on `source` (not `leaving`), to take the loop over."""
    for waiter in source.idle:
        if waiter is not leaving:
            waiter.kick()
            return


def _sources(waiter: Waiter) -> list[Source]:
    """The sources of the waiter's meetings, each once."""
    out: dict[Source, None] = {}
    for meeting in waiter.meetings.values():
        if meeting.source is not None:
            out[meeting.source] = None
    return list(out)


class Driver:
    """Runs the waiters' share of the poll loops of one poller.

    Args:
        poller: the poller (its clock, deadlines, pipeline and timing settings).
    """

    __slots__ = ("_poller",)

    def __init__(self, poller: Poller) -> None:
        self._poller = poller

    async def next(self, waiter: Waiter) -> bool:
        """Drive or wait until the waiter has news (True) or its deadline passed (False)."""
        claimed: list[Source] = []
        mine: list[Source] = []
        clock = self._poller.clock
        try:
            while not waiter.dirty and waiter.error is None:
                now = clock.now()
                if now >= waiter.deadline:
                    return False
                mine = _sources(waiter)
                if not mine:
                    return True
                self._release_left(waiter, claimed, mine)
                drive = self._claim(waiter, claimed, mine)
                if drive:
                    await self._round(waiter, drive, now)
                else:
                    await self._block(waiter, mine)
            return True
        finally:
            for source in claimed:
                if source.driver is waiter:
                    source.driver = None
            for source in dict.fromkeys([*claimed, *mine]):
                if source.driver is None:
                    _hand_over(source, waiter)

    @staticmethod
    def _release_left(waiter: Waiter, claimed: list[Source], mine: list[Source]) -> None:
        """Hand over the loops the waiter drove but no longer needs (its meetings moved)."""
        for source in [s for s in claimed if s not in mine]:
            claimed.remove(source)
            if source.driver is waiter:
                source.driver = None
                _hand_over(source, waiter)

    @staticmethod
    def _claim(waiter: Waiter, claimed: list[Source], mine: list[Source]) -> list[Source]:
        """Take the loops without a driver; the loops the waiter drives."""
        drive: list[Source] = []
        for source in mine:
            if source.driver is None:
                source.driver = waiter
                claimed.append(source)
            if source.driver is waiter:
                drive.append(source)
        return drive

    async def _round(self, waiter: Waiter, drive: list[Source], now: float) -> None:
        """Poll the loops that are due, or sleep until one is (or a deadline comes)."""
        poller = self._poller
        deadlines = poller.deadlines
        due = [s for s in drive if s.next_due <= now]
        if not due:
            await self._sleep(waiter, min(s.next_due for s in drive), now)
            return
        deadline = min(waiter.deadline, now + poller.pipeline.timeout)
        if len(due) == 1 and not deadlines.watchdog:
            await self._run(due[0], deadline)
            return
        async with anyio.create_task_group() as tg:
            if deadlines.watchdog:
                tg.start_soon(deadlines.watch)
            if len(due) == 1:
                await self._run(due[0], deadline)
            else:
                async with anyio.create_task_group() as polls:
                    for source in due:
                        polls.start_soon(self._run, source, deadline)
            tg.cancel_scope.cancel()

    async def _sleep(self, waiter: Waiter, due: float, now: float) -> None:
        """Sleep until `due` or a wait's deadline comes (whoever it belongs to)."""
        poller = self._poller
        deadlines = poller.deadlines
        wake_at = min(due, deadlines.expire(now))
        with deadlines.waking_at(wake_at) as scope:
            waiter.sleep_scope = scope
            try:
                await poller.clock.sleep(wake_at - now)
            finally:
                waiter.sleep_scope = None
        deadlines.expire(poller.clock.now())

    @staticmethod
    async def _block(waiter: Waiter, mine: list[Source]) -> None:
        """Wait for news while other waiters drive the loops."""
        event = waiter.event
        if not event.is_set():
            for source in mine:
                source.idle[waiter] = None
            try:
                await event.wait()
            finally:
                for source in mine:
                    source.idle.pop(waiter, None)
        waiter.event = anyio.Event()

    async def _run(self, source: Source, deadline: float) -> None:
        """One round of `source`, then its next due time."""
        poller = self._poller
        source.polling = True
        fresh = FRESH_FOR.set(_base_interval(source))
        polling = POLLING.set(True)
        try:
            changed = await source.poll(poller, deadline)
        finally:
            POLLING.reset(polling)
            FRESH_FOR.reset(fresh)
            source.polling = False
        now = poller.clock.now()
        base = _base_interval(source)
        if changed or source.interval is None:
            interval = base
        else:
            interval = min(source.interval * poller.backoff, base * poller.max_backoff)
        source.interval = interval
        source.last_end = now
        if source.rewake:
            source.rewake = False
            source.next_due = now
        else:
            source.next_due = now + interval * (1.0 - poller.jitter * poller.rand())


def _base_interval(source: Source) -> float:
    """The smallest `poll_interval` of the waits `source` serves (the default without any)."""
    return min([w.interval for w in list(source.waiters())], default=DEFAULT_POLL_INTERVAL)
