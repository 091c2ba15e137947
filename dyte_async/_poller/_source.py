"""What a source of observations is: the interface every poll loop implements.

A *source* produces observations of some meetings' livestreams: `SingleSource` polls one
meeting, `ListSource` reads the organization's list for many; a shared source (one poll
per meeting across processes, e.g. through Redis) would be a third. The poller schedules
sources and hands their results to the waiters; a source only says

- who waits on it (`waiters`: their smallest `poll_interval` paces it),
- when it is due (`next_due`, on the client's clock; the poller moves it after each round,
  and forward on a wake or when a waiter wanting a shorter interval joins),
- what one round does (`poll`, given the `PollHost`: the reads, the existence checks and
  where to publish what it saw).

`Schedule` holds the bookkeeping the poller keeps per source; a new source inherits it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from dyte_async.errors import DyteError
from dyte_async.models import Livestream

if TYPE_CHECKING:
    from dyte_async._clock import Clock
    from dyte_async._pipeline import Pipeline
    from dyte_async._poller._existence import Backlog, Existence
    from dyte_async._poller._reader import Reader
    from dyte_async._poller._state import Meeting, Waiter

__all__ = ["PollHost", "PollerHooks", "Schedule", "Source"]


class PollerHooks(Protocol):
    """Told when the poller gets its first wait and loses its last (e.g. to listen for the
    fleet's webhook wake-ups only while something waits)."""

    def busy(self) -> None:
        """The first meeting is waited on."""
        ...

    def idle(self) -> None:
        """No meeting is waited on any more."""
        ...


class PollHost(Protocol):
    """What a source may use while it polls (the `Poller` implements it)."""

    pipeline: Pipeline
    #: where the polls send their reads: the pipeline, or the fleet's shared reads
    reader: Reader
    clock: Clock
    existence: Existence
    #: the fleet's count of meetings left to check (None: this process alone)
    backlog: Backlog | None
    page_size: int
    check_concurrency: int
    checks_per_round: int
    check_grace: float

    def publish(
        self, meeting: Meeting, livestream: Livestream | None, err_message: str | None
    ) -> bool:
        """Record an observation of `meeting`; True when it changed (its waiters woken)."""
        ...

    def failed(
        self, source: Source, meetings: Iterable[Meeting], exc: DyteError, *, listing: bool
    ) -> None:
        """A read failed: transient errors wait for the next poll, others end the waits."""
        ...

    def rebalance(self) -> None:
        """Re-decide between list and per-meeting polls (after the list's cost changed)."""
        ...


class Source(Protocol):
    """A poll loop: its schedule (see `Schedule`), who waits on it, and one round."""

    #: the waiter that runs the loop now (None: the next waiter to come takes it)
    driver: Waiter | None
    #: waiters of this loop blocked right now (candidates to take the loop over)
    idle: dict[Waiter, None]
    #: the interval after the last round (None before the first)
    interval: float | None
    #: when the next round is due (clock reading)
    next_due: float
    #: when the last round ended
    last_end: float
    #: the transient failure of the last round, if it failed (named on a timeout)
    last_error: DyteError | None
    #: a round is in flight
    polling: bool
    #: woken during the round in flight: the next round is due at once
    rewake: bool

    def waiters(self) -> Iterable[Waiter]:
        """The waiters served by this source."""
        ...

    async def poll(self, host: PollHost, deadline: float) -> bool:
        """One round, within `deadline`; True when an observation changed."""
        ...


class Schedule:
    """The per-source bookkeeping of `Source`, for sources to inherit.

    Args:
        next_due: when the first round is due.
    """

    __slots__ = (
        "driver",
        "idle",
        "interval",
        "last_end",
        "last_error",
        "next_due",
        "polling",
        "rewake",
    )

    def __init__(self, next_due: float) -> None:
        self.driver: Waiter | None = None
        self.idle: dict[Waiter, None] = {}
        self.interval: float | None = None
        self.next_due: float = next_due
        self.last_end: float = -math.inf
        self.last_error: DyteError | None = None
        self.polling: bool = False
        self.rewake: bool = False
